#!/usr/bin/env bash
# The sandbox escape suite (SPEC §5): every case in cases/ is a runbook that
# tries one way out. Each must be refused with the exit status and message
# its header names, with no side effect (no file outside the evidence, the
# canary untouched), and still leave sealed FAIL evidence.
source "$(dirname "$0")/../harness/lib.sh"

CASES=$(dirname "$0")/cases
LIMIT_S=4
make_config "$WORK/ws" \
  "limits: { memory_mb: 32, seconds: $LIMIT_S, instructions: 5000000 }" \
  "exec: { allow: [/usr/bin/touch] }"
ln -s /etc/passwd "$WORK/ws/backups/link-file"
mkdir -p "$WORK/outside"
ln -s "$WORK/outside" "$WORK/ws/backups/link-dir"
PWNED="$WORK/pwned"
echo "canary" > "$WORK/ws/canary"

# Everything but the evidence, with contents: the runs may add nothing else.
snapshot() { (cd "$WORK" && find ws outside -path ws/evidence -prune -o -print0 | sort -z | xargs -0 sha256sum 2>/dev/null; find ws outside -path ws/evidence -prune -o -print | sort); }
mkdir -p "$WORK/run"
before=$(snapshot)

for case in "$CASES"/*.lua; do
  name=$(basename "$case" .lua)
  expect=$(sed -n 's/^-- expect: //p' "$case")
  match=$(sed -n 's/^-- match: //p' "$case")
  sed "s|@PWNED@|$PWNED|g" "$case" > "$WORK/run/case.lua"
  start=$(date +%s.%N)
  "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/run/case.lua" > "$WORK/out" 2> "$WORK/err"
  code=$?
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  ev=$(last_evidence "$WORK/ws")
  problems=""
  [ "$code" = "$expect" ] || problems+=" exit $code (want $expect);"
  grep -qF -- "$match" "$WORK/err" || problems+=" stderr lacks '$match': $(head -c 300 "$WORK/err");"
  [ ! -e "$PWNED" ] || problems+=" side effect: $PWNED exists;"
  [ "$(snapshot)" = "$before" ] || problems+=" files changed outside the evidence;"
  # Limits end the run within the cap plus a second or two.
  awk -v e="$elapsed" -v l="$LIMIT_S" 'BEGIN { exit !(e < l + 3) }' || problems+=" took ${elapsed}s;"
  if test -n "$ev" -a -f "$ev/summary.json"; then
    [ "$(json_status "$ev")" = FAIL ] || problems+=" summary is not FAIL;"
    (cd "$ev" && sha256sum --quiet -c DIGEST >/dev/null 2>&1) || problems+=" evidence DIGEST does not verify;"
  else
    problems+=" no sealed evidence;"
  fi
  rm -rf "$WORK/ws/evidence"/* "$PWNED"
  if [ -z "$problems" ]; then ok "$name (exit $code, ${elapsed}s)"; else nok "$name:$problems"; fi
done

# An ordinary runbook still works in the same sandbox: the suite above is not
# passing because everything fails.
cat > "$WORK/ws/fine.lua" <<'LUA'
return { name = "fine", version = "1", summary = "allowed things work",
  steps = { { name = "work", doc = "use what the sandbox allows", run = function()
    local t = {}
    for i = 1, 1000 do t[#t + 1] = string.format("%d", i) end
    assert(#table.concat(t) > 0 and math.floor(2.5) == 2 and utf8.char(72) == "H")
    assert(os.time() > 0 and os.date("!%Y") and collectgarbage("count") > 0)
    local f = load("return x + 1", "chunk", "t", { x = 41 })
    assert(f() == 42)
    local ok, err = pcall(error, "caught")
    assert(not ok and err == "caught")
    assert(coroutine.wrap(function() coroutine.yield(7) end)() == 7)
    assert(("abc"):upper() == "ABC")
    ff.fs.write(ff.paths.backups .. "/allowed.txt", "ok")
    assert(ff.fs.read(ff.paths.backups .. "/allowed.txt") == "ok")
    assert(ff.hash.string("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    local tmp = ff.paths.tmp
    assert(tmp == ff.paths.tmp, "one private folder a run")
    ff.fs.write(tmp .. "/scratch", "kept until exit")
    assert(ff.fs.read(tmp .. "/scratch") == "kept until exit")
    ff.fs.write(ff.paths.backups .. "/tmp-was", tmp)
  end } } }
LUA
mkdir -p "$WORK/tmproot"
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/fine.lua" 2> "$WORK/err"
code=$?
check "allowed runbook passes (exit $code: $(head -c 200 "$WORK/err"))" [ "$code" = 0 ]
check "allowed write landed" [ "$(cat "$WORK/ws/backups/allowed.txt" 2>/dev/null)" = ok ]
tmpwas=$(cat "$WORK/ws/backups/tmp-was" 2>/dev/null)
check "ff.paths.tmp was a private folder under TMPDIR ($tmpwas)" bash -c "[[ '$tmpwas' == '$WORK'/tmproot/ffrun-* ]]"
check "ff.paths.tmp is removed at exit" test -n "$tmpwas" -a ! -e "$tmpwas"

# A run that never reads ff.paths.tmp makes no temporary folder at all; a
# run that cannot make one fails the step that asked, naming the folder.
cat > "$WORK/ws/quiet.lua" <<'LUA'
return { name = "quiet", version = "1", summary = "uses no temporary folder",
  steps = { { name = "nothing", doc = "do nothing", run = function() end } } }
LUA
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/quiet.lua"
check "no ff.paths.tmp read, no temporary folder made" [ -z "$(ls -A "$WORK/tmproot")" ]
# A run killed by SIGKILL cannot remove its folder: the next run that makes
# one removes it (the name holds the pid and its start time), never the
# folder of a run still alive.
cat > "$WORK/ws/holder.lua" <<'LUA'
return { name = "holder", version = "1", summary = "holds a temporary folder",
  steps = { { name = "hold", doc = "make the folder, then wait", run = function()
    ff.fs.write(ff.paths.tmp .. "/held", "x")
    ff.time.sleep(30)
  end } } }
LUA
held() { # held PID: the folder that run made, once it exists
  for _ in $(seq 50); do
    d=$(ls -d "$WORK/tmproot/ffrun-$1."* 2>/dev/null)
    test -n "$d" -a -e "$d/held" && { echo "$d"; return; }
    sleep 0.1
  done
}
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/holder.lua" 2>/dev/null & alive=$!
live_dir=$(held $alive)
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/holder.lua" 2>/dev/null & killed=$!
dead_dir=$(held $killed)
kill -9 $killed; wait $killed 2>/dev/null
check "the killed run left its folder ($dead_dir)" test -n "$dead_dir" -a -d "$dead_dir"
cat > "$WORK/ws/reaper.lua" <<'LUA'
return { name = "reaper", version = "1", summary = "uses a temporary folder",
  steps = { { name = "use", doc = "write a scratch file", run = function()
    ff.fs.write(ff.paths.tmp .. "/scratch", "x")
  end } } }
LUA
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/reaper.lua" 2> "$WORK/err"
check "the next run using a folder removed the killed run's" test -n "$dead_dir" -a ! -e "$dead_dir"
ev=$(ls -1d "$WORK"/ws/evidence/*-reaper/ | tail -n 1)
check "and said so in its log" grep -q "removed $dead_dir, the temporary folder of a run that was killed" "$ev/raw/run.log"
check "a live run's folder is left alone ($live_dir)" test -n "$live_dir" -a -e "$live_dir/held"
# A run whose pid we cannot see (another pid namespace sharing the folder)
# still holds its folder's flock: left alone too.
hidden=$WORK/tmproot/ffrun-999999.12345-Hidden
mkdir -p "$hidden"; touch "$hidden/held"
flock -o -x "$hidden" sleep 30 & holder=$!
sleep 0.2
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/reaper.lua" 2> "$WORK/err"
check "a folder whose flock is held is left alone, whatever its pid says" test -e "$hidden/held"
pkill -P $holder; kill $holder; wait $holder 2>/dev/null
TMPDIR="$WORK/tmproot" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/reaper.lua" 2> "$WORK/err"
check "and removed once nothing holds it" test ! -e "$hidden"
kill -TERM $alive; wait $alive 2>/dev/null
check "the live run removed its own folder when stopped" test -n "$live_dir" -a ! -e "$live_dir"

TMPDIR="$WORK/no-such-root" "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/fine.lua" 2> "$WORK/err"
code=$?
check "unmakeable ff.paths.tmp: exit 1 naming the folder (exit $code)" \
  bash -c "[ $code = 1 ] && grep -q 'ff.paths.tmp: temporary folder $WORK/no-such-root/ffrun-' '$WORK/err'"
finish

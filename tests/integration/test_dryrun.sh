#!/usr/bin/env bash
# --dry-run of a runbook that writes files: none of them is created, every
# planned write is printed in order, and the run's evidence verifies.
source "$(dirname "$0")/../harness/lib.sh"

make_config "$WORK/ws" "exec: { allow: [/bin/touch] }"
B=$WORK/ws/backups
cat > "$WORK/ws/writer.lua" <<LUA
return { name = "writer", version = "1", summary = "writes files",
  steps = {
    { name = "prepare", doc = "make a folder", run = function()
        ff.fs.mkdir("$B/out")
    end },
    { name = "write", doc = "write two files and rename one", run = function()
        ff.fs.write("$B/out/a.txt", "alpha")
        ff.fs.write("$B/out/b.txt", "beta")
        ff.fs.rename("$B/out/a.txt", "$B/out/c.txt")
        assert(ff.fs.exists("$B") and not ff.fs.exists("$B/out/a.txt"))
    end },
    { name = "run", doc = "run a program", run = function()
        ff.exec({ "/bin/touch", "$B/touched" })
    end },
  } }
LUA

"$FFRUN" -c "$WORK/ws/ffrun.yaml" --dry-run "$WORK/ws/writer.lua" > "$WORK/out" 2> "$WORK/err"
code=$?
check "dry-run exits 0 (got $code: $(head -c 300 "$WORK/err"))" [ "$code" = 0 ]
check "no file created in backups" [ -z "$(ls -A "$B")" ]
plan=$(grep -E '^ +plan +[0-9]+' "$WORK/out" | sed -E 's/^ +plan +[0-9]+ +//')
expected=$(printf '%s\n' \
  "[prepare] fs.mkdir [\"$B/out\"]" \
  "[write] fs.write [\"$B/out/a.txt\",\"alpha\"]" \
  "[write] fs.write [\"$B/out/b.txt\",\"beta\"]" \
  "[write] fs.rename [\"$B/out/a.txt\",\"$B/out/c.txt\"]" \
  "[run] exec [[\"/bin/touch\",\"$B/touched\"]]")
check "every planned write printed, in order" [ "$plan" = "$expected" ]
[ "$plan" = "$expected" ] || diff <(echo "$expected") <(echo "$plan")
check "the summary says 5 planned writes" grep -q "dry-run: 5 planned writes, none done" "$WORK/out"

ev=$(last_evidence "$WORK/ws")
check "evidence has mode dry-run" grep -q '"mode":"dry-run"' "$ev/summary.json"
check "evidence keeps the plan" grep -q '"plan":\[{"n":1,"step":"prepare","call":"fs.mkdir"' "$ev/summary.json"
check "sha256sum -c DIGEST passes" bash -c "cd '$ev' && sha256sum --quiet -c DIGEST"
"$FFRUN" -q -c "$WORK/ws/ffrun.yaml" verify path="$ev" 2> "$WORK/err"
code=$?
check "ffrun verify passes on the dry-run evidence ($(head -c 200 "$WORK/err"))" [ $code = 0 ]

# The same runbook for real does write (the dry-run was not a no-op runbook).
"$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/ws/writer.lua" 2> "$WORK/err"
code=$?
check "real run exits 0 ($(head -c 200 "$WORK/err"))" [ $code = 0 ]
check "real run wrote b.txt and c.txt" [ "$(cat "$B/out/b.txt" "$B/out/c.txt" 2>/dev/null)" = "betaalpha" ]
check "real run ran the program" [ -e "$B/touched" ]

# A dry-run still refuses what a real run would refuse.
cat > "$WORK/ws/bad.lua" <<LUA
return { name = "bad", version = "1", summary = "plans a write outside the jail",
  steps = { { name = "w", doc = "write outside", run = function() ff.fs.write("/etc/ffrun-pwned", "x") end } } }
LUA
"$FFRUN" -q -c "$WORK/ws/ffrun.yaml" --dry-run "$WORK/ws/bad.lua" 2>/dev/null
code=$?
check "dry-run of a write outside the jail exits 3" [ $code = 3 ]
finish

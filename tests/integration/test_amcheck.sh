#!/usr/bin/env bash
# Physical integrity in the drill (issue #13 item 5): pg_amcheck
# --heapallindexed on the restored copy, on by default, its time on its
# own (not in RTO); real on-disk corruption of a restored index fails the
# drill naming the index; drill.amcheck: false and a configured drill
# server skip it and say so; the primitive and its dry-run stand-in answer
# the same shape after the same checks.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_createdb src app && pg_sql src app "
  create table t (id int primary key, v text not null);
  insert into t select g, md5(g::text) from generate_series(1, 20000) g;
  create index t_v on t (v);" >/dev/null || { nok "table loads"; finish; exit 1; }

WS=$WORK/ws
make_config "$WS" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
  "monitoring: { textfile: $WORK/ffrun.prom }"
ff() { "$FFRUN" -c "$WS/ffrun.yaml" "$@"; }
# The run's own instance (named in raw/instance.log: initdb's output, or
# the copy of its kept template)
# is gone: no folder, no server. Not a count of /tmp/ffrun-drill-*, which
# other runs on this machine may be making right now.
gone() {
  local d
  d=$(grep -o '/tmp/ffrun-drill-[A-Za-z0-9]*' "$1/raw/instance.log" 2>/dev/null | head -n 1)
  [ -n "$d" ] && [ ! -e "$d" ] && ! ps -eo args | grep -q "[p]ostgres.*$d"
}
# The value of a top-level number of summary.json.
num() { grep -o "\"$2\":[0-9.]*" "$1/summary.json" | head -n 1 | cut -d: -f2; }
step_s() { grep -o "\"name\":\"$2\",\"status\":\"[A-Z]*\",\"duration_s\":[0-9.]*" "$1/summary.json" | grep -o '[0-9.]*$'; }
ff -q backup 2> "$WORK/err" || { nok "backup: $(tail -n 1 "$WORK/err")"; finish; exit 1; }

# --- on by default: a PASS with its own line, amcheck_s, out of RTO ------
ff drill 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "drill with amcheck passes (exit $code: $(grep '^ffrun:' "$WORK/err" | head -c 200))" [ $code = 0 ]
check "the amcheck step ran after objectives, before teardown" \
  bash -c "grep -o '\"name\":\"[a-z]*\"' '$ev/summary.json' | tr '\n' ' ' | grep -q '\"objectives\" \"name\":\"amcheck\" \"name\":\"teardown\"' &&
           grep -q '\"name\":\"amcheck\",\"status\":\"PASS\"' '$ev/summary.json'"
check "its time on its own line ($(grep -o 'amcheck of app.*' "$WORK/err"))" \
  grep -qE 'amcheck of app \(pg_amcheck --heapallindexed\): [0-9.]+ s, no corruption' "$WORK/err"
a=$(num "$ev" amcheck_s); rto=$(num "$ev" rto_s); total=$(num "$ev" duration_s)
check "summary.json: amcheck_s ($a) and amcheck {ok, problems 0, raw}" \
  bash -c "[ -n '$a' ] && grep -q '\"amcheck\":{[^}]*\"ok\":true' '$ev/summary.json' &&
           grep -q '\"amcheck\":{[^}]*\"problems\":0' '$ev/summary.json' &&
           grep -qF '\"raw\":\"raw\\/pg_amcheck.log\"' '$ev/summary.json'"
check "amcheck is kept out of RTO: rto_s ($rto) + amcheck_s ($a) <= duration_s ($total)" \
  awk -v r="$rto" -v a="$a" -v d="$total" 'BEGIN { exit !(r + a <= d + 0.01) }'
check "pg_amcheck's report is raw evidence, sealed in the DIGEST" \
  bash -c "grep -q ' raw/pg_amcheck.log$' '$ev/DIGEST' && cd '$ev' && sha256sum --quiet -c DIGEST"
check "the call is an evidence event (a write: it installs the extension)" \
  grep -q '"call":"pg.instance.amcheck","effect":"write","args":\["app"\]' "$ev/events.jsonl"
check "metric: ffrun_last_drill_amcheck_seconds" \
  grep -qE '^ffrun_last_drill_amcheck_seconds\{runbook="drill"\} [0-9.]+$' "$WORK/ffrun.prom"
check "its instance is gone" gone "$ev"

# --- real on-disk corruption of the restored copy: FAIL naming it --------
# The shipped drill, with one step put before amcheck: stop the drill's
# own instance, overwrite four bytes in a leaf page of the restored
# t_pkey with dd, start it again. Found through exec.allow, the drill's
# instance being the one whose ffrun.owner is the caller's pid.
cat > "$WORK/corrupt.sh" <<'EOF'
#!/bin/bash
# corrupt.sh BINDIR DB INDEX: corrupt the index in the calling ffrun's instance.
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
bin=$1 db=$2 index=$3 dir=
for d in /tmp/ffrun-drill-*; do
  [ "$(cut -d' ' -f1 "$d/ffrun.owner" 2>/dev/null)" = "$PPID" ] && dir=$d
done
[ -n "$dir" ] || { echo "no instance of pid $PPID" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
file=$("$bin/psql" -X -h "$dir/sock" -p 5432 -U postgres -d "$db" -Atc "select pg_relation_filepath('$index')")
(cd / && as_pg "$bin/pg_ctl" stop -w -m fast -D "$dir/data") >/dev/null
printf '\xff\xff\xff\x7f' | dd of="$dir/data/$file" bs=1 seek=$((8192 + 6000)) conv=notrunc status=none
(cd / && as_pg "$bin/pg_ctl" start -w -D "$dir/data" -l "$dir/server.log" \
  -o "-c listen_addresses= -c unix_socket_directories=$dir/sock -p 5432") >/dev/null
echo "corrupted $dir/data/$file"
EOF
chmod 755 "$WORK/corrupt.sh"
mkdir -p "$WORK/rb"
cp "$FF_SRC/runbooks/drill.lua" "$WORK/rb/drill.lua"
cat > "$WORK/rb/drill_corrupt.lua" <<EOF
local drill = require "drill"
local rb = require "rb"
for i, s in ipairs(drill.steps) do
  if s.name == "amcheck" then
    table.insert(drill.steps, i, {
      name = "corrupt",
      doc = "Test only: corrupt a restored index on disk",
      run = function()
        local r = rb.must(ff.exec({ "$WORK/corrupt.sh", "$PG_BINDIR", "app", "t_pkey" }))
        rb.check(r.ok, "corrupt.sh: %s", r.output)
      end,
    })
    break
  end
end
return drill
EOF
cp "$WS/ffrun.yaml" "$WS/corrupt.yaml"
echo "exec: { allow: [$WORK/corrupt.sh] }" >> "$WS/corrupt.yaml"
"$FFRUN" -c "$WS/corrupt.yaml" "$WORK/rb/drill_corrupt.lua" 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "the test's corruption happened in the drill's instance" grep -q '"name":"corrupt","status":"PASS"' "$ev/summary.json"
check "a corrupt restored index: exit 1 naming it ($(grep '^ffrun:' "$WORK/err" | head -c 240))" \
  bash -c "[ $code = 1 ] && grep -q '^ffrun: .*amcheck: corruption in app.public.t_pkey: btree index \"app.public.t_pkey\"' '$WORK/err'"
check "summary.json: the amcheck step FAILed, amcheck {ok false, the relation}, amcheck_s" \
  bash -c "grep -q '\"name\":\"amcheck\",\"status\":\"FAIL\"' '$ev/summary.json' &&
           grep -q '\"amcheck\":{[^}]*\"ok\":false' '$ev/summary.json' &&
           grep -q '\"relations\":\[\"app.public.t_pkey\"\]' '$ev/summary.json' && grep -q '\"amcheck_s\":' '$ev/summary.json'"
check "the whole report is in raw/pg_amcheck.log" \
  grep -q 'lacks matching index tuple within index "t_pkey"' "$ev/raw/pg_amcheck.log"
check "the drill's RTO and objectives were measured before (PASS)" \
  bash -c "grep -q '\"name\":\"objectives\",\"status\":\"PASS\"' '$ev/summary.json' && grep -q '\"rto_s\":' '$ev/summary.json'"
check "and tore the instance down" bash -c "$(declare -f gone); gone '$ev' && grep -q '\"name\":\"teardown\",\"status\":\"PASS\"' '$ev/summary.json'"
check "metric: the failed drill has status 0" grep -q '^ffrun_last_run_status{runbook="drill"} 0$' "$WORK/ffrun.prom"

# --- drill.amcheck: false skips it, and says so ---------------------------
cp "$WS/ffrun.yaml" "$WS/off.yaml"
echo "drill: { amcheck: false }" >> "$WS/off.yaml"
"$FFRUN" -c "$WS/off.yaml" drill 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS" drill)
check "drill.amcheck: false: PASS ($code)" [ $code = 0 ]
check "it says it skipped and why" grep -q 'amcheck skipped: drill.amcheck is false in the configuration' "$WORK/err"
check "summary.json: amcheck {skipped}, no amcheck_s, no report" \
  bash -c "grep -q '\"amcheck\":{\"skipped\":\"drill.amcheck is false in the configuration\"}' '$ev/summary.json' &&
           ! grep -q '\"amcheck_s\"' '$ev/summary.json' && [ ! -e '$ev/raw/pg_amcheck.log' ] &&
           ! grep -q 'pg.instance.amcheck' '$ev/events.jsonl'"

# --- a wrong value: a configuration error with file:line:col --------------
cp "$WS/ffrun.yaml" "$WS/bad.yaml"
echo "drill: { amcheck: sometimes }" >> "$WS/bad.yaml"
"$FFRUN" -q -c "$WS/bad.yaml" drill 2> "$WORK/err"; code=$?
check "drill.amcheck: sometimes: exit 2 naming file:line:col ($(head -c 200 "$WORK/err"))" \
  bash -c "[ $code = 2 ] && grep -qE 'bad.yaml:[0-9]+:[0-9]+: drill.amcheck must be true or false' '$WORK/err'"

# --- a configured drill server: skipped, with a warning -------------------
pg_createdb src drillhost >/dev/null
make_config "$WORK/srv" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { conninfo: \"$(pg_conninfo src drillhost)\" } }"
sed -i "s|backups: .*|backups: $WS/backups|" "$WORK/srv/ffrun.yaml"
"$FFRUN" -q -c "$WORK/srv/ffrun.yaml" drill confirm=drillhost 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WORK/srv")
check "configured drill server: PASS ($code: $(grep '^ffrun:' "$WORK/err" | head -c 200))" [ $code = 0 ]
check "it warns that amcheck is skipped there and why" \
  grep -q 'amcheck skipped: drill is a configured drill server, not a throwaway instance' "$WORK/err"
check "no amcheck extension was installed on that server" \
  [ "$(pg_sql src drillhost "select count(*) from pg_extension where extname = 'amcheck'")" = 0 ]

# --- dry-run: the stand-in runs and is planned ----------------------------
ff --dry-run drill > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run drill passes and plans pg.instance.amcheck ($code: $(tail -n 1 "$WORK/err"))" \
  bash -c "[ $code = 0 ] && grep -q 'plan .*\[amcheck\] pg.instance.amcheck \[\"app\"\]' '$WORK/out'"
ev=$(last_evidence "$WS" drill)
check "dry-run: amcheck_s 0 from the stand-in, no instance" \
  bash -c "[ \"\$(grep -o '\"amcheck_s\":[0-9.]*' '$ev/summary.json')\" = '\"amcheck_s\":0' ] && [ ! -e '$ev/raw/instance.log' ]"

# --- a pinned drill: the plan holds the amcheck write, the run keeps to it
ff -q --dry-run --plan-out "$WORK/drill.plan" drill > /dev/null 2>&1 &&
  ff -q --plan "$WORK/drill.plan" 2> "$WORK/err"; code=$?
check "a drill run from its plan passes, amcheck included ($code: $(grep '^ffrun:' "$WORK/err" | head -c 200))" \
  bash -c "[ $code = 0 ] && grep -q 'pg.instance.amcheck' '$WORK/drill.plan' && grep -q '\"amcheck_s\":' '$(last_evidence "$WS" drill)/summary.json'"

# --- the primitive: its answers and its checks, real and stand-in ---------
cat > "$WORK/prim.lua" <<'EOF'
local rb = require "rb"
local inst
local function shape(r)
  return string.format("ok=%s corrupt=%s problems=%s relations=%d summary=%q raw=%s dur=%s",
    tostring(r.ok), tostring(r.corrupt), tostring(r.problems), #r.relations, r.summary, r.raw,
    type(r.duration_s))
end
return {
  name = "prim", version = "1", summary = "inst:amcheck answers",
  steps = {
    { name = "up", doc = "an instance with a database", run = function()
        inst = rb.must(ff.pg.instance({}))
        local a = inst:admin()
        rb.must(a:create_database("ffrun_amc"))
      end },
    { name = "check", doc = "inst:amcheck", run = function()
        ff.log.info("clean: " .. shape(rb.must(inst:amcheck("ffrun_amc", { jobs = 2 }))))
        local ok, err = pcall(inst.amcheck, inst, "")
        ff.log.info("empty name raises: " .. tostring(not ok) .. " " .. tostring(err))
        ok, err = pcall(inst.amcheck, inst, "ffrun_amc", { jobs = -1 })
        ff.log.info("negative jobs raises: " .. tostring(not ok) .. " " .. tostring(err))
        local r, msg, code = inst:amcheck("ffrun_nosuch")
        ff.log.info("missing database: " .. tostring(r) .. " " .. tostring(code) .. " " .. tostring(msg))
      end },
    { name = "down", doc = "stop it", cleanup = true, run = function() if inst then inst:stop() end end },
  },
}
EOF
ff "$WORK/prim.lua" 2> "$WORK/err"; code=$?
prim_ev=$(last_evidence "$WS")
check "primitive runbook passes ($code: $(grep '^ffrun:' "$WORK/err" | head -c 200))" [ $code = 0 ]
check "clean database: ok, nothing named, a duration, the report in raw/" \
  grep -q 'clean: ok=true corrupt=false problems=0 relations=0 summary="" raw=raw/pg_amcheck.log dur=number' "$WORK/err"
check "a bad name and bad options raise, naming inst:amcheck" \
  bash -c "grep -q 'empty name raises: true .*inst:amcheck: a database name of 1 to 63 bytes' '$WORK/err' &&
           grep -q 'negative jobs raises: true .*jobs and timeout_s are 0 or more' '$WORK/err'"
check "a database that does not exist: nil, fail, pg_amcheck's own words (exit 1, not corruption)" \
  grep -qE 'missing database: nil fail pg_amcheck of ffrun_nosuch failed \(exit 1\): .*database "ffrun_nosuch" does not exist' "$WORK/err"
ff --dry-run "$WORK/prim.lua" > "$WORK/out" 2> "$WORK/err"; code=$?
check "stand-in: the same shape, duration 0, planned, after the same checks ($code)" \
  bash -c "[ $code = 0 ] && grep -q 'clean: ok=true corrupt=false problems=0 relations=0 summary=\"\" raw=(planned) dur=number' '$WORK/err' &&
           grep -q 'empty name raises: true .*inst:amcheck: a database name of 1 to 63 bytes' '$WORK/err' &&
           grep -q 'negative jobs raises: true .*jobs and timeout_s are 0 or more' '$WORK/err'"
check "its instance is gone" gone "$prim_ev"

finish

#!/usr/bin/env bash
# The restore drill, prune and report against a real PostgreSQL (issue:
# drill). The drill's instance must never outlive the run.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
pg_load_pgbench src app 2 || { nok "pgbench loads"; finish; exit 1; }

WS=$WORK/ws
make_config "$WS" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }"
ff() { "$FFRUN" -q -c "$WS/ffrun.yaml" "$@"; }
instances() { ls -d /tmp/ffrun-drill-* 2>/dev/null | wc -l; }
servers() { ps -eo args | grep -c '[p]ostgres.*ffrun-drill-'; }
ff backup 2> "$WORK/err" || { nok "backup: $(tail -n 1 "$WORK/err")"; finish; exit 1; }
stamp=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
base_inst=$(instances)

# --- end to end, nothing left behind ------------------------------------------
ff drill 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "drill passes end to end (exit $code: $(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "drill evidence: verification, RTO, RPO, objectives met" \
  bash -c "grep -q '\"rto_s\":' '$ev/summary.json' && grep -q '\"rpo_s\":' '$ev/summary.json' && grep -q '\"met\":true' '$ev/summary.json' && grep -q '\"backup\":{' '$ev/summary.json'"
check "drill evidence verifies" bash -c "cd '$ev' && sha256sum --quiet -c DIGEST"
check "no postgres process of the drill left (ps)" [ "$(servers)" = 0 ]
check "no instance folder left under /tmp" [ "$(instances)" = "$base_inst" ]

# --- initdb's output kept as a template: used only when provably ours -----
# The first drill of these binaries keeps it, any later one copies it;
# which happened here depends on the drills this machine ran before.
tpl=$(grep -ho '/tmp/ffrun-template-[^ ]*' "$ev/raw/instance.log" | head -n 1)
os_user=$( [ "$(id -u)" = 0 ] && echo postgres || id -un)
check "the drill's instance came from, or left, an initdb template ($tpl)" [ -n "$tpl" ]
[ -n "$tpl" ] || { finish; exit 1; } # the checks below change it
check "the template is private to the server's user (700 $os_user)" \
  [ "$(stat -c '%a %U' "$tpl" 2>/dev/null)" = "700 $os_user" ]
tlog() { grep -h 'template' "$(last_evidence "$WS")/raw/instance.log"; }
# passed WHAT: the last drill exited 0 and its instance log says WHAT.
passed() { [ "$code" = 0 ] && tlog | grep -qF "$1"; }
passed_by_initdb() { [ "$code" = 0 ] && ! tlog | grep -q copied && tlog | grep -qF "initdb template not used" &&
  grep -q 'running bootstrap script' "$(last_evidence "$WS")/raw/instance.log"; }
ff drill 2> "$WORK/err"; code=$?
check "the next drill starts from the template (exit $code)" passed "copied from the initdb template $tpl"
chmod 750 "$tpl"
ff drill 2> "$WORK/err"; code=$?
check "a template others may read is not used: initdb instead, the drill passes (exit $code)" passed_by_initdb
chmod 700 "$tpl"
mv "$tpl" "$tpl.real" && ln -s "$tpl.real" "$tpl"
ff drill 2> "$WORK/err"; code=$?
check "a template that is a symlink is not followed (exit $code)" passed_by_initdb
rm -f "$tpl" && mv "$tpl.real" "$tpl"
rm -f "$tpl/data/global/pg_control"
ff drill 2> "$WORK/err"; code=$?
check "a template the server cannot start from is dropped, initdb instead, the drill passes (exit $code)" \
  bash -c "$(declare -f tlog passed last_evidence); WS='$WS' code=$code; passed 'initdb template dropped' && [ ! -e '$tpl' ]"
ff drill 2> "$WORK/err"; code=$?
check "and the drill after that keeps a new one (exit $code)" \
  bash -c "$(declare -f tlog passed last_evidence); WS='$WS' code=$code; passed 'initdb template kept for the next drill: $tpl' && [ -f '$tpl/data/global/pg_control' ]"
check "none of these left an instance or a server" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"

# --- rto_minutes below what the drill takes: FAIL naming the measured RTO --
sed -i '$a objectives: { rpo_hours: 24, rto_minutes: 0.0001 }' "$WS/ffrun.yaml"
ff drill 2> "$WORK/err"; code=$?
check "a missed RTO objective fails naming the figure ($(grep '^ffrun:' "$WORK/err" | head -c 160))" \
  bash -c "[ $code = 1 ] && grep -qE 'objectives missed: RTO [0-9.]+ s \(objective 0 s\)' '$WORK/err'"
check "and tears the instance down" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"
sed -i '$d' "$WS/ffrun.yaml"

# --- a corrupt latest backup: FAIL naming why, nothing left ---------------
cp -a "$WS/backups/$stamp" "$WS/backups/20991231-000000"
printf '\x00' | dd of="$WS/backups/20991231-000000/db.dump" bs=1 seek=3000 conv=notrunc status=none
ff drill 2> "$WORK/err"; code=$?
check "corrupt latest backup: exit 1 naming db.dump ($(grep '^ffrun:' "$WORK/err" | head -c 160))" \
  bash -c "[ $code = 1 ] && grep -q 'db.dump: sha256 mismatch' '$WORK/err'"
check "corrupt latest backup: no instance left" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"
# Data that restores but does not match its manifest: found by the proof,
# after the instance is up, and the instance still goes.
rm -rf "$WS/backups/20991231-000000"
cp -a "$WS/backups/$stamp" "$WS/backups/20991231-000001"
(cd "$WS/backups/20991231-000001" && sed -i 's/"rows":500/"rows":501/' manifest.json &&
  find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST)
ff drill 2> "$WORK/err"; code=$?
check "manifest that lies about the data: exit 1 naming the table ($(grep '^ffrun:' "$WORK/err" | head -c 160))" \
  bash -c "[ $code = 1 ] && grep -qF 'table \"Sales\".\"Orders\": 500 rows, the backup had 501' '$WORK/err'"
check "and the instance was torn down" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"
rm -rf "$WS/backups/20991231-000001"

# --- a configured drill target equal to production: refused before any write
make_config "$WORK/same" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { conninfo: \"$(pg_conninfo src app)\" } }"
sed -i "s|backups: .*|backups: $WS/backups|" "$WORK/same/ffrun.yaml"
before=$(pg_sql src postgres "select string_agg(datname, ',' order by datname) from pg_database")
"$FFRUN" -q -c "$WORK/same/ffrun.yaml" drill confirm=app 2> "$WORK/err"; code=$?
check "drill target = production: refused ($(grep '^ffrun:' "$WORK/err" | head -c 160))" \
  bash -c "[ $code = 1 ] && grep -q 'a drill never touches production' '$WORK/err'"
check "drill target = production: no database created" \
  [ "$(pg_sql src postgres "select string_agg(datname, ',' order by datname) from pg_database")" = "$before" ]

# --- SIGTERM during the restore: teardown and FAIL evidence ---------------
runs_before=$(ls "$WS/evidence" | wc -l)
"$FFRUN" -q -c "$WS/ffrun.yaml" drill 2> "$WORK/err" & pid=$!
# This run's own evidence, not the previous one's, must show pg_restore.
for _ in $(seq 400); do
  [ "$(ls "$WS/evidence" | wc -l)" -gt "$runs_before" ] &&
    grep -q pg_restore "$(last_evidence "$WS")/events.jsonl" 2>/dev/null && break
  sleep 0.05
done
kill -TERM $pid; wait $pid; code=$?
ev=$(last_evidence "$WS")
check "SIGTERM during the restore: exit 1 ($code)" [ $code = 1 ]
check "SIGTERM: FAIL evidence naming the signal, sealed" \
  bash -c "grep -q '\"status\":\"FAIL\"' '$ev/summary.json' && grep -q 'SIGTERM' '$ev/summary.json' && cd '$ev' && sha256sum --quiet -c DIGEST"
check "SIGTERM: the teardown step ran" grep -q '"name":"teardown","status":"PASS"' "$ev/summary.json"
check "SIGTERM: no postgres process and no folder left" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"

# --- a crashed ffrun's instance is reaped by the next drill ---------------
# Killed while pg_restore loads: the orphaned pg_restore keeps its backends
# busy, and they must end with the instance, not linger.
runs_before=$(ls "$WS/evidence" | wc -l)
"$FFRUN" -q -c "$WS/ffrun.yaml" drill 2>/dev/null & pid=$!
for _ in $(seq 400); do
  [ "$(ls "$WS/evidence" | wc -l)" -gt "$runs_before" ] &&
    grep -q pg.admin.restore "$(last_evidence "$WS")/events.jsonl" 2>/dev/null && break
  sleep 0.02
done
kill -9 $pid; wait $pid 2>/dev/null
check "SIGKILL left an instance behind (what reaping is for)" [ "$(instances)" -gt "$base_inst" ]
ff drill 2> "$WORK/err"; code=$?
check "the next drill passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "and reaped the dead run's instance" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"

# --- an instance whose ffrun we cannot see, but whose lock is held --------
# (a run in another pid namespace sharing /tmp): never reaped while held.
fake=$(mktemp -d /tmp/ffrun-drill-XXXXXX)
echo "999999 12345" > "$fake/ffrun.owner"; mkdir "$fake/data"
flock -o -x "$fake/ffrun.owner" sleep 60 & holder=$!
sleep 0.2
ff drill 2> "$WORK/err"; code=$?
check "a drill passes beside it ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "an instance whose owner file is locked is not reaped, whatever its pid says" test -d "$fake/data"
pkill -P $holder; kill $holder; wait $holder 2>/dev/null
ff drill 2> "$WORK/err"; code=$?
check "once the lock is free, the next drill reaps it (exit $code)" test ! -e "$fake"
rm -rf "$fake"

# --- dry-run: the plan, and no instance ---------------------------------------
"$FFRUN" -c "$WS/ffrun.yaml" --dry-run drill > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run drill passes and plans the instance and the restore ($(tail -n 1 "$WORK/err"))" \
  bash -c "[ $code = 0 ] && grep -q 'pg.instance' '$WORK/out' && grep -q 'pg.admin.restore' '$WORK/out'"
check "dry-run started no instance" bash -c "[ $(servers) = 0 ] && [ $(instances) = $base_inst ]"

# --- monitoring: Prometheus textfile metrics after each run ---------------
echo "monitoring: { textfile: $WORK/ffrun.prom }" >> "$WS/ffrun.yaml"
ff backup 2>/dev/null && ff drill 2>/dev/null
check "metrics: last success of backup and drill, backup size, drill RTO and RPO" \
  bash -c "grep -qE '^ffrun_last_success_timestamp_seconds\{runbook=\"backup\"\} [0-9.]+$' '$WORK/ffrun.prom' &&
           grep -qE '^ffrun_last_success_timestamp_seconds\{runbook=\"drill\"\} [0-9.]+$' '$WORK/ffrun.prom' &&
           grep -qE '^ffrun_last_backup_size_bytes\{runbook=\"backup\"\} [1-9][0-9.]+$' '$WORK/ffrun.prom' &&
           grep -qE '^ffrun_last_drill_rto_seconds\{runbook=\"drill\"\} [0-9.]+$' '$WORK/ffrun.prom' &&
           grep -qE '^ffrun_last_drill_rpo_seconds\{runbook=\"drill\"\} [0-9.]+$' '$WORK/ffrun.prom'"
success=$(grep 'success_timestamp_seconds{runbook="drill"}' "$WORK/ffrun.prom")
ff drill backup=20000101-000000 2>/dev/null
check "metrics: a failed drill sets its status to 0 and keeps the last success time" \
  bash -c "grep -q '^ffrun_last_run_status{runbook=\"drill\"} 0$' '$WORK/ffrun.prom' && grep -qF '$success' '$WORK/ffrun.prom' && grep -q 'runbook=\"backup\"' '$WORK/ffrun.prom'"
flock "$WS/backups/.ffrun.lock" bash -c "'$FFRUN' -q -c '$WS/ffrun.yaml' backup 2>/dev/null; echo \$? > '$WORK/busy.code'"
check "metrics: a backup turned away by the lock (exit $(cat "$WORK/busy.code")) leaves the backup's status at 1" \
  bash -c "[ \"\$(cat '$WORK/busy.code')\" = 4 ] && grep -q '^ffrun_last_run_status{runbook=\"backup\"} 1$' '$WORK/ffrun.prom'"
# Eight runbooks finishing at the same moment: none may lose the others' lines.
for i in 1 2 3 4 5 6 7 8; do
  printf 'return { name = "m%d", version = "1", summary = "metrics writer", steps = {} }\n' "$i" > "$WORK/m$i.lua"
done
for i in 1 2 3 4 5 6 7 8; do ff "$WORK/m$i.lua" 2>/dev/null & done; wait
check "metrics: 8 runs finishing at once all kept (the rewrite is locked)" \
  bash -c "[ \$(grep -cE '^ffrun_last_run_status\{runbook=\"m[1-8]\"\} 1$' '$WORK/ffrun.prom') = 8 ] && grep -q 'runbook=\"drill\"' '$WORK/ffrun.prom'"
sed -i '$d' "$WS/ffrun.yaml"

# --- report ---------------------------------------------------------------------
ff report > "$WORK/report" 2> "$WORK/err"; code=$?
check "report lists the backup as proven by a drill" \
  bash -c "[ $code = 0 ] && grep -qE '^$stamp .*-drill' '$WORK/report'"
check "report lists the runs with status and RTO" grep -qE 'drill +run +PASS +[0-9.]+[mhd] +[0-9]+s' "$WORK/report"
"$FFRUN" -q -c "$WS/ffrun.yaml" --json report > "$WORK/report.json"
check "report --json is one object with the tables" \
  bash -c "[ \$(wc -l < '$WORK/report.json') = 1 ] && grep -q '\"report\":{' '$WORK/report.json' && grep -q '\"proven_by\":' '$WORK/report.json'"

# --- prune keeps what it must -----------------------------------------------------
P=$WORK/prune
make_config "$P" "retention: { keep_last: 3, keep_days: 10 }"
now=$(date -u +%s)
mk_backup() { # mk_backup DAYS_AGO -> a minimal complete backup folder that old
  local s; s=$(date -u -d "@$((now - $1 * 86400 - 60))" +%Y%m%d-%H%M%S)
  mkdir -p "$P/backups/$s"; echo '{"format":"ffrun.backup/1","artifacts":[]}' > "$P/backups/$s/manifest.json"
  echo "$s"
}
mk_drill() { # mk_drill STAMP STATUS: a drill's evidence about that backup
  local d="$P/evidence/$1-drill-$2"; mkdir -p "$d"
  echo "{\"format\":\"ffrun.evidence/1\",\"run_id\":\"$1-drill\",\"runbook\":{\"name\":\"drill\"},\"mode\":\"run\",\"status\":\"$2\",\"backup\":{\"stamp\":\"$1\"}}" > "$d/summary.json"
}
declare -A S
for d in 40 35 30 25 20 15 12 9 5 3 2 1; do S[$d]=$(mk_backup $d); done
mk_drill "${S[35]}" PASS      # proven, but not the newest proven
mk_drill "${S[25]}" PASS      # the newest proven beyond retention: must stay
mk_drill "${S[20]}" FAIL      # a failed drill proves nothing
mkdir "$P/backups/$(date -u +%Y%m%d-%H%M%S).partial"   # never a backup
"$FFRUN" -c "$P/ffrun.yaml" --dry-run prune > "$WORK/out" 2> "$WORK/err"; code=$?
check "prune dry-run lists what it would remove and removes nothing" \
  bash -c "[ $code = 0 ] && [ \$(grep -cE '^ +plan +[0-9]+ +\[remove\] fs.remove ' '$WORK/out') = 6 ] && [ \$(ls '$P/backups' | grep -vc lock) = 13 ]"
"$FFRUN" -q -c "$P/ffrun.yaml" prune 2> "$WORK/err"; code=$?
left=$(ls "$P/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tr '\n' ' ')
want=$(printf '%s\n' "${S[25]}" "${S[9]}" "${S[5]}" "${S[3]}" "${S[2]}" "${S[1]}" | sort | tr '\n' ' ')
check "prune keeps the 3 newest, those younger than 10 days, and the newest drill-proven one ($(tail -n 1 "$WORK/err"))" \
  [ "$code $left" = "0 $want" ]
check "prune left the .partial folder to the next backup's lock holder" bash -c "ls '$P/backups' | grep -q partial"
# A restore or drill in progress holds the folder shared: prune is busy.
exec 9> "$P/backups/.ffrun.lock"; flock -s 9
"$FFRUN" -q -c "$P/ffrun.yaml" prune 2> "$WORK/err"; code=$?
exec 9>&-
check "prune while a reader holds the folder: exit 4" [ $code = 4 ]
finish

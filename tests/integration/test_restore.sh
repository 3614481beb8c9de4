#!/usr/bin/env bash
# The restore runbook against a real PostgreSQL (issue: restore).
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
pg_load_pgbench src app 2 || { nok "pgbench data loads"; finish; exit 1; }

WS=$WORK/ws
SVC=$FF_TEST_SRC/integration/services
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" \
  "services:" \
  "  up: [[ $SVC/up.sh, $WORK/app-up ]]" \
  "  check: [[ $SVC/check.sh, $WORK/app-up ]]"
ff() { "$FFRUN" -q -c "$WS/ffrun.yaml" "$@"; }
dbs() { pg_sql src postgres "select datname from pg_database order by 1" | tr '\n' ' '; }
live_digest() { pg_table_digest src app | sha256sum | cut -d' ' -f1; }

ff backup 2> "$WORK/err" || { nok "backup: $(tail -n 1 "$WORK/err")"; finish; exit 1; }
stamp=$(ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)
pg_table_digest src app > "$WORK/digest-at-backup"
D_NEW=$(sha256sum < "$WORK/digest-at-backup" | cut -d' ' -f1)
# Production moves on after the backup: the restore must bring back the
# backup's data, not today's.
pg_sql src app "insert into orders (customer_id, ordered_on, amount, status) select customer_id, ordered_on, amount, status from orders limit 5; update pgbench_accounts set abalance = abalance + 1 where aid < 100" >/dev/null
D_OLD=$(live_digest)
check "production changed after the backup" [ "$D_OLD" != "$D_NEW" ]

# --- a restore: every fingerprint equal, and psql's own digest agrees -----
ff restore confirm=app 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "restore passes (exit $code: $(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "summary: verification compared tables with no mismatch" \
  bash -c "grep -o '\"verification\":{.*' '$ev/summary.json' | grep -qE '\"tables\":[1-9]' && grep -q '\"mismatches\":{}' '$ev/summary.json'"
pg_table_digest src app > "$WORK/digest-restored"
check "independently of ffrun: COPY | sort | sha256sum of every table equals the source's at backup time" \
  diff "$WORK/digest-at-backup" "$WORK/digest-restored"
check "summary records RTO, RPO, downtime and objectives" \
  bash -c "grep -q '\"rto_s\":' '$ev/summary.json' && grep -q '\"rpo_s\":' '$ev/summary.json' && grep -q '\"downtime_s\":' '$ev/summary.json' && grep -q '\"objectives\":{' '$ev/summary.json'"
check "services.up ran (the stand-in application is up)" [ -f "$WORK/app-up" ]
check "services.check output is in raw/" grep -q "health: 200" "$ev/raw/services-check.log"
check "the old database is kept for rollback, closed" \
  [ "$(pg_sql src postgres "select string_agg(datallowconn::text, ',') from pg_database where datname like 'app\_\_ffprev\_%'")" = false ]

# --- rollback brings the old one back --------------------------------------
ff rollback confirm=app 2> "$WORK/err"; code=$?
check "rollback passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "after rollback the live database is production's latest state" [ "$(live_digest)" = "$D_OLD" ]
check "after rollback the live database accepts connections" \
  [ "$(pg_sql src postgres "select datallowconn from pg_database where datname = 'app'")" = t ]

# --- SIGKILL at random moments: old or new, never half -------------------
half=""
for i in $(seq 10); do
  "$FFRUN" -q -c "$WS/ffrun.yaml" restore confirm=app 2>/dev/null & pid=$!
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  # The server may still be running what the killed run sent last: the
  # swap's first statement ends the live database's sessions, a reader's
  # too. A read that failed says nothing about the data: read again.
  d=""
  for _ in 1 2 3 4 5; do
    if out=$(pg_table_digest src app 2>/dev/null); then d=$(sha256sum <<< "$out" | cut -d' ' -f1); break; fi
    sleep 0.5
  done
  if [ "$d" != "$D_OLD" ] && [ "$d" != "$D_NEW" ]; then half+=" trial$i"; fi
  sleep 1 # database names carry the run's second
done
check "after 10 SIGKILLs the live name always held the old or the verified new database (bad:$half)" [ -z "$half" ]
ff restore confirm=app 2> "$WORK/err"; code=$?
check "a rerun after the kills succeeds ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "and leaves the backup's data live" [ "$(live_digest)" = "$D_NEW" ]
check "and no unfinished copy behind" [ -z "$(pg_sql src postgres "select datname from pg_database where datname like '%\_\_ffrestore\_%'")" ]

# --- the live database is gone: restored under its name ------------------
pg_sql src postgres "drop database app with (force)" > /dev/null
check "the live database was dropped" [ -z "$(pg_sql src postgres "select datname from pg_database where datname = 'app'")" ]
ff restore confirm=prod 2> "$WORK/err"; code=$?
check "a dropped database still needs confirm= its name (exit $code)" \
  bash -c "[ $code = 2 ] && grep -q 'give confirm=app' '$WORK/err'"
ff restore confirm=app 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "restore of a dropped database passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "it says the database did not exist and nothing was set aside" \
  grep -q "database app does not exist: the restored copy will take its name, nothing is set aside" "$ev/raw/run.log"
check "the backup's data is live again under its name" [ "$(live_digest)" = "$D_NEW" ]
check "no previous database recorded (there was none)" bash -c "! grep -q previous_database '$ev/summary.json'"
check "its encoding is the source's (from the manifest)" \
  [ "$(pg_sql src postgres "select pg_encoding_to_char(encoding) from pg_database where datname = 'app'")" = UTF8 ]
# Lost again: rollback brings the newest set-aside database back under the name.
newest=$(pg_sql src postgres "select max(datname) from pg_database where datname like 'app\_\_ffprev\_%'")
pg_sql src postgres "drop database app with (force)" > /dev/null
ff rollback confirm=app 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "rollback with the live database gone passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "it brought $newest back under the live name, open to connections" \
  [ "$(pg_sql src postgres "select datallowconn from pg_database where datname = 'app'")" = t ]
check "it says there was no current database to keep" grep -q "there is no current app to keep" "$ev/raw/run.log"

# --- refused before any write ------------------------------------------------
B=$WS/backups/$stamp
bad_backup() { cp -a "$B" "$WS/backups/$1"; }
bad_backup 20200101-000001; printf '\xff' | dd of="$WS/backups/20200101-000001/db.dump" bs=1 seek=5000 conv=notrunc status=none
bad_backup 20200101-000002; truncate -s 20000 "$WS/backups/20200101-000002/db.dump"
bad_backup 20200101-000003; rm "$WS/backups/20200101-000003/manifest.json"
refused() { # refused NAME WANT-EXIT MATCH ARGS...
  local name=$1 want=$2 match=$3; shift 3
  local before; before=$(dbs)
  "$FFRUN" -q -c "$WS/ffrun.yaml" restore "$@" 2> "$WORK/err"; local code=$?
  local ev; ev=$(ls -1d "$WS"/evidence/*-restore*/ | sed 's:/$::' | sort -V | tail -n 1) # not a rollback of the same second
  check "$name: exit $code (want $want): $(grep '^ffrun:' "$WORK/err" | head -c 180)" \
    bash -c "[ $code = $want ] && grep -q -- '$match' '$WORK/err'"
  check "$name: no database created or changed" [ "$(dbs)" = "$before" ]
  check "$name: FAIL evidence" grep -q '"status":"FAIL"' "$ev/summary.json"
}
refused "flipped byte in db.dump" 1 "db.dump: sha256 mismatch" backup=20200101-000001 confirm=app
refused "truncated db.dump" 1 "db.dump" backup=20200101-000002 confirm=app
refused "missing manifest" 1 "manifest.json: missing" backup=20200101-000003 confirm=app
refused "wrong confirm" 2 "give confirm=app" confirm=prod
refused "no confirm" 2 "give confirm=app"
refused "unknown stamp" 2 "no such complete backup" backup=20190101-000000 confirm=app
refused "a .partial folder" 2 "expected latest or a STAMP" backup=20200101-000004.partial confirm=app

# --- a name too long to keep a copy beside: refused before any write ------
# 50 bytes + "__ffrestore_" + a stamp is over PostgreSQL's 63: the server
# would cut the copy's name. Refused in a dry-run as in a run, exit 1.
long=foxproflow_analytics_warehouse_production_replica1
pg_createdb src "$long" >/dev/null
make_config "$WORK/long" "targets: { prod: { conninfo: \"$(pg_conninfo src "$long")\" } }"
sed -i "s|backups: .*|backups: $WS/backups|" "$WORK/long/ffrun.yaml"
before=$(dbs)
for mode in --dry-run ""; do
  "$FFRUN" -q -c "$WORK/long/ffrun.yaml" $mode restore confirm="$long" 2> "$WORK/err"; code=$?
  check "a ${#long}-byte database name: restore ${mode:-run} exit 1 naming the 63-byte limit (exit $code: $(tail -n 1 "$WORK/err"))" \
    bash -c "[ $code = 1 ] && grep -q \"over PostgreSQL's 63-byte limit on names: use a database name of at most 36 bytes\" '$WORK/err'"
done
check "and no database was created or changed" [ "$(dbs)" = "$before" ]

# --- a health check that never passes: FAIL after its timeout --------------
make_config "$WORK/never" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }" \
  "services: { up: [[ $SVC/up.sh, $WORK/never-up ]], check: [[ $SVC/check.sh, $WORK/never-file ]] }"
sed -i "s|backups: .*|backups: $WS/backups|" "$WORK/never/ffrun.yaml"
start=$(date +%s)
"$FFRUN" -q -c "$WORK/never/ffrun.yaml" restore confirm=app services_timeout=3 2> "$WORK/err"; code=$?
took=$(( $(date +%s) - start ))
ev=$(last_evidence "$WORK/never")
check "never-healthy service: exit 1 after the 3 s timeout (took ${took}s)" \
  bash -c "[ $code = 1 ] && grep -q 'did not pass within 3 s' '$WORK/err' && [ $took -lt 30 ]"
check "never-healthy service: its output is in raw/" grep -q "health: 503" "$ev/raw/services-check.log"

# --- a proof that does not hold, keep_failed=true: the copy kept for good --
F=$WS/backups/20991231-000001
# The first table's content digest zeroed (perl-base is in every Debian).
cp -a "$B" "$F" && perl -0pi -e 's/("tables":\[.*?"content_sha256":")[0-9a-f]{64}/${1}'"$(printf '0%.0s' $(seq 64))"'/s' "$F/manifest.json" &&
  grep -q '"content_sha256":"0000000000000000' "$F/manifest.json" &&
  (cd "$F" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST) || nok "a forged backup"
D_LIVE=$(live_digest)
ff restore backup=20991231-000001 confirm=app keep_failed=true 2> "$WORK/err"; code=$?
rm -rf "$F"
kept=$(pg_sql src postgres "select datname from pg_database where datname like 'app\_\_fffailed\_%'")
unfinished=$(pg_sql src postgres "select count(*) from pg_database where datname like 'app\_\_ffrestore\_%'")
check "keep_failed=true, a fingerprint that does not hold: exit 1 at prove, the copy kept as $kept, no app__ffrestore_ left ($(tail -n 2 "$WORK/err" | tr "\n" " "))" \
  bash -c "[ $code = 1 ] && grep -q 'step prove failed' '$WORK/err' && [ \$(echo '$kept' | grep -c .) = 1 ] && [ '$unfinished' = 0 ] &&
    grep -q 'keeping the failed copy as $kept' '$WORK/err'"
check "keep_failed=true: the live database untouched" [ "$(live_digest)" = "$D_LIVE" ]
ff restore confirm=app 2> "$WORK/err"; code=$?
check "the next restore PASSes and leaves the failed copy kept ($(tail -n 2 "$WORK/err" | tr "\n" " "))" \
  bash -c "[ $code = 0 ] && [ -n '$kept' ] && [ \"$(pg_sql src postgres "select count(*) from pg_database where datname = '$kept'")\" = 1 ]"

# --- dry-run: the plan with the real names, nothing touched ---------------
before=$(dbs)
"$FFRUN" -c "$WS/ffrun.yaml" --dry-run restore confirm=app > "$WORK/out" 2> "$WORK/err"; code=$?
check "dry-run restore passes ($(tail -n 1 "$WORK/err"))" [ $code = 0 ]
check "dry-run names the backup, the copy and the swap" \
  bash -c "grep -q 'pg.admin.create_database \[\"app__ffrestore_' '$WORK/out' && grep -q 'pg.admin.restore' '$WORK/out' && grep -q 'pg.admin.swap' '$WORK/out' && grep -q '$stamp/db.dump' '$WORK/out'"
check "dry-run touched no database" [ "$(dbs)" = "$before" ]
finish

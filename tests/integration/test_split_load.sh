#!/usr/bin/env bash
# A big table loaded over several sessions at once (admin:load_table,
# core/splitload.c): pg_restore gives a table one worker, so restore (and a
# drill on a configured server, not in a throwaway instance) loads a table
# of split_rows rows or more itself, over jobs sessions, and pg_restore -j
# the rest. The copy must equal the backup
# (checked here without ffrun too), every other table must still be
# loaded exactly once, and a session that fails mid-load must FAIL the run
# with no rows of that table committed by any session.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
pg_load_pgbench src app 20 || { nok "pgbench data loads"; finish; exit 1; }
make_config "$WORK/ws" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
  "drill: { amcheck: false }"
ff() { "$FFRUN" -c "$WORK/ws/ffrun.yaml" "$@"; }
ff -q backup 2> "$WORK/err" || { nok "backup: $(tail -n 1 "$WORK/err")"; finish; exit 1; }
pg_table_digest src app > "$WORK/digest-at-backup"
backup_ev=$(last_evidence "$WORK/ws")
big=2000000 # pgbench_accounts at scale 20; the sample's tables are small

# --- restore: the big table over 3 sessions, the rest by pg_restore -------
ff restore confirm=app jobs=3 split_rows=100000 > "$WORK/out" 2>&1; code=$?
ev=$(last_evidence "$WORK/ws")
check "restore split_rows=100000 jobs=3 passes (exit $code: $(grep '^ffrun:' "$WORK/out" | head -c 200))" [ $code = 0 ]
check "it loaded public.pgbench_accounts over 3 sessions, all $big rows" \
  grep -q "public.pgbench_accounts: $big rows over 3 sessions at once" "$WORK/out"
check "and only that table: no other one reached 100000 rows" \
  [ "$(grep -c 'sessions at once' "$WORK/out")" = 1 ]
check "pg_restore loaded pre-data, then the rest of the data and post-data from a list without that entry" \
  bash -c "grep -q '\"call\":\"pg.admin.restore\".*\"sections\":\[\"pre-data\"\]' '$ev/events.jsonl' &&
           grep -q '\"call\":\"pg.admin.load_table\"' '$ev/events.jsonl' &&
           grep -q '\"call\":\"pg.admin.restore\".*\"sections\":\[\"data\",\"post-data\"\]' '$ev/events.jsonl'"
ntables=$(grep -o '"backup":{[^}]*' "$backup_ev/summary.json" | grep -o '"tables":[0-9]*' | cut -d: -f2)
check "the proof compared every table, the big one included ($ntables; $(grep -o "proved: [0-9]* tables" "$WORK/out"))" grep -q "proved: $ntables tables" "$WORK/out"
pg_table_digest src app > "$WORK/digest-restored"
check "independently of ffrun: every table of the restored database equals the source's at backup time" \
  diff "$WORK/digest-at-backup" "$WORK/digest-restored"

# --- more jobs than the loader's 16 sessions: 16 of them, the rest -j20 ----
ff restore confirm=app jobs=20 split_rows=100000 > "$WORK/out" 2>&1; code=$?
check "restore jobs=20 passes, the big table over 16 sessions (exit $code: $(grep -o 'over [0-9]* sessions' "$WORK/out"))" \
  bash -c "[ $code = 0 ] && grep -q 'public.pgbench_accounts: $big rows over 16 sessions at once' '$WORK/out'"

# --- a throwaway drill instance leaves every table to pg_restore ----------
# (wal_level=minimal there: pg_restore's own COPY writes no WAL.)
ff drill jobs=3 split_rows=100000 > "$WORK/out" 2>&1; code=$?
ev=$(last_evidence "$WORK/ws")
check "drill split_rows=100000 jobs=3 passes (exit $code: $(grep '^ffrun:' "$WORK/out" | head -c 200))" [ $code = 0 ]
check "the throwaway instance's restore did not use the loader" \
  bash -c "! grep -q '\"call\":\"pg.admin.load_table\"' '$ev/events.jsonl' && ! grep -q 'sessions at once' '$WORK/out'"

# --- a rehearsal plans the load and loads nothing -------------------------
before=$(pg_sql src postgres "select string_agg(datname, ' ' order by datname) from pg_database")
ff --dry-run restore confirm=app jobs=2 split_rows=100000 > "$WORK/out" 2>&1; code=$?
ev=$(last_evidence "$WORK/ws")
check "dry-run restore exits 0 (exit $code: $(grep '^ffrun:' "$WORK/out" | head -c 200))" [ $code = 0 ]
check "dry-run: the load of the big table is a planned write" \
  bash -c "grep '\"call\":\"pg.admin.load_table\"' '$ev/events.jsonl' | grep -q planned"
check "dry-run: no database was made" \
  [ "$(pg_sql src postgres "select string_agg(datname, ' ' order by datname) from pg_database")" = "$before" ]

# --- one session killed mid-load: FAIL, every session rolled back ----------
# The copy is kept (keep_failed=true) so what it holds can be read.
( for _ in $(seq 1500); do
    n=$(pg_sql src postgres "select count(pg_terminate_backend(pid)) from pg_stat_activity
          where query like 'COPY public.pgbench_accounts %' and datname like 'app\_\_ffrestore\_%'")
    [ "${n:-0}" -gt 0 ] && exit 0
    sleep 0.02
  done ) & killer=$!
ff restore confirm=app jobs=2 split_rows=100000 keep_failed=true > "$WORK/out" 2>&1; code=$?
wait $killer; killed=$?
check "a session was terminated during the load (the killer found it)" [ $killed = 0 ]
check "restore FAILs naming the session and what the server said (exit $code: $(grep '^ffrun:' "$WORK/out" | head -c 300))" \
  bash -c "[ $code = 1 ] && grep '^ffrun:' '$WORK/out' | grep -q 'loading public.pgbench_accounts, session [0-9] of 2' &&
           grep '^ffrun:' '$WORK/out' | grep -q 'session [0-9]'"
copy=$(pg_sql src postgres "select datname from pg_database where datname like 'app\_\_fffailed\_%' order by datname desc limit 1")
unfinished=$(pg_sql src postgres "select count(*) from pg_database where datname like 'app\_\_ffrestore\_%'")
check "the failed copy was kept as app__fffailed_* ($copy), no app__ffrestore_* left ($unfinished)" \
  bash -c "[ -n '$copy' ] && [ '$unfinished' = 0 ]"
check "no session committed any row of the table ($(pg_sql src "$copy" "select count(*) from pgbench_accounts") in the copy)" \
  [ "$(pg_sql src "$copy" "select count(*) from pgbench_accounts")" = 0 ]
pg_table_digest src app > "$WORK/digest-after"
check "the live database is untouched" diff "$WORK/digest-at-backup" "$WORK/digest-after"
check "no loader session is left on the server" \
  [ "$(pg_sql src postgres "select count(*) from pg_stat_activity where datname = '$copy'")" = 0 ]

# --- SIGTERM during the load: pg_restore stopped, sessions gone, copy dropped
"$FFRUN" -c "$WORK/ws/ffrun.yaml" restore confirm=app jobs=2 split_rows=100000 > "$WORK/out" 2>&1 & pid=$!
for _ in $(seq 1500); do
  [ "$(pg_sql src postgres "select count(*) from pg_stat_activity where query like 'COPY public.pgbench_accounts %' and datname like 'app\_\_ffrestore\_%'")" -gt 0 ] && break
  sleep 0.02
done
kill -TERM $pid; wait $pid; code=$?
ev=$(last_evidence "$WORK/ws")
check "SIGTERM during the load: exit 1, FAIL evidence naming the signal ($code)" \
  bash -c "[ $code = 1 ] && grep -q '\"status\":\"FAIL\"' '$ev/summary.json' && grep -q SIGTERM '$ev/summary.json'"
check "SIGTERM during the load: no pg_restore of this test left" bash -c "! pgrep -f -- '[p]g_restore.*$WORK/' >/dev/null"
check "SIGTERM during the load: no loader session left, the copy dropped" \
  [ "$(pg_sql src postgres "select count(*) from pg_database where datname like 'app\_\_ffrestore\_%'")" = 0 ]
check "the failed copy kept before is still there: no restore removes it" \
  [ "$(pg_sql src postgres "select count(*) from pg_database where datname = '$copy'")" = 1 ]
pg_table_digest src app > "$WORK/digest-after"
check "SIGTERM during the load: the live database is untouched" diff "$WORK/digest-at-backup" "$WORK/digest-after"
finish

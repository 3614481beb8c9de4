#!/usr/bin/env bash
# test_pgbackrest_restore.sh - restore and rollback of engine pgbackrest
# against a real server and real pgBackRest (tests/harness/pgbr.sh), as
# postgres when root. The whole cluster is restored beside the live data
# folder, proven on a private socket, and switched in.
#   a. without confirm= (or with a wrong one): exit 2, nothing made, the
#      server untouched; a rehearsal plans the switch and moves nothing
#   b. the data changed after the backup (rows deleted, a table dropped):
#      restore PASSes; the server runs from the proven copy on its own
#      socket and port; every table equals the backup's by a check written
#      without ffrun (psql + sha256sum); the old folder is kept as
#      <data>.ffprev_STAMP; archiving goes on (pgbackrest check passes, the
#      new timeline's history file reaches the repository)
#   c. rollback switches the old folder back: the changed data again
#   d. a proof that does not hold (a table's fingerprint changed in the
#      manifest, re-sealed): restore FAILs naming the table at prove; the
#      live server never stopped (same postmaster), nothing left beside
#      with keep_failed=true the copy is kept as <data>.fffailed_STAMP,
#      stopped, and no later restore or prune (the newest of its kind) removes it
#   e. the live server down: restore brings the cluster back and up, PASS
#   f. SIGKILL while the copy is being proven (a second restore and a
#      rollback meanwhile are busy, exit 4, also a rollback from another
#      configuration, by the cluster's lock): the live server untouched;
#      the next restore reaps the dead run's instance and its copy beside
#      the data folder, and PASSes
#   g. the proven copy does not start in production (the backup's
#      postgresql.auto.conf preloads a library that does not exist; the
#      proof runs without preloads): the folders are switched back, the
#      old server runs again with its data, exit 1 naming the start
#   h. prune confirm= removes the set-aside folders older than keep_days but
#      the newest of each kind, never one whose postmaster.pid process runs
#   i. a removal that stops half-way (a file it cannot remove) leaves the
#      folder renamed .ffrm…, which rollback never takes; the next prune
#      removes it
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"
source "$(dirname "$0")/../harness/pgbr.sh"

status_of() { grep -o '"status":"[A-Z]*"' "$1/summary.json" | head -n 1; }
last_of() { ls -1d "$WS"/evidence/*-"$1"*/ 2>/dev/null | sed 's:/$::' | sort -V | tail -n 1; }
pm_pid() { head -n 1 "$DATA/postmaster.pid" 2>/dev/null; }
beside() { ls -1d "$DATA".ff"$1"_* 2>/dev/null; }

ff backup type=full > "$WORK/b.out" 2> "$WORK/b.err"; rc=$?
check "backup engine pgbackrest: exit 0 ($(why "$WORK/b.err"))" [ "$rc" = 0 ]
STAMP=$(newest)
B=$WS/backups/$STAMP
check "the proof point is exact" jcheck "$B/manifest.json" "assert(j.proof.level == 'exact', j.proof.level)"
# No writes since: the backup's proof point is this content.
pg_table_digest src sample > "$WORK/at_backup.txt" || nok "digest at the backup"
check "the digest without ffrun covers the tables (orders among them)" grep -q '^public.orders ' "$WORK/at_backup.txt"

# ---- a. no confirm, a wrong one, a rehearsal ---------------------------------
PID0=$(pm_pid)
ff restore "backup=$STAMP" > "$WORK/a.out" 2> "$WORK/a.err"; rc=$?
check "a: restore without confirm=: exit 2 asking for confirm=sample ($(why "$WORK/a.err"))" \
  bash -c "[ $rc = 2 ] && grep -q 'give confirm=sample' '$WORK/a.err'"
ff restore "backup=$STAMP" confirm=other > "$WORK/a.out" 2> "$WORK/a.err"; rc=$?
check "a: restore with a wrong confirm=: exit 2 ($(why "$WORK/a.err"))" [ "$rc" = 2 ]
ff --dry-run restore "backup=$STAMP" confirm=sample > "$WORK/a.out" 2> "$WORK/a.err"; rc=$?
check "a: restore --dry-run: exit 0, the switch planned ($(why "$WORK/a.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'pgbackrest.switch' '$(last_of restore)/events.jsonl'"
check "a: nothing was made beside the data folder (not even the cluster's lock file), the server kept running (postmaster $PID0)" \
  bash -c "[ -z \"$(beside restore)$(beside prev)\" ] && [ ! -e '$DATA.fflock' ] && [ '$(pm_pid)' = '$PID0' ]"
# Something not a lock file in its place (here a folder): a clear error, in a rehearsal too.
mkdir "$DATA.fflock" && ff --dry-run restore "backup=$STAMP" confirm=sample > "$WORK/a2.out" 2> "$WORK/a2.err"; rc=$?
rmdir "$DATA.fflock"
check "a: <data>.fflock a folder: exit 1 saying it is not a regular file ($(why "$WORK/a2.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'data.fflock: not a regular file' '$WORK/a2.err'"

# ---- b. the data changed; restore to the proof point -------------------------
pg_sql src sample "DELETE FROM orders WHERE id % 3 = 0; DROP TABLE public.ul_cache" ||
  nok "b: the data changed"
pg_table_digest src sample > "$WORK/changed.txt" || nok "b: digest after the change"
check "b: the change shows in the digest (the check can fail)" bash -c "! cmp -s '$WORK/at_backup.txt' '$WORK/changed.txt'"
ff restore "backup=$STAMP" confirm=sample > "$WORK/r.out" 2> "$WORK/r.err"; rc=$?
EV=$(last_of restore)
check "b: restore engine pgbackrest: exit 0, PASS ($(why "$WORK/r.err"))" \
  bash -c "[ $rc = 0 ] && [ '$(status_of "$EV")' = '\"status\":\"PASS\"' ]"
check "b: the evidence: proof level exact, tables proved, a switch with downtime, the old folder kept" jcheck "$EV/summary.json" "
assert(j.proof_level == 'exact' and j.verification.tables > 0 and #j.verification.mismatches == 0, 'proof')
assert(j.switch and j.switch.was_running and j.switch.kept:find('.ffprev_', 1, true) and j.downtime_s >= 0, 'switch')
assert(j.smoke and j.objectives, 'smoke, objectives')"
pg_table_digest src sample > "$WORK/restored.txt" || nok "b: digest after the restore"
# ul_cache is unlogged: a physical copy holds it empty, as the proof said.
check "b: every table equals the backup's by psql + sha256sum (the dropped one back, the unlogged one empty)" \
  bash -c "diff <(grep -v '^public.ul_cache ' '$WORK/at_backup.txt') <(grep -v '^public.ul_cache ' '$WORK/restored.txt') &&
    grep -q '^public.ul_cache e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$' '$WORK/restored.txt'"
SERVED=$(pg_sql src postgres "SELECT current_setting('data_directory') || ' ' || current_setting('port')")
check "b: the server runs from the data folder on its own port ($SERVED)" [ "$SERVED" = "$DATA $PORT" ]
check "b: the old data folder is kept as $DATA.ffprev_*, nothing else beside" \
  bash -c "[ -n \"$(beside prev)\" ] && [ -f \"$(beside prev)/PG_VERSION\" ] && [ -z \"$(beside restore)\" ]"
check "b: ffrun's marks are gone from the live folder" [ ! -e "$DATA/ffrun.restore" ]
# pgbackrest restore's recovery settings (restore_command naming the
# folder restored into, the target) are spent: gone; ALTER SYSTEM's stay.
check "b: postgresql.auto.conf: pgBackRest's recovery settings gone, the server's own settings kept" \
  bash -c "! grep -Eq '^(restore_command|recovery_target)|ffrestore_' '$DATA/postgresql.auto.conf' &&
    grep -q '^archive_command = .pgbackrest' '$DATA/postgresql.auto.conf' && grep -q '^wal_level' '$DATA/postgresql.auto.conf'"
check "b: archiving goes on: archive_mode on" [ "$(pg_sql src postgres 'SHOW archive_mode')" = on ]
as_pg pgbackrest --config="$BR/plain.conf" --stanza=main check > "$WORK/check.log" 2>&1; rc=$?
check "b: pgbackrest check after the switch: exit 0 ($(tail -n 2 "$WORK/check.log" | tr '\n' ' '))" [ "$rc" = 0 ]
TLI=$(pg_sql src postgres "SELECT lpad(to_hex(timeline_id), 8, '0') FROM pg_control_checkpoint()" | tr 'a-f' 'A-F')
check "b: the new timeline ($TLI) has its history file in the repository" \
  bash -c "find '$BR/repo/archive/main' -name '$TLI.history*' | grep -q ."

# ---- c. rollback -------------------------------------------------------------
PREV=$(beside prev)
ff rollback > "$WORK/c.out" 2> "$WORK/c.err"; rc=$?
check "c: rollback without confirm=: exit 2 ($(why "$WORK/c.err"))" [ "$rc" = 2 ]
ff rollback confirm=sample > "$WORK/c.out" 2> "$WORK/c.err"; rc=$?
check "c: rollback: exit 0 ($(why "$WORK/c.err"))" [ "$rc" = 0 ]
pg_table_digest src sample > "$WORK/rolled.txt" || nok "c: digest after the rollback"
check "c: the data as it was before the restore (the change back)" cmp -s "$WORK/changed.txt" "$WORK/rolled.txt"
check "c: the restored folder is kept as .ffbad_*, the .ffprev_ one is live again" \
  bash -c "[ -n \"$(beside bad)\" ] && [ ! -e '$PREV' ]"

# ---- d. a proof that does not hold: the live server never stops --------------
reseal() { (cd "$1" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST); }
F=$WS/backups/20991231-000001
rm -rf "$F" && cp -a "$B" "$F" &&
  jset "$F/manifest.json" "for _, t in ipairs(j.tables) do if t.name == 'orders' then t.content_sha256 = string.rep('0', 64) end end" &&
  reseal "$F" || nok "d: a forged backup"
PID1=$(pm_pid)
ff restore backup=20991231-000001 confirm=sample > "$WORK/d.out" 2> "$WORK/d.err"; rc=$?
EV=$(last_of restore)
check "d: a fingerprint that does not hold: exit 1, FAIL at prove naming orders ($(why "$WORK/d.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'step prove failed' '$WORK/d.err' && grep -q 'orders' '$WORK/d.err' && [ '$(status_of "$EV")' = '\"status\":\"FAIL\"' ]"
check "d: the live server never stopped (postmaster $PID1), the data unchanged" \
  bash -c "[ '$(pm_pid)' = '$PID1' ] && [ -n '$PID1' ]"
pg_table_digest src sample > "$WORK/after_d.txt" || nok "d: digest"
check "d: the live data is what it was" cmp -s "$WORK/changed.txt" "$WORK/after_d.txt"
check "d: nothing left beside the data folder but the kept ones, no instance folder of the run" \
  bash -c "[ -z \"$(beside restore)\" ] && [ \$(ls -1d '$DATA'.ffprev_* 2>/dev/null | wc -l) = 0 ]"

# keep_failed=true: the same FAIL, the copy kept under a name no restore
# reaps, its server stopped.
ff restore backup=20991231-000001 confirm=sample keep_failed=true > "$WORK/d2.out" 2> "$WORK/d2.err"; rc=$?
rm -rf "$F"
FAILED_COPY=$(beside failed)
check "d: keep_failed=true: exit 1, the copy kept as $FAILED_COPY, stopped, no .ffrestore_ left ($(why "$WORK/d2.err"))" \
  bash -c "[ $rc = 1 ] && [ \$(echo '$FAILED_COPY' | grep -c .) = 1 ] && [ -f '$FAILED_COPY/PG_VERSION' ] &&
    [ ! -e '$FAILED_COPY/postmaster.pid' ] && [ -z \"$(beside restore)\" ] && grep -q 'keeping the failed copy as $FAILED_COPY' '$WORK/d2.err'"
check "d: keep_failed=true: the live server never stopped" [ "$(pm_pid)" = "$PID1" ]
check "d: the kept copy never archives, if started by hand (archive_mode = 'off' last in its postgresql.auto.conf)" \
  bash -c "[ \"\$(grep '^archive_mode' '$FAILED_COPY/postgresql.auto.conf' | tail -n 1)\" = \"archive_mode = 'off'\" ]"

# ---- e. the live server down -------------------------------------------------
as_pg "$PG_BINDIR/pg_ctl" -D "$DATA" -m fast -w -t 60 stop > "$WORK/stop.log" 2>&1 || nok "e: the server stops"
ff restore "backup=$STAMP" confirm=sample > "$WORK/e.out" 2> "$WORK/e.err"; rc=$?
EV=$(last_of restore)
check "e: restore with the server down: exit 0, PASS, said it was not running ($(why "$WORK/e.err"))" \
  bash -c "[ $rc = 0 ] && [ '$(status_of "$EV")' = '\"status\":\"PASS\"' ] && grep -q 'is not running' '$WORK/e.err'"
pg_table_digest src sample > "$WORK/e.txt" || nok "e: digest"
check "e: the server is up, every table as the backup's" \
  bash -c "diff <(grep -v '^public.ul_cache ' '$WORK/at_backup.txt') <(grep -v '^public.ul_cache ' '$WORK/e.txt')"
# ---- f. SIGKILL mid-way -------------------------------------------------------
PID2=$(pm_pid)
# ffrun itself in the background (not the ff function, whose subshell is
# what $! would name: killing it would leave ffrun running)
"$FFRUN" -c "$WS/ffrun.yaml" restore "backup=$STAMP" confirm=sample > "$WORK/f.out" 2> "$WORK/f.err" &
run=$!
copy=
for _ in $(seq 1 300); do
  copy=$(beside restore)
  [ -n "$copy" ] && [ -f "$copy/postmaster.pid" ] && break
  sleep 0.1
done
# Held still (SIGSTOP) where it was seen, so a fast proof cannot finish
# while the busy runs below go: it keeps its lock and its copy.
kill -STOP "$run" 2>/dev/null
# While it proves, a second restore or a rollback of the same target is
# refused before it writes anything.
ff restore "backup=$STAMP" confirm=sample > "$WORK/f3.out" 2> "$WORK/f3.err"; rc=$?
check "f: a second restore of the target meanwhile: busy, exit 4, naming the target's lock ($(why "$WORK/f3.err"))" \
  bash -c "[ $rc = 4 ] && grep -q 'busy: .*/.targets/prod is locked by another run' '$WORK/f3.err' && kill -0 $run"
ff rollback confirm=sample > "$WORK/f4.out" 2> "$WORK/f4.err"; rc=$?
check "f: a rollback of the target meanwhile: busy, exit 4 ($(why "$WORK/f4.err"))" \
  bash -c "[ $rc = 4 ] && grep -q 'busy: .*/.targets/prod is locked' '$WORK/f4.err' && kill -0 $run"
# Another configuration (its own backups folder) on the same cluster: the
# cluster's lock beside the data folder holds it off too.
config "$WORK/ws2" "$BR/plain.conf" main
"$FFRUN" -c "$WORK/ws2/ffrun.yaml" rollback confirm=sample > "$WORK/f5.out" 2> "$WORK/f5.err"; rc=$?
check "f: a rollback from another configuration's backups folder meanwhile: busy, exit 4, naming the cluster's lock ($(why "$WORK/f5.err"))" \
  bash -c "[ $rc = 4 ] && grep -q 'busy: $DATA.fflock is locked by another run' '$WORK/f5.err' && kill -0 $run"
"$FFRUN" -c "$WORK/ws2/ffrun.yaml" --dry-run rollback confirm=sample > "$WORK/f6.out" 2> "$WORK/f6.err"; rc=$?
check "f: its rehearsal is busy as well ($(why "$WORK/f6.err"))" \
  bash -c "[ $rc = 4 ] && grep -q 'busy: $DATA.fflock is locked' '$WORK/f6.err'"
kill -KILL "$run" 2>/dev/null
wait "$run" 2>/dev/null
check "f: the killed ffrun is gone: the target's lock and its cluster's it held are free" \
  bash -c "flock -n '$WS/backups/.targets/prod/.ffrun.lock' true && flock -n '$DATA.fflock' true"
check "f: the run was caught with its copy beside the data folder being proven ($copy)" \
  bash -c "[ -n '$copy' ] && [ -e '$copy' ]"
check "f: SIGKILL: the live server untouched (postmaster $PID2)" [ "$(pm_pid)" = "$PID2" ]
inst=$(for d in /tmp/ffrun-drill-*; do [ "$(cat "$d/beside" 2>/dev/null)" = "$copy" ] && echo "$d"; done)
check "f: the dead run's instance ($inst) records its copy, and its server still runs" \
  bash -c "[ -n '$inst' ] && ps -eo args= | grep -v grep | grep -qF -- '$inst/data'"
ff restore "backup=$STAMP" confirm=sample > "$WORK/f2.out" 2> "$WORK/f2.err"; rc=$?
check "f: the next restore: exit 0 ($(why "$WORK/f2.err"))" [ "$rc" = 0 ]
check "f: the dead run's copy and instance are gone (reaped), no server runs from them" \
  bash -c "[ ! -e '$copy' ] && [ ! -e '$inst' ] && ! ps -eo args= | grep -v grep | grep -qF -- '$inst/data'"

# ---- g. the copy does not start after the switch: switched back ---------------
pg_sql src postgres "ALTER SYSTEM SET shared_preload_libraries = 'ffrun_no_such_lib'" || nok "g: ALTER SYSTEM"
ff backup type=incr > "$WORK/g.out" 2> "$WORK/g.err"; rc=$?
check "g: a backup whose postgresql.auto.conf preloads a missing library: exit 0 ($(why "$WORK/g.err"))" [ "$rc" = 0 ]
G=$(newest)
pg_sql src postgres "ALTER SYSTEM RESET shared_preload_libraries" || nok "g: ALTER SYSTEM RESET"
pg_sql src sample "DELETE FROM orders WHERE id % 5 = 0" || nok "g: the data changed"
pg_table_digest src sample > "$WORK/g_before.txt" || nok "g: digest before"
PID3=$(pm_pid)
PREV_BEFORE=$(beside prev | wc -l)
ff restore "backup=$G" confirm=sample > "$WORK/g2.out" 2> "$WORK/g2.err"; rc=$?
EV=$(last_of restore)
check "g: the copy does not start: exit 1, FAIL at swap saying it switched back and the old server runs ($(why "$WORK/g2.err"))" \
  bash -c "[ $rc = 1 ] && [ '$(status_of "$EV")' = '\"status\":\"FAIL\"' ] && grep -q 'step swap failed' '$WORK/g2.err' &&
    grep -q 'did not start' '$WORK/g2.err' && grep -q 'switched back, the old server runs again' '$WORK/g2.err'"
check "g: the server's log names the missing library" grep -q 'ffrun_no_such_lib' "$DATA.ffrun.log"
check "g: a server runs again from the data folder, a new postmaster (the old one was stopped)" \
  bash -c "[ -n '$(pm_pid)' ] && [ '$(pm_pid)' != '$PID3' ] && kill -0 '$(pm_pid)'"
pg_table_digest src sample > "$WORK/g_after.txt" || nok "g: digest after"
check "g: the live data is what it was before the restore" cmp -s "$WORK/g_before.txt" "$WORK/g_after.txt"
check "g: the live folder's settings are its own (no missing preload)" \
  bash -c "! grep -q ffrun_no_such_lib '$DATA/postgresql.auto.conf'"
check "g: no old folder was kept by the failed run" [ "$(beside prev | wc -l)" = "$PREV_BEFORE" ]

# ---- h. prune: old set-aside folders go, the newest of each kind stays -------
P_ALL=$(beside prev)
check "h: restores left .ffprev_ folders and the rollback one .ffbad_ ($(echo $P_ALL) / $(echo $(beside bad)))" \
  bash -c "[ $(echo "$P_ALL" | grep -c .) -ge 2 ] && [ $(beside bad | grep -c .) = 1 ]"
# The oldest prev and the only bad made two years old (their stamps are their age).
OLD_P=$DATA.ffprev_20200101-000000 OLD_B=$DATA.ffbad_20200101-000000
mv "$(echo "$P_ALL" | head -n 1)" "$OLD_P" && mv "$(beside bad)" "$OLD_B" || nok "h: aged the folders"
OLDER_B=$DATA.ffbad_20190101-000000 ODD=$DATA.ffprev_1
mkdir -m 700 "$OLDER_B" "$ODD" || nok "h: an older bad folder and one not named by ffrun"
NP=$(beside prev | grep -c .)
ff --dry-run prune keep_days=1 confirm=sample > "$WORK/h.out" 2> "$WORK/h.err"; rc=$?
check "h: prune --dry-run: exit 0, the removal planned, nothing removed ($(why "$WORK/h.err"))" \
  bash -c "[ $rc = 0 ] && grep -q 'pgbackrest.remove_aside' '$(last_of prune)/events.jsonl' && [ -d '$OLD_P' ] && [ -d '$OLD_B' ]"
# A folder whose postmaster.pid names a running process is never removed.
RUNNING=$DATA.ffprev_20200102-000000
mkdir -m 700 "$RUNNING" || nok "h: mkdir"
sleep 600 > /dev/null 2>&1 & SLEEPER=$!
eval "set -- $(trap -p EXIT)"; trap "[ -n \"\${SLEEPER:-}\" ] && kill \$SLEEPER 2>/dev/null; ${3:-:}" EXIT # gone however the script ends
echo "$SLEEPER" > "$RUNNING/postmaster.pid"
ff prune keep_days=1 confirm=sample > "$WORK/h2.out" 2> "$WORK/h2.err"; rc=$?
check "h: prune with a server-looking folder: exit 1 naming it and the process, it stays ($(why "$WORK/h2.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'ffprev_20200102-000000: its postmaster.pid names process $SLEEPER, which runs: left alone' '$WORK/h2.err' && [ -d '$RUNNING' ]"
check "h: what it removed before the refusal is gone" [ ! -e "$OLD_P" ]
check "h: and is in the failed run's evidence" jcheck "$(last_of prune)/summary.json" "
assert(j.copies_removed[1]:find('.ffprev_20200101-000000', 1, true), 'not listed')"
kill "$SLEEPER" 2>/dev/null; wait "$SLEEPER" 2>/dev/null; SLEEPER= # its pid may be reused
ff prune keep_days=1 confirm=sample > "$WORK/h3.out" 2> "$WORK/h3.err"; rc=$?
check "h: prune: exit 0; the old prev and the older bad folder gone, the recent ones, the newest (old) bad one and an odd name kept ($(why "$WORK/h3.err"))" \
  bash -c "[ $rc = 0 ] && [ ! -e '$RUNNING' ] && [ ! -e '$OLDER_B' ] && [ -d '$OLD_B' ] && [ -d '$ODD' ] &&
    [ \$(ls -1d '$DATA'.ffprev_2* | grep -c .) = $((NP - 2)) ] && grep -q 'ffprev_1: not a name ffrun gives, left alone' '$WORK/h3.err'"
check "h: the prune's evidence lists what it removed" jcheck "$(last_of prune)/summary.json" "
local want = { ['$RUNNING'] = true, ['$OLDER_B'] = true }
for _, c in ipairs(j.copies_removed) do assert(want[c], c); want[c] = nil end
assert(next(want) == nil, 'not all listed')"
check "h: the server still runs from the data folder" bash -c "[ -n '$(pm_pid)' ] && kill -0 '$(pm_pid)'"

# ---- i. a removal that stops half-way: renamed first, finished next time -----
STUCK=$DATA.ffprev_20200103-000000 LEFT=$DATA.ffrmprev_20200103-000000
mkdir -m 700 "$STUCK" "$STUCK/base" && echo x > "$STUCK/base/file" || nok "i: mkdir"
# A file the removal cannot take away: immutable (root removes anything
# else), or in a read-only folder (anyone but root).
if [ "$(id -u)" = 0 ]; then chattr +i "$STUCK/base/file" || nok "i: chattr +i on $(df -T "$STUCK" | tail -n 1)"
else chmod 500 "$STUCK/base"; fi
ff prune keep_days=1 confirm=sample > "$WORK/i.out" 2> "$WORK/i.err"; rc=$?
check "i: prune: exit 1 naming what is left; the folder is no longer a .ffprev_ ($(why "$WORK/i.err"))" \
  bash -c "[ $rc = 1 ] && grep -q 'could not be removed whole.*what is left is $LEFT, which the next prune removes' '$WORK/i.err' &&
    [ ! -e '$STUCK' ] && [ -f '$LEFT/base/file' ]"
ff --dry-run rollback stamp=20200103-000000 confirm=sample > "$WORK/i2.out" 2> "$WORK/i2.err"; rc=$?
check "i: rollback does not take the half-removed folder for one to switch in ($(why "$WORK/i2.err"))" \
  bash -c "[ $rc = 2 ] && grep -q 'no set-aside data folder $DATA.ffprev_20200103-000000' '$WORK/i2.err'"
for f in "$STUCK/base" "$LEFT/base"; do # whichever name it has: the work folder must go at the end
  [ -e "$f" ] || continue; if [ "$(id -u)" = 0 ]; then chattr -i "$f/file"; else chmod 700 "$f"; fi
done
# An older failed copy kept beside the one d kept: it goes, the newest stays.
OLD_F=$DATA.fffailed_20200104-000000
mkdir -m 700 "$OLD_F" || nok "i: an old failed copy"
ff prune keep_days=1 confirm=sample > "$WORK/i3.out" 2> "$WORK/i3.err"; rc=$?
check "i: the next prune removes the leftover: exit 0, gone, in its evidence ($(why "$WORK/i3.err"))" \
  bash -c "[ $rc = 0 ] && [ ! -e '$LEFT' ] && grep -q 'ffrmprev_20200103-000000 (left by a removal that stopped)' '$WORK/i3.err'"
check "i: the leftover and the older failed copy are listed as removed, nothing else" jcheck "$(last_of prune)/summary.json" "
assert(#j.copies_removed == 2 and j.copies_removed[1] == '$LEFT' and j.copies_removed[2] == '$OLD_F', tostring(j.copies_removed[2]))"
check "i: the older failed copy is gone, the newest (d's) stays" bash -c "[ ! -e '$OLD_F' ] && [ -f '$FAILED_COPY/PG_VERSION' ]"

check "the failed copy kept in d outlived every restore since, and prune (the newest of its kind)" [ -f "$FAILED_COPY/PG_VERSION" ]

# This run's only: another suite's restores may run beside it.
left=$(for d in /tmp/ffrun-drill-*; do case "$(cat "$d/beside" 2>/dev/null)" in "$DATA".*) echo "$d" ;; esac; done)
check "no instance folder of a restore beside production left ($left)" [ -z "$left" ]

finish

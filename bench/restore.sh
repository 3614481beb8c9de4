#!/usr/bin/env bash
# restore.sh - restore and drill against the stock tools, side by side on a
# pgbench scale-$SCALE backup (default 50), in one run:
#   ffrun restore (verify: content)  vs  bare pg_restore -j2 into a fresh db   target <= 1.3x
#   ffrun drill                      vs  initdb + start + bare pg_restore -j2
#                                        + stop + rm                      target <= 1.2x
# (ffrun as it ships: restore loads pgbench_accounts, 5 M rows, over 2
# sessions, as it is over split_rows; the same with split_rows=0 is
# printed too. A drill in a throwaway instance never splits.)
# and the drill's absolute RTO. Best of $RUNS (default 3) each, interleaved.
# The drill's amcheck step (pg_amcheck --heapallindexed, after RTO; the
# bare drill has none) is printed on its own line and taken out of the
# drill's time before the ratio.
# Not a test: prints figures and PASS/MISS.
#   FFRUN=build/ffrun SCALE=50 RUNS=3 bench/restore.sh
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../tests/harness/lib.sh"
source "$HERE/../tests/harness/pg.sh"
SCALE=${SCALE:-50}
RUNS=${RUNS:-3}

pg_start bench >/dev/null || exit 2
echo "loading pgbench scale $SCALE ..." >&2
pg_load_pgbench bench app "$SCALE" || exit 2
BIN=$(_pg_find_bindir)
make_config "$WORK/ws" \
  "targets: { prod: { conninfo: \"$(pg_conninfo bench app)\" }, drill: { ephemeral: true } }" \
  "backup: { verify: content, globals: none }"
ff() { "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$@"; }
ff backup || { echo "bench: backup failed" >&2; exit 2; }
dump=$(ls -d "$WORK"/ws/backups/*/ | grep -v partial | tail -n 1)db.dump
now() { date +%s%N; }
# amcheck_s of the last run's evidence (0 when it did not run).
amcheck_s() { local a; a=$(grep -o '"amcheck_s":[0-9.]*' "$(last_evidence "$1")/summary.json" | head -n 1 | cut -d: -f2); echo "${a:-0}"; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

best() { sort -n | head -n 1; }
# The bare instance gets ffrun's own throwaway settings (host/core/cluster.c):
# the ratio is what ffrun adds (verify, prove, teardown), not its tuning.
SETTINGS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal"
SETTINGS+=" -c max_wal_senders=0 -c autovacuum=off -c maintenance_work_mem=256MB"
SETTINGS+=" -c max_wal_size=4GB -c checkpoint_timeout=30min"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
D=$WORK/manual
bare_restores=() restores=() bare_drills=() drills=() best_drill=999999 amcheck=0
# Each measurement starts quiet: no autovacuum of the last restore's tables
# running beside it, no gigabyte of dirty pages the kernel is writing back.
pg_sql bench postgres "alter system set autovacuum = off; select pg_reload_conf()" >/dev/null
settle() { pg_sql bench postgres "checkpoint" >/dev/null; sync; sleep 1; }
# Each restore starts on a server holding the live database only: the
# bare run's "fresh" and the copies ffrun's restores set aside
# (app__ffprev_*, which prune would remove) are dropped first. Left to pile
# up (six more 755 MB databases by the third run), they slowed ffrun's
# two-session load of pgbench_accounts from 2.0-2.2 s to 3.0-3.8 s (its
# sessions waiting on relation extension) while a bare pg_restore stayed
# at 3.6-4.0 s (2026-12-04).
only_live() {
  local d
  for d in $(pg_sql bench postgres "select datname from pg_database where datname = 'fresh' or datname like 'app\_\_ff%'"); do
    _pg_client bench dropdb "$d"
  done
}
for i in $(seq "$RUNS"); do
  # Restore: bare pg_restore -j2 into a fresh database of the same server.
  only_live; pg_createdb bench fresh >/dev/null
  settle
  t0=$(now); _pg_client bench pg_restore -j2 -d fresh "$dump"; bare_restores+=("$(secs "$t0" "$(now)")")
  only_live
  settle
  t0=$(now); ff restore confirm=app jobs=2 || echo "bench: restore failed" >&2; r=$(secs "$t0" "$(now)"); restores+=("$r")
  # The steps of the fastest restore (those of 0.05 s or more).
  if awk -v a="$r" -v b="${best_restore:-999999}" 'BEGIN { exit !(a < b) }'; then
    best_restore=$r
    restore_steps=$(grep -o '"name":"[a-z_]*","status":"[A-Z]*","duration_s":[0-9.]*' "$(last_evidence "$WORK/ws")/summary.json" |
      sed 's/"name":"//; s/","status":"[A-Z]*","duration_s":/ /' | awk '$2 >= 0.05 { printf "%s %.2f s, ", $1, $2 }')
  fi

  # Drill: initdb + start + pg_restore -j2 into a throwaway instance, by hand,
# then stop it and remove it.
  rm -rf "$D"; mkdir -p "$D/sock"; chown -R postgres "$D" 2>/dev/null || true
  settle
  t0=$(now)
  as_pg "$BIN/initdb" -D "$D/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  as_pg "$BIN/pg_ctl" start -w -D "$D/data" -l "$D/log" \
    -o "-c listen_addresses= -c unix_socket_directories=$D/sock $SETTINGS" >/dev/null
  "$BIN/createdb" -h "$D/sock" -U postgres app
  "$BIN/pg_restore" -h "$D/sock" -U postgres -j2 -d app "$dump"
  # A drill ends with its instance gone: ffrun's teardown is in its time.
  as_pg "$BIN/pg_ctl" stop -w -m immediate -D "$D/data" >/dev/null
  rm -rf "$D"
  bare_drills+=("$(secs "$t0" "$(now)")")
  settle
  t0=$(now); ff drill jobs=2 || echo "bench: drill failed" >&2; d=$(secs "$t0" "$(now)")
  a=$(amcheck_s "$WORK/ws"); d=$(minus "$d" "$a"); drills+=("$d")
  # RTO and the proof's share, of the fastest drill.
  if awk -v a="$d" -v b="$best_drill" 'BEGIN { exit !(a < b) }'; then
    best_drill=$d
    rto=$(grep -o '"rto_s":[0-9.]*' "$(last_evidence "$WORK/ws")/summary.json" | head -n 1 | cut -d: -f2)
    amcheck=$a
    prove=$(grep -o '"name":"prove","status":"PASS","duration_s":[0-9.]*' "$(last_evidence "$WORK/ws")/summary.json" | grep -o '[0-9.]*$')
  fi
done
bare_restore=$(printf '%s\n' "${bare_restores[@]}" | best)
restore=$(printf '%s\n' "${restores[@]}" | best)
bare_drill=$(printf '%s\n' "${bare_drills[@]}" | best)
drill=$(printf '%s\n' "${drills[@]}" | best)

# The same drill of a backup taken with verify: rows (count(*) instead of
# reading every row back): what proving the content costs.
make_config "$WORK/rows" \
  "targets: { prod: { conninfo: \"$(pg_conninfo bench app)\" }, drill: { ephemeral: true } }" \
  "backup: { verify: rows, globals: none }"
"$FFRUN" -q -c "$WORK/rows/ffrun.yaml" backup || echo "bench: rows backup failed" >&2
settle; t0=$(now); "$FFRUN" -q -c "$WORK/rows/ffrun.yaml" drill jobs=2 || echo "bench: rows drill failed" >&2
drill_rows=$(minus "$(secs "$t0" "$(now)")" "$(amcheck_s "$WORK/rows")")

# The same restore with every table loaded by pg_restore (split_rows=0):
# what loading the big table over jobs sessions gains.
only_live; settle; t0=$(now); ff restore confirm=app jobs=2 split_rows=0 || echo "bench: split_rows=0 restore failed" >&2
restore_nosplit=$(secs "$t0" "$(now)")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x <= t) ? "PASS" : "MISS" }'; }
rr=$(ratio "$restore" "$bare_restore"); dr=$(ratio "$drill" "$bare_drill")
echo
echo "pgbench scale $SCALE, dump $(stat -c %s "$dump") bytes, best of $RUNS"
printf '%-52s %7s s\n' "bare pg_restore -j2 into a fresh database" "$bare_restore"
printf '%-52s %7s s  %sx  %s (<= 1.3x)\n' "ffrun restore (verify content, prove, swap, smoke)" "$restore" "$rr" "$(verdict "$rr" 1.3)"
echo "  its steps: ${restore_steps%, }"
printf '%-52s %7s s\n' "initdb + start + bare pg_restore -j2 + stop + rm" "$bare_drill"
printf '%-52s %7s s  %sx  %s (<= 1.2x)\n' "ffrun drill (instance, restore, prove, teardown)" "$drill" "$dr" "$(verdict "$dr" 1.2)"
printf '%-52s %7.2f s\n' "  of which the content proof (every row read back)" "$prove"
printf '%-52s %7.2f s  (after RTO, not in the ratio)\n' "ffrun drill's amcheck (pg_amcheck --heapallindexed)" "$amcheck"
printf '%-52s %7s s  %sx\n' "ffrun drill of a verify: rows backup (count(*))" "$drill_rows" "$(ratio "$drill_rows" "$bare_drill")"
printf '%-52s %7s s  %sx\n' "ffrun restore, split_rows=0 (pg_restore loads all)" "$restore_nosplit" "$(ratio "$restore_nosplit" "$bare_restore")"
printf '%-52s %7s s\n' "drill RTO (run start to smoke PASS)" "$rto"
echo "every run, in order: bare restore ${bare_restores[*]}; ffrun restore ${restores[*]};" \
  "bare drill ${bare_drills[*]}; ffrun drill ${drills[*]} (each without its amcheck)"
# The VM's speed drifts 20-40% between minutes: a ratio of two runs made
# side by side (same iteration) is steadier than best against best.
paired() { # paired "a1 a2 …" "b1 b2 …": each a/b, then their median
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
    for (i = 1; i <= n; i++) { r[i] = x[i] / y[i]; printf "%.2f ", r[i] }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
    m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2; printf "median %.2f\n", m }'
}
pr=$(paired "${restores[*]}" "${bare_restores[*]}"); pd=$(paired "${drills[*]}" "${bare_drills[*]}")
echo "paired ratios, run by run: restore $pr ($(verdict "${pr##* }" 1.3) <= 1.3x); drill $pd ($(verdict "${pd##* }" 1.2) <= 1.2x)"

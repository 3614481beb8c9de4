#!/usr/bin/env bash
# pgbackrest.sh - engine pgbackrest against the stock tools, side by side on
# a pgbench scale-$SCALE database (default 50), in one run:
#   ffrun backup type=full    vs  bare pgbackrest backup --type=full    target <= 1.05x
#   ffrun backup type=full    vs  bare pg_dump -Fc                      target <= 0.6x
#   ffrun drill (to L, proved) vs  bare pgbackrest restore to L + start
#                                   + promotion + the same proof by hand
#                                   (every table's COPY text hashed, two
#                                   at a time) + stop + rm              target <= 1.1x
# and two floors for the backup, measured in the same runs: the bare backup
# followed by every table's rows read once in the source (count(*), then
# COPY text to /dev/null, two tables at a time): what any proof point that
# reads every row adds at the least, whatever else it does.
# Best of $RUNS (default 3) each, interleaved; the drill's amcheck (after
# RTO; the bare drill has none) is taken out of its time, as in restore.sh.
# The server archives WAL through pgBackRest (posix repository in this
# run's folder, lz4, process-max 2) with wal_level=logical. Not a test:
# prints figures and PASS/MISS.
#   FFRUN=build/ffrun SCALE=50 RUNS=3 bench/pgbackrest.sh
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../tests/harness/lib.sh"
source "$HERE/../tests/harness/pg.sh"
SCALE=${SCALE:-50}
RUNS=${RUNS:-3}
[ -x /usr/bin/pgbackrest ] || { echo "bench: pgbackrest is not installed (scripts/setup.sh)" >&2; exit 2; }

pg_start bench >/dev/null || exit 2
echo "loading pgbench scale $SCALE ..." >&2
pg_load_pgbench bench app "$SCALE" || exit 2
BIN=$(_pg_find_bindir) DATA=$(pg_data bench) SOCK=$(pg_host bench) PORT=$(pg_port bench)
as_pg() { _pg_as_owner "$@"; }
BR=$WORK/pgbr
mkdir -p "$BR/repo" "$BR/log" "$BR/lock" "$BR/spool"
cat > "$BR/pgbackrest.conf" <<EOF
[global]
repo1-path=$BR/repo
log-path=$BR/log
lock-path=$BR/lock
spool-path=$BR/spool
start-fast=y
compress-type=lz4
process-max=2
repo1-retention-full=100
[bench]
pg1-path=$DATA
pg1-socket-path=$SOCK
pg1-port=$PORT
pg1-user=postgres
EOF
chmod 600 "$BR/pgbackrest.conf"
if _pg_is_root; then chown -R "$PG_OS_USER:" "$BR"; fi
pgbr() { as_pg /usr/bin/pgbackrest --config="$BR/pgbackrest.conf" --stanza=bench "$@"; }
pg_sql bench postgres "ALTER SYSTEM SET wal_level = logical; ALTER SYSTEM SET archive_mode = on;
  ALTER SYSTEM SET max_wal_senders = 10; ALTER SYSTEM SET max_replication_slots = 10;
  ALTER SYSTEM SET autovacuum = off;
  ALTER SYSTEM SET archive_command = 'pgbackrest --config=$BR/pgbackrest.conf --stanza=bench archive-push %p'" >/dev/null &&
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$(pg_log bench)" -w -t 60 restart >/dev/null &&
  pgbr stanza-create >/dev/null || { echo "bench: archiving or stanza-create failed" >&2; exit 2; }
make_config "$WORK/ws" \
  "targets:" \
  "  prod:" \
  "    conninfo: \"host=$SOCK port=$PORT user=postgres dbname=app\"" \
  "    engine: pgbackrest" \
  "    pgbackrest: { stanza: bench, config: $BR/pgbackrest.conf }" \
  "  drill: { ephemeral: true }" \
  "postgres: { os_user: ${PG_OS_USER:-postgres} }"
ff() { "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$@"; }
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }
best() { sort -n | head -n 1; }
settle() { pg_sql bench postgres "checkpoint" >/dev/null; sync; sleep 1; }
amcheck_s() { local a; a=$(grep -o '"amcheck_s":[0-9.]*' "$(last_evidence "$WORK/ws")/summary.json" | head -n 1 | cut -d: -f2); echo "${a:-0}"; }

# The proof by hand: every user table's COPY text through sha256sum, two
# tables at a time, on database app of the server at socket $1.
tables() { "$BIN/psql" -h "$1" -p "${2:-5432}" -U postgres -d app -XAtqc \
  "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"; }
prove_by_hand() {
  tables "$1" | xargs -P 2 -I{} sh -c "'$BIN/psql' -h '$1' -p 5432 -U postgres -d app -XAtqc 'copy {} to stdout' | sha256sum >/dev/null"
}
# Every row of the source read once, two tables at a time: $1 "count"
# (count(*): no column read) or "copy" (COPY text to /dev/null, no digest).
read_rows() {
  local sql="copy {} to stdout"
  [ "$1" = count ] && sql="select count(*) from {}"
  tables "$SOCK" "$PORT" | xargs -P 2 -I{} sh -c "'$BIN/psql' -h '$SOCK' -p '$PORT' -U postgres -d app -XAtqc '$sql' >/dev/null"
}

bare_backups=() backups=() dumps=() bare_drills=() drills=() floors_count=() floors_copy=()
D=$WORK/manual
# The bare drill's server is not one of pg.sh's: stop it at exit too.
stop_manual() { [ -f "$D/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" stop -w -m immediate -D "$D/data" >/dev/null 2>&1; true; }
eval "set -- $(trap -p EXIT)"; trap "stop_manual; ${3:-:}" EXIT
for i in $(seq "$RUNS"); do
  settle
  t0=$(now); pgbr backup --type=full >/dev/null || echo "bench: bare pgbackrest backup failed" >&2
  b=$(secs "$t0" "$(now)"); bare_backups+=("$b")
  t0=$(now); read_rows count; floors_count+=("$(plus "$b" "$(secs "$t0" "$(now)")")")
  t0=$(now); read_rows copy; floors_copy+=("$(plus "$b" "$(secs "$t0" "$(now)")")")
  settle
  t0=$(now); ff backup type=full || echo "bench: ffrun backup failed" >&2
  backups+=("$(secs "$t0" "$(now)")")
  steps=$(grep -o '"name":"[a-z_]*","status":"[A-Z]*","duration_s":[0-9.]*' "$(last_evidence "$WORK/ws")/summary.json" |
    sed 's/"name":"//; s/","status":"[A-Z]*","duration_s":/ /' | awk '$2 >= 0.05 { printf "%s %.2f s, ", $1, $2 }')
  settle
  t0=$(now); _pg_client bench pg_dump -Fc -f "$WORK/app.dump" app; dumps+=("$(secs "$t0" "$(now)")")
  rm -f "$WORK/app.dump"

  # The last ffrun backup's set and proof point: the bare drill restores
  # the same set to the same L.
  m=$(ls -d "$WORK"/ws/backups/*/ | grep -v partial | tail -n 1)manifest.json
  label=$(grep -o '"label":"[^"]*"' "$m" | head -n 1 | cut -d'"' -f4)
  lsn=$(grep -o '"proof":{[^}]*' "$m" | grep -o '"lsn":"[^"]*"' | cut -d'"' -f4)
  settle
  rm -rf "$D"; mkdir -p "$D/sock" "$D/data"; chmod 700 "$D" "$D/data"
  if _pg_is_root; then chown -R "$PG_OS_USER:" "$D"; fi
  t0=$(now)
  pgbr restore --set="$label" --type=lsn --target="$lsn" --target-exclusive --target-action=promote \
    --archive-mode=off --pg1-path="$D/data" --tablespace-map-all="$D/ts" >/dev/null ||
    echo "bench: bare pgbackrest restore failed" >&2
  printf 'local all all trust\n' > "$D/hba.conf"; if _pg_is_root; then chown "$PG_OS_USER:" "$D/hba.conf"; fi
  as_pg "$BIN/pg_ctl" start -w -t 600 -D "$D/data" -l "$D/log" -o "-c listen_addresses= -c unix_socket_directories=$D/sock \
    -c port=5432 -c hba_file=$D/hba.conf -c archive_mode=off -c hot_standby=on -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c autovacuum=off -c max_wal_size=4GB -c checkpoint_timeout=30min" >/dev/null ||
    echo "bench: bare restored server did not start" >&2
  for _ in $(seq 12000); do # 10 minutes at most
    [ "$("$BIN/psql" -h "$D/sock" -p 5432 -U postgres -d app -XAtqc 'select pg_is_in_recovery()' 2>/dev/null)" = f ] && break
    sleep 0.05
  done
  prove_by_hand "$D/sock"
  as_pg "$BIN/pg_ctl" stop -w -m immediate -D "$D/data" >/dev/null
  rm -rf "$D"
  bare_drills+=("$(secs "$t0" "$(now)")")
  settle
  t0=$(now); ff drill || echo "bench: ffrun drill failed" >&2
  drills+=("$(minus "$(secs "$t0" "$(now)")" "$(amcheck_s)")")
done
bare_backup=$(printf '%s\n' "${bare_backups[@]}" | best)
backup=$(printf '%s\n' "${backups[@]}" | best)
dump=$(printf '%s\n' "${dumps[@]}" | best)
floor_count=$(printf '%s\n' "${floors_count[@]}" | best)
floor_copy=$(printf '%s\n' "${floors_copy[@]}" | best)
bare_drill=$(printf '%s\n' "${bare_drills[@]}" | best)
drill=$(printf '%s\n' "${drills[@]}" | best)
ev=$(last_evidence "$WORK/ws")
level=$(grep -o '"proof_level":"[a-z]*"' "$ev/summary.json" | head -n 1 | cut -d'"' -f4)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v x="$1" -v t="$2" 'BEGIN { print (x <= t) ? "PASS" : "MISS" }'; }
rb=$(ratio "$backup" "$bare_backup"); rd=$(ratio "$backup" "$dump"); rr=$(ratio "$drill" "$bare_drill")
echo
echo "pgbench scale $SCALE, pgBackRest $(/usr/bin/pgbackrest version | cut -d' ' -f2) (lz4, process-max 2), best of $RUNS"
printf '%-56s %7s s\n' "bare pgbackrest backup --type=full" "$bare_backup"
printf '%-56s %7s s\n' "bare pg_dump -Fc" "$dump"
printf '%-56s %7s s  %sx of pg_dump\n' "  (the bare backup against pg_dump -Fc)" "$bare_backup" "$(ratio "$bare_backup" "$dump")"
printf '%-56s %7s s  %sx  (the floor of a proof point: no column read)\n' "bare backup + count(*) of every table, 2 at a time" \
  "$floor_count" "$(ratio "$floor_count" "$bare_backup")"
printf '%-56s %7s s  %sx  (the floor of one reading every row as text)\n' "bare backup + every table's COPY text to /dev/null" \
  "$floor_copy" "$(ratio "$floor_copy" "$bare_backup")"
printf '%-56s %7s s  %sx  %s (<= 1.05x)\n' "ffrun backup type=full (check, backup, proof point)" "$backup" "$rb" "$(verdict "$rb" 1.05)"
printf '%-56s %7s s  %sx  %s (<= 0.6x of pg_dump)\n' "  the same against pg_dump -Fc" "$backup" "$rd" "$(verdict "$rd" 0.6)"
echo "  ffrun backup's steps, last run: ${steps%, }"
printf '%-56s %7s s\n' "bare restore to L + start + promotion + proof + stop + rm" "$bare_drill"
printf '%-56s %7s s  %sx  %s (<= 1.1x)\n' "ffrun drill to L (proof level $level, teardown)" "$drill" "$rr" "$(verdict "$rr" 1.1)"
echo "every run, in order: bare backup ${bare_backups[*]}; + count(*) ${floors_count[*]}; + COPY ${floors_copy[*]};" \
  "ffrun backup ${backups[*]}; pg_dump ${dumps[*]};" \
  "bare drill ${bare_drills[*]}; ffrun drill ${drills[*]} (each without its amcheck)"

# pg.sh - throwaway PostgreSQL servers for the black-box tests (SPEC §9).
#
# Source it after lib.sh (which provides $WORK and the EXIT trap):
#
#   source "$(dirname "$0")/../harness/lib.sh"
#   source "$(dirname "$0")/../harness/pg.sh"
#   pg_start src || { nok "server starts"; finish; exit 1; }
#   pg_load_sample src sample
#   pg_sql src sample "select count(*) from orders"
#
# Conventions
#   * A cluster NAME matches [A-Za-z0-9_]+. Its files live in $WORK/pg-NAME:
#       data/        the data directory (PGDATA)
#       sock/        the unix socket folder (the only way in: no TCP)
#       server.log   the server's log (pg_ctl -l)
#   * Port: 20000 + RANDOM % 20000; with a private socket folder it only
#     names the socket file (.s.PGSQL.PORT), but a failed start retries
#     with another one anyway.
#   * Superuser "postgres", trust over the socket, TCP refused; encoding
#     UTF8, locale C; fsync/full_page_writes off, shared_buffers 32MB.
#   * As root, initdb/pg_ctl run as the OS user $PG_OS_USER (default
#     postgres) through runuser; clients (psql, pgbench...) run as the
#     caller and connect as PGUSER=postgres, which trust allows.
#   * pg_start exports PGHOST/PGPORT/PGUSER for the cluster just started
#     (so plain libpq clients, ffrun's default `prod`, talk to it) and sets
#     PG_<NAME>_HOST, PG_<NAME>_PORT, PG_<NAME>_DATA (NAME upper-cased).
#     pg_use NAME re-exports them for another cluster.
#   * Every started cluster is stopped at exit: the EXIT trap becomes
#     `pg_stop_all; <previous trap>` (lib.sh's rm -rf "$WORK" still runs,
#     after the stop). A watchdog also stops the servers and removes $WORK
#     if the test shell dies without running its trap (SIGKILL, e.g. a
#     ctest timeout).
#
# Binaries: $PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else
# pg_config --bindir, else the folder of the initdb found in PATH.

if [ -n "${_PG_SH_LOADED:-}" ]; then return 0; fi
_PG_SH_LOADED=1

if [ -z "${WORK:-}" ] || [ ! -d "$WORK" ]; then
  echo "pg.sh: source tests/harness/lib.sh first (no \$WORK)" >&2
  return 1
fi

PG_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_OS_USER=${PG_OS_USER:-postgres}

_pg_find_bindir() {
  local d
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  # Versions sort numerically so 15 beats 9.6; the newest is the one a
  # dump from any older server restores into.
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  if command -v pg_config >/dev/null 2>&1; then pg_config --bindir; return; fi
  d=$(command -v initdb 2>/dev/null) && dirname "$d"
}
PG_BINDIR=$(_pg_find_bindir)
if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ]; then
  echo "pg.sh: no PostgreSQL server binaries found (set PG_BINDIR)" >&2
  return 1
fi
export PG_BINDIR

# Names of the clusters started and not yet stopped, in start order.
_PG_CLUSTERS=()

# Settings that make COPY text output independent of the server's and the
# client's defaults, so the same rows give the same bytes anywhere.
PG_FIXED_OPTIONS="-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c TimeZone=UTC -c bytea_output=hex"

_pg_err() { echo "pg.sh: $*" >&2; }

_pg_is_root() { [ "$(id -u)" = 0 ]; }

# Run a server-side tool (initdb, pg_ctl) as the cluster owner. From "/"
# because root's cwd is often unreadable for postgres.
_pg_as_owner() {
  if _pg_is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

_pg_check_name() {
  if [[ ! ${1:-} =~ ^[A-Za-z0-9_]+$ ]]; then
    _pg_err "bad cluster name '${1:-}' (want [A-Za-z0-9_]+)"
    return 1
  fi
}

_pg_known() {
  _pg_check_name "$1" || return 1
  if [ ! -d "$WORK/pg-$1/data" ]; then
    _pg_err "no cluster '$1' (pg_start it first)"
    return 1
  fi
}

pg_host() { echo "$WORK/pg-$1/sock"; }
pg_data() { echo "$WORK/pg-$1/data"; }
pg_port() { cat "$WORK/pg-$1/port" 2>/dev/null; }
pg_log()  { echo "$WORK/pg-$1/server.log"; }

# pg_conninfo NAME [DB]: a libpq conninfo for the cluster, e.g. for a
# target in an ffrun.yaml.
pg_conninfo() {
  _pg_known "$1" || return 1
  echo "host=$(pg_host "$1") port=$(pg_port "$1") user=postgres dbname=${2:-postgres}"
}

# pg_use NAME: point PGHOST/PGPORT/PGUSER at the cluster.
pg_use() {
  _pg_known "$1" || return 1
  export PGHOST PGPORT PGUSER
  PGHOST=$(pg_host "$1")
  PGPORT=$(pg_port "$1")
  PGUSER=postgres
}

# Client tools, run as the caller against cluster NAME. Explicit host,
# port and user so a stray PG* variable of the caller cannot redirect them.
_pg_client() {
  local name=$1 tool=$2; shift 2
  PGHOST=$(pg_host "$name") PGPORT=$(pg_port "$name") PGUSER=postgres \
    "$PG_BINDIR/$tool" "$@"
}

# The watchdog: one per test shell, started with the first cluster. It
# outlives a test shell killed with SIGKILL (double fork + setsid puts it
# out of the shell's process tree and process group) and then stops every
# server under $WORK and removes $WORK. It leaves on its own once $WORK
# is gone, i.e. after the normal trap ran.
_PG_WATCHDOG=
_pg_watchdog() {
  [ -n "$_PG_WATCHDOG" ] && return 0
  _PG_WATCHDOG=1
  local parent=$$
  # Its parameters travel in the environment, not argv: pg_wait_gone
  # looks for $WORK in command lines.
  # shellcheck disable=SC2016  # expanded by the watchdog's own bash
  (
    trap - EXIT INT TERM
    _WD_PARENT=$parent _WD_WORK=$WORK _WD_BINDIR=$PG_BINDIR _WD_OSUSER=$PG_OS_USER \
    setsid bash -c '
      while kill -0 "$_WD_PARENT" 2>/dev/null && [ -d "$_WD_WORK" ]; do sleep 1; done
      [ -d "$_WD_WORK" ] || exit 0
      for pid in "$_WD_WORK"/pg-*/data/postmaster.pid; do
        [ -f "$pid" ] || continue
        if [ "$(id -u)" = 0 ]; then
          (cd / && runuser -u "$_WD_OSUSER" -- "$_WD_BINDIR/pg_ctl" -D "${pid%/*}" -m immediate -w -t 20 stop)
        else
          (cd / && "$_WD_BINDIR/pg_ctl" -D "${pid%/*}" -m immediate -w -t 20 stop)
        fi
      done
      rm -rf "$_WD_WORK"
    ' pg-watchdog </dev/null >/dev/null 2>&1 &
  ) </dev/null >/dev/null 2>&1
}

# pg_start NAME: initdb + start a cluster, export PGHOST/PGPORT/PGUSER for
# it. Returns non-zero (with the log's tail on stderr) when it cannot.
pg_start() {
  local name=$1 base data sock port uc
  _pg_check_name "$name" || return 1
  base=$WORK/pg-$name data=$base/data sock=$base/sock
  if [ -e "$base" ]; then
    _pg_err "cluster '$name' already exists in $base"
    return 1
  fi
  # Unix socket paths are limited to 107 bytes; leave room for the
  # ".s.PGSQL.NNNNN.lock" file name.
  if [ ${#sock} -gt 85 ]; then
    _pg_err "socket folder path too long ($sock): use a shorter TMPDIR"
    return 1
  fi
  mkdir -p "$data" "$sock" || return 1
  if _pg_is_root; then
    chown -R "$PG_OS_USER:" "$base" || return 1
    if ! runuser -u "$PG_OS_USER" -- test -w "$base"; then
      _pg_err "user $PG_OS_USER cannot reach $base (a parent folder not searchable? set TMPDIR=/tmp)"
      return 1
    fi
  fi
  chmod 700 "$data"
  # Socket folder readable and searchable by all: a non-root client (or
  # ffrun run as another user) must reach the socket, which the server
  # creates 0777 itself.
  chmod 755 "$base" "$sock"

  # --no-sync: the cluster dies with the test. Trust only on the socket;
  # TCP is off (listen_addresses='') and refused in pg_hba anyway.
  if ! _pg_as_owner "$PG_BINDIR/initdb" -D "$data" -U postgres \
         --auth-local=trust --auth-host=reject -E UTF8 --no-locale \
         --no-sync --no-instructions > "$base/initdb.log" 2>&1; then
    _pg_err "initdb failed for '$name':"
    tail -n 20 "$base/initdb.log" >&2
    return 1
  fi
  # The harness settings go in an included file, rewritten per attempt
  # (only the port changes).
  echo "include 'harness.conf'" >> "$data/postgresql.conf"

  _pg_watchdog
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    cat > "$data/harness.conf" <<EOF
# written by tests/harness/pg.sh
listen_addresses = ''
unix_socket_directories = '$sock'
port = $port
cluster_name = '$(basename "$WORK")-$name'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
max_wal_size = 1GB
logging_collector = off
log_min_messages = warning
log_timezone = 'UTC'
timezone = 'UTC'
EOF
    if _pg_is_root; then chown "$PG_OS_USER:" "$data/harness.conf"; fi
    if _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$data" -l "$base/server.log" \
         -w -t 60 start > "$base/pg_ctl.log" 2>&1; then
      echo "$port" > "$base/port"
      _PG_CLUSTERS+=("$name")
      uc=${name^^}
      printf -v "PG_${uc}_HOST" '%s' "$sock"
      printf -v "PG_${uc}_PORT" '%s' "$port"
      printf -v "PG_${uc}_DATA" '%s' "$data"
      pg_use "$name"
      return 0
    fi
    # A failed start may still have left a postmaster behind (e.g. pg_ctl
    # timed out): make sure it is gone before the next attempt.
    _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1
  done
  _pg_err "could not start cluster '$name' after 5 attempts; log tail:"
  tail -n 20 "$base/server.log" "$base/pg_ctl.log" >&2 2>/dev/null
  return 1
}

# pg_stop NAME: fast shutdown and wait; escalates to immediate, then to
# SIGKILL of the postmaster, so that nothing is left running.
pg_stop() {
  local name=$1 data pid i rest=()
  _pg_known "$name" || return 1
  data=$(pg_data "$name")
  if [ -f "$data/postmaster.pid" ]; then
    if ! _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 &&
       ! _pg_as_owner "$PG_BINDIR/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1; then
      pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
      if [ -n "$pid" ]; then
        _pg_err "cluster '$name' did not stop: killing postmaster $pid"
        kill -KILL "$pid" 2>/dev/null
      fi
    fi
  fi
  for i in "${_PG_CLUSTERS[@]}"; do [ "$i" = "$name" ] || rest+=("$i"); done
  _PG_CLUSTERS=("${rest[@]}")
}

# pg_stop_all: stop every cluster still running, newest first.
pg_stop_all() {
  local i
  for ((i = ${#_PG_CLUSTERS[@]} - 1; i >= 0; i--)); do
    pg_stop "${_PG_CLUSTERS[i]}"
  done
  return 0
}

# pg_wait_gone [SECONDS [WORKDIR]]: succeed once no process of this
# test's clusters remains (default: wait up to 15 s; WORKDIR defaults to
# $WORK, another one checks on another test's servers); otherwise list
# them on stderr and fail. A process belongs to us when its command line holds our $WORK
# (postmaster: -D $WORK/...) or our cluster_name tag (the backends and
# auxiliary processes: "postgres: fftest-XXXXXX-NAME: checkpointer").
# The matching is done in bash so that no grep/awk whose own argv holds
# the pattern shows up in the list.
pg_wait_gone() {
  local timeout=${1:-15} work=${2:-$WORK} tag left line t
  tag=$(basename "$work")
  for ((t = 0; t <= timeout * 5; t++)); do
    left=
    while read -r line; do
      case $line in
        *"$work"* | *"$tag-"*) left+="$line"$'\n' ;;
      esac
    done < <(ps -eo pid=,args=)
    [ -z "$left" ] && return 0
    sleep 0.2
  done
  _pg_err "processes of $work still running:"
  printf '%s' "$left" >&2
  return 1
}

# pg_psql NAME DB [PSQL ARGS...]: psql -X against the cluster, as is.
pg_psql() {
  local name=$1 db=$2; shift 2
  _pg_known "$name" || return 1
  _pg_client "$name" psql -X -d "$db" "$@"
}

# pg_sql NAME DB SQL: run SQL (several statements allowed; "-" reads it
# from stdin), print the rows unaligned, tuples only, "|" separated; stop
# and fail at the first error.
pg_sql() {
  local name=$1 db=$2 sql=$3
  _pg_known "$name" || return 1
  if [ "$sql" = - ]; then
    _pg_client "$name" psql -X -v ON_ERROR_STOP=1 -qAt -d "$db" -f -
  else
    printf '%s\n' "$sql" | _pg_client "$name" psql -X -v ON_ERROR_STOP=1 -qAt -d "$db" -f -
  fi
}

# pg_createdb NAME DB: create DB unless it exists.
pg_createdb() {
  local name=$1 db=$2 exists
  _pg_known "$name" || return 1
  # :'db' quotes the name as a literal; psql substitutes variables only
  # in input it reads, hence stdin rather than -c.
  exists=$(echo "select 1 from pg_database where datname = :'db'" |
           _pg_client "$name" psql -X -v ON_ERROR_STOP=1 -qAt -d postgres -v db="$db" -f -) || return 1
  [ "$exists" = 1 ] && return 0
  _pg_client "$name" createdb "$db"
}

# pg_load_sample NAME DB: create DB and load tests/harness/sample.sql in
# one transaction.
pg_load_sample() {
  local name=$1 db=$2
  _pg_known "$name" || return 1
  _pg_client "$name" createdb "$db" || return 1
  _pg_client "$name" psql -X -q -v ON_ERROR_STOP=1 --single-transaction \
    -d "$db" -f "$PG_HARNESS_DIR/sample.sql" >/dev/null
}

# pg_load_file NAME DB FILE: create DB if needed and load FILE (e.g.
# examples/foxproflow/schema.sql) in one transaction.
pg_load_file() {
  local name=$1 db=$2 file=$3
  pg_createdb "$name" "$db" || return 1
  _pg_client "$name" psql -X -q -v ON_ERROR_STOP=1 --single-transaction \
    -d "$db" -f "$file" >/dev/null
}

# pg_load_pgbench NAME DB SCALE: create DB if needed and pgbench -i it
# (SCALE x 100000 rows in pgbench_accounts). Quiet unless it fails.
pg_load_pgbench() {
  local name=$1 db=$2 scale=$3 log
  pg_createdb "$name" "$db" || return 1
  log=$WORK/pg-$name/pgbench-$db.log
  if ! _pg_client "$name" pgbench -i -s "$scale" -q "$db" > "$log" 2>&1; then
    _pg_err "pgbench -i failed for $name/$db:"
    tail -n 20 "$log" >&2
    return 1
  fi
}

# pg_tables NAME DB: the tables pg_table_digest covers, one per line as
# `schema.table` (names unquoted) TAB `"schema"."table"` (quoted).
# Covered: ordinary tables (relkind 'r'), which includes the leaf
# partitions of a partitioned table. Excluded: partitioned parents
# (relkind 'p', they hold no rows of their own: their rows are counted
# once, in their leaves), views, materialized views, foreign tables,
# and the pg_catalog, information_schema, pg_toast and temp schemas.
pg_tables() {
  local name=$1 db=$2
  _pg_known "$name" || return 1
  _pg_client "$name" psql -X -v ON_ERROR_STOP=1 -qAt -F $'\t' -d "$db" -c "
    select n.nspname || '.' || c.relname, format('%I.%I', n.nspname, c.relname)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'r'
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
     order by n.nspname || '.' || c.relname collate \"C\""
}

# pg_table_digest NAME DB: for each table of pg_tables, in C order of
# name, print `schema.table SHA256`, SHA256 being that of the table's
# `\copy (select * from T) to stdout` text, lines sorted in the C locale:
# an order-independent digest of its rows, computed without ffrun, under
# fixed session settings (PG_FIXED_OPTIONS, UTF8), so that the same rows
# restored anywhere give the same value. An empty table gives the digest
# of empty input (e3b0c442...). Fails if any query fails.
pg_table_digest() {
  local name=$1 db=$2 list plain quoted sum
  _pg_known "$name" || return 1
  list=$(pg_tables "$name" "$db") || return 1
  while IFS=$'\t' read -r plain quoted; do
    [ -n "$plain" ] || continue
    sum=$(
      set -o pipefail
      PGOPTIONS=$PG_FIXED_OPTIONS PGCLIENTENCODING=UTF8 \
        _pg_client "$name" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
          -c "\\copy (select * from $quoted) to stdout" |
        LC_ALL=C sort | sha256sum
    ) || { _pg_err "digest of $plain in $name/$db failed"; return 1; }
    echo "$plain ${sum%% *}"
  done <<< "$list" | LC_ALL=C sort
  # The loop runs in a pipeline: its failure is the status of the pipe's
  # first element, which bash keeps in PIPESTATUS.
  return "${PIPESTATUS[0]}"
}

# Stop the servers before lib.sh's cleanup removes their folders: prepend
# pg_stop_all to whatever EXIT trap is set. `trap -p` prints the command
# quoted for re-reading, hence the eval into positional parameters.
# shellcheck disable=SC2120  # $3 comes from the eval'd `set --`
_pg_chain_trap() {
  local prev=
  local spec
  spec=$(trap -p EXIT)
  if [ -n "$spec" ]; then
    eval "set -- $spec"   # trap -- 'COMMAND' EXIT
    prev=$3
  fi
  # shellcheck disable=SC2064
  trap "pg_stop_all; ${prev:-:}" EXIT
}
_pg_chain_trap

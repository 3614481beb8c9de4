# pgbr.sh - what the pgBackRest suites share: a source server "src" with
# the sample database (a large object, an unlogged table with rows) run
# with archive_mode on, archive_command = pgbackrest archive-push and
# wal_level logical; posix repositories under $WORK/pgbr (plain.conf:
# stanza main; enc.conf: stanza enc, aes-256-cbc); ffrun configs (config
# DIR CONF STANZA) and JSON helpers through ffrun itself (jcheck, jget,
# jset). Source after lib.sh and pg.sh.
if [ ! -x /usr/bin/pgbackrest ]; then
  nok "pgbackrest is installed (scripts/setup.sh installs it)"
  finish
  exit 1
fi
pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src sample || { nok "sample loads"; finish; exit 1; }
# A large object, so that the category is proved on something.
pg_sql src sample "SELECT lo_from_bytea(0, convert_to('ffrun large object', 'UTF8'))" > /dev/null || nok "large object"
# An unlogged table with rows: a physical backup does not hold them, so
# the drill must find it empty and prove exactly that.
pg_sql src sample "CREATE UNLOGGED TABLE public.ul_cache (k int, v text);
  INSERT INTO public.ul_cache SELECT g, 'cached ' || g FROM generate_series(1, 100) g" > /dev/null || nok "unlogged table"
DATA=$(pg_data src) SOCK=$(pg_host src) PORT=$(pg_port src)

BR=$WORK/pgbr
mkdir -p "$BR"
# conf FILE STANZA REPO [EXTRA LINES...]: a pgbackrest.conf of the stanza.
conf() {
  local file=$1 stanza=$2 repo=$3; shift 3
  {
    echo "[global]"
    echo "repo1-path=$repo"
    echo "log-path=$BR/log"
    echo "lock-path=$BR/lock"
    echo "spool-path=$BR/spool"
    echo "start-fast=y"
    echo "compress-type=lz4"
    echo "job-retry=0"   # a tampered file fails at once, not after 15 s
    for l in "$@"; do echo "$l"; done
    echo "[$stanza]"
    echo "pg1-path=$DATA"
    echo "pg1-socket-path=$SOCK"
    echo "pg1-port=$PORT"
    echo "pg1-user=postgres"
  } > "$file"
  chmod 600 "$file"
  if _pg_is_root; then chown "$PG_OS_USER:" "$file"; fi
}
as_pg() { _pg_as_owner "$@"; }
mkdir -p "$BR/repo" "$BR/log" "$BR/lock" "$BR/spool" "$BR/repo_enc"
if _pg_is_root; then chown -R "$PG_OS_USER:" "$BR"; fi
conf "$BR/plain.conf" main "$BR/repo"
PASS_PHRASE="ffrun-test-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
conf "$BR/enc.conf" enc "$BR/repo_enc" "repo1-cipher-type=aes-256-cbc" "repo1-cipher-pass=$PASS_PHRASE"

# archive_command FILE STANZA: point the server's archiving at a stanza.
archive_to() {
  pg_sql src postgres "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$1 --stanza=$2 archive-push %p'" &&
    pg_sql src postgres "SELECT pg_reload_conf()" > /dev/null
}
pg_sql src postgres "ALTER SYSTEM SET wal_level = logical; ALTER SYSTEM SET archive_mode = on;
  ALTER SYSTEM SET max_wal_senders = 10; ALTER SYSTEM SET max_replication_slots = 10" &&
  archive_to "$BR/plain.conf" main &&
  as_pg "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$(pg_log src)" -w -t 60 restart > "$WORK/restart.log" 2>&1 ||
  { nok "server restarts with archiving: $(tail -n 3 "$WORK/restart.log")"; finish; exit 1; }
if ! as_pg pgbackrest --config="$BR/plain.conf" --stanza=main stanza-create > "$WORK/stanza.log" 2>&1; then
  nok "stanza-create: $(tail -n 3 "$WORK/stanza.log")"; finish; exit 1
fi

WS=$WORK/ws
# config DIR CONF STANZA [EXTRA LINES...]
config() {
  local dir=$1 file=$2 stanza=$3; shift 3
  make_config "$dir" \
    "targets:" \
    "  prod:" \
    "    conninfo: \"host=$SOCK port=$PORT user=postgres dbname=sample\"" \
    "    engine: pgbackrest" \
    "    pgbackrest: { stanza: $stanza, config: $file }" \
    "  drill: { ephemeral: true }" \
    "postgres: { os_user: ${PG_OS_USER:-postgres} }" \
    "objectives: { rpo_hours: 24, rto_minutes: 30 }" "$@"
}
config "$WS" "$BR/plain.conf" main
ff() { "$FFRUN" -c "$WS/ffrun.yaml" "$@"; }
newest() { ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | sort | tail -n 1; }
why() { tail -n 3 "$1" | tr '\n' ' '; }
# JSON through ffrun itself (a clean Debian has no python): jcheck FILE
# CODE passes when the Lua statements CODE over j (the decoded file) raise
# nothing; jget FILE EXPR prints EXPR; jset FILE CODE changes the file.
cat > "$WORK/jq.lua" <<'LUA'
return { name = "jq", version = "1", summary = "test helper: check, read or change a JSON file",
  params = {
    { name = "file", type = "string", default = "", doc = "the JSON file" },
    { name = "code", type = "string", default = "", doc = "Lua statements over j" },
    { name = "write", type = "boolean", default = false, doc = "write j back" } },
  steps = { { name = "run", doc = "run the code", run = function(p)
    local j = ff.json.decode(assert(ff.fs.read(p.file)))
    local function out(v)
      print(type(v) == "number" and v == math.floor(v) and string.format("%d", v) or tostring(v))
    end
    local env = setmetatable({ j = j, out = out }, { __index = _G })
    assert(load(p.code, "code", "t", env))()
    if p.write then assert(ff.fs.write(p.file, ff.json.encode(j))) end
  end } } }
LUA
jcheck() {
  "$FFRUN" -c "$WS/ffrun.yaml" "$WORK/jq.lua" "file=$1" "code=$2" > /dev/null 2> "$WORK/jq.err" ||
    { grep 'step run failed' "$WORK/jq.err" | tail -n 1 >&2; return 1; }
}
jget() { "$FFRUN" -c "$WS/ffrun.yaml" "$WORK/jq.lua" "file=$1" "code=out($2)" 2>&1 > /dev/null | sed -n 's/^info  \[run\] //p'; }
jset() { "$FFRUN" -q -c "$WS/ffrun.yaml" "$WORK/jq.lua" "file=$1" "code=$2" write=true > /dev/null; }
# The newest drill's evidence (a verify in the same second sorts after it).
last_drill() { ls -1d "$WS"/evidence/*-drill*/ 2>/dev/null | sed 's:/$::' | sort -V | tail -n 1; }

#!/usr/bin/env bash
# The PostgreSQL test harness itself (tests/harness/pg.sh): a cluster
# starts, the sample and demo databases load, pg_table_digest is
# reproducible, sees a changed row and survives a dump/restore into a
# second cluster, and no server outlives its test - even one that fails
# or is killed.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

HARNESS=$(cd "$(dirname "$0")/../harness" && pwd)
# fails COMMAND...: succeeds when the command fails (check runs its
# arguments as a command, where a bare "!" is no operator).
fails() { ! "$@"; }

if ! pg_start a; then
  nok "cluster a starts"
  finish; exit 1
fi
ok "cluster a starts (port $PG_A_PORT, socket folder $PG_A_HOST)"
check "PGHOST/PGPORT/PGUSER exported" \
  [ "$PGHOST" = "$PG_A_HOST" -a "$PGPORT" = "$PG_A_PORT" -a "$PGUSER" = postgres ]
check "data folder under \$WORK" [ "$PG_A_DATA" = "$WORK/pg-a/data" -a -f "$PG_A_DATA/PG_VERSION" ]
check "plain libpq clients reach it through the environment" \
  [ "$("$PG_BINDIR/psql" -X -qAt -d postgres -c 'select 40 + 2')" = 42 ]
check "TCP is off" [ "$(pg_sql a postgres "show listen_addresses")" = "" ]
check "server encoding UTF8" [ "$(pg_sql a postgres "show server_encoding")" = UTF8 ]

# ------------------------------------------------------------ sample.sql
if pg_load_sample a sample; then ok "sample.sql loads"; else nok "sample.sql loads"; fi

count() { pg_sql a sample "select count(*) from $1"; }
for t in customers orders audit_log type_zoo big_values events '"Sales"."Orders"'; do
  n=$(count "$t")
  check "$t has rows ($n)" [ "${n:-0}" -gt 0 ]
done
check "empty_table is empty" [ "$(count empty_table)" = 0 ]
total=$(pg_sql a sample "select (select count(*) from customers) + (select count(*) from orders)
  + (select count(*) from audit_log) + (select count(*) from type_zoo)
  + (select count(*) from events) + (select count(*) from \"Sales\".\"Orders\")")
check "a few thousand rows in all ($total)" [ "${total:-0}" -ge 5000 ]
check "\"Sales\".\"Orders\" exists" \
  [ "$(pg_sql a sample "select to_regclass('\"Sales\".\"Orders\"') is not null")" = t ]
check "its rows reference customers by a foreign key" \
  [ "$(pg_sql a sample "select count(*) from pg_constraint
        where conrelid = '\"Sales\".\"Orders\"'::regclass and contype = 'f'
          and confrelid = 'public.customers'::regclass")" = 1 ]
check "standalone_seq is at 4242" \
  [ "$(pg_sql a sample "select last_value from standalone_seq")" = 4242 ]
check "events has 3 partitions" \
  [ "$(pg_sql a sample "select count(*) from pg_inherits where inhparent = 'events'::regclass")" = 3 ]
check "every partition has rows" \
  [ "$(pg_sql a sample "select bool_and(n > 0) from (select count(*) n from events group by tableoid) x")" = t ]
check "the trigger logged inserts and updates" \
  [ "$(pg_sql a sample "select string_agg(distinct action, ',' order by action) from audit_log")" = INSERT,UPDATE ]
check "big values are stored out of line (TOAST)" \
  [ "$(pg_sql a sample "select pg_relation_size(reltoastrelid) > 1000000 from pg_class where relname = 'big_values'")" = t ]
check "bytea keeps zero bytes" \
  [ "$(pg_sql a sample "select encode(bin, 'hex') from type_zoo where id = 2")" = 00000000ff00fe00 ]
check "text[] keeps NULL elements, quotes and commas" \
  [ "$(pg_sql a sample "select words[1] || '|' || words[2] || '|' || (words[3] is null) from type_zoo where id = 2")" = 'a,b|say "hi"|true' ]
check "the domain's CHECK holds" \
  fails pg_sql a sample "insert into customers (name, zip) values ('bad', '12ab')" 2>/dev/null
check "the smoke query of SPEC §3 passes on sample" \
  [ "$(pg_sql a sample "select count(*) > 0 from orders")" = t ]

# -------------------------------------------------------- pg_table_digest
d1=$(pg_table_digest a sample); r1=$?
d2=$(pg_table_digest a sample); r2=$?
check "pg_table_digest succeeds" [ "$r1" = 0 -a "$r2" = 0 ]
check "pg_table_digest is reproducible" [ -n "$d1" -a "$d1" = "$d2" ]
ntables=$(printf '%s\n' "$d1" | grep -c .)
tables=$(pg_sql a sample "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname in ('public', 'Sales')")
check "one digest line per table ($ntables of $tables)" [ "$ntables" = "$tables" ]
check "every line is 'schema.table sha256'" \
  [ -z "$(printf '%s\n' "$d1" | grep -Ev '^[^ ]+\.[^ ]+ [0-9a-f]{64}$')" ]
check "lines sorted by table name" [ "$d1" = "$(printf '%s\n' "$d1" | LC_ALL=C sort)" ]
check "partitions listed, partitioned parent not" \
  [ "$(printf '%s\n' "$d1" | grep -c '^public\.events_20')" = 3 -a \
    -z "$(printf '%s\n' "$d1" | grep '^public\.events ')" ]
check "Sales.Orders listed" grep -q '^Sales\.Orders ' <<< "$d1"
check "empty table digests to sha256 of nothing" \
  grep -qx 'public.empty_table e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' <<< "$d1"
check "digest of a missing database fails" fails pg_table_digest a nosuchdb 2>/dev/null

pg_sql a sample "update type_zoo set txt = txt || '!' where id = 1"
d3=$(pg_table_digest a sample)
changed=$(diff <(printf '%s\n' "$d1") <(printf '%s\n' "$d3") | sed -n 's/^> \([^ ]*\) .*/\1/p')
check "a changed row changes exactly its table's digest ($changed)" [ "$changed" = public.type_zoo ]
pg_sql a sample "update type_zoo set txt = left(txt, -1) where id = 1"
check "and reverting it restores the digest" [ "$(pg_table_digest a sample)" = "$d1" ]

# ---------------------------------------------- a second cluster, restore
if pg_start b; then ok "cluster b starts beside a (port $PG_B_PORT)"; else nok "cluster b starts"; fi
check "PG* now point at b" [ "$PGHOST" = "$PG_B_HOST" -a "$PGPORT" = "$PG_B_PORT" ]
check "a and b are different servers" [ "$PG_A_HOST" != "$PG_B_HOST" ]
"$PG_BINDIR/pg_dump" -h "$PG_A_HOST" -p "$PG_A_PORT" -U postgres -Fc -f "$WORK/sample.dump" sample &&
  pg_createdb b copy &&
  "$PG_BINDIR/pg_restore" -h "$PG_B_HOST" -p "$PG_B_PORT" -U postgres -d copy --exit-on-error "$WORK/sample.dump"
check "pg_dump | pg_restore of sample into b" [ $? = 0 ]
check "the restored copy has the source's digest" [ "$(pg_table_digest b copy)" = "$d1" ]
check "the sequence survives the restore" \
  [ "$(pg_sql b copy "select last_value from standalone_seq")" = 4242 ]
check "pg_conninfo names the cluster" \
  [ "$(pg_conninfo b copy)" = "host=$PG_B_HOST port=$PG_B_PORT user=postgres dbname=copy" ]
pg_use a
check "pg_use switches PG* back to a" [ "$PGHOST" = "$PG_A_HOST" -a "$PGPORT" = "$PG_A_PORT" ]

# ------------------------------------------------- examples/foxproflow, pgbench
if pg_load_file a foxproflow "$FF_SRC/examples/foxproflow/schema.sql"; then
  ok "examples/foxproflow/schema.sql loads"
else
  nok "examples/foxproflow/schema.sql loads"
fi
check "foxproflow passes the default smoke check" \
  [ "$(pg_sql a foxproflow "select count(*) > 0 from orders")" = t ]
check "foxproflow has a few hundred rows" \
  [ "$(pg_sql a foxproflow "select (select count(*) from orders) + (select count(*) from shipments)
        + (select count(*) from invoices) >= 300")" = t ]
check "foxproflow digests reproducibly" \
  [ -n "$(pg_table_digest a foxproflow)" -a "$(pg_table_digest a foxproflow)" = "$(pg_table_digest a foxproflow)" ]

if pg_load_pgbench a bench 1; then ok "pgbench -i -s 1 loads"; else nok "pgbench -i -s 1 loads"; fi
check "pgbench_accounts has 100000 rows" \
  [ "$(pg_sql a bench "select count(*) from pgbench_accounts")" = 100000 ]

# ------------------------------------------------------------------ stop
pg_stop b
check "pg_stop b stops b only" \
  [ ! -e "$PG_B_DATA/postmaster.pid" -a -e "$PG_A_DATA/postmaster.pid" ]
pg_stop_all
check "pg_stop_all stops a" [ ! -e "$PG_A_DATA/postmaster.pid" ]
check "no postgres process under \$WORK remains" pg_wait_gone

# ------------------------------------- cleanup of tests that fail or die
# A child test script starts a server, then fails (exit 1), or is killed
# with SIGTERM or SIGKILL. In every case its server must stop and its
# WORK folder go: by the EXIT trap, and after SIGKILL by the watchdog.
cat > "$WORK/child.sh" <<EOF
source "$HARNESS/lib.sh"
source "$HARNESS/pg.sh"
echo "\$WORK" > "\$1"
pg_start c || exit 9
touch "\$1.up"
case \$2 in
  fail) exit 1 ;;
  *) sleep 120 & echo \$! > "\$1.sleep"; wait ;;
esac
EOF
for how in fail TERM KILL; do
  info=$WORK/child-$how
  ( exec bash "$WORK/child.sh" "$info" "$how" ) >"$info.out" 2>&1 &
  child=$!
  for _ in $(seq 1 150); do [ -e "$info.up" ] || ! kill -0 "$child" 2>/dev/null && break; sleep 0.2; done
  if [ ! -e "$info.up" ]; then
    nok "child ($how) started its server: $(tail -n 5 "$info.out")"
    continue
  fi
  [ "$how" = fail ] || kill -"$how" "$child"
  wait "$child" 2>/dev/null
  cwork=$(cat "$info")
  # The watchdog polls once a second; give it time to stop the server.
  check "child that ends by $how leaves no server behind" pg_wait_gone 30 "$cwork"
  for _ in $(seq 1 50); do [ -d "$cwork" ] || break; sleep 0.2; done
  check "child that ends by $how leaves no WORK folder" [ ! -d "$cwork" ]
  [ -s "$info.sleep" ] && kill "$(cat "$info.sleep")" 2>/dev/null
done

finish

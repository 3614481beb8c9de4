#!/usr/bin/env bash
# The corpus (issue #13, item 7): real-world objects through backup,
# verify, drill and restore, judged by tests/integration/corpus/check.sh,
# a comparison written without ffrun (psql and sha256sum only).
#
# One real PostgreSQL 15 holds four databases (corpus/databases.sql):
#   corpus           awkward names, edge values, every kind of object,
#                    database-level settings, GRANTs, comment, owner,
#                    connection limit (corpus/main.sql)
#   corpus_latin1    LATIN1 text (corpus/latin1.sql)
#   corpus_sqlascii  bytes that are not UTF-8 (corpus/sqlascii.sql)
#   corpus_icu       ICU de-DE, whose order differs from C (corpus/icu.sql)
# For each: ffrun backup (backup.verify: content), ffrun verify of it,
# ffrun drill, ffrun restore confirm=<db>; then check.sh compares the
# restored live database with the original, kept as <db>__ffprev_<stamp>,
# and must find them equal. A step's PASS is its exit 0 and its
# summary.json's status PASS.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

CORPUS=$FF_TEST_SRC/integration/corpus
CHECK=$CORPUS/check.sh
DBS=(corpus corpus_latin1 corpus_sqlascii corpus_icu)

pg_start src || { nok "server starts"; finish; exit 1; }
conn() { echo "host=$(pg_host src) port=$(pg_port src) user=postgres dbname=$1"; }
# psql as the loader and the checks use it: UTF8 client, stop at errors.
psql_src() {
  local db=$1; shift
  PGCLIENTENCODING=UTF8 PGOPTIONS="-c client_min_messages=warning" pg_psql src "$db" -v ON_ERROR_STOP=1 -qAt "$@"
}
sql() { psql_src "$1" -c "$2"; }
# First line of ffrun's error, for the ok/FAIL line.
# (-a: it may hold bytes that are not UTF-8, e.g. a LATIN1 table's name.)
why() { { grep -a -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 400; }

# --- the corpus loads -----------------------------------------------------------
load() { # load DB FILE
  psql_src "$1" -f "$2" > "$WORK/load-$(basename "$2").log" 2>&1 ||
    { cat "$WORK/load-$(basename "$2").log" >&2; return 1; }
}
check "roles load" load postgres "$CORPUS/roles.sql"
check "databases are created with their properties" load postgres "$CORPUS/databases.sql"
check "main.sql loads into corpus" load corpus "$CORPUS/main.sql"
check "latin1.sql loads into corpus_latin1" load corpus_latin1 "$CORPUS/latin1.sql"
check "sqlascii.sql loads into corpus_sqlascii" load corpus_sqlascii "$CORPUS/sqlascii.sql"
check "icu.sql loads into corpus_icu" load corpus_icu "$CORPUS/icu.sql"

# --- the corpus is what it says ----------------------------------------------------
check "a 63-byte table name and a 63-byte (21 x 3) column name exist" \
  [ "$(sql corpus "select count(*) from pg_class where octet_length(relname) = 63 and relkind = 'r' union all
                   select count(*) from pg_attribute where octet_length(attname) = 63 and attname like '日%'" | tr '\n' ' ')" = "1 1 " ]
check "\"a\".\"b.c\" and \"a.b\".\"c\" both exist (both join as a.b.c)" \
  [ "$(sql corpus "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname || '.' || c.relname = 'a.b.c' and c.relkind = 'r'")" = 2 ]
check "a table name holds a newline" \
  [ "$(sql corpus "select count(*) from pg_class where relname = E'new\nline'")" = 1 ]
check "corpus_latin1 is LATIN1 and stores 'Grüße aus Köln' one byte a letter (ü as fc)" \
  [ "$(sql corpus_latin1 "select pg_encoding_to_char(encoding) from pg_database where datname = current_database();
         select octet_length(\"straße\") = char_length(\"straße\"), encode(convert_to(\"straße\", 'LATIN1'), 'hex')
           from \"Größe\" where id = 1" | tr '\n' ' ')" = "LATIN1 t|4772fcdf6520617573204bf66c6e " ]
check "corpus_sqlascii is SQL_ASCII and stores the bytes ff fe, e9, c3 that are not valid UTF-8 in its data" \
  [ "$(sql corpus_sqlascii "select pg_encoding_to_char(encoding) from pg_database where datname = current_database();
         select string_agg(encode(convert_to(raw, 'SQL_ASCII'), 'hex'), ' ' order by id) from legacy_bytes where id in (1, 2, 5);
         select encode(convert_to(relname::text, 'SQL_ASCII'), 'hex') from pg_class where relname like 't%phone'" | tr '\n' ' ')" \
    = "SQL_ASCII fffe 636166e9 7472756e63c3 74c3a96cc3a970686f6e65 " ]
ICU_ORDER=$(sql corpus_icu "select string_agg(w, ',' order by w) from words")
C_ORDER=$(sql corpus_icu "select string_agg(w, ',' order by w collate \"C\") from words")
check "corpus_icu is ICU de-DE, and its order ($ICU_ORDER) is not C's ($C_ORDER)" \
  bash -c "[ '$(sql postgres "select datlocprovider::text || ' ' || daticulocale from pg_database where datname = 'corpus_icu'")' = 'i de-DE' ] && [ '$ICU_ORDER' != '$C_ORDER' ]"
check "corpus: its database-level settings, GRANTs, comment, owner and connection limit are set" \
  [ "$(sql postgres "select (select count(*) from pg_db_role_setting s where s.setdatabase = d.oid),
                            pg_get_userbyid(d.datdba), d.datconnlimit, shobj_description(d.oid, 'pg_database') is not null,
                            array_length(d.datacl, 1)
                       from pg_database d where d.datname = 'corpus'")" = "3|corpus_owner|25|t|4" ]

# --- check.sh judges: equal to itself, and each kind of change is found -------------
"$CHECK" "$(conn corpus)" "$(conn corpus)" > "$WORK/self.out" 2>&1; code=$?
check "check.sh: corpus against itself is equal (exit $code: $(tail -n 1 "$WORK/self.out"))" \
  bash -c "[ $code = 0 ] && grep -q '^check.sh: equal' '$WORK/self.out'"
sql postgres "create database corpus_neg template corpus" > /dev/null
"$CHECK" "$(conn corpus)" "$(conn corpus_neg)" > "$WORK/neg.out" 2>&1; code=$?
check "check.sh: a template copy (same catalog, data, sequences, large objects) differs only in the database's properties (exit $code: $(tail -n 1 "$WORK/neg.out"))" \
  bash -c "[ $code = 1 ] && grep -q '^check.sh: DIFFER in 1 part(s): props$' '$WORK/neg.out' &&
           grep -q '^-owner	\"corpus_owner\"' '$WORK/neg.out' && grep -q '^-connlimit	25' '$WORK/neg.out' &&
           grep -q '^-setting	\[\"corpus_writer\", \"work_mem=12MB\"\]' '$WORK/neg.out' &&
           grep -q '^-comment	\"the corpus' '$WORK/neg.out'"
# The changes add up in corpus_neg; each PATTERN matches a "+" line only
# that change makes.
neg_differs() { # neg_differs WHAT PART PATTERN SQL: after SQL, PART differs, its diff matching PATTERN
  local what=$1 part=$2 pattern=$3 code
  sql corpus_neg "$4" > /dev/null
  "$CHECK" "$(conn corpus)" "$(conn corpus_neg)" > "$WORK/neg.out" 2>&1; code=$?
  check "check.sh: $what is found in $part (exit $code: $(tail -n 1 "$WORK/neg.out"))" \
    bash -c "[ $code = 1 ] && grep -q '^check.sh: DIFFER .*$part' '$WORK/neg.out' && grep -q -- '$pattern' '$WORK/neg.out'"
}
neg_differs "one changed row of \"a.b\".\"dotted.table\"" data '^+\["a.b", "dotted.table"\]	rows=3 ' \
  "update \"a.b\".\"dotted.table\" set \"Mixed Case\" = 'changed' where id = 2"
neg_differs "one more row in the zero-column table" data '^+\["app", "nocols"\]	rows=4 ' \
  "insert into app.nocols default values"
neg_differs "a sequence whose is_called flipped" sequences '^+\["app", "seq_fresh"\].*"is_called" : "true"' \
  "select nextval('app.seq_fresh')"
neg_differs "one byte of the 4 MiB large object" largeobj '^+1000003	.*bytes=4194304 sha256=' \
  "select lo_put(1000003, 2000000, '\\x00')"
neg_differs "a large object's lost comment" largeobj '^+1000002	.*"comment" : null' \
  "comment on large object 1000002 is null"
neg_differs "FORCE ROW LEVEL SECURITY dropped" catalog '^+\["relation", "app", "secrets", .*"forcerowsecurity" : false' \
  "alter table app.secrets no force row level security"
neg_differs "a NOT VALID constraint validated" catalog '^+\["constraint", "app", "legacy", "legacy_parent_fk", "f", .*"validated" : true' \
  "update app.legacy set parent_id = null, qty = 0 where id = 2; alter table app.legacy validate constraint legacy_parent_fk"
neg_differs "a materialized view populated" catalog '^+\["relation", "app", "mv_later".*"ispopulated" : true' \
  "refresh materialized view app.mv_later"
neg_differs "an enum label renamed" catalog '^+\["type", "app", "mood", .*"elated"' \
  "alter type app.mood rename value 'ecstatic' to 'elated'"
sql postgres "drop database corpus_neg" > /dev/null

# --- each database: backup, verify, drill, restore, then check.sh ------------------
# The newest evidence folder of runbook $2 under workspace $1 (runs of
# two runbooks in the same second: last_evidence could pick the other).
evidence_of() { ls -1d "$1"/evidence/*-"$2"/ "$1"/evidence/*-"$2"-[0-9]*/ 2>/dev/null | sed 's:/$::' | sort -V | tail -n 1; }
passes() { # passes NAME EVIDENCE-DIR CODE ERRFILE: exit 0 and summary status PASS
  local st msg
  st=$(json_status "$2" 2>/dev/null)
  msg="$1: PASS (exit $3, summary.json status ${st:-missing})"
  if [ "$3" = 0 ] && [ "$st" = PASS ]; then ok "$msg"; return 0; fi
  nok "$msg: $(why "$4")"
  return 1
}
for db in "${DBS[@]}"; do
  echo "# --- $db"
  ws=$WORK/ws-$db
  make_config "$ws" \
    "targets: { prod: { conninfo: \"$(conn "$db")\" }, drill: { ephemeral: true } }" \
    "backup: { verify: content }"
  ff() { "$FFRUN" -q -c "$ws/ffrun.yaml" "$@"; }

  ff backup 2> "$WORK/err"; code=$?
  if ! passes "$db: ffrun backup" "$(evidence_of "$ws" backup)" $code "$WORK/err"; then
    nok "$db: verify, drill, restore and check.sh not run: there is no backup"
    continue
  fi
  stamp=$(ls -1 "$ws/backups" | grep -E '^[0-9]{8}-[0-9]{6}$' | tail -n 1)

  ff verify path="$ws/backups/$stamp" 2> "$WORK/err"; code=$?
  passes "$db: ffrun verify of backup $stamp" "$(evidence_of "$ws" verify)" $code "$WORK/err"

  ff drill 2> "$WORK/err"; code=$?
  passes "$db: ffrun drill" "$(evidence_of "$ws" drill)" $code "$WORK/err"

  # keep_failed: a copy that fails its proof stays, for check.sh to say
  # what it lost (the restore still FAILs, and this test with it).
  # split_rows=1: every table with a row is loaded by ffrun's own loader
  # over 3 sessions (admin:load_table), so check.sh judges that path on
  # every kind of data here; the drill above took pg_restore's.
  before=$(sql postgres "select datname from pg_database where datname like '${db}\_\_ff%'")
  ff restore confirm="$db" keep_failed=true split_rows=1 jobs=3 2> "$WORK/err"; code=$?
  rev=$(evidence_of "$ws" restore)
  loads=$(grep -c '"call":"pg.admin.load_table"' "$rev/events.jsonl" 2>/dev/null)
  if [ "$db" = corpus_latin1 ]; then
    # Two of its three tables have names that are not ASCII: pg_restore
    # --list shows them in LATIN1, the manifest in UTF-8, so no entry reads
    # as them and pg_restore loads them (proof.big_tables); public.refs is
    # the loader's.
    check "$db: only the table whose TOC name is the manifest's (public.refs) is taken for ffrun's loader ($loads)" \
      bash -c "[ '$loads' = 1 ] && grep -rq 'public.refs: 2 rows over 3 sessions at once' '$rev'"
  else
    check "$db: the restore loaded its tables with ffrun's loader ($loads of them)" [ "${loads:-0}" -gt 0 ]
  fi
  if passes "$db: ffrun restore confirm=$db (split_rows=1 jobs=3)" "$rev" $code "$WORK/err"; then
    prev=$(sql postgres "select datname from pg_database where datname like '${db}\_\_ffprev\_%' order by datname desc limit 1")
    check "$db: the original is kept as $prev" [ -n "$prev" ]
    [ -n "$prev" ] || continue
    sql postgres "alter database \"$prev\" allow_connections true" > /dev/null
    # A: the original, B: the restored one (a "+" line is what the restore changed).
    "$CHECK" "$(conn "$prev")" "$(conn "$db")" > "$WORK/check-$db.out" 2>&1; code=$?
    check "$db: check.sh finds the restored database equal to the original $prev (exit $code: $(tail -n 1 "$WORK/check-$db.out"))" [ $code = 0 ]
    [ $code = 0 ] || sed 's/^/#   /' "$WORK/check-$db.out" | head -n 120
    if [ "$db" = corpus_icu ]; then
      got=$(sql "$db" "select string_agg(w, ',' order by w) from words")
      check "$db: the restored database sorts as ICU de-DE did ($got)" [ "$got" = "$ICU_ORDER" ]
    fi
  else
    # What the failed restore made, if it kept a copy: compare it anyway,
    # so that the log says what it would have lost.
    copy=$(sql postgres "select datname from pg_database where datname like '${db}\_\_fffailed\_%' order by datname desc limit 1")
    if [ -n "$copy" ] && ! grep -qx "$copy" <<< "$before"; then
      "$CHECK" "$(conn "$db")" "$(conn "$copy")" > "$WORK/check-$db.out" 2>&1; code=$?   # A: the original
      echo "# $db: the failed restore kept $copy; check.sh against the original (exit $code):"
      sed 's/^/#   /' "$WORK/check-$db.out" | head -n 120
      sql postgres "drop database \"$copy\"" > /dev/null
    fi
    nok "$db: check.sh not run against a restored live database: the restore did not PASS"
  fi
done
finish

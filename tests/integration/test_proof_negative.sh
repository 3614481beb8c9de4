#!/usr/bin/env bash
# Negative proofs, one a category (issue #13, item 8). Each case changes
# exactly one thing the proof claims (a large object's byte, a sequence's
# value, an index, a database setting, a constraint's validity, a
# materialized view's content or its populated state) and nothing else:
#
#   backup A of the source;  change the one thing;  backup B;  undo it;
#   A' = A with B's db.dump in its place, manifest.json's db.dump entry and
#        DIGEST re-sealed (A's manifest, categories and inventories kept);
#   drill A'  ->  FAIL, naming that category and that object, and no other.
#
# So the drill restores an archive that differs from what its (consistent,
# sealed) manifest says in that one thing only. A control case, A' built
# from an unchanged B, must PASS: the swap itself is not what fails.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src || { nok "server starts"; finish; exit 1; }
pg_createdb src app || { nok "database app created"; finish; exit 1; }
sql() { PGOPTIONS="-c client_min_messages=warning" pg_psql src app -v ON_ERROR_STOP=1 -qAt -c "$1"; }
why() { { grep -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 400; }

sql '
create schema "neg.s";
create table "neg.s"."T 1" (id int primary key, v text not null);
insert into "neg.s"."T 1" select g, md5(g::text) from generate_series(1, 500) g;
create index "T 1 v idx" on "neg.s"."T 1" (v);
create sequence "neg.s"."seq.1";
select setval($$"neg.s"."seq.1"$$, 42);
create table "neg.s".c (id int, n int);
insert into "neg.s".c values (1, 1), (2, 2);
alter table "neg.s".c add constraint "c n positive" check (n > 0) not valid;
create materialized view "neg.s"."mv.count" as select count(*) as n from "neg.s"."T 1";
create materialized view "neg.s".mv_empty as select id from "neg.s".c with no data;
select lo_from_bytea(424242, convert_to(repeat($$large object $$, 1000), $$UTF8$$));
alter database app set work_mem = $$8MB$$;
drop role if exists neg_reader; create role neg_reader;
' > /dev/null || { nok "the source loads"; finish; exit 1; }

WS=$WORK/ws
make_config "$WS" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
  "backup: { verify: content }"
ff() { "$FFRUN" -q -c "$WS/ffrun.yaml" "$@"; }
newest() { ls -1 "$WS/backups" | grep -E '^[0-9]{8}-[0-9]{6}(-[0-9]+)?$' | sort -V | tail -n 1; }

ff backup 2> "$WORK/err" || { nok "backup A: $(why "$WORK/err")"; finish; exit 1; }
A=$WS/backups/$(newest)
ff drill 2> "$WORK/err"; code=$?
check "backup A drills PASS as it is (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
mkdir -p "$WORK/keep" && mv "$A" "$WORK/keep/A" && A=$WORK/keep/A

# A' in the backups folder: A with B's archive, re-sealed.
forge() { # forge B_FOLDER -> prints A' folder
  local b=$1 f=$WS/backups/20991231-000000
  rm -rf "$f" && cp -a "$A" "$f" && cp "$b/db.dump" "$f/db.dump" || return 1
  local old new bytes
  old=$(awk '$2 == "db.dump" { print $1 }' "$A/DIGEST")
  new=$(sha256sum "$f/db.dump" | cut -d' ' -f1)
  bytes=$(stat -c %s "$f/db.dump")
  # The manifest's db.dump entry: its sha256 and bytes, nothing else.
  OLD=$old NEW=$new BYTES=$bytes perl -0pi -e \
    's{\{[^{}]*"sha256":"$ENV{OLD}"[^{}]*\}}{ my $e = $&; $e =~ s/"sha256":"$ENV{OLD}"/"sha256":"$ENV{NEW}"/; $e =~ s/"bytes":\d+/"bytes":$ENV{BYTES}/; $e }e' \
    "$f/manifest.json"
  (cd "$f" && find . -type f ! -name DIGEST | sed 's:^\./::' | sort | xargs sha256sum > DIGEST)
  echo "$f"
}

# case NAME CHANGE UNDO EXPECT... : the drill of A' fails naming every EXPECT
# (fixed strings) and no category other than the first EXPECT's.
case_() {
  local name=$1 change=$2 undo=$3; shift 3
  local category=$1
  if ! sql "$change" > /dev/null; then nok "$name: the change applies"; return; fi
  if ! ff backup 2> "$WORK/err"; then nok "$name: backup B: $(why "$WORK/err")"; sql "$undo" > /dev/null; return; fi
  local b=$WS/backups/$(newest)
  sql "$undo" > /dev/null || nok "$name: the change is undone"
  local f
  f=$(forge "$b") || { nok "$name: A' forged"; return; }
  rm -rf "$b"
  check "$name: A' is sealed (sha256sum -c)" bash -c "cd '$f' && sha256sum --quiet -c DIGEST"
  ff drill backup=20991231-000000 2> "$WORK/err"; local code=$?
  local msg
  msg=$(grep -m 1 '^ffrun:.*differs from the backup' "$WORK/err")
  if [ -z "$category" ]; then
    check "$name: drill PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
  else
    local all=1 e
    for e in "$@"; do [[ $msg == *"$e"* ]] || all=0; done
    check "$name: drill FAIL naming $(printf '[%s] ' "$@")(exit $code: ${msg:-$(why "$WORK/err")})" \
      bash -c "[ $code = 1 ] && [ $all = 1 ]"
    # Every mismatch is "<category> <object>: ..." joined by "; ".
    local others
    others=$(printf '%s\n' "${msg#*differs from the backup: }" | sed 's/; /\n/g' | grep -v "^$category " || true)
    local alone=0
    [ -n "$msg" ] && [ -z "$others" ] && alone=1
    check "$name: no other category differs (${others:-none})" [ $alone = 1 ]
    local ev
    ev=$(last_evidence "$WS")
    check "$name: FAIL evidence, sealed" bash -c \
      "[ \"\$(grep -o '\"status\":\"[A-Z]*\"' '$ev/summary.json' | head -n 1)\" = '\"status\":\"FAIL\"' ] && cd '$ev' && sha256sum --quiet -c DIGEST"
  fi
  rm -rf "$f"
}

# --- the control: B = A in everything the proof claims ------------------------
case_ "control (nothing changed)" "select 1" "select 1" ""

# --- each category ---------------------------------------------------------------
case_ "one table value" \
  'update "neg.s"."T 1" set v = $$changed$$ where id = 7' \
  'update "neg.s"."T 1" set v = md5($$7$$) where id = 7' \
  "table" 'table "neg.s"."T 1": content differs'

case_ "one large-object byte" \
  "select lo_put(424242, 7000, '\\x58')" \
  "select lo_put(424242, 7000, convert_to(substr(repeat('large object ', 1000), 7001, 1), 'UTF8'))" \
  "large object" "424242: differs"

case_ "a sequence value" \
  "select setval('\"neg.s\".\"seq.1\"', 43)" \
  "select setval('\"neg.s\".\"seq.1\"', 42)" \
  "sequence" '"neg.s"."seq.1": last_value 43'

case_ "a sequence's is_called" \
  "select setval('\"neg.s\".\"seq.1\"', 42, false)" \
  "select setval('\"neg.s\".\"seq.1\"', 42)" \
  "sequence" '"neg.s"."seq.1": last_value 42 (is_called false)'

case_ "a dropped index" \
  'drop index "neg.s"."T 1 v idx"' \
  'create index "T 1 v idx" on "neg.s"."T 1" (v)' \
  "schema" 'index "neg.s"."T 1 v idx": missing'

case_ "a database setting" \
  "alter database app set work_mem = '16MB'" \
  "alter database app set work_mem = '8MB'" \
  "database" "settings: [*: work_mem=16MB], the backup's were [*: work_mem=8MB]"

case_ "a GRANT on the database" \
  'grant create on database app to neg_reader' \
  'revoke create on database app from neg_reader' \
  "database" "acl: =Tc/postgres,neg_reader=C/postgres,postgres=CTc/postgres, the backup's was =Tc/postgres,postgres=CTc/postgres"

case_ "the database's comment" \
  "comment on database app is 'changed'" \
  'comment on database app is null' \
  "database" "comment: changed, the backup's was (none)"

case_ "a constraint's validity" \
  'alter table "neg.s".c validate constraint "c n positive"' \
  'alter table "neg.s".c drop constraint "c n positive"; alter table "neg.s".c add constraint "c n positive" check (n > 0) not valid' \
  "schema" 'constraint "neg.s".c "c n positive": differs'

case_ "a materialized view no longer populated" \
  'refresh materialized view "neg.s"."mv.count" with no data' \
  'refresh materialized view "neg.s"."mv.count"' \
  "materialized view" '"neg.s"."mv.count": not populated, the backup'"'"'s was populated'

case_ "a materialized view populated that was not" \
  'refresh materialized view "neg.s".mv_empty' \
  'refresh materialized view "neg.s".mv_empty with no data' \
  "materialized view" '"neg.s".mv_empty: populated, the backup'"'"'s was not populated'

# --- a view stale at backup time is legitimate --------------------------------
# pg_dump keeps no view's data: the restore refreshes it from the restored
# tables, so a view stale in the backup comes back fresh. A warning naming
# it, and a PASS (the tables it reads are proven).
sql 'insert into "neg.s"."T 1" values (501, $$x$$)' > /dev/null
ff backup 2> "$WORK/err" || nok "stale view: backup: $(why "$WORK/err")"
"$FFRUN" -c "$WS/ffrun.yaml" drill 2> "$WORK/err"; code=$?
ev=$(last_evidence "$WS")
check "a view stale at backup time: drill PASS (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
check "and a warning names it ($(grep -m 1 'materialized view' "$WORK/err" | head -c 200))" \
  grep -qF 'materialized view "neg.s"."mv.count": content differs: refreshed by the restore' "$WORK/err"
check "and the evidence lists it as refreshed" \
  grep -qF '"matviews_refreshed":["\"neg.s\".\"mv.count\""]' "$ev/summary.json"
check "and the PASS line says so ($(grep -m 1 -o 'proved: .*' "$WORK/err" | head -c 300))" grep -qF '2 materialized views (1 of them differ in content: refreshed, not proved)' "$WORK/err"

finish

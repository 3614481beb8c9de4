#!/usr/bin/env bash
# check.sh - compare two PostgreSQL databases, written without ffrun: psql
# and sha256sum only, so that it can judge ffrun's restores.
#
#   check.sh [--keep DIR] CONN_A CONN_B
#
# CONN_A, CONN_B: libpq conninfo strings or URIs ("host=/sock port=5432
# dbname=corpus"); they may name two servers. Needs a role that reads
# everything (a superuser). Everything runs in read-only transactions.
#
# Compared, each as a normalized text inventory without OIDs (except the
# large objects', which a dump keeps), names as JSON strings so that dots,
# quotes and newlines inside names stay unambiguous:
#   properties  encoding, datcollate, datctype, datlocprovider,
#               daticulocale, owner, connection limit, tablespace, datacl,
#               comment, pg_db_role_setting of the database (role names)
#   catalog     schemas, relations by kind (persistence, owner, ACL, row
#               security and its FORCE, partition bounds and keys, options,
#               replica identity, view definitions, matview ispopulated),
#               columns and types (in order, dropped ones left out),
#               defaults, identity, generated, collations, constraints with
#               convalidated, indexes (pg_get_indexdef), triggers, policies,
#               event triggers, functions with their sources, types with
#               enum labels, domains and ranges, collations, inheritance,
#               comments, default privileges, extensions and versions
#   sequences   parameters, last_value, is_called, OWNED BY
#   largeobj    OID, size, sha256 of the content, owner, ACL, comment
#   data        each table's (and populated matview's) rows as COPY text
#               under fixed settings, sorted (LC_ALL=C), counted, sha256
# Not covered (the corpus has none): rules other than views', statistics
# objects, publications, subscriptions, foreign servers, text search
# objects, casts and operators outside extensions, security labels,
# datcollversion (it follows the library, not the dump). Members of an
# extension are left to the extension's name and version.
#
# Exit 0: equal. Exit 1: they differ; a unified diff per differing part
# is printed. Exit 2: usage, or a query failed.
set -u -o pipefail

PSQL=${PSQL:-psql}
keep=
if [ "${1:-}" = --keep ]; then keep=$2; shift 2; fi
if [ $# -ne 2 ]; then
  echo "usage: check.sh [--keep DIR] CONN_A CONN_B" >&2
  exit 2
fi
CONN_A=$1 CONN_B=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/corpus-check-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

# Fixed session settings: the same rows print the same bytes anywhere,
# whatever the databases' own settings (client options outrank ALTER
# DATABASE/ROLE SET). search_path=pg_catalog makes every name printed by
# pg_get_*def schema-qualified. The client encoding is SQL_ASCII: every
# text comes out as the bytes the server stores, unconverted and
# unvalidated (a UTF8 client would refuse a SQL_ASCII database's bytes
# that are not UTF-8), so a LATIN1 database's names and rows print as
# LATIN1 bytes.
export PGOPTIONS="-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c TimeZone=UTC -c bytea_output=hex -c lc_monetary=C -c lc_numeric=C -c search_path=pg_catalog -c xmloption=content -c row_security=off -c default_transaction_read_only=on -c statement_timeout=0 -c client_min_messages=warning"
export PGCLIENTENCODING=SQL_ASCII

die() { echo "check.sh: $*" >&2; exit 2; }

# q CONN [psql args]: unaligned, tuples only, stop at the first error.
q() { local conn=$1; shift; "$PSQL" -X -q -v ON_ERROR_STOP=1 -At -d "$conn" "$@"; }

# Objects of the user's schemas, not of the system's.
USER_NSP="n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'"
# Not a member of an extension (CREATE EXTENSION brings those back).
not_ext() { echo "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '$1'::regclass AND e.objid = $2 AND e.deptype = 'e')"; }
# acl ARRAY KIND OWNER (SQL expressions): the ACL as a sorted JSON array, the default one
# spelled out (NULL and an explicit default ACL mean the same).
acl() { echo "(SELECT coalesce(json_agg(x::text ORDER BY x::text), '[]') FROM unnest(coalesce($1, acldefault($2, $3))) x)"; }
# cacl ARRAY: a column's ACL (NULL: none granted).
cacl() { echo "(SELECT coalesce(json_agg(x::text ORDER BY x::text), '[]') FROM unnest(coalesce($1, '{}'::aclitem[])) x)"; }

props_sql() {
  cat <<SQL
SELECT k || E'\t' || v FROM (
  SELECT 'encoding' AS k, to_json(pg_encoding_to_char(d.encoding))::text AS v FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'datcollate', to_json(d.datcollate)::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'datctype', to_json(d.datctype)::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'datlocprovider', to_json(d.datlocprovider::text)::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'daticulocale', coalesce(to_json(d.daticulocale)::text, 'null') FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'owner', to_json(pg_get_userbyid(d.datdba))::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'connlimit', d.datconnlimit::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'tablespace', to_json(t.spcname)::text FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = current_database()
  UNION ALL SELECT 'datacl', $(acl d.datacl "'d'" d.datdba)::text FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'comment', coalesce(to_json(shobj_description(d.oid, 'pg_database'))::text, 'null') FROM pg_database d WHERE d.datname = current_database()
  UNION ALL SELECT 'setting', json_build_array(CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, c)::text
    FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c
   WHERE d.datname = current_database()
) p;
SQL
}

catalog_sql() {
  cat <<SQL
-- schemas
SELECT json_build_array('schema', n.nspname, pg_get_userbyid(n.nspowner), $(acl n.nspacl "'n'" n.nspowner))::text
  FROM pg_namespace n WHERE $USER_NSP AND $(not_ext pg_namespace n.oid);
-- relations by kind
SELECT json_build_array('relation', n.nspname, c.relname, c.relkind, c.relpersistence,
         pg_get_userbyid(c.relowner),
         CASE WHEN c.relkind IN ('i', 'I') THEN NULL
              ELSE $(acl c.relacl "CASE WHEN c.relkind = 'S' THEN 's'::\"char\" ELSE 'r'::\"char\" END" c.relowner) END,
         json_build_object('rowsecurity', c.relrowsecurity, 'forcerowsecurity', c.relforcerowsecurity,
           'ispartition', c.relispartition, 'partbound', pg_get_expr(c.relpartbound, c.oid),
           'partkey', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
           'options', c.reloptions, 'replident', c.relreplident,
           'ispopulated', CASE WHEN c.relkind = 'm' THEN c.relispopulated END,
           'viewdef', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
           'oftype', CASE WHEN c.reloftype <> 0 THEN format_type(c.reloftype, NULL) END))::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE $USER_NSP AND c.relkind <> 't' AND $(not_ext pg_class c.oid);
-- columns and types, in order (dropped columns left out: their attnums
-- are not kept by a dump, the order of the others is)
SELECT json_build_array('column', n.nspname, c.relname,
         row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), a.attname,
         format_type(a.atttypid, a.atttypmod),
         json_build_object('notnull', a.attnotnull, 'default', pg_get_expr(ad.adbin, ad.adrelid),
           'identity', a.attidentity, 'generated', a.attgenerated,
           'collation', CASE WHEN a.attcollation <> t.typcollation
                             THEN (SELECT json_build_array(cn.nspname, co.collname) FROM pg_collation co
                                     JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
           'islocal', a.attislocal, 'inhcount', a.attinhcount, 'acl', $(cacl a.attacl)))::text
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE $USER_NSP AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND a.attnum > 0 AND NOT a.attisdropped
   AND $(not_ext pg_class c.oid);
-- constraints (of tables and of domains), with convalidated;
-- connoinherit only where it means something (CHECK): a partition's
-- primary key has it true when its parent's key made it, false when
-- pg_restore made it and attached its index, and both behave alike
SELECT json_build_array('constraint', n.nspname,
         coalesce(c.relname, format_type(con.contypid, NULL)), con.conname, con.contype,
         json_build_object('deferrable', con.condeferrable, 'deferred', con.condeferred,
           'validated', con.convalidated, 'islocal', con.conislocal, 'inhcount', con.coninhcount,
           'noinherit', CASE WHEN con.contype = 'c' THEN con.connoinherit END,
           'def', pg_get_constraintdef(con.oid)))::text
  FROM pg_constraint con
  JOIN pg_namespace n ON n.oid = con.connamespace
  LEFT JOIN pg_class c ON c.oid = con.conrelid
 WHERE $USER_NSP AND $(not_ext pg_constraint con.oid)
   AND (con.contypid = 0 OR $(not_ext pg_type con.contypid));
-- indexes
SELECT json_build_array('index', n.nspname, ic.relname, pg_get_indexdef(i.indexrelid),
         json_build_object('primary', i.indisprimary, 'unique', i.indisunique,
           'clustered', i.indisclustered, 'valid', i.indisvalid, 'replident', i.indisreplident))::text
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = ic.relnamespace
 WHERE $USER_NSP AND $(not_ext pg_class i.indrelid);
-- triggers (not the internal ones of foreign keys)
SELECT json_build_array('trigger', n.nspname, c.relname, tg.tgname, pg_get_triggerdef(tg.oid), tg.tgenabled)::text
  FROM pg_trigger tg
  JOIN pg_class c ON c.oid = tg.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT tg.tgisinternal AND $USER_NSP;
-- policies
SELECT json_build_array('policy', p.schemaname, p.tablename, p.policyname, p.permissive,
         (SELECT json_agg(r ORDER BY r) FROM unnest(p.roles) r), p.cmd, p.qual, p.with_check)::text
  FROM pg_policies p;
-- event triggers
SELECT json_build_array('event trigger', e.evtname, e.evtevent, pg_get_userbyid(e.evtowner),
         e.evtfoid::regprocedure::text, e.evtenabled, e.evttags)::text
  FROM pg_event_trigger e;
-- functions, procedures, aggregates, with their sources
SELECT json_build_array('function', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
         json_build_object('result', pg_get_function_result(p.oid),
           'args', pg_get_function_arguments(p.oid), 'kind', p.prokind, 'language', l.lanname,
           'volatile', p.provolatile, 'strict', p.proisstrict, 'secdef', p.prosecdef,
           'leakproof', p.proleakproof, 'parallel', p.proparallel, 'config', p.proconfig,
           'owner', pg_get_userbyid(p.proowner), 'acl', $(acl p.proacl "'f'" p.proowner),
           'src', p.prosrc, 'bin', p.probin))::text
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE $USER_NSP AND $(not_ext pg_proc p.oid);
-- aggregates' parts
SELECT json_build_array('aggregate', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
         a.aggtransfn::regprocedure::text, format_type(a.aggtranstype, NULL), a.agginitval)::text
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE $USER_NSP AND $(not_ext pg_proc p.oid);
-- types: enums with their labels in order, domains, ranges, composites
-- (their attributes are columns above); not the row types of tables nor
-- the array types made with each type (their names are derived)
SELECT json_build_array('type', n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner),
         $(acl t.typacl "'T'" t.typowner),
         json_build_object(
           'labels', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
           'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
           'notnull', t.typnotnull, 'default', t.typdefault,
           'collation', CASE WHEN t.typcollation <> 0 THEN (SELECT co.collname FROM pg_collation co WHERE co.oid = t.typcollation) END,
           'range', (SELECT json_build_array(format_type(r.rngsubtype, NULL), format_type(r.rngmultitypid, NULL),
                       r.rngsubdiff::regprocedure::text) FROM pg_range r WHERE r.rngtypid = t.oid)))::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE $USER_NSP AND $(not_ext pg_type t.oid)
   AND NOT (t.typrelid <> 0 AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) <> 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid);
-- collations
SELECT json_build_array('collation', n.nspname, co.collname, pg_get_userbyid(co.collowner), co.collprovider,
         co.collisdeterministic, co.collcollate, co.collctype, co.colliculocale)::text
  FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
 WHERE $USER_NSP AND $(not_ext pg_collation co.oid);
-- inheritance (partitions included)
SELECT json_build_array('inherits', cn.nspname, c.relname, pn.nspname, p.relname, i.inhseqno)::text
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
 WHERE c.relkind NOT IN ('i', 'I');
-- comments, on whatever they are (large objects' too)
SELECT json_build_array('comment', o.type, o.identity, d.description)::text
  FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
 WHERE d.objoid >= 16384
   AND (o.schema IS NULL OR o.schema NOT IN ('pg_catalog', 'information_schema'));
-- default privileges
SELECT json_build_array('default acl', pg_get_userbyid(da.defaclrole), n.nspname, da.defaclobjtype,
         (SELECT json_agg(x::text ORDER BY x::text) FROM unnest(da.defaclacl) x))::text
  FROM pg_default_acl da LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace;
-- extensions and their versions
SELECT json_build_array('extension', x.extname, x.extversion, n.nspname, x.extrelocatable)::text
  FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace;
-- languages other than the built-in ones
SELECT json_build_array('language', l.lanname, l.lanpltrusted, pg_get_userbyid(l.lanowner))::text
  FROM pg_language l WHERE l.oid >= 16384;
SQL
}

# The sequences: their parameters, and last_value, is_called read from
# each sequence itself (query_to_xml runs that query inside this one).
sequences_sql() {
  cat <<SQL
SELECT json_build_array(n.nspname, c.relname)::text || E'\t' ||
       json_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart,
         'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache,
         'cycle', s.seqcycle,
         'last_value', v.x[1]::text, 'is_called', v.x[2]::text,
         'owned_by', (SELECT json_build_array(rn.nspname, rc.relname, ra.attname, d.deptype)
                        FROM pg_depend d
                        JOIN pg_class rc ON rc.oid = d.refobjid
                        JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                        JOIN pg_attribute ra ON ra.attrelid = d.refobjid AND ra.attnum = d.refobjsubid
                       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                         AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))::text
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace,
  LATERAL (SELECT xpath('/row/*/text()',
             query_to_xml(format('SELECT last_value, is_called FROM %I.%I', n.nspname, c.relname),
                          false, true, '')) AS x) v
 WHERE $USER_NSP;
SQL
}

lo_meta_sql() {
  cat <<SQL
SELECT m.oid::text || E'\t' || json_build_object('owner', pg_get_userbyid(m.lomowner),
         'acl', $(acl m.lomacl "'L'" m.lomowner),
         'comment', obj_description(m.oid, 'pg_largeobject'))::text
  FROM pg_largeobject_metadata m;
SQL
}

# The relations whose rows are compared: tables (a partitioned table's rows
# are its leaves'; an inheritance parent's own rows only, ONLY) and
# populated materialized views. NUL-separated: the JSON name, then the
# quoted name to read (which may hold a newline).
data_list_sql() {
  cat <<SQL
SELECT json_build_array(n.nspname, c.relname)::text,
       CASE WHEN c.relkind = 'm' THEN '' ELSE 'ONLY ' END || format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE $USER_NSP AND (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated))
   AND $(not_ext pg_class c.oid)
 ORDER BY c.oid;
SQL
}

# collect SIDE CONN: write SIDE's inventories into $tmp/SIDE/.
collect() {
  local side=$1 conn=$2 dir=$tmp/$1 i json quoted oid meta f sum n
  mkdir -p "$dir/rows" "$dir/lo"
  q "$conn" -c "SELECT 1" > /dev/null || die "cannot connect to $side: $conn"
  props_sql | q "$conn" -f - > "$dir/props.raw" || die "$side: properties query failed"
  catalog_sql | q "$conn" -f - > "$dir/catalog.raw" || die "$side: catalog query failed"
  sequences_sql | q "$conn" -f - > "$dir/sequences.raw" || die "$side: sequences query failed"

  # Large objects: metadata in SQL, content exported and hashed here.
  lo_meta_sql | q "$conn" -f - > "$dir/lo.meta" || die "$side: large objects query failed"
  : > "$dir/lo.script"
  while IFS=$'\t' read -r oid meta; do
    [ -n "$oid" ] || continue
    echo "\\lo_export $oid '$dir/lo/$oid'" >> "$dir/lo.script"
  done < "$dir/lo.meta"
  if [ -s "$dir/lo.script" ]; then
    q "$conn" -f "$dir/lo.script" > /dev/null || die "$side: exporting large objects failed"
  fi
  : > "$dir/largeobj.raw"
  while IFS=$'\t' read -r oid meta; do
    [ -n "$oid" ] || continue
    sum=$(sha256sum < "$dir/lo/$oid") || die "$side: hashing large object $oid failed"
    echo "$oid	$meta	bytes=$(wc -c < "$dir/lo/$oid") sha256=${sum%% *}" >> "$dir/largeobj.raw"
  done < "$dir/lo.meta"

  # Data: one session COPYs every relation into its own file.
  data_list_sql | q "$conn" -z -0 -f - > "$dir/data.list" || die "$side: table list query failed"
  : > "$dir/data.script"
  i=0
  while IFS= read -r -d '' json && IFS= read -r -d '' quoted; do
    i=$((i + 1))
    printf '%s\n' "$json" > "$dir/rows/$i.name"
    printf "\\\\o '%s'\\nCOPY (SELECT * FROM %s) TO STDOUT;\\n" "$dir/rows/$i.copy" "$quoted" >> "$dir/data.script"
  done < "$dir/data.list"
  printf '\\o\n' >> "$dir/data.script"
  q "$conn" -f "$dir/data.script" > /dev/null || die "$side: COPY of the tables failed"
  : > "$dir/data.raw"
  for ((n = 1; n <= i; n++)); do
    f=$dir/rows/$n.copy
    sum=$(LC_ALL=C sort < "$f" | sha256sum) || die "$side: hashing rows failed"
    printf '%s\trows=%s sha256=%s\n' "$(cat "$dir/rows/$n.name")" "$(wc -l < "$f")" "${sum%% *}" >> "$dir/data.raw"
  done

  for f in props catalog sequences largeobj data; do
    LC_ALL=C sort < "$dir/$f.raw" > "$dir/$f.txt"
  done
}

collect A "$CONN_A"
collect B "$CONN_B"

if [ -n "$keep" ]; then
  mkdir -p "$keep" && cp -r "$tmp/A" "$tmp/B" "$keep/" || die "cannot keep the inventories in $keep"
fi

differ=()
summary=()
for part in props catalog sequences largeobj data; do
  a=$tmp/A/$part.txt b=$tmp/B/$part.txt
  summary+=("$part $(wc -l < "$a")")
  if ! cmp -s "$a" "$b"; then
    differ+=("$part")
    echo "== $part differs =="
    diff -u --label "A $part ($CONN_A)" --label "B $part ($CONN_B)" "$a" "$b" | head -n 400
  fi
done
if [ ${#differ[@]} -gt 0 ]; then
  echo "check.sh: DIFFER in ${#differ[@]} part(s): ${differ[*]}"
  exit 1
fi
IFS=, ; echo "check.sh: equal (lines compared: ${summary[*]})"
exit 0

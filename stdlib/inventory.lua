-- inventory.lua: what a proof compares besides the tables' rows (SPEC §6),
-- read the same way from the source in the dump's snapshot and from the
-- restored copy: sequences, large objects, materialized views, the schema
-- (an inventory of the catalog) and the database's own properties.
-- Every object is named by its parts; names are quoted as the server
-- quotes them (format('%I')).
local rb = require "rb"

local inventory = {}

-- Schemas that are the server's, not the database's.
local USER_SCHEMA = [[n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%']]

-- An ACL as a sorted list of its items, "-" when none: a restore grants
-- the same privileges, not always in the same order, and leaves NULL (the
-- default) where the source spelled the default out. SQL of ours writes
-- ACL{column,kind,owner} for it (acldefault's), or ACL{column} for an ACL
-- without a default (a column's, a default privilege's).
local function with_acls(sql)
  sql = sql:gsub("ACL{([^,}]+),([^,}]+),([^}]+)}",
    "coalesce((SELECT string_agg(item::text, ',' ORDER BY item::text) FROM unnest(coalesce(%1, acldefault(%2, %3))) AS item), '-')")
  return (sql:gsub("ACL{([%w_.]+)}",
    "coalesce((SELECT string_agg(item::text, ',' ORDER BY item::text) FROM unnest(%1) AS item), '-')"))
end

-- Objects of an extension come with CREATE EXTENSION: the extension and
-- its version are listed, not its members.
local function not_member(catalog, oid)
  return string.format("NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '%s'::regclass AND dep.objid = %s AND dep.deptype = 'e')",
    catalog, oid)
end

--- The database's properties, as the server has them: encoding, collation,
--- ctype, locale provider, ICU locale, tablespace, owner, connection limit,
--- GRANTs, comment, and its settings ("role: setting", "*" for all roles).
function inventory.database(conn, major)
  local provider = major >= 15 and "d.datlocprovider::text" or "'c'"
  local icu = major >= 17 and "d.datlocale" or major >= 15 and "d.daticulocale" or "NULL::text"
  local rows = rb.must(conn:query(with_acls(string.format([[
    SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate::text AS collate,
           d.datctype::text AS ctype, %s AS locale_provider, %s AS icu_locale,
           t.spcname::text AS tablespace, pg_get_userbyid(d.datdba)::text AS owner,
           d.datconnlimit::text AS connlimit, ACL{d.datacl,'d',d.datdba} AS acl,
           shobj_description(d.oid, 'pg_database') AS comment
      FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
     WHERE d.datname = current_database()]], provider, icu))))
  local p = rows[1]
  p.settings = {}
  for _, s in ipairs(rb.must(conn:query([[
    SELECT coalesce(quote_ident(r.rolname), '*') || ': ' || c.setting AS line
      FROM pg_db_role_setting s
      LEFT JOIN pg_roles r ON r.oid = s.setrole
      CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting)
     WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY 1]]))) do
    p.settings[#p.settings + 1] = s.line
  end
  return p
end

-- The properties compared, in the order a mismatch names them.
inventory.DATABASE_FIELDS = { "encoding", "collate", "ctype", "locale_provider", "icu_locale",
  "tablespace", "owner", "connlimit", "acl", "comment" }

--- Every sequence of the database: { {schema=, name=, qname=, last_value= (text), is_called=} }.
function inventory.sequences(conn)
  local gen = rb.must(conn:query(string.format([[
    SELECT string_agg(format('SELECT %%L::text AS schema, %%L::text AS name, %%L::text AS qname,'
                             ' last_value::text AS last_value, is_called::text AS is_called FROM %%I.%%I',
                             n.nspname, c.relname, format('%%I.%%I', n.nspname, c.relname), n.nspname, c.relname),
                      ' UNION ALL ' ORDER BY n.nspname, c.relname) AS sql
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid"))))
  local sql = gen[1] and gen[1].sql
  if not sql then return {} end
  local out = rb.must(conn:query(sql))
  for _, s in ipairs(out) do
    s.is_called = s.is_called == "true" -- last_value stays text: a bigint is more than JSON keeps
  end
  table.sort(out, function(a, b) return a.qname < b.qname end)
  return out
end

--- The materialized views: { {schema=, name=, populated=} }.
function inventory.matviews(conn)
  local out = rb.must(conn:query(string.format([[
    SELECT n.nspname AS schema, c.relname AS name, c.relispopulated::text AS populated
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm' AND %s AND %s ORDER BY 1, 2]], USER_SCHEMA, not_member("pg_class", "c.oid"))))
  for _, v in ipairs(out) do v.populated = v.populated == "true" end
  return out
end

-- A large object's content digest: sha256 over the sha256 of each 1 MiB
-- chunk and the size, read chunk by chunk (the server never holds a whole
-- object of many gigabytes at once).
local LARGE_OBJECTS = [[
  SELECT l.oid::text AS oid, pg_get_userbyid(l.lomowner)::text AS owner,
         ACL{l.lomacl,'L',l.lomowner} AS acl,
         coalesce(obj_description(l.oid, 'pg_largeobject'), '-') AS comment,
         (WITH RECURSIVE chunk(off, len, h) AS (
            SELECT 0::bigint, length(p), sha256(p) FROM lo_get(l.oid, 0, 1048576) AS p
            UNION ALL
            SELECT chunk.off + 1048576, length(p), sha256(p)
              FROM chunk, lo_get(l.oid, chunk.off + 1048576, 1048576) AS p
             WHERE chunk.len = 1048576)
          SELECT sum(len)::text || ' ' || encode(sha256(string_agg(h, ''::bytea ORDER BY off)), 'hex')
            FROM chunk) AS content
    FROM pg_largeobject_metadata l
   ORDER BY l.oid]]


-- The schema: one line an object (kind, name, what defines it), without
-- OIDs or anything else a restore renumbers (attnum of a table with
-- dropped columns, enum sort orders), sorted.
local function schema_sql()
  local parts = {
    -- schemas
    string.format([[SELECT 'schema' AS kind, quote_ident(n.nspname) AS object,
       concat_ws(' ', 'owner=' || pg_get_userbyid(n.nspowner), 'acl=' || ACL{n.nspacl,'n',n.nspowner},
                 'comment=' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')) AS detail
       FROM pg_namespace n WHERE %s AND %s]], USER_SCHEMA, not_member("pg_namespace", "n.oid")),
    -- relations: tables, partitioned tables, views, materialized views, sequences, foreign tables
    string.format([[SELECT 'relation', format('%%I.%%I', n.nspname, c.relname),
       concat_ws(' ', 'kind=' || c.relkind::text, 'persistence=' || c.relpersistence::text,
                 'owner=' || pg_get_userbyid(c.relowner), 'acl=' || ACL{c.relacl,(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char",c.relowner},
                 'rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity,
                 'replident=' || c.relreplident::text, 'options=' || coalesce(c.reloptions::text, '-'),
                 'partkey=' || coalesce(pg_get_partkeydef(c.oid), '-'),
                 'bound=' || coalesce(pg_get_expr(c.relpartbound, c.oid), '-'),
                 'parents=' || coalesce((SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno)
                                           FROM pg_inherits i WHERE i.inhrelid = c.oid), '-'),
                 'view=' || coalesce(CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, '-'),
                 'sequence=' || coalesce((SELECT concat_ws('/', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
                                                       s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
                                            FROM pg_sequence s WHERE s.seqrelid = c.oid), '-'),
                 'comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-'))
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid")),
    -- columns, by their place among the table's live columns
    string.format([[SELECT 'column', format('%%I.%%I.%%I', n.nspname, c.relname, a.attname),
       concat_ws(' ', 'position=' || row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                 'type=' || format_type(a.atttypid, a.atttypmod), 'notnull=' || a.attnotnull,
                 'default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'),
                 'generated=' || a.attgenerated::text, 'identity=' || a.attidentity::text,
                 'collation=' || coalesce((SELECT format('%%I.%%I', cn.nspname, co.collname) FROM pg_collation co
                                             JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                            WHERE co.oid = a.attcollation), '-'),
                 'storage=' || a.attstorage::text, 'statistics=' || a.attstattarget,
                 'acl=' || ACL{a.attacl},
                 'comment=' || coalesce(col_description(c.oid, a.attnum), '-'))
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
        AND %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid")),
    -- constraints of tables and domains
    string.format([[SELECT 'constraint', CASE WHEN c.oid IS NOT NULL THEN format('%%I.%%I', n.nspname, c.relname)
                                   ELSE format('domain %%I.%%I', tn.nspname, t.typname) END || ' ' || quote_ident(k.conname),
       concat_ws(' ', 'type=' || k.contype::text, 'def=' || pg_get_constraintdef(k.oid),
                 'validated=' || k.convalidated, 'deferrable=' || k.condeferrable,
                 'deferred=' || k.condeferred, 'local=' || k.conislocal,
                 'comment=' || coalesce(obj_description(k.oid, 'pg_constraint'), '-'))
       FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
       LEFT JOIN pg_class c ON c.oid = k.conrelid
       LEFT JOIN pg_type t ON t.oid = k.contypid LEFT JOIN pg_namespace tn ON tn.oid = t.typnamespace
      WHERE %s AND (c.oid IS NULL OR %s) AND (t.oid IS NULL OR %s)]], USER_SCHEMA,
      not_member("pg_class", "c.oid"), not_member("pg_type", "t.oid")),
    -- indexes
    string.format([[SELECT 'index', format('%%I.%%I', n.nspname, ic.relname),
       concat_ws(' ', 'def=' || pg_get_indexdef(x.indexrelid), 'primary=' || x.indisprimary,
                 'clustered=' || x.indisclustered, 'replident=' || x.indisreplident,
                 'comment=' || coalesce(obj_description(ic.oid, 'pg_class'), '-'))
       FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = ic.relnamespace
      WHERE %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid")),
    -- triggers (not the internal ones of foreign keys)
    string.format([[SELECT 'trigger', format('%%I.%%I', n.nspname, c.relname) || ' ' || quote_ident(g.tgname),
       concat_ws(' ', 'def=' || pg_get_triggerdef(g.oid), 'enabled=' || g.tgenabled::text,
                 'comment=' || coalesce(obj_description(g.oid, 'pg_trigger'), '-'))
       FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT g.tgisinternal AND %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid")),
    -- row-level security policies
    string.format([[SELECT 'policy', format('%%I.%%I', n.nspname, c.relname) || ' ' || quote_ident(p.polname),
       concat_ws(' ', 'cmd=' || p.polcmd::text, 'permissive=' || p.polpermissive,
                 'roles=' || (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END, ',' ORDER BY 1)
                                FROM unnest(p.polroles) AS r),
                 'using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-'),
                 'check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-'))
       FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE %s]], USER_SCHEMA),
    -- rules other than views' own
    string.format([[SELECT 'rule', format('%%I.%%I', n.nspname, c.relname) || ' ' || quote_ident(w.rulename),
       concat_ws(' ', 'def=' || pg_get_ruledef(w.oid), 'enabled=' || w.ev_enabled::text)
       FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE w.rulename <> '_RETURN' AND %s AND %s]], USER_SCHEMA, not_member("pg_class", "c.oid")),
    -- event triggers
    [[SELECT 'event trigger', quote_ident(e.evtname),
       concat_ws(' ', 'event=' || e.evtevent, 'owner=' || pg_get_userbyid(e.evtowner),
                 'function=' || e.evtfoid::regprocedure::text, 'enabled=' || e.evtenabled::text,
                 'tags=' || coalesce(e.evttags::text, '-'),
                 'comment=' || coalesce(obj_description(e.oid, 'pg_event_trigger'), '-'))
       FROM pg_event_trigger e]],
    -- functions, procedures and aggregates, with their sources
    string.format([[SELECT 'function', format('%%I.%%I(%%s)', n.nspname, f.proname, pg_get_function_identity_arguments(f.oid)),
       concat_ws(' ', 'kind=' || f.prokind::text, 'returns=' || coalesce(pg_get_function_result(f.oid), '-'),
                 'language=' || (SELECT lanname FROM pg_language WHERE oid = f.prolang),
                 'volatile=' || f.provolatile::text, 'strict=' || f.proisstrict, 'secdef=' || f.prosecdef,
                 'leakproof=' || f.proleakproof, 'parallel=' || f.proparallel::text,
                 'config=' || coalesce(f.proconfig::text, '-'), 'owner=' || pg_get_userbyid(f.proowner),
                 'acl=' || ACL{f.proacl,'f',f.proowner}, 'bin=' || coalesce(f.probin, '-'),
                 'comment=' || coalesce(obj_description(f.oid, 'pg_proc'), '-'), 'source=' || f.prosrc)
       FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
      WHERE %s AND %s]], USER_SCHEMA, not_member("pg_proc", "f.oid")),
    -- types: enums (labels in order), domains, ranges, composites, base types
    string.format([[SELECT 'type', format('%%I.%%I', n.nspname, t.typname),
       concat_ws(' ', 'type=' || t.typtype::text, 'owner=' || pg_get_userbyid(t.typowner),
                 'acl=' || ACL{t.typacl,'T',t.typowner},
                 'labels=' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                                          FROM pg_enum e WHERE e.enumtypid = t.oid), '-'),
                 'base=' || coalesce(CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) END, '-'),
                 'notnull=' || t.typnotnull, 'default=' || coalesce(t.typdefault, '-'),
                 'range=' || coalesce((SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid), '-'),
                 'comment=' || coalesce(obj_description(t.oid, 'pg_type'), '-'))
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r', 'm')
        AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
        AND NOT (t.typcategory = 'A' AND t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid))
        AND %s AND %s]], USER_SCHEMA, not_member("pg_type", "t.oid")),
    -- collations and extended statistics of the database's own
    string.format([[SELECT 'collation', format('%%I.%%I', n.nspname, co.collname),
       concat_ws(' ', 'provider=' || co.collprovider::text, 'deterministic=' || co.collisdeterministic,
                 'collate=' || coalesce(co.collcollate::text, '-'), 'ctype=' || coalesce(co.collctype::text, '-'))
       FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
      WHERE %s AND %s]], USER_SCHEMA, not_member("pg_collation", "co.oid")),
    string.format([[SELECT 'statistics', format('%%I.%%I', n.nspname, s.stxname), pg_get_statisticsobjdef(s.oid)
       FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE %s]], USER_SCHEMA),
    -- extensions and their versions; default privileges
    [[SELECT 'extension', quote_ident(x.extname),
       concat_ws(' ', 'version=' || x.extversion, 'schema=' || quote_ident(n.nspname))
       FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace]],
    [[SELECT 'default privileges', concat_ws(' ', quote_ident(pg_get_userbyid(d.defaclrole)),
                                              coalesce(quote_ident(n.nspname), '*'), d.defaclobjtype::text),
       ACL{d.defaclacl}
       FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace]],
  }
  return with_acls("SELECT * FROM (" .. table.concat(parts, "\n UNION ALL\n") .. ") AS inventory ORDER BY 1, 2, 3")
end

-- The inventories kept as files beside the dump: every large object
-- (oid, owner, ACL, comment, size and content digest) and the schema.
local SQL = {
  large_objects = function() return with_acls(LARGE_OBJECTS) end,
  schema = schema_sql,
}

--- An inventory (kind "large_objects" or "schema"), a line an object, in
--- its order, into the backup's file at path: { rows, bytes, sha256 }.
function inventory.write(conn, kind, path)
  return (rb.must(conn:copy_out(SQL[kind](), path)))
end

--- The same into the run's evidence, raw/<name>: { rows, bytes, sha256, raw }.
function inventory.raw(conn, kind, name)
  return (rb.must(conn:copy_raw(SQL[kind](), name)))
end

return inventory

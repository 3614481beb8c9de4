-- backups.lua: what the backup, restore, drill, verify, prune and report
-- runbooks agree on about the backups folder (SPEC §6).
local rb = require "rb"

local backups = {}

--- The manifest formats ffrun reads: 2 names every object by its parts
--- and records every proof category; 1 (older backups) still restores.
backups.FORMAT = "ffrun.backup/2"
backups.FORMATS = { ["ffrun.backup/1"] = true, ["ffrun.backup/2"] = true }

--- True when name is a complete backup's folder name (a STAMP): never a
--- .partial one.
function backups.is_stamp(name)
  return name:match("^%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d$") ~= nil
end

--- Complete backups, oldest first: { {stamp=, path=}, ... }.
function backups.list(root)
  local out = {}
  if not ff.fs.exists(root) then return out end
  for _, name in ipairs(rb.must(ff.fs.list(root))) do
    if backups.is_stamp(name) and ff.fs.exists(root .. "/" .. name .. "/manifest.json") then
      out[#out + 1] = { stamp = name, path = root .. "/" .. name }
    end
  end
  return out
end

--- True when backup b (backups.list's) is a pgBackRest one: its folder
--- lives as long as its set (prune's expire step), not by keep_last and
--- keep_days.
function backups.physical(b)
  local ok, m = pcall(ff.json.decode, ff.fs.read(b.path .. "/manifest.json") or "")
  return ok and type(m) == "table" and m.engine == "pgbackrest"
end

--- Folders left by killed backups. Only safe to remove under the lock.
function backups.partials(root)
  local out = {}
  if not ff.fs.exists(root) then return out end
  for _, name in ipairs(rb.must(ff.fs.list(root))) do
    if name:match("%.partial$") then out[#out + 1] = root .. "/" .. name end
  end
  return out
end

--- Resolve "latest" or a STAMP to a complete backup, or fail saying why.
function backups.resolve(root, which)
  local all = backups.list(root)
  if which == "latest" then
    rb.check(#all > 0, "no complete backup in %s", root)
    return all[#all]
  end
  rb.check(backups.is_stamp(which), "backup=%s: expected latest or a STAMP like 20251227-184012", which)
  for _, b in ipairs(all) do
    if b.stamp == which then return b end
  end
  -- A folder without its manifest is a damaged backup, not a typo: that is
  -- a FAIL (exit 1), not a usage error.
  if ff.fs.exists(root .. "/" .. which) then
    return { stamp = which, path = root .. "/" .. which }
  end
  rb.fail("backup %s: no such complete backup in %s", which, root)
end

--- sha256 of an archive's table of contents, its entry lines only: the
--- header carries timestamps that differ between two reads of the same dump.
function backups.toc_sha256(toc)
  local entries = {}
  for line in toc:gmatch("[^\n]+") do
    if not line:match("^;") then entries[#entries + 1] = line end
  end
  return ff.hash.string(table.concat(entries, "\n")), #entries
end

--- Every finished run's summary under the evidence root, oldest first
--- (folders without a summary, such as the current run's, are skipped).
function backups.runs(evidence_root)
  local out = {}
  if not ff.fs.exists(evidence_root) then return out end
  for _, name in ipairs(rb.must(ff.fs.list(evidence_root))) do
    local path = evidence_root .. "/" .. name .. "/summary.json"
    if ff.fs.exists(path) then
      local text = ff.fs.read(path)
      local ok, s = pcall(ff.json.decode, text or "")
      if ok and type(s) == "table" and s.format == "ffrun.evidence/1" then
        s.dir = evidence_root .. "/" .. name
        out[#out + 1] = s
      end
    end
  end
  return out
end

--- stamp -> the last drill run (a real one, PASS) that proved that backup.
function backups.proven(runs)
  local by_stamp = {}
  for _, r in ipairs(runs) do
    if type(r.runbook) == "table" and r.runbook.name == "drill" and r.mode == "run" and r.status == "PASS"
       and type(r.backup) == "table" and type(r.backup.stamp) == "string" then
      by_stamp[r.backup.stamp] = r
    end
  end
  return by_stamp
end

-- The database a backup is of, as its manifest names it: one key per
-- (system_identifier, dbname); "?" when the manifest cannot tell.
local function database_key(b)
  local ok, m = pcall(ff.json.decode, ff.fs.read(b.path .. "/manifest.json") or "")
  local src = ok and type(m) == "table" and type(m.source) == "table" and m.source or {}
  if type(src.dbname) ~= "string" then return "?" end
  return tostring(src.system_identifier) .. "\0" .. src.dbname
end

--- Retention: which of `all` (backups.list, oldest first) are kept, and
--- why, and which go. Per database (a folder may hold the backups of
--- several), a backup is kept when it is among its newest keep_last,
--- younger than keep_days, or the newest one a real drill has proven
--- (proven: backups.proven). Returns kept {stamp, why} and doomed
--- (backups), both oldest first, and the newest proven stamp of each
--- database that has one.
function backups.retention(all, proven, keep_last, keep_days, now)
  local groups, order = {}, {}
  for _, b in ipairs(all) do
    local k = database_key(b)
    if not groups[k] then groups[k] = {}; order[#order + 1] = k end
    local g = groups[k]
    g[#g + 1] = b
  end
  local why_of, newest = {}, {}
  for _, k in ipairs(order) do
    local g, newest_proven = groups[k], nil
    for _, b in ipairs(g) do
      if proven[b.stamp] then newest_proven = b.stamp end
    end
    if newest_proven then newest[#newest + 1] = newest_proven end
    for i, b in ipairs(g) do
      local age_days = (now - rb.must(ff.time.parse_stamp(b.stamp))) / 86400
      if i > #g - keep_last then why_of[b.stamp] = "among the newest " .. keep_last
      elseif age_days < keep_days then why_of[b.stamp] = string.format("younger than %d days", keep_days)
      elseif b.stamp == newest_proven then why_of[b.stamp] = "the newest backup a drill has proven" end
    end
  end
  local kept, doomed = {}, {}
  for _, b in ipairs(all) do
    if why_of[b.stamp] then
      kept[#kept + 1] = { stamp = b.stamp, why = why_of[b.stamp] }
    else
      doomed[#doomed + 1] = b
    end
  end
  table.sort(newest)
  return kept, doomed, newest
end

--- Evidence retention: the run folders under evidence_root (named
--- <STAMP>-<runbook>…) older than `days`, except `keep` (a set of folder
--- names: the proving drills and the making runs of kept backups).
--- Returns { {name=, path=, age_days=} } oldest first.
function backups.old_evidence(evidence_root, days, keep, now)
  local out = {}
  if not ff.fs.exists(evidence_root) then return out end
  local names = rb.must(ff.fs.list(evidence_root))
  table.sort(names)
  for _, name in ipairs(names) do
    local stamp = name:match("^(%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d)%-.")
    local t = stamp and ff.time.parse_stamp(stamp)
    if t and not keep[name] and (now - t) / 86400 >= days then
      out[#out + 1] = { name = name, path = evidence_root .. "/" .. name, age_days = (now - t) / 86400 }
    end
  end
  return out
end

--- stamp -> the last real (not dry-run) drill of that backup, PASS or
--- FAIL. A drill names its backup once it has resolved it; one that failed
--- before (a damaged backup) is counted by its backup= param when that is
--- a STAMP. Summaries are read as hostile: anything malformed is skipped.
function backups.last_drills(runs)
  local by_stamp = {}
  for _, r in ipairs(runs) do
    if type(r.runbook) == "table" and r.runbook.name == "drill" and r.mode == "run" then
      local stamp = type(r.backup) == "table" and r.backup.stamp or nil
      if stamp == nil and type(r.params) == "table" then stamp = r.params.backup end
      if type(stamp) == "string" and backups.is_stamp(stamp) then by_stamp[stamp] = r end
    end
  end
  return by_stamp
end

--- The complete backups whose manifest names this database (facts:
--- {system_identifier, dbname}, as conn:facts() gives them), oldest first;
--- a backup whose manifest cannot be read is left out.
function backups.of_database(root, facts)
  local out = {}
  for _, b in ipairs(backups.list(root)) do
    local ok, m = pcall(ff.json.decode, ff.fs.read(b.path .. "/manifest.json") or "")
    local src = ok and type(m) == "table" and type(m.source) == "table" and m.source or {}
    if src.dbname == facts.dbname and src.system_identifier == facts.system_identifier then
      out[#out + 1] = b
    end
  end
  return out
end

--- nil when artifact (an entry of a manifest's artifacts) is well formed:
--- {path = a relative file name, bytes = an integer >= 0, sha256 = text};
--- else what is wrong with it. Manifests are read as hostile: a folder
--- anyone could write.
function backups.artifact_problem(a)
  if type(a) ~= "table" then return "an artifact is not an object" end
  if type(a.path) ~= "string" or a.path == "" or a.path:sub(1, 1) == "/" or a.path:find("%.%.") then
    return "an artifact's path is not a relative file name: " .. tostring(a.path)
  end
  -- lua-cjson decodes every JSON number as a float: 5 reads 5.0.
  if type(a.bytes) ~= "number" or a.bytes < 0 or a.bytes > 2^53 or a.bytes ~= math.floor(a.bytes) then
    return a.path .. ": bytes is not a whole number: " .. tostring(a.bytes)
  end
  if type(a.sha256) ~= "string" then return a.path .. ": sha256 is not text" end
  return nil
end

-- A backup's manifest with its artifacts list, or nil when unreadable.
local function manifest_of(b)
  local ok, m = pcall(ff.json.decode, ff.fs.read(b.path .. "/manifest.json") or "")
  if not ok or type(m) ~= "table" or type(m.artifacts) ~= "table" then return nil end
  for _, a in ipairs(m.artifacts) do
    if backups.artifact_problem(a) then return nil end
  end
  return m
end

--- What the newest complete backup of the same database says this dump
--- will weigh: its db.dump, scaled by how much the database grew since.
--- nil when no backup here is of this database (then only its size bounds
--- the dump, which compression makes several times smaller).
function backups.expected_dump_bytes(root, source)
  local all = backups.list(root)
  for i = #all, 1, -1 do
    local m = manifest_of(all[i])
    local src = m and type(m.source) == "table" and m.source or {}
    if src.dbname == source.dbname and src.system_identifier == source.system_identifier
       and type(src.size_bytes) == "number" and src.size_bytes > 0 then
      for _, a in ipairs(m.artifacts) do
        if a.path == "db.dump" and a.bytes > 0 then
          -- As floats: bytes times bytes overflows an integer.
          return math.floor(a.bytes * (source.size_bytes / src.size_bytes) + 0.5)
        end
      end
    end
  end
  return nil
end

--- Total bytes of a backup's artifacts, from its manifest (nil if unreadable).
function backups.size(b)
  local m = manifest_of(b)
  if not m then return nil end
  local n = 0
  for _, a in ipairs(m.artifacts) do n = n + a.bytes end
  return n
end

--- a + b modulo 2^256, both 64 hex digits: content digests of disjoint
--- row sets add up (a partitioned table is the sum of its partitions).
function backups.sum_hex(a, b)
  local out, carry = {}, 0
  for i = 57, 1, -8 do
    local s = tonumber(a:sub(i, i + 7), 16) + tonumber(b:sub(i, i + 7), 16) + carry
    carry = s >> 32
    table.insert(out, 1, string.format("%08x", s & 0xffffffff))
  end
  return table.concat(out)
end

local function key(schema, name) return schema .. "\0" .. name end

-- The tables whose rows the dump's own COPY text does not give exactly as
-- conn:fingerprint reads them (SELECT * FROM t): inheritance parents (COPY
-- holds only their own rows), tables of an extension (CREATE EXTENSION
-- brings their rows back), generated columns (pg_dump leaves them out),
-- partitions that are foreign tables (never dumped), and money in any form
-- (pg_dump writes it in the source's lc_monetary; a fingerprint reads it
-- under lc_monetary C, so the same data digests alike in any instance).
local READ_FROM_SERVER = [[
WITH RECURSIVE money_types(oid) AS (  -- money, and domains, arrays, rows of it
  SELECT 'money'::regtype::oid
  UNION
  SELECT t.oid FROM money_types m, pg_type t
         LEFT JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE t.typbasetype = m.oid OR t.typelem = m.oid OR a.atttypid = m.oid)
SELECT n.nspname AS schema, c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
   AND ((c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid))
     OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
     OR EXISTS (SELECT 1 FROM pg_attribute a
                 WHERE (a.attrelid = c.oid  -- pg_partition_tree lists nothing for a plain table
                        OR a.attrelid IN (SELECT relid FROM pg_partition_tree(c.oid)))
                   AND a.attnum > 0 AND NOT a.attisdropped
                   AND (a.attgenerated <> '' OR a.atttypid IN (SELECT oid FROM money_types)))
     OR EXISTS (SELECT 1 FROM pg_partition_tree(c.oid) pt JOIN pg_class l ON l.oid = pt.relid
                 WHERE pt.isleaf AND l.relkind <> 'r'))]]

-- Every partitioned table with the partitions that hold its rows.
local LEAVES = [[
SELECT rn.nspname AS root_schema, r.relname AS root_name, n.nspname AS schema, c.relname AS name
  FROM pg_class r JOIN pg_namespace rn ON rn.oid = r.relnamespace,
       pg_partition_tree(r.oid) pt JOIN pg_class c ON c.oid = pt.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE r.relkind = 'p' AND NOT r.relispartition AND pt.isleaf]]

--- How to fingerprint each table of `list` from the dump's stream, read on
--- conn (in the dump's snapshot). Returns { server = { t… } (tables to read
--- from the server instead), leaves = { [key] = { {schema, name}… } } }.
function backups.stream_plan(conn, list)
  local server, leaves = {}, {}
  for _, r in ipairs(rb.must(conn:query(READ_FROM_SERVER))) do server[key(r.schema, r.name)] = true end
  for _, r in ipairs(rb.must(conn:query(LEAVES))) do
    local k = key(r.root_schema, r.root_name)
    leaves[k] = leaves[k] or {}
    table.insert(leaves[k], { schema = r.schema, name = r.name })
  end
  local plan = { server = {}, leaves = leaves }
  for _, t in ipairs(list) do
    if server[key(t.schema, t.name)] then plan.server[#plan.server + 1] = t end
  end
  return plan
end

--- ff.pg.dump's result.tables indexed for backups.stream_fingerprint.
function backups.stream_index(streamed)
  local by = {}
  for _, s in ipairs(streamed or {}) do by[key(s.schema, s.name)] = s end
  return by
end

--- Table t's { rows, content_sha256 } from the indexed stream (a
--- partitioned table adds up its partitions), or nil if a part is missing.
function backups.stream_fingerprint(by, plan, t, mode)
  local parts = plan.leaves[key(t.schema, t.name)] or { t }
  local rows, sum = 0, string.rep("0", 64)
  for _, part in ipairs(parts) do
    local s = by[key(part.schema, part.name)]
    if not s then return nil end
    rows = rows + s.rows
    if mode == "content" then sum = backups.sum_hex(sum, s.content_sha256) end
  end
  return { rows = rows, content_sha256 = mode == "content" and sum or nil }
end

return backups

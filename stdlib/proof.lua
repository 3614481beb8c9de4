-- proof.lua: what restore and drill share: checking a backup before it is
-- used, and proving a restored database equals what the manifest says.
local rb = require "rb"
local backups = require "backups"
local inventory = require "inventory"

local proof = {}

-- The folder each checked manifest came from (its inventory files).
local folder_of = setmetatable({}, { __mode = "k" })

local function key(schema, name) return schema .. "\0" .. name end

--- A name as SQL writes it: quoted unless it is a plain lower-case word
--- (logs and evidence show names with dots, spaces or quotes unambiguously).
function proof.ident(s)
  if s:match("^[a-z_][a-z0-9_$]*$") then return s end
  return '"' .. s:gsub('"', '""') .. '"'
end

--- schema.name, each part quoted where needed.
function proof.qname(schema, name)
  return proof.ident(schema) .. "." .. proof.ident(name)
end

-- A manifest of format 1 named a table by one "schema.table" string and
-- took its fingerprints as UTF8 text: read it as format 2 says, proving
-- what it recorded and no more (its sequences were read outside the
-- dump's snapshot, so they are not compared).
local function upgrade(m)
  if m.format ~= "ffrun.backup/1" then return m end
  rb.check(m.tables == nil or type(m.tables) == "table", "manifest.json: tables is not a list")
  for _, t in ipairs(m.tables or {}) do
    rb.check(type(t) == "table" and type(t.name) == "string" and t.name:find(".", 1, true),
      "manifest.json: a table is not named schema.table: %s", type(t) == "table" and tostring(t.name) or tostring(t))
    t.schema, t.name = t.name:match("^([^.]+)%.(.+)$")
  end
  m.sequences = nil
  m.fingerprint_encoding = "UTF8"
  return m
end

--- Check a backup folder against its DIGEST and manifest; returns the
--- manifest. Fails naming the file at fault.
function proof.check_backup(folder)
  rb.check(ff.fs.exists(folder .. "/manifest.json"), "%s/manifest.json: missing: not a complete backup", folder)
  rb.check(ff.fs.exists(folder .. "/DIGEST"), "%s/DIGEST: missing: not a complete backup", folder)
  local ok, problems = ff.verify.digest(folder)
  if not ok then rb.fail("%s", table.concat(problems, "; ")) end
  local m = rb.read_json(folder .. "/manifest.json")
  rb.check(type(m) == "table", "manifest.json: not a JSON object but %s", type(m))
  rb.check(backups.FORMATS[m.format], "manifest.json: unknown format %s", tostring(m.format))
  rb.check(type(m.artifacts) == "table" and #m.artifacts > 0, "manifest.json: no artifacts")
  local digest = {}
  for hex, name in rb.must(ff.fs.read(folder .. "/DIGEST")):gmatch("(%x+)  ([^\n]+)") do
    digest[name] = hex
  end
  for _, a in ipairs(m.artifacts) do
    local problem = backups.artifact_problem(a)
    if problem then rb.fail("manifest.json: %s", problem) end
    -- DIGEST was just checked against the files: agreeing with it proves
    -- the file without reading a dump twice. Checked first, so that only
    -- a file DIGEST lists (and the check found in the folder) is opened.
    rb.check(digest[a.path], "%s: listed in manifest.json but not in DIGEST", a.path)
    rb.check(digest[a.path] == a.sha256, "%s: sha256 in manifest.json differs from DIGEST", a.path)
    local st = ff.fs.stat(folder .. "/" .. a.path)
    rb.check(st, "%s: listed in manifest.json but missing", a.path)
    rb.check(st.size == a.bytes, "%s: %d bytes, manifest.json says %d", a.path, st.size, a.bytes)
  end
  folder_of[m] = folder
  return upgrade(m)
end

--- Resolve backup=latest|STAMP (an unknown one is a usage error, exit 2).
function proof.resolve(root, which)
  local ok, b = pcall(backups.resolve, root, which)
  if not ok then ff.usage(tostring(b)) end
  return b
end

--- Judge a pg_restore run (admin:restore's result): every "pg_restore:
--- error:" line of its whole log must match a pattern the config allows.
--- Fails naming the refused lines.
function proof.check_restore(r)
  -- The whole log, not the tail the call returned: an error must not
  -- scroll out of sight on a long restore.
  local output = ff.fs.read(ff.run.dir .. "/" .. r.raw) or r.output
  local refused = {}
  for line in output:gmatch("[^\n]+") do
    if line:match("^pg_restore: error:") then
      local allowed = false
      for _, pat in ipairs(ff.config.restore.allow_errors) do
        if line:find(pat, 1, true) then allowed = true end
      end
      if not allowed then refused[#refused + 1] = line end
    end
  end
  rb.check(#refused == 0, "pg_restore reported errors (see %s): %s", r.raw, table.concat(refused, "; "))
  -- With only allowed errors pg_restore still exits 1, saying so.
  rb.check(r.ok or output:match("errors ignored on restore"), "pg_restore failed (see %s)", r.raw)
end

--- What restore and drill do first: hold the backups folder shared (a
--- prune cannot remove what this run reads), resolve the backup, check it,
--- and record it in the evidence. Returns lock, backup, manifest.
function proof.open_backup(root, which)
  local lock = ff.fs.lock(root, "shared")
  local backup = proof.resolve(root, which)
  local manifest = proof.check_backup(backup.path)
  ff.plan.backup(backup.path) -- a plan pins it; a pinned run must find it unchanged
  ff.evidence.set("backup", { stamp = backup.stamp,
    age_s = math.floor(ff.run.started_at - ff.time.parse_stamp(backup.stamp)) })
  return lock, backup, manifest
end

--- One restore or rollback of a target at a time: the exclusive lock of
--- <backups>/.targets/<target> (made on first use), and for a target of
--- engine pgbackrest also its cluster's (<data>.fflock beside the data
--- folder), which a run of another configuration (another backups folder)
--- on the same cluster takes too. A second run on the same target or
--- cluster is busy (exit 4) before it writes anything; runs on other
--- targets, drills and backups are not held up by it. confirm: the
--- target's database name (exit 2 otherwise), checked before the
--- cluster's lock file is made. Returns the locks (a list): hold it to the
--- end of the run.
function proof.target_lock(root, target, confirm)
  rb.check(target:match("^[%w_%-]+$") ~= nil, "target %q: a lock needs a name of letters, digits, _ and -", target)
  rb.must(ff.fs.mkdir(root .. "/.targets"))
  rb.must(ff.fs.mkdir(root .. "/.targets/" .. target))
  local locks = { ff.fs.lock(root .. "/.targets/" .. target) }
  local t = ff.config.targets[target]
  if t and t.engine == "pgbackrest" then locks[2] = rb.must(ff.pgbackrest.lock(target, confirm)) end
  return locks
end

--- Apply the archive's database-level properties (settings, GRANTs,
--- comment, connection limit) to db through admin, once its contents are
--- in; records the statements in the evidence.
function proof.apply_properties(admin, db, archive)
  local r = rb.must(admin:database_properties(db, archive))
  ff.evidence.set("database_properties", r.statements)
  ff.log.info(string.format("database properties: %d statements from the archive", r.applied))
end

--- The name of a database ffrun keeps beside `live`:
--- `<live>__ff<tag>_<stamp>`. Fails, before anything is written and in a
--- dry-run too, when it would pass PostgreSQL's 63-byte limit on names
--- (the server would cut it, and the copy would no longer be provably ffrun's).
function proof.beside(live, tag, stamp)
  local name = live .. "__ff" .. tag .. "_" .. stamp
  rb.check(#name <= 63,
    "database %s: ffrun keeps its %s copy beside it as %s, %d bytes, over PostgreSQL's 63-byte limit on names: use a database name of at most %d bytes",
    live, tag, name, #name, 63 - (#name - #live))
  return name
end

--- The PostgreSQL major version the backup was taken from.
function proof.source_major(m)
  return tonumber(m.source.server_version:match("^(%d+)"))
end

-- A mismatch found by a proof, named by its category and object.
local function differs(v, category, fmt, ...)
  v.mismatches[#v.mismatches + 1] = category .. " " .. string.format(fmt, ...)
end

--- Tables: rows (and content) of conn's database against the manifest's,
--- every table at once over as many connections as there are CPUs.
function proof.tables(conn, m, v)
  local mode = m.verify
  local present = {}
  for _, t in ipairs(rb.must(conn:tables())) do present[key(t.schema, t.name)] = t end
  local wanted, found = {}, {}
  for _, want in ipairs(m.tables) do
    local k = key(want.schema, want.name)
    local t = present[k]
    if not t then
      differs(v, "table", "%s: missing", proof.qname(want.schema, want.name))
    else
      wanted[#wanted + 1] = want
      found[#found + 1] = t
      present[k] = nil
    end
  end
  local got = rb.must(conn:fingerprints(found, mode, nil, m.fingerprint_encoding))
  for i, want in ipairs(wanted) do
    local fp, name = got[i], proof.qname(want.schema, want.name)
    if fp.rows ~= want.rows then
      differs(v, "table", "%s: %d rows, the backup had %d", name, fp.rows, want.rows)
    elseif mode == "content" and fp.content_sha256 ~= want.content_sha256 then
      differs(v, "table", "%s: content differs", name)
    end
    v.tables = v.tables + 1
  end
  for _, t in pairs(present) do
    differs(v, "table", "%s: not in the backup", proof.qname(t.schema, t.name))
  end
end

--- Sequences: last_value and is_called as the archive set them.
function proof.sequences(conn, m, v)
  if not m.sequences then return end
  local got = {}
  for _, s in ipairs(inventory.sequences(conn)) do got[key(s.schema, s.name)] = s end
  for _, want in ipairs(m.sequences) do
    local k, name = key(want.schema, want.name), proof.qname(want.schema, want.name)
    local s = got[k]
    if not s then
      differs(v, "sequence", "%s: missing", name)
    elseif s.last_value ~= want.last_value or s.is_called ~= want.is_called then
      differs(v, "sequence", "%s: last_value %s (is_called %s), the backup had %s (is_called %s)", name,
        tostring(s.last_value), tostring(s.is_called), tostring(want.last_value), tostring(want.is_called))
    end
    got[k] = nil
    v.sequences = v.sequences + 1
  end
  for _, s in pairs(got) do differs(v, "sequence", "%s: not in the backup", proof.qname(s.schema, s.name)) end
end

-- The lines of an inventory file by their object (the columns before the
-- last), or nil when it is too big to hold for a diff.
local function lines_of(path, objects)
  local st = ff.fs.stat(path)
  if not st or st.size > 16 * 1024 * 1024 then return nil end
  local out = {}
  for line in rb.must(ff.fs.read(path)):gmatch("[^\n]+") do
    local object, detail = line:match(objects)
    if object then out[object] = (out[object] and out[object] .. "\n" or "") .. detail end
  end
  return out
end

-- An inventory (large objects, the schema) of conn against the backup's
-- file of it: equal digests, or a diff in raw/ naming what differs.
local function compare_inventory(v, category, conn, kind, m, entry, objects)
  local r = inventory.raw(conn, kind, (entry.file:gsub("%.tsv$", ".restored.tsv")))
  local mine = r.raw
  if r.sha256 == entry.sha256 then return r.rows end
  local theirs = folder_of[m] .. "/" .. entry.file
  local a, b = lines_of(theirs, objects), lines_of(ff.run.dir .. "/" .. mine, objects)
  if not a or not b then
    differs(v, category, "differs from the backup's (too large to list: compare %s with %s)", theirs, mine)
    return r.rows
  end
  local diff, names = {}, {}
  for object, detail in pairs(a) do
    if b[object] == nil then
      diff[#diff + 1] = "- " .. object .. "\t" .. detail
      names[#names + 1] = object .. ": missing"
    elseif b[object] ~= detail then
      diff[#diff + 1] = "- " .. object .. "\t" .. detail
      diff[#diff + 1] = "+ " .. object .. "\t" .. b[object]
      names[#names + 1] = object .. ": differs"
    end
  end
  for object, detail in pairs(b) do
    if a[object] == nil then
      diff[#diff + 1] = "+ " .. object .. "\t" .. detail
      names[#names + 1] = object .. ": not in the backup"
    end
  end
  table.sort(diff, function(x, y) return x:sub(3) < y:sub(3) or (x:sub(3) == y:sub(3) and x < y) end)
  table.sort(names)
  local raw = ff.evidence.raw((entry.file:gsub("%.tsv$", ".diff")), "--- the backup's " .. entry.file
    .. "\n+++ the restored copy\n" .. table.concat(diff, "\n") .. "\n")
  local shown = {}
  for i = 1, math.min(#names, 5) do shown[i] = names[i]:gsub("\t", " ") end
  differs(v, category, "%s%s (see %s)", table.concat(shown, ", "),
    #names > 5 and string.format(" and %d more", #names - 5) or "", raw)
  return r.rows
end

--- Large objects: OIDs, owners, ACLs, comments and content digests.
function proof.large_objects(conn, m, v)
  if not m.large_objects then return end
  v.large_objects = compare_inventory(v, "large object", conn, "large_objects", m, m.large_objects,
    "^([^\t]+)\t(.*)$")
end

--- The first half of a proof, once the archive's data is loaded (its
--- post-data, indexes and constraints, may still be building beside it):
--- tables, sequences and large objects against the manifest. Returns the
--- verification so far.
function proof.data(db, m)
  local v = { tables = 0, sequences = 0, large_objects = 0, matviews = 0,
              matviews_refreshed = {}, schema_objects = 0, database_properties = 0, mismatches = {} }
  if m.verify == "none" then return v end
  proof.tables(db, m, v)
  proof.sequences(db, m, v)
  proof.large_objects(db, m, v)
  return v
end

--- Materialized views: populated or not as in the backup (the archive
--- says which), and content when populated. pg_dump keeps no view's
--- data: the restore refreshes each populated view from the restored
--- tables, so its content can differ from the backup's only when the view
--- was stale at backup time (or its query reads what no category holds,
--- such as now()). That is a warning naming the view, in the evidence as
--- verification.matviews_refreshed, and not a FAIL: a database whose
--- views are refreshed nightly is legitimate.
function proof.matviews(conn, m, v)
  if not m.matviews then return end
  local got = {}
  for _, mv in ipairs(inventory.matviews(conn)) do got[key(mv.schema, mv.name)] = mv end
  local populated, wanted = {}, {}
  for _, want in ipairs(m.matviews) do
    local k, name = key(want.schema, want.name), proof.qname(want.schema, want.name)
    local mv = got[k]
    if not mv then
      differs(v, "materialized view", "%s: missing", name)
    elseif mv.populated ~= want.populated then
      differs(v, "materialized view", "%s: %s, the backup's was %s", name,
        mv.populated and "populated" or "not populated", want.populated and "populated" or "not populated")
    elseif want.populated then
      populated[#populated + 1] = mv
      wanted[#wanted + 1] = want
    end
    got[k] = nil
    v.matviews = v.matviews + 1
  end
  for _, mv in pairs(got) do differs(v, "materialized view", "%s: not in the backup", proof.qname(mv.schema, mv.name)) end
  if #populated == 0 then return end
  local fps = rb.must(conn:fingerprints(populated, m.verify, nil, m.fingerprint_encoding))
  for i, want in ipairs(wanted) do
    local name, why = proof.qname(want.schema, want.name), nil
    if fps[i].rows ~= want.rows then
      why = string.format("%d rows, the backup had %d", fps[i].rows, want.rows)
    elseif m.verify == "content" and fps[i].content_sha256 ~= want.content_sha256 then
      why = "content differs"
    end
    if why then
      v.matviews_refreshed[#v.matviews_refreshed + 1] = name
      ff.log.warn(string.format("materialized view %s: %s: refreshed by the restore from the proven tables (stale at backup time, or its query reads what no category holds, such as now()): not proved",
        name, why))
    end
  end
end

--- The schema: the catalog's inventory against the backup's.
function proof.schema(conn, m, v)
  if not m.schema_inventory then return end
  v.schema_objects = compare_inventory(v, "schema", conn, "schema", m, m.schema_inventory,
    "^([^\t]+\t[^\t]+)\t(.*)$")
end

local function shown(x) return x == nil and "(none)" or tostring(x) end

--- The database's own properties: encoding, locale, owner, GRANTs,
--- comment, connection limit, settings.
function proof.database(conn, m, v)
  local want = m.database
  if not want then return end
  local have = inventory.database(conn, rb.must(conn:facts()).server_major)
  for _, field in ipairs(inventory.DATABASE_FIELDS) do
    if have[field] ~= want[field] then
      differs(v, "database", "%s: %s, the backup's was %s", field, shown(have[field]), shown(want[field]))
    end
    v.database_properties = v.database_properties + 1
  end
  local a, b = table.concat(want.settings or {}, "; "), table.concat(have.settings, "; ")
  if a ~= b then differs(v, "database", "settings: [%s], the backup's were [%s]", b, a) end
  v.database_properties = v.database_properties + 1
end

-- What a PASS proved, in words.
local function proved(v, m)
  local parts = { string.format("%d tables (%s)", v.tables, m.verify) }
  if m.large_objects then parts[#parts + 1] = string.format("%d large objects", v.large_objects) end
  if m.sequences then parts[#parts + 1] = string.format("%d sequences", v.sequences) end
  if m.matviews then
    local refreshed = v.matviews_refreshed and #v.matviews_refreshed or 0
    parts[#parts + 1] = string.format("%d materialized views%s", v.matviews, refreshed > 0
      and string.format(" (%d of them differ in content: refreshed, not proved)", refreshed) or "")
  end
  if m.schema_inventory then parts[#parts + 1] = string.format("schema (%d objects)", v.schema_objects) end
  if m.database then parts[#parts + 1] = "database properties" end
  return table.concat(parts, ", ")
end

--- Run the configured smoke checks on conn (each SQL's first value must be
--- true), or the built-in one: every table of the manifest is readable.
--- Returns { builtin = bool, checks = { {name=, ok=, detail=} } }.
function proof.smoke(conn, smoke, m)
  local out = { builtin = #smoke == 0, checks = {} }
  local function add(name, ok, detail)
    out.checks[#out.checks + 1] = { name = name, ok = ok, detail = detail }
    if not ok then ff.log.error("smoke " .. name .. ": " .. tostring(detail)) end
  end
  if #smoke == 0 then
    for _, t in ipairs(m.tables) do
      local ok, err = conn:readable(t.schema, t.name)
      add("readable " .. proof.qname(t.schema, t.name), ok == true, err)
    end
    return out
  end
  for _, s in ipairs(smoke) do
    local rows, err = conn:query(s.sql)
    if not rows then
      add(s.name, false, err)
    else
      local first = rows[1] and select(2, next(rows[1]))
      add(s.name, first == "t" or first == "true" or (tonumber(first) or 0) ~= 0,
        "first value: " .. tostring(first))
    end
  end
  return out
end

--- True when every smoke check passed.
function proof.smoke_passed(s)
  if #s.checks == 0 then return false end
  for _, c in ipairs(s.checks) do
    if not c.ok then return false end
  end
  return true
end

--- The second half, once the restore is complete and the database's
--- properties applied: materialized views, the schema, the database's
--- properties, then the smoke checks. Records the verification and the
--- smoke (under smoke_key) in the evidence; fails naming what differs.
function proof.finish(db, m, v, smoke_key)
  if m.verify ~= "none" then
    proof.matviews(db, m, v)
    proof.schema(db, m, v)
    proof.database(db, m, v)
  end
  table.sort(v.mismatches)
  -- An empty list would be written as {}: absent instead.
  if #v.matviews_refreshed == 0 then v.matviews_refreshed = nil end
  ff.evidence.set("verification", v)
  rb.check(#v.mismatches == 0, "the restored copy differs from the backup: %s", table.concat(v.mismatches, "; "))
  rb.check(v.tables > 0 or m.verify == "none", "no table was compared: a verification of nothing is not a PASS")
  local smoke = proof.smoke(db, ff.config.smoke, m)
  ff.evidence.set(smoke_key, smoke)
  rb.check(proof.smoke_passed(smoke), "smoke checks failed")
  ff.log.info(string.format("proved: %s; %d smoke checks%s", proved(v, m),
    #smoke.checks, smoke.builtin and " (built-in: every table readable)" or ""))
  return v
end

--- Prove a restored database whole: proof.data, then proof.finish.
function proof.prove(db, m, smoke_key)
  return proof.finish(db, m, proof.data(db, m), smoke_key)
end

--- pg_restore's parallel jobs: the runbook's jobs= (0: not given), else
--- backup.jobs, else one a core.
function proof.jobs(jobs)
  return jobs > 0 and jobs or (ff.config.backup.jobs > 0 and ff.config.backup.jobs) or ff.run.cpus
end

--- The archive's TABLE DATA entries for the tables of the manifest with
--- at least min_rows rows: { {id, schema, name, rows}… }, biggest first.
--- pg_restore --list names an entry "ID; 0 OID TABLE DATA schema name
--- owner", unquoted: a table is taken only when exactly one entry reads
--- as its schema and name, and that entry as no other table's (any other
--- is left to pg_restore, which restores it the same).
function proof.big_tables(toc, m, min_rows)
  local entries = {}
  for id, rest in toc:gmatch("\n(%d+); %d+ %d+ TABLE DATA ([^\n]*)") do
    entries[#entries + 1] = { id = tonumber(id), rest = rest }
  end
  local function reads_as(e, t)
    local head = t.schema .. " " .. t.name .. " "
    return e.rest:sub(1, #head) == head
  end
  local big = {}
  for _, t in ipairs(m.tables or {}) do
    if min_rows > 0 and t.rows >= min_rows then
      local hits = {}
      for _, e in ipairs(entries) do
        if reads_as(e, t) then hits[#hits + 1] = e end
      end
      local others = 0
      for _, u in ipairs(hits[1] and #hits == 1 and m.tables or {}) do
        if u ~= t and reads_as(hits[1], u) then others = others + 1 end
      end
      if #hits == 1 and others == 0 then
        big[#big + 1] = { id = hits[1].id, schema = t.schema, name = t.name, rows = t.rows }
      end
    end
  end
  table.sort(big, function(a, b) return a.rows > b.rows end)
  return big
end

--- Restore the archive into db (the restore step of drill and restore).
--- pg_restore -j gives each table one worker, so a big table is the
--- restore's critical path on one core: each table of at least split_rows
--- rows (0: none) is loaded by admin:load_table over `jobs` sessions at
--- once, between pg_restore's pre-data and the rest (the other tables'
--- data, then post-data: indexes, constraints, triggers, from a list
--- without the big tables' entries). The proof reads back what was loaded
--- either way. Returns the seconds it took.
function proof.load(admin, db, archive, jobs, m, split_rows)
  local t0 = ff.time.monotonic()
  local function restore(opts)
    proof.check_restore(rb.must(admin:restore(db, archive.archive, jobs, archive.major, m.source.size_bytes, opts)))
  end
  local big = {}
  if jobs > 1 and split_rows > 0 then
    local ok, toc, raw = ff.pg.archive_list(archive.archive, archive.major)
    rb.check(ok, "pg_restore --list %s: %s", archive.archive, toc)
    -- The whole list, never the last MiB archive_list returns: an entry
    -- missing from it would not be restored.
    toc = "\n" .. rb.must(ff.fs.read(ff.run.dir .. "/" .. raw))
    big = proof.big_tables(toc, m, split_rows)
    if #big > 0 then
      local skip = {}
      for _, b in ipairs(big) do skip[b.id] = true end
      local list = toc:gsub("\n(%d+);", function(id)
        return skip[tonumber(id)] and "\n;" .. id .. ";" or nil
      end)
      restore({ sections = { "pre-data" } })
      -- load_table takes at most 16 sessions.
      local sessions = math.min(jobs, 16)
      for _, b in ipairs(big) do
        local r = rb.must(admin:load_table(db, archive.archive, b.id, sessions, archive.major))
        ff.log.info(string.format("%s: %d rows over %d sessions at once: %.1f s", proof.qname(b.schema, b.name),
          r.rows, sessions, r.duration_s))
      end
      restore({ sections = { "data", "post-data" }, list = list })
      return ff.time.monotonic() - t0
    end
  end
  restore(nil)
  return ff.time.monotonic() - t0
end

--- RPO and RTO of this run against the configured objectives. RPO is the
--- age of the backup (its stamp), or of the point the restore reached
--- when reached_at (epoch seconds) is given.
function proof.objectives(stamp, rto_s, reached_at)
  local cfg = ff.config.objectives
  local rpo_s = ff.run.started_at - (reached_at or rb.must(ff.time.parse_stamp(stamp), "bad stamp " .. stamp))
  local o = { rpo_s = math.floor(cfg.rpo_hours * 3600), rto_s = math.floor(cfg.rto_minutes * 60) }
  o.met = rpo_s <= o.rpo_s and rto_s <= o.rto_s
  return math.floor(rpo_s), o
end

return proof

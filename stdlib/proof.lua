-- proof.lua: what restore and drill share: checking a backup before it is
-- used, and proving a restored database equals what the manifest says.
local rb = require "rb"
local backups = require "backups"

local proof = {}

--- Check a backup folder against its DIGEST and manifest; returns the
--- manifest. Fails naming the file at fault.
function proof.check_backup(folder)
  rb.check(ff.fs.exists(folder .. "/manifest.json"), "%s/manifest.json: missing: not a complete backup", folder)
  rb.check(ff.fs.exists(folder .. "/DIGEST"), "%s/DIGEST: missing: not a complete backup", folder)
  local ok, problems = ff.verify.digest(folder)
  if not ok then rb.fail("%s", table.concat(problems, "; ")) end
  local m = rb.read_json(folder .. "/manifest.json")
  rb.check(m.format == "ffrun.backup/1", "manifest.json: unknown format %s", tostring(m.format))
  rb.check(type(m.artifacts) == "table" and #m.artifacts > 0, "manifest.json: no artifacts")
  local digest = {}
  for hex, name in rb.must(ff.fs.read(folder .. "/DIGEST")):gmatch("(%x+)  ([^\n]+)") do
    digest[name] = hex
  end
  for _, a in ipairs(m.artifacts) do
    local st = ff.fs.stat(folder .. "/" .. a.path)
    rb.check(st, "%s: listed in manifest.json but missing", a.path)
    rb.check(st.size == a.bytes, "%s: %d bytes, manifest.json says %d", a.path, st.size, a.bytes)
    -- DIGEST was just checked against the files: agreeing with it proves
    -- the file without reading a dump twice.
    rb.check(digest[a.path] == a.sha256, "%s: sha256 in manifest.json differs from DIGEST", a.path)
  end
  return m
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

--- Fingerprints of conn's database against the manifest's, every table
--- at once over as many connections as there are CPUs.
--- Returns { tables = n, mismatches = { "schema.table: why", ... } }.
function proof.fingerprints(conn, m)
  local mode = m.verify
  local result = { tables = 0, mismatches = {} }
  if mode == "none" then return result end
  local present = {}
  for _, t in ipairs(rb.must(conn:tables())) do present[t.schema .. "." .. t.name] = t end
  local wanted, found = {}, {}
  for _, want in ipairs(m.tables) do
    local t = present[want.name]
    if not t then
      result.mismatches[#result.mismatches + 1] = want.name .. ": missing"
    else
      wanted[#wanted + 1] = want
      found[#found + 1] = t
      present[want.name] = nil
    end
  end
  local got = rb.must(conn:fingerprints(found, mode))
  for i, want in ipairs(wanted) do
    local fp = got[i]
    if fp.rows ~= want.rows then
      result.mismatches[#result.mismatches + 1] =
        string.format("%s: %d rows, the backup had %d", want.name, fp.rows, want.rows)
    elseif mode == "content" and fp.content_sha256 ~= want.content_sha256 then
      result.mismatches[#result.mismatches + 1] = want.name .. ": content differs"
    end
    result.tables = result.tables + 1
  end
  for name in pairs(present) do
    result.mismatches[#result.mismatches + 1] = name .. ": not in the backup"
  end
  table.sort(result.mismatches)
  return result
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
      local schema, name = t.name:match("^([^.]+)%.(.+)$")
      local ok, err = conn:readable(schema, name)
      add("readable " .. t.name, ok == true, err)
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

--- The first half of a proof, once the archive's data is loaded (its
--- post-data, indexes and constraints, may still be building beside it):
--- every data category against the manifest. Returns the verification.
function proof.data(db, m)
  return proof.fingerprints(db, m)
end

--- The second half, once the restore is complete: what needs the whole
--- schema, then the smoke checks. Records the verification and the smoke
--- (under smoke_key) in the evidence; fails naming what differs.
function proof.finish(db, m, v, smoke_key)
  ff.evidence.set("verification", v)
  rb.check(#v.mismatches == 0, "the restored copy differs from the backup: %s", table.concat(v.mismatches, "; "))
  rb.check(v.tables > 0 or m.verify == "none", "no table was compared: a verification of nothing is not a PASS")
  local smoke = proof.smoke(db, ff.config.smoke, m)
  ff.evidence.set(smoke_key, smoke)
  rb.check(proof.smoke_passed(smoke), "smoke checks failed")
  ff.log.info(string.format("proved: %d tables equal (%s), %d smoke checks%s", v.tables, m.verify,
    #smoke.checks, smoke.builtin and " (built-in: every table readable)" or ""))
  return v
end

--- Prove a restored database whole: proof.data, then proof.finish.
function proof.prove(db, m, smoke_key)
  return proof.finish(db, m, proof.data(db, m), smoke_key)
end

--- RPO and RTO of this run against the configured objectives.
function proof.objectives(stamp, rto_s)
  local cfg = ff.config.objectives
  local rpo_s = ff.run.started_at - rb.must(ff.time.parse_stamp(stamp), "bad stamp " .. stamp)
  local o = { rpo_s = math.floor(cfg.rpo_hours * 3600), rto_s = math.floor(cfg.rto_minutes * 60) }
  o.met = rpo_s <= o.rpo_s and rto_s <= o.rto_s
  return math.floor(rpo_s), o
end

return proof

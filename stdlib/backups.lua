-- backups.lua: what the backup, restore, drill, verify, prune and report
-- runbooks agree on about the backups folder (SPEC §6).
local rb = require "rb"

local backups = {}

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
    if r.runbook and r.runbook.name == "drill" and r.mode == "run" and r.status == "PASS"
       and type(r.backup) == "table" and r.backup.stamp then
      by_stamp[r.backup.stamp] = r
    end
  end
  return by_stamp
end

--- Total bytes of a backup's artifacts, from its manifest (nil if unreadable).
function backups.size(b)
  local text = ff.fs.read(b.path .. "/manifest.json")
  local ok, m = pcall(ff.json.decode, text or "")
  if not ok or type(m) ~= "table" or type(m.artifacts) ~= "table" then return nil end
  local n = 0
  for _, a in ipairs(m.artifacts) do n = n + (a.bytes or 0) end
  return n
end

return backups

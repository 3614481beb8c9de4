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

return backups

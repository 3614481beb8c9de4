-- prune: retention (canon §3). Old backups go; the newest one a drill has
-- proven never does, and nothing is removed while a restore or drill reads
-- the folder (they hold its lock shared).
local rb = require "rb"
local backups = require "backups"

local root = ff.paths.backups
local lock, doomed, kept

return {
  name = "prune",
  version = "1.0",
  summary = "Remove old backups by retention, never the newest one that passed a drill",
  params = {
    { name = "keep_last", type = "integer", default = ff.config.retention.keep_last,
      doc = "always keep this many newest backups", check = function(v) return v >= 1, "must be at least 1" end },
    { name = "keep_days", type = "integer", default = ff.config.retention.keep_days,
      doc = "always keep backups younger than this many days", check = function(v) return v >= 0, "must be 0 or more" end },
  },
  steps = {
    {
      name = "plan",
      doc = "Take the backups lock and decide what retention keeps, and why",
      run = function(p)
        lock = ff.fs.lock(root)
        local all = backups.list(root)
        local proven = backups.proven(backups.runs(ff.paths.evidence))
        local newest_proven
        for _, b in ipairs(all) do
          if proven[b.stamp] then newest_proven = b.stamp end
        end
        doomed, kept = {}, {}
        for i, b in ipairs(all) do
          local age_days = (ff.run.started_at - rb.must(ff.time.parse_stamp(b.stamp))) / 86400
          local why
          if i > #all - p.keep_last then why = "among the newest " .. p.keep_last
          elseif age_days < p.keep_days then why = string.format("younger than %d days", p.keep_days)
          elseif b.stamp == newest_proven then why = "the newest backup a drill has proven" end
          if why then
            kept[#kept + 1] = { stamp = b.stamp, why = why }
          else
            doomed[#doomed + 1] = b
          end
        end
        ff.log.info(string.format("%d backups: keeping %d, removing %d%s", #all, #kept, #doomed,
          newest_proven and ("; newest proven by a drill: " .. newest_proven) or "; none proven by a drill yet"))
        ff.evidence.set("kept", kept)
      end,
    },
    {
      name = "remove",
      doc = "Remove what retention does not keep (a dry-run lists it)",
      run = function()
        local removed = {}
        for _, b in ipairs(doomed) do
          ff.log.info("remove " .. b.path)
          rb.must(ff.fs.remove(b.path, true))
          removed[#removed + 1] = b.stamp
        end
        ff.evidence.set("removed", removed) -- a dry-run's: what the run would remove
      end,
    },
  },
}

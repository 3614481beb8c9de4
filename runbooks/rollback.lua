-- rollback: undo a restore's swap. The database the restore set aside
-- (<db>__ffprev_<STAMP>) goes back under the live name; the one it replaced
-- is kept as <db>__ffbad_<STAMP>, closed to connections. For a target of
-- engine pgbackrest, the data folder a physical restore set aside
-- (<data>.ffprev_<STAMP>) is switched back in the same way, the current
-- one kept as <data>.ffbad_<STAMP>.
local rb = require "rb"
local proof = require "proof"
local pgbr = require "pgbackrest"

local admin, live, previous, bad
local physical -- engine pgbackrest: the live cluster
local target_lock -- held to the end: no restore or other rollback of this target meanwhile

-- The newest of names (sorted), or the one whose stamp is stamp.
local function pick(names, prefix, stamp)
  if stamp == "latest" then return names[#names] end
  for _, name in ipairs(names) do
    if name == prefix .. stamp then return name end
  end
end

return {
  name = "rollback",
  version = "1.1",
  summary = "Swap back the database a restore replaced (kept as <db>__ffprev_<STAMP>; engine pgbackrest: the data folder <data>.ffprev_<STAMP>)",
  params = {
    { name = "target", type = "string", default = "prod", doc = "the configured database target",
      check = function(v) return ff.config.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "confirm", type = "string", default = "", doc = "the target's database name, typed out" },
    { name = "stamp", type = "string", default = "latest",
      doc = "which set-aside database (or data folder): latest, or the STAMP in its name" },
  },
  steps = {
    {
      name = "find",
      doc = "Take the target's lock (one restore or rollback at a time), find the set-aside database (engine pgbackrest: data folder) to bring back",
      run = function(p)
        bad = ff.time.stamp(ff.run.started_at)
        target_lock = proof.target_lock(ff.paths.backups, p.target, p.confirm)
        if pgbr.engine(p.target) then
          physical = pgbr.live(p.target, p.confirm)
          previous = pick(rb.must(ff.pgbackrest.set_aside(p.target, "prev")), "prev_", p.stamp)
          if not previous then ff.usage(string.format("no set-aside data folder %s.ffprev_%s on %s", physical.data,
            p.stamp == "latest" and "*" or p.stamp, p.target)) end
          bad = "bad_" .. bad
          ff.log.info(string.format("bringing back %s.ff%s; the current %s becomes %s.ff%s", physical.data, previous,
            physical.data, physical.data, bad))
          return
        end
        admin = ff.pg.admin(p.target, p.confirm)
        local live_exists
        live, live_exists = admin:live()
        local prefix = live .. "__ffprev_"
        local found = {}
        for _, name in ipairs(rb.must(admin:databases())) do
          if name:sub(1, #prefix) == prefix then found[#found + 1] = name end
        end
        table.sort(found)
        previous = pick(found, prefix, p.stamp)
        if not previous then ff.usage(string.format("no set-aside database %s%s on %s", prefix,
          p.stamp == "latest" and "*" or p.stamp, p.target)) end
        bad = proof.beside(live, "bad", bad)
        if live_exists then
          ff.log.info(string.format("bringing back %s; the current %s becomes %s", previous, live, bad))
        else
          ff.log.info(string.format("bringing back %s; there is no current %s to keep", previous, live))
        end
      end,
    },
    {
      name = "swap",
      doc = "Swap names in one transaction and open the restored-back database to connections (engine pgbackrest: stop the server, exchange the data folders, start it)",
      run = function(p)
        if physical then
          local s = rb.must(ff.pgbackrest.switch(p.target, p.confirm, previous, bad))
          ff.evidence.set("downtime_s", s.downtime_s)
          ff.evidence.set("rolled_back_to", physical.data .. ".ff" .. previous)
          ff.evidence.set("switch", s)
          ff.log.info(string.format("switched back in %.2f s; the replaced data folder is %s", s.downtime_s, s.kept))
          return
        end
        local downtime = rb.must(admin:swap(previous, bad))
        rb.must(admin:allow_connections(live, true))
        ff.evidence.set("downtime_s", downtime)
        ff.evidence.set("rolled_back_to", previous)
      end,
    },
  },
}

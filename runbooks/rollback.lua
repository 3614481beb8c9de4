-- rollback: undo a restore's swap. The database the restore set aside
-- (<db>__ffprev_<STAMP>) goes back under the live name; the one it replaced
-- is kept as <db>__ffbad_<STAMP>, closed to connections.
local rb = require "rb"
local proof = require "proof"

local admin, live, previous, bad

return {
  name = "rollback",
  version = "1.0",
  summary = "Swap back the database a restore replaced (kept as <db>__ffprev_<STAMP>)",
  params = {
    { name = "target", type = "string", default = "prod", doc = "the configured database target",
      check = function(v) return ff.config.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "confirm", type = "string", default = "", doc = "the target's database name, typed out" },
    { name = "stamp", type = "string", default = "latest",
      doc = "which set-aside database: latest, or the STAMP in its name" },
  },
  steps = {
    {
      name = "find",
      doc = "Find the set-aside database to bring back",
      run = function(p)
        admin = ff.pg.admin(p.target, p.confirm)
        local live_exists
        live, live_exists = admin:live()
        local prefix = live .. "__ffprev_"
        local found = {}
        for _, name in ipairs(rb.must(admin:databases())) do
          if name:sub(1, #prefix) == prefix then found[#found + 1] = name end
        end
        table.sort(found)
        if p.stamp == "latest" then
          previous = found[#found]
        else
          for _, name in ipairs(found) do
            if name == prefix .. p.stamp then previous = name end
          end
        end
        if not previous then ff.usage(string.format("no set-aside database %s%s on %s", prefix,
          p.stamp == "latest" and "*" or p.stamp, p.target)) end
        bad = proof.beside(live, "bad", ff.time.stamp(ff.run.started_at))
        if live_exists then
          ff.log.info(string.format("bringing back %s; the current %s becomes %s", previous, live, bad))
        else
          ff.log.info(string.format("bringing back %s; there is no current %s to keep", previous, live))
        end
      end,
    },
    {
      name = "swap",
      doc = "Swap names in one transaction and open the restored-back database to connections",
      run = function()
        local downtime = rb.must(admin:swap(previous, bad))
        rb.must(admin:allow_connections(live, true))
        ff.evidence.set("downtime_s", downtime)
        ff.evidence.set("rolled_back_to", previous)
      end,
    },
  },
}

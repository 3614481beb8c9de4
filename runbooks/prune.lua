-- prune: retention (canon §3). Old backups go; the newest one a drill has
-- proven never does, and nothing is removed while a restore or drill reads
-- the folder (they hold its lock shared). Old evidence goes too, never a
-- kept backup's; and with confirm=<db>, the copies restore and rollback set
-- aside on the target (<db>__ffprev_<STAMP>, __ffbad_, and the failed ones
-- kept: __fffailed_) older than keep_days, never the newest of each kind;
-- for a target of engine pgbackrest, the data folders set aside beside the
-- live one (<data>.ffprev_<STAMP>, .ffbad_<STAMP>, .fffailed_<STAMP>).
local rb = require "rb"
local backups = require "backups"
local pgbr = require "pgbackrest"
local proof = require "proof"

local cfg = ff.config
local root = ff.paths.backups
local lock, doomed, kept, proven, old_evidence, admin
local physical_target -- engine pgbackrest with confirm=: its set-aside folders are pruned
local target_lock -- with confirm=: no restore or rollback of the target meanwhile

-- The set-aside copies of one kind, oldest first ({ name =, t = }): those
-- older than keep_days go through remove(copy), never the newest; each one
-- removed is added to removed and to the evidence as it goes (a later
-- refusal keeps the record). Logs the kind's count as label says.
local function prune_kind(copies, keep_days, verb, remove, removed, label)
  local gone = 0
  for i, c in ipairs(copies) do
    local age_days = (ff.run.started_at - c.t) / 86400
    if i < #copies and age_days >= keep_days then
      ff.log.info(string.format("%s %s (%.1f days old)", verb, c.name, age_days))
      remove(c)
      removed[#removed + 1] = c.name
      ff.evidence.set("copies_removed", removed)
      gone = gone + 1
    end
  end
  ff.log.info(string.format("%s: %d, %d removed%s", label, #copies, gone,
    #copies > 0 and (", the newest kept: " .. copies[#copies].name) or ""))
end

-- Engine pgbackrest: remove the data folders restore (.ffprev_, and a
-- failed copy kept: .fffailed_) and rollback (.ffbad_) set aside beside the
-- live one, those older than keep_days but the newest of each kind.
-- Returns the paths removed.
local function prune_folders(p)
  local removed = {}
  -- What an earlier removal that stopped half-way left (.ffrmprev_, .ffrmbad_): all of it.
  -- One that will not go is warned about and the rest pruned as usual.
  for _, kind in ipairs({ "rmprev", "rmbad", "rmfailed" }) do
    for _, suffix in ipairs(rb.must(ff.pgbackrest.set_aside(p.target, kind))) do
      ff.log.info(string.format("remove %s.ff%s (left by a removal that stopped)", physical_target.data, suffix))
      local ok, err = ff.pgbackrest.remove_aside(p.target, p.confirm, suffix)
      if ok then
        removed[#removed + 1] = physical_target.data .. ".ff" .. suffix
        ff.evidence.set("copies_removed", removed)
      else
        ff.log.warn(string.format("%s.ff%s: still not removed: %s", physical_target.data, suffix, err))
      end
    end
  end
  local function remove(c) rb.must(ff.pgbackrest.remove_aside(p.target, p.confirm, c.suffix)) end
  for _, kind in ipairs({ "prev", "bad", "failed" }) do
    -- Only names ffrun gives (KIND_YYYYMMDD-HHMMSS) count; others are left.
    local dated = {}
    for _, suffix in ipairs(rb.must(ff.pgbackrest.set_aside(p.target, kind))) do
      local t = ff.time.parse_stamp(suffix:sub(#kind + 2))
      local name = physical_target.data .. ".ff" .. suffix
      if t then dated[#dated + 1] = { name = name, suffix = suffix, t = t }
      else ff.log.warn(string.format("%s: not a name ffrun gives, left alone", name)) end
    end
    prune_kind(dated, p.keep_days, "remove", remove, removed, string.format("%s.ff%s_*", physical_target.data, kind))
  end
  return removed
end

local physical = {} -- engine pgbackrest: config and stanza -> the backup folders, oldest first (and .target)

-- The evidence a kept backup needs: the run that made it and the drill
-- that proved it. A set of folder names.
local function needed_evidence()
  local keep = { [ff.run.id] = true }
  local by_stamp = {}
  for _, b in ipairs(backups.list(root)) do by_stamp[b.stamp] = b end
  -- A kept backup's last drill too, PASS or FAIL: gate judges by it.
  local last = backups.last_drills(backups.runs(ff.paths.evidence))
  -- Every physical backup's folder is kept until its set expires: so is
  -- its evidence.
  local all_kept = table.move(kept, 1, #kept, 1, {})
  for _, folders in pairs(physical) do
    for _, f in ipairs(folders) do all_kept[#all_kept + 1] = { stamp = f.stamp } end
  end
  for _, k in ipairs(all_kept) do
    local d, l = proven[k.stamp], last[k.stamp]
    if d then keep[d.dir:match("([^/]+)$")] = true end
    if l then keep[l.dir:match("([^/]+)$")] = true end
    local ok, m = pcall(rb.read_json, by_stamp[k.stamp].path .. "/manifest.json")
    if ok and type(m) == "table" and type(m.evidence_run) == "string" then keep[m.evidence_run] = true end
  end
  return keep
end

return {
  name = "prune",
  version = "1.1",
  summary = "Remove old backups by retention (never the newest one that passed a drill), old evidence, and with confirm= old set-aside copies",
  params = {
    { name = "keep_last", type = "integer", default = cfg.retention.keep_last,
      doc = "always keep this many newest backups", check = function(v) return v >= 1, "must be at least 1" end },
    { name = "keep_days", type = "integer", default = cfg.retention.keep_days,
      doc = "always keep backups (and set-aside copies) younger than this many days",
      check = function(v) return v >= 0, "must be 0 or more" end },
    { name = "evidence_days", type = "integer", default = cfg.retention.evidence_days,
      doc = "remove evidence folders older than this many days, never a kept backup's",
      check = function(v) return v >= 1, "must be at least 1" end },
    { name = "target", type = "string", default = "prod", doc = "the server whose set-aside copies confirm= removes",
      check = function(v) return cfg.targets[v] ~= nil and not cfg.targets[v].ephemeral, "no such server target" end },
    { name = "confirm", type = "string", default = "",
      doc = "the target's database name, typed out: also remove its <db>__ffprev_*, __ffbad_*, __fffailed_* copies (engine pgbackrest: <data>.ffprev_*, .ffbad_*, .fffailed_* folders) older than keep_days (never the newest of each)" },
  },
  steps = {
    {
      name = "plan",
      doc = "Take the backups lock and decide what retention keeps, and why",
      run = function(p)
        -- A wrong confirm= is exit 2 here, before anything is removed.
        if p.confirm ~= "" then
          if pgbr.engine(p.target) then
            physical_target = pgbr.live(p.target, p.confirm) -- the server may be down
          else
            admin = ff.pg.admin(p.target, p.confirm)
          end
          target_lock = proof.target_lock(root, p.target, p.confirm)
        end
        lock = ff.fs.lock(root)
        -- A physical backup's folder lives as long as its set in
        -- pgBackRest's repository (the expire step): keep_last and
        -- keep_days are for logical dumps.
        local all = {}
        for _, b in ipairs(backups.list(root)) do
          local ok, m = pcall(rb.read_json, b.path .. "/manifest.json")
          if ok and type(m) == "table" and m.engine == "pgbackrest" and type(m.pgbackrest) == "table" then
            local t = m.source and m.source.target
            local c = cfg.targets[t]
            if c and c.engine == "pgbackrest" and c.pgbackrest.stanza == m.pgbackrest.stanza then
              -- A stanza is a whole cluster: the targets that share it are
              -- pruned together, each database's newest proven set kept.
              local key = c.pgbackrest.config .. "\0" .. c.pgbackrest.stanza
              physical[key] = physical[key] or { target = t }
              table.insert(physical[key], { stamp = b.stamp, path = b.path, manifest = m })
            else
              ff.log.warn(string.format("%s: a pgBackRest backup of target %s (stanza %s), which the configuration does not name with that stanza: left alone",
                b.path, tostring(t), tostring(m.pgbackrest.stanza)))
            end
          else
            all[#all + 1] = b
          end
        end
        proven = backups.proven(backups.runs(ff.paths.evidence))
        local newest_proven
        kept, doomed, newest_proven = backups.retention(all, proven, p.keep_last, p.keep_days, ff.run.started_at)
        ff.log.info(string.format("%d backups: keeping %d, removing %d%s", #all, #kept, #doomed,
          #newest_proven > 0 and ("; newest proven by a drill: " .. table.concat(newest_proven, ", "))
            or "; none proven by a drill yet"))
        local n = 0
        for _, f in pairs(physical) do n = n + #f end
        if n > 0 then
          ff.log.info(string.format("%d pgBackRest backups: each folder goes when its set expires (the expire step)", n))
        end
        ff.evidence.set("kept", kept)
        old_evidence = backups.old_evidence(ff.paths.evidence, p.evidence_days, needed_evidence(), ff.run.started_at)
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
    {
      name = "expire",
      doc = "engine pgbackrest: pgBackRest's retention expires sets (never the one the newest drill-proven backup restored), and the folders of sets gone go",
      run = function()
        local removed, expired, held = {}, {}, {}
        local keys = {}
        for k in pairs(physical) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do
          local t = physical[k].target
          local gone, e, h = pgbr.prune(t, physical[k], proven)
          for _, x in ipairs(e) do expired[#expired + 1] = t .. " " .. x end
          for _, x in ipairs(h) do held[#held + 1] = t .. " " .. x end
          for _, f in ipairs(gone) do
            ff.log.info(string.format("remove %s (its set %s is no longer in repo%d)", f.path, f.manifest.pgbackrest.label,
              math.tointeger(f.manifest.pgbackrest.repo) or 1))
            rb.must(ff.fs.remove(f.path, true))
            removed[#removed + 1] = f.stamp
          end
        end
        ff.evidence.set("expire", { expired = expired, held = held, removed = removed })
      end,
    },
    {
      name = "evidence",
      doc = "Remove evidence folders older than evidence_days, except those of the backups kept",
      run = function(p)
        local removed = {}
        for _, e in ipairs(old_evidence) do
          ff.log.info(string.format("remove evidence %s (%.0f days old)", e.path, e.age_days))
          rb.must(ff.fs.remove(e.path, true))
          removed[#removed + 1] = e.name
        end
        ff.evidence.set("evidence_removed", removed)
        ff.log.info(string.format("evidence: %d folders older than %d days removed", #removed, p.evidence_days))
      end,
    },
    {
      name = "copies",
      doc = "With confirm=<db>: drop the target's <db>__ffprev_*, __ffbad_*, __fffailed_* copies (engine pgbackrest: remove its .ffprev_*, .ffbad_*, .fffailed_* data folders) older than keep_days, never the newest of each",
      run = function(p)
        if p.confirm == "" then
          ff.log.info(string.format("set-aside copies (<db>__ffprev_*/__ffbad_*/__fffailed_*, or <data>.ffprev_*/…) of %s: none removed; give confirm=<db> to remove those older than %d days",
            p.target, p.keep_days))
          ff.evidence.set("copies_removed", {})
          return
        end
        if physical_target then
          ff.evidence.set("copies_removed", prune_folders(p))
          return
        end
        local live = admin:live()
        local names = rb.must(admin:databases())
        local removed = {}
        local function drop(c) rb.must(admin:drop_database(c.name)) end
        -- Each kind on its own: a restore's (prev), a rollback's (bad), a failed copy kept (failed).
        for _, kind in ipairs({ "prev", "bad", "failed" }) do
          local copies = {}
          for _, name in ipairs(names) do
            local stamp = name:sub(1, #live) == live and name:sub(#live + 1):match("^__ff" .. kind .. "_(.+)$")
            if stamp and backups.is_stamp(stamp) then
              copies[#copies + 1] = { name = name, t = rb.must(ff.time.parse_stamp(stamp)) }
            end
          end
          table.sort(copies, function(a, b) return a.t < b.t end)
          prune_kind(copies, p.keep_days, "drop", drop, removed, string.format("%s__ff%s_*", live, kind))
        end
        ff.evidence.set("copies_removed", removed)
      end,
    },
  },
}

-- report: what the folders say, nothing more: every backup (stamp, size,
-- age, the last drill that proved it, what the configured retention keeps
-- it for) and every run (runbook, status, RPO, RTO). --json puts the same
-- in the summary object. For each target of engine pgbackrest, its
-- point-in-time window as pgBackRest's repository holds it.
local backups = require "backups"
local rb = require "rb"
local pgbr = require "pgbackrest"

local function age(s)
  if s < 3600 then return string.format("%dm", s // 60) end
  if s < 86400 * 2 then return string.format("%.1fh", s / 3600) end
  return string.format("%.1fd", s / 86400)
end

return {
  name = "report",
  version = "1.0",
  summary = "Table of backups and runs: stamp, size, status, RPO/RTO",
  params = {},
  steps = {
    {
      name = "read",
      doc = "Read the backups and evidence folders and print the tables",
      run = function()
        local runs = backups.runs(ff.paths.evidence)
        local proven = backups.proven(runs)
        local now = ff.run.started_at
        local out, rows = {}, { backups = {}, runs = {} }
        local all = backups.list(ff.paths.backups)
        local r = ff.config.retention
        local kept, logical = {}, {}
        for _, b in ipairs(all) do
          if backups.physical(b) then kept[b.stamp] = "while its pgBackRest set is in its repository"
          else logical[#logical + 1] = b end
        end
        for _, k in ipairs((backups.retention(logical, proven, r.keep_last, r.keep_days, now))) do kept[k.stamp] = k.why end
        out[#out + 1] = string.format("%-16s %10s %8s  %-34s %s", "BACKUP", "SIZE", "AGE", "PROVEN BY DRILL",
          "RETENTION (prune)")
        for _, b in ipairs(all) do
          local size = backups.size(b)
          local a = now - rb.must(ff.time.parse_stamp(b.stamp))
          local d = proven[b.stamp]
          local keep = kept[b.stamp] and ("kept: " .. kept[b.stamp]) or "removed by the next prune"
          out[#out + 1] = string.format("%-16s %10s %8s  %-34s %s", b.stamp, size and rb.bytes(size) or "?",
            age(a), d and d.run_id or "-", keep)
          rows.backups[#rows.backups + 1] = { stamp = b.stamp, bytes = size, age_s = math.floor(a),
            proven_by = d and d.run_id or nil, kept_because = kept[b.stamp] }
        end
        out[#out + 1] = ""
        out[#out + 1] = string.format("%-34s %-8s %-7s %-5s %10s %10s  %s", "RUN", "RUNBOOK", "MODE", "STATUS",
          "RPO", "RTO", "PLAN")
        for _, r in ipairs(runs) do
          -- A run held to a plan names it; so does the rehearsal that wrote one.
          local pinned = type(r.plan) == "table" and r.plan.pinned and r.plan.sha256 or nil
          local wrote = type(r.plan_out) == "table" and r.plan_out.sha256 or nil
          local plan = pinned and ("pinned " .. pinned:sub(1, 12)) or wrote and ("wrote " .. wrote:sub(1, 12)) or "-"
          out[#out + 1] = string.format("%-34s %-8s %-7s %-5s %10s %10s  %s", r.run_id, r.runbook.name, r.mode,
            r.status, r.rpo_s and age(r.rpo_s) or "-", r.rto_s and string.format("%.0fs", r.rto_s) or "-", plan)
          rows.runs[#rows.runs + 1] = { run_id = r.run_id, runbook = r.runbook.name, mode = r.mode,
            status = r.status, rpo_s = r.rpo_s, rto_s = r.rto_s, plan_sha256 = pinned, pinned = pinned ~= nil,
            plan_written = wrote }
        end
        -- engine pgbackrest: from the end of the oldest backup set (the
        -- earliest point a restore can reach) to the newest WAL archived.
        local names = {}
        for name in pairs(ff.config.targets) do names[#names + 1] = name end
        table.sort(names)
        rows.pitr = {}
        for _, name in ipairs(names) do
          if pgbr.engine(name) then
            -- A repository that cannot be read is said, not a failed report.
            local ok, st = pcall(pgbr.info, name)
            if not ok then
              ff.log.warn(string.format("target %s: pgbackrest info: %s", name, tostring(st)))
              st = { name = ff.config.targets[name].pgbackrest.stanza }
            end
            local sets, oldest = st.backup or {}, nil
            for _, b in ipairs(sets) do
              local stop = type(b.timestamp) == "table" and b.timestamp.stop
              if stop and (not oldest or stop < oldest) then oldest = stop end
            end
            local newest_wal
            for _, a in ipairs(st.archive or {}) do
              if a.max and (not newest_wal or a.max > newest_wal) then newest_wal = a.max end
            end
            if #rows.pitr == 0 then
              out[#out + 1] = ""
              out[#out + 1] = string.format("%-12s %-16s %5s  %-25s %s", "PITR", "STANZA", "SETS", "FROM (oldest set's end)",
                "TO (newest WAL archived)")
            end
            out[#out + 1] = string.format("%-12s %-16s %5d  %-25s %s", name, tostring(st.name), #sets,
              oldest and ff.time.iso(oldest) or "-", newest_wal or "-")
            rows.pitr[#rows.pitr + 1] = { target = name, stanza = st.name, sets = #sets,
              from = oldest and ff.time.iso(oldest) or nil, to_wal = newest_wal }
          end
        end
        local text = table.concat(out, "\n") .. "\n"
        ff.log.out(text)
        ff.evidence.raw("report.txt", text)
        ff.evidence.set("report", rows)
      end,
    },
  },
}

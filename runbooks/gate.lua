-- gate: a yes/no for pipelines (`ffrun gate && ./migrate`): exit 0 only
-- when the target has a backup younger than max_age that a real drill
-- proved (canon: trust evidence, not words). What it reads is only what
-- the folders hold: the backups' manifests and the drills' summaries.
-- fresh=true first takes a backup and drills it, each a run of its own
-- (ff.runbook.run) with its own sealed evidence.
local rb = require "rb"
local backups = require "backups"
local pgbr = require "pgbackrest"

local cfg = ff.config
local facts            -- the target's identity: system_identifier, dbname
local fresh_stamp      -- fresh=true: the backup this run took
local lag              -- engine pgbackrest: the WAL archive's lag (pgbr.archive_lag)

-- "2h05m" for an age in seconds, beside the exact figure.
local function age(s)
  s = math.floor(s)
  if s < 3600 then return string.format("%dm%02ds", s // 60, s % 60) end
  if s < 86400 * 2 then return string.format("%dh%02dm", s // 3600, s % 3600 // 60) end
  return string.format("%.1fd", s / 86400)
end

return {
  name = "gate",
  version = "1.0",
  summary = "Exit 0 only when a backup younger than max_age was proved by a drill (and, engine pgbackrest, the WAL archive is current); fresh=true backs up and drills first",
  params = {
    { name = "target", type = "string", default = "prod",
      doc = "the configured database target whose backups are judged",
      check = function(v)
        if cfg.targets[v] == nil then return nil, "no such target in the configuration" end
        return not cfg.targets[v].ephemeral, "an ephemeral target has no backups to judge"
      end },
    { name = "max_age", type = "integer", default = math.floor(cfg.objectives.rpo_hours * 3600),
      doc = "seconds: the oldest a proved backup may be; by default the RPO objective (objectives.rpo_hours × 3600)",
      check = function(v) return v > 0, "must be above 0 seconds" end },
    { name = "max_archive_lag", type = "integer", default = math.floor(cfg.objectives.rpo_hours * 3600),
      doc = "engine pgbackrest: seconds WAL may wait for the archive (since the last segment was archived, or the oldest waiting one was completed); by default the RPO objective",
      check = function(v) return v > 0, "must be above 0 seconds" end },
    { name = "fresh", type = "boolean", default = false,
      doc = "take a backup now and drill it before answering (each a run with its own evidence)" },
  },
  steps = {
    {
      name = "identify",
      doc = "Connect to the target and read which database it is (system_identifier, database name); engine pgbackrest: its WAL archive's lag",
      run = function(p)
        local db = rb.must(ff.pg.connect(p.target))
        facts = rb.must(db:facts())
        if pgbr.engine(p.target) then
          lag = pgbr.archive_lag(db)
          ff.evidence.set("wal_archive", lag)
          ff.log.info(string.format("WAL archive: last archived %s, lag %s s (%s bytes)%s",
            lag.last_archived_wal ~= "" and lag.last_archived_wal or "none", tostring(lag.lag_s), tostring(lag.lag_bytes),
            lag.failing and ("; archiving FAILS (last failed " .. lag.last_failed_wal .. ")") or ""))
        end
        db:close()
      end,
    },
    {
      name = "backup",
      doc = "fresh=true: run the backup runbook on the target now (skipped otherwise)",
      run = function(p)
        if not p.fresh then return end
        local r, s = rb.runbook("backup", { target = p.target })
        -- A rehearsal ran no child: its drill is planned on the backup it would take.
        fresh_stamp = r.dry_run and "(planned)" or rb.must(type(s.backup) == "table" and s.backup.stamp,
          "backup PASSed but its summary names no backup (run " .. tostring(s.run_id) .. ")")
        ff.log.info(string.format("fresh backup %s (evidence run %s)", fresh_stamp, tostring(s.run_id)))
      end,
    },
    {
      name = "drill",
      doc = "fresh=true: run the drill runbook on that backup (skipped otherwise)",
      run = function(p)
        if not p.fresh then return end
        local _, s = rb.runbook("drill", { backup = fresh_stamp })
        ff.log.info(string.format("drill of %s PASSed (evidence run %s)", fresh_stamp, tostring(s.run_id)))
      end,
    },
    {
      name = "judge",
      doc = "PASS when a backup of the target younger than max_age has a real drill that PASSed as its last; else FAIL saying what is missing",
      run = function(p)
        local now = ff.time.now()
        local runs = backups.runs(ff.paths.evidence)
        local last = backups.last_drills(runs)
        local mine = backups.of_database(ff.paths.backups, facts)
        local g = { backup = ff.json.null, age_s = ff.json.null, max_age_s = p.max_age,
                    drill_run = ff.json.null, verdict = "FAIL" }
        local line
        -- The newest young backup whose last drill PASSed, else the
        -- newest young one (to say what it lacks), else the newest one.
        local chosen, passed
        for i = #mine, 1, -1 do
          local b = mine[i]
          local a = now - rb.must(ff.time.parse_stamp(b.stamp))
          local d = last[b.stamp]
          if a <= p.max_age and d and d.status == "PASS" then chosen, passed = b, true; break end
          if not chosen and a <= p.max_age then chosen = b end
        end
        chosen = chosen or mine[#mine]
        if not chosen then
          g.reason = "no backup"
          line = string.format("no backup of target %s (database %s, system %s) in %s",
            p.target, facts.dbname, facts.system_identifier, ff.paths.backups)
        else
          local a = math.floor(now - rb.must(ff.time.parse_stamp(chosen.stamp)))
          local d = last[chosen.stamp]
          g.backup, g.age_s = chosen.stamp, a
          if d then g.drill_run = d.run_id end
          local drill = d and string.format("drill %s %s", tostring(d.run_id), tostring(d.status)) or "drill: none"
          -- The drill's word counts only as sealed evidence: its DIGEST
          -- must still check (a hand-written summary.json proves nothing).
          local sealed, problems = true, nil
          if passed then sealed, problems = ff.verify.digest(d.dir) end
          if passed and not sealed then
            g.reason = "drill evidence not sealed"
            line = string.format("backup %s: the evidence of drill %s does not check against its DIGEST: %s",
              chosen.stamp, tostring(d.run_id), table.concat(problems or {}, "; "))
          elseif passed and lag and lag.failing then
            g.reason = "archiving fails"
            line = string.format("backup %s is proved, but WAL archiving fails (last failed %s, after the last archived %s): the point-in-time window is not growing",
              chosen.stamp, lag.last_failed_wal, lag.last_archived_wal ~= "" and lag.last_archived_wal or "none")
          elseif passed and lag and lag.lag_s == nil then
            g.reason = "archive lag unknown"
            line = string.format("backup %s is proved, but the WAL archive's lag cannot be told: %s", chosen.stamp, lag.unknown)
          elseif passed and lag and lag.lag_s > p.max_archive_lag then
            g.reason = "archive lag"
            line = string.format("backup %s is proved, but WAL has waited %s = %d s for the archive (limit %d s): WAL written after %s is not in the repository",
              chosen.stamp, age(lag.lag_s), math.floor(lag.lag_s), p.max_archive_lag, lag.last_archived_wal)
          elseif passed then
            g.verdict, g.reason = "PASS", "proved"
            line = string.format("backup %s (age %s = %d s, limit %d s) proved by drill %s%s",
              chosen.stamp, age(a), a, p.max_age, tostring(d.run_id),
              lag and string.format("; WAL archive lag %d s (limit %d s)", math.floor(lag.lag_s), p.max_archive_lag) or "")
          elseif a > p.max_age then
            g.reason = "too old"
            line = string.format("newest backup %s is too old: age %s = %d s, the limit is %d s (%s)",
              chosen.stamp, age(a), a, p.max_age, drill)
          elseif not d then
            g.reason = "never drilled"
            line = string.format("backup %s (age %d s, limit %d s) was never drilled: no real drill names it (drill: none)",
              chosen.stamp, a, p.max_age)
          else
            g.reason = "drill failed"
            line = string.format("backup %s (age %d s, limit %d s): its last drill FAILed: %s (%s)",
              chosen.stamp, a, p.max_age, tostring(d.run_id), tostring(d.error or "see its evidence"))
          end
        end
        g.line = line
        ff.evidence.set("gate", g)
        if g.verdict == "PASS" then
          ff.log.out("gate PASS: " .. line .. "\n")
          return
        end
        -- A rehearsal reports the verdict and does not enforce it: it
        -- checks that the gate can be judged, and with fresh=true the
        -- backup a run would judge was only planned.
        if ff.dry_run then
          ff.log.warn("rehearsal: a run would FAIL: " .. line)
          return
        end
        rb.fail("gate FAIL: %s", line)
      end,
    },
  },
}

-- restore: the emergency path (canon §0, §2.2). Bring PostgreSQL back with
-- its data proven whole, then the API/worker/beat, then a smoke test
-- recorded as PASS. The live database keeps serving until the restored
-- copy has passed verification; the old one is kept for rollback. A live
-- database that is gone (dropped, lost) is restored under its name, with
-- nothing set aside. A pgBackRest backup (engine pgbackrest) restores
-- the whole cluster into a data folder beside the live one, proves it on
-- a private socket, and switches the folders; the old one is kept.
local rb = require "rb"
local proof = require "proof"
local services = require "services"
local pgbr = require "pgbackrest"

local cfg = ff.config
local root = ff.paths.backups

local lock, backup, manifest, admin, live, live_exists, restored, previous
local target_lock -- held to the end: no second restore or rollback of this target meanwhile
local archive -- db.dump, as create_database and database_properties read it
local swapped, created = false, false -- created: the copy was made whole (keep_failed keeps only such a one)
local verification, downtime_s
local physical, recovery, inst, cluster -- engine pgbackrest: the copy's instance, the live cluster

local function set_objectives(final_smoke_ok)
  local rto_s = ff.time.now() - ff.run.started_at
  -- Restored to a pgBackRest proof point: RPO is that point's age.
  local reached = physical and recovery.level == "exact" and tonumber(manifest.proof.taken_epoch) or nil
  local rpo_s, objectives = proof.objectives(backup.stamp, rto_s, reached)
  ff.evidence.set("rpo_s", rpo_s)
  ff.evidence.set("rto_s", math.floor(rto_s))
  ff.evidence.set("objectives", objectives)
  ff.log.info(string.format("RPO %d s (objective %d s), RTO %d s (objective %d s): %s", rpo_s,
    objectives.rpo_s, math.floor(rto_s), objectives.rto_s,
    (objectives.met and final_smoke_ok) and "met" or "NOT met"))
end

return {
  name = "restore",
  version = "1.0",
  summary = "Verify a backup, restore it beside the live database, prove it, swap, bring services up, smoke",
  params = {
    { name = "backup", type = "string", default = "latest", doc = "latest, or the STAMP of a complete backup" },
    { name = "target", type = "string", default = "prod", doc = "the configured database target to restore",
      check = function(v) return cfg.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "confirm", type = "string", default = "",
      doc = "the target's database name, typed out: nothing is written without it" },
    { name = "globals", type = "boolean", default = false, doc = "apply globals.sql (roles) first" },
    { name = "jobs", type = "integer", default = 0, doc = "pg_restore parallel jobs (0: one per core)" },
    { name = "split_rows", type = "integer", default = 1000000,
      doc = "a table of at least this many rows is loaded over jobs sessions at once (0: each table by one)",
      check = function(v) return v >= 0, "must be 0 or more" end },
    { name = "keep_failed", type = "boolean", default = false, doc = "keep a restored copy that failed verification, as <db>__fffailed_<STAMP> (engine pgbackrest: <data>.fffailed_<STAMP>)" },
    { name = "services_timeout", type = "integer", default = 300, doc = "seconds for services.check to pass" },
    { name = "target_time", type = "string", default = "",
      doc = "engine pgbackrest: recover to this time instead of the proof point; proof level integrity",
      check = pgbr.valid_time },
    { name = "target_name", type = "string", default = "",
      doc = "engine pgbackrest: recover to this restore point instead of the proof point; proof level integrity",
      check = pgbr.valid_point },
    { name = "recovery_timeout", type = "integer", default = 3600,
      doc = "engine pgbackrest: seconds for the copy to reach its target and be promoted",
      check = function(v) return v >= 1, "must be at least 1" end },
  },
  steps = {
    {
      name = "resolve",
      doc = "Take the target's lock (one restore or rollback at a time), find the backup (latest or STAMP) and check its DIGEST and manifest before anything is touched",
      run = function(p)
        target_lock = proof.target_lock(root, p.target, p.confirm)
        lock, backup, manifest = proof.open_backup(root, p.backup)
        physical = manifest.engine == "pgbackrest"
        if physical then
          rb.check(type(manifest.proof) == "table" and type(manifest.pgbackrest) == "table"
            and type(manifest.pgbackrest.label) == "string", "manifest.json: engine pgbackrest without its backup set and proof point")
          rb.check(p.target == manifest.source.target,
            "backup %s is a pgBackRest backup of target %s: a physical restore replaces that cluster only, not %s",
            backup.stamp, tostring(manifest.source.target), p.target)
          rb.check(p.target_time == "" or p.target_name == "", "target_time= and target_name= exclude each other")
          p.repo = 0
          recovery = pgbr.recovery_target(manifest, p)
          ff.evidence.set("proof_level", recovery.level)
        else
          rb.check(p.target_time == "" and p.target_name == "",
            "target_time= and target_name= need a backup of engine pgbackrest; %s is a logical dump", backup.stamp)
        end
        ff.log.info(string.format("backup %s: %d tables, verify mode %s", backup.stamp, #manifest.tables,
          manifest.verify))
      end,
    },
    {
      name = "guard",
      doc = "confirm= must name the target's database (it may be gone); its server must be at least the source's major version (engine pgbackrest: the live cluster's data folder, its server up or down)",
      run = function(p)
        local run = ff.time.stamp(ff.run.started_at)
        if physical then
          cluster = pgbr.live(p.target, p.confirm)
          live = manifest.source.dbname
          restored, previous = "restore_" .. run, "prev_" .. run
          ff.log.warn(string.format("engine pgbackrest: the whole cluster at %s (every database in it, not only %s) is restored "
            .. "beside it as %s.ff%s, proven, and switched in; its server %s", cluster.data, live, cluster.data, restored,
            cluster.running and "keeps serving until then" or "is not running"))
          return
        end
        admin = ff.pg.admin(p.target, p.confirm)
        live, live_exists = admin:live()
        if not live_exists then
          ff.log.warn(string.format("database %s does not exist: the restored copy will take its name, nothing is set aside", live))
        end
        local db = rb.must(ff.pg.connect(p.target, not live_exists and "postgres" or nil))
        local facts = rb.must(db:facts())
        db:close()
        local source_major = proof.source_major(manifest)
        rb.check(facts.server_major >= source_major,
          "the target runs PostgreSQL %d, the backup comes from %d: restore into %d or newer",
          facts.server_major, source_major, source_major)
        restored = proof.beside(live, "restore", run)
        previous = proof.beside(live, "prev", run)
        ff.log.info(string.format("restore %s into %s beside the live %s", backup.stamp, restored, live))
      end,
    },
    {
      name = "restore",
      doc = "Create the copy beside the live database as the archive creates it (encoding, locale, ICU, owner) and pg_restore -j into it (a table of split_rows rows or more over jobs sessions at once); engine pgbackrest: pgbackrest restore beside the live data folder, recovery on a private socket, promotion; the live one keeps serving",
      run = function(p)
        if physical then
          inst = pgbr.instance(p, manifest, recovery, proof.source_major(manifest), restored)
          return
        end
        -- Copies left by a killed restore are ours and unverified: drop them.
        for _, name in ipairs(rb.must(admin:databases())) do
          if name:sub(1, #live + 12) == live .. "__ffrestore_" then
            ff.log.warn("dropping the unfinished copy of an earlier run: " .. name)
            rb.must(admin:drop_database(name))
          end
        end
        if p.globals and ff.fs.exists(backup.path .. "/globals.sql") then
          local g = admin:apply_globals(backup.path .. "/globals.sql")
          if g and #g.existing > 0 then
            ff.log.info(string.format("globals: %d applied, %d already existed", g.applied, #g.existing))
          end
          rb.check(not g or #g.errors == 0, "globals.sql: %s", g and table.concat(g.errors, "; ") or "")
        end
        archive = { archive = backup.path .. "/db.dump", from = manifest.source.dbname,
                    major = proof.source_major(manifest) }
        rb.must(admin:create_database(restored, archive))
        created = true
        local jobs = proof.jobs(p.jobs)
        local secs = proof.load(admin, restored, archive, jobs, manifest, p.split_rows)
        ff.log.info(string.format("restored (-j%d) in %.1f s", jobs, secs))
      end,
    },
    {
      name = "properties",
      doc = "The database's own properties from the archive onto the copy: settings, GRANTs, comment, connection limit (a physical copy has them)",
      run = function()
        if physical then return end
        proof.apply_properties(admin, restored, archive)
      end,
    },
    {
      name = "prove",
      doc = "Every category of the copy equals the manifest's and the smoke checks pass, or the live database stays",
      run = function(p)
        -- A rehearsal restored nothing: there is no copy to prove.
        if ff.dry_run then return end
        -- Closed however the step ends: a failed copy kept is renamed in cleanup.
        local db <close> = physical and rb.must(inst:connect(live)) or rb.must(ff.pg.connect(p.target, restored))
        if physical and recovery.level ~= "exact" then
          verification = pgbr.integrity_only(db, manifest, recovery)
        else
          verification = proof.prove(db, manifest, "smoke_restored")
        end
      end,
    },
    {
      name = "swap",
      doc = "End the live database's sessions and swap names in one transaction; the old one is kept for rollback (engine pgbackrest: stop the live server, exchange the data folders, start it from the proven copy)",
      run = function(p)
        if physical then
          inst:release()
          inst = nil
          local s = rb.must(ff.pgbackrest.switch(p.target, p.confirm, restored, previous))
          swapped = true
          ff.evidence.set("downtime_s", s.downtime_s)
          ff.evidence.set("switch", s)
          ff.log.info(string.format("switched in %.2f s: the server runs from the proven copy at %s%s; its output goes to %s",
            s.downtime_s, s.data, s.kept ~= "" and "; the old data folder is " .. s.kept
            .. " (runbooks/rollback.lua switches back)" or " (there was no old data folder)", s.server_log))
          return
        end
        downtime_s = rb.must(admin:swap(restored, previous))
        swapped = true
        ff.evidence.set("downtime_s", downtime_s)
        if not live_exists then
          ff.log.info(string.format("%s is back under its name; there was no old database to keep", live))
          return
        end
        ff.evidence.set("previous_database", previous)
        ff.log.info(string.format("swapped in %.2f s; the old database is %s (runbooks/rollback.lua swaps back)",
          downtime_s, previous))
      end,
    },
    {
      name = "services",
      doc = "Run services.up, then wait until every services.check passes",
      run = function(p)
        services.up(cfg.services.up, p.services_timeout, nil, "services")
        services.wait(cfg.services.check, p.services_timeout, nil, "services")
      end,
    },
    {
      name = "smoke",
      doc = "Smoke checks on the live database after the swap: the restore is done when this passes",
      run = function(p)
        -- Only a proven copy is checked again once live (a rehearsal
        -- proved none: the prove step had nothing to prove).
        if not verification then return end
        local db = rb.must(ff.pg.connect(p.target))
        local smoke = proof.smoke(db, cfg.smoke, manifest)
        db:close()
        ff.evidence.set("smoke", smoke)
        local ok = proof.smoke_passed(smoke)
        set_objectives(ok)
        rb.check(ok, "smoke checks failed on the live database after the swap")
      end,
    },
    {
      name = "cleanup",
      doc = "If the copy was never swapped in, drop it, or with keep_failed=true keep it as <db>__fffailed_<STAMP> (engine pgbackrest: <data>.fffailed_<STAMP>), which no restore removes and prune confirm= does when old; the live database is untouched",
      cleanup = true,
      run = function(p)
        if inst then
          if p.keep_failed then
            ff.log.warn("keeping the failed copy as " .. rb.must(inst:release("failed"))
              .. " (keep_failed=true): prune confirm= removes it once older than keep_days")
          else
            inst:stop()
          end
          return
        end
        if admin and restored and not swapped then
          if p.keep_failed and created then
            local kept = proof.beside(live, "failed", ff.time.stamp(ff.run.started_at))
            rb.must(admin:rename_database(restored, kept))
            ff.log.warn("keeping the failed copy as " .. kept .. " (keep_failed=true): prune confirm= drops it once older than keep_days")
          else
            admin:drop_database(restored)
          end
        end
      end,
    },
  },
}

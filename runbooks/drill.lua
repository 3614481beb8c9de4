-- drill: the canon's proof (seed §0, §4.1–4.2). Restore a backup into a
-- separate, throwaway instance that never touches production, prove it,
-- and measure whether RPO and RTO hold. Recorded as fact: RAW and DIGEST.
local rb = require "rb"
local proof = require "proof"
local amcheck = require "amcheck"
local services = require "services"
local pgbr = require "pgbackrest"

local cfg = ff.config
local root = ff.paths.backups

local lock, backup, manifest, inst, admin, dbname, verification
local archive -- db.dump, as create_database and database_properties read it
local app_env, working_at -- services.drill: its environment, when its check passed
local physical, recovery -- engine pgbackrest: the manifest's, and where the restore stops

return {
  name = "drill",
  version = "1.0",
  summary = "Restore into a throwaway instance, prove it, smoke, measure RTO/RPO against objectives, tear down",
  params = {
    { name = "backup", type = "string", default = "latest", doc = "latest, or the STAMP of a complete backup" },
    { name = "target", type = "string", default = "drill",
      doc = "where to restore: an ephemeral target (a throwaway instance) or a configured drill server",
      check = function(v) return cfg.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "confirm", type = "string", default = "",
      doc = "for a configured (non-ephemeral) drill server: its database name, typed out" },
    { name = "jobs", type = "integer", default = 0, doc = "pg_restore parallel jobs (0: one per core)" },
    { name = "split_rows", type = "integer", default = 1000000,
      doc = "on a configured drill server, a table of at least this many rows is loaded over jobs sessions at once (0: each table by one)",
      check = function(v) return v >= 0, "must be 0 or more" end },
    { name = "target_time", type = "string", default = "",
      doc = "engine pgbackrest: recover to this time (pgbackrest --type=time) instead of the proof point; proof level integrity",
      check = pgbr.valid_time },
    { name = "target_name", type = "string", default = "",
      doc = "engine pgbackrest: recover to this restore point (--type=name) instead of the proof point; proof level integrity",
      check = pgbr.valid_point },
    { name = "repo", type = "integer", default = 0,
      doc = "engine pgbackrest: the repository to restore from (repoN of pgbackrest.conf); 0: the backup set's own. Another one restores its newest set that ended before the proof point, and must reach the same point",
      check = function(v) return v >= 0 and v <= 256, "must be 0 or a repository key, 1 to 256" end },
    { name = "recovery_timeout", type = "integer", default = 600,
      doc = "engine pgbackrest: seconds for the restored instance to reach its target and be promoted",
      check = function(v) return v >= 1, "must be at least 1" end },
    { name = "services_timeout", type = "integer", default = 300,
      doc = "seconds for services.drill.check to pass", check = function(v) return v >= 1, "must be at least 1" end },
  },
  steps = {
    {
      name = "resolve",
      doc = "Find the backup and check its DIGEST and manifest",
      run = function(p)
        lock, backup, manifest = proof.open_backup(root, p.backup)
        dbname = manifest.source.dbname
        physical = manifest.engine == "pgbackrest"
        if not physical then
          rb.check(p.target_time == "" and p.target_name == "" and p.repo == 0,
            "target_time=, target_name= and repo= need a backup of engine pgbackrest; %s is a logical dump", backup.stamp)
          return
        end
        rb.check(p.target_time == "" or p.target_name == "", "target_time= and target_name= exclude each other")
        rb.check(type(manifest.proof) == "table" and type(manifest.pgbackrest) == "table"
          and type(manifest.pgbackrest.label) == "string", "manifest.json: engine pgbackrest without its backup set and proof point")
        recovery = pgbr.recovery_target(manifest, p)
        ff.evidence.set("proof_level", recovery.level)
        ff.log.info(string.format("pgBackRest set %s, recovery to %s %s: proof level %s%s", manifest.pgbackrest.label,
          recovery.type, recovery.target, recovery.level, recovery.why and " (" .. recovery.why .. ")" or ""))
      end,
    },
    {
      name = "instance",
      doc = "Bring up the drill server: a throwaway instance, or a configured one that is provably not production",
      run = function(p)
        local major = proof.source_major(manifest)
        if physical then
          inst = pgbr.instance(p, manifest, recovery, major)
          return
        end
        if cfg.targets[p.target].ephemeral then
          inst = rb.must(ff.pg.instance({ major = major }))
          admin = inst:admin()
          return
        end
        -- A configured drill server: refused when it is production itself.
        local d = rb.must(ff.pg.connect(p.target))
        local facts = rb.must(d:facts())
        d:close()
        for name, t in pairs(cfg.targets) do
          if name ~= p.target and not t.ephemeral then
            local prod = ff.pg.connect(name)
            if prod then
              local pf = prod:facts()
              prod:close()
              rb.check(not (pf and pf.system_identifier == facts.system_identifier and pf.dbname == facts.dbname),
                "target %s is the same server and database as %s (system_identifier %s, database %s): a drill never touches production",
                p.target, name, tostring(facts.system_identifier), facts.dbname)
            end
          end
        end
        rb.check(not (manifest.source.system_identifier == facts.system_identifier and manifest.source.dbname == facts.dbname),
          "target %s is the backup's own source database: a drill never touches production", p.target)
        admin = ff.pg.admin(p.target, p.confirm)
        dbname = proof.beside(admin:live(), "drill", ff.time.stamp(ff.run.started_at))
      end,
    },
    {
      name = "restore",
      doc = "Roles from globals.sql, then the database as the archive creates it (encoding, locale, ICU, owner), then pg_restore -j into it (on a configured drill server, a table of split_rows rows or more over jobs sessions at once)",
      run = function(p)
        if physical then return end -- pgbackrest restore made the instance
        if inst and ff.fs.exists(backup.path .. "/globals.sql") then
          local g = admin:apply_globals(backup.path .. "/globals.sql")
          rb.check(#g.errors == 0, "globals.sql: %s", table.concat(g.errors, "; "))
        end
        archive = { archive = backup.path .. "/db.dump", from = manifest.source.dbname,
                    major = proof.source_major(manifest) }
        rb.must(admin:create_database(dbname, archive))
        local jobs = proof.jobs(p.jobs)
        -- A throwaway instance runs wal_level=minimal: pg_restore's one
        -- COPY into a table it made in the same run writes no WAL, over
        -- several sessions all of it is written. Measured no faster
        -- (bench/restore.sh), so there each table is pg_restore's.
        local secs = proof.load(admin, dbname, archive, jobs, manifest, inst and 0 or p.split_rows)
        ff.log.info(string.format("restored into %s (-j%d): %.1f s", dbname, jobs, secs))
      end,
    },
    {
      name = "properties",
      doc = "The database's own properties from the archive: settings, GRANTs, comment, connection limit",
      run = function()
        if physical then return end -- a physical copy has them
        proof.apply_properties(admin, dbname, archive)
      end,
    },
    {
      name = "prove",
      doc = "Every category equals the manifest's (tables, sequences (not for engine pgbackrest), large objects, materialized views, schema, database properties); smoke checks pass",
      run = function(p)
        -- A rehearsal restored nothing: there is no copy to prove.
        if ff.dry_run then return end
        local db = inst and rb.must(inst:connect(dbname)) or rb.must(ff.pg.connect(p.target, dbname))
        if physical and recovery.level ~= "exact" then
          verification = pgbr.integrity_only(db, manifest, recovery)
        else
          verification = proof.prove(db, manifest, "smoke")
        end
        db:close()
      end,
    },
    {
      name = "services",
      doc = "The application against the drill database (services.drill): up, then every check passes; RTO ends there",
      run = function(p)
        local s = cfg.services.drill
        if #s.up + #s.check + #s.down == 0 then return end
        if inst then
          local i = inst:info()
          app_env = services.env(i.socket, i.port, "postgres", dbname)
        else
          local d = rb.must(ff.pg.connect(p.target))
          local f = rb.must(d:facts())
          d:close()
          app_env = services.env(f.host, f.port, f.user, dbname)
        end
        services.up(s.up, p.services_timeout, app_env, "drill-services")
        local passed_at = services.wait(s.check, p.services_timeout, app_env, "drill-services")
        -- RTO ends at a working application only when one was checked.
        if #s.check > 0 then working_at = passed_at end
        ff.log.info(string.format("services.drill: %d up, %d checks passed", #s.up, #s.check))
      end,
    },
    {
      name = "objectives",
      doc = "RTO (run start to smoke PASS, or to a working application with services.drill) and RPO (backup age) against the objectives: FAIL when missed",
      run = function()
        local rto_s = (working_at or ff.time.now()) - ff.run.started_at
        ff.evidence.set("rto_to", working_at and "services.drill.check: the application works" or "smoke PASS")
        -- A drill to a pgBackRest proof point reached the data as it was
        -- then: RPO is that point's age, not the backup's.
        local reached = physical and recovery.level == "exact" and tonumber(manifest.proof.taken_epoch) or nil
        ff.evidence.set("rpo_from", reached and "the proof point" or "the backup's stamp")
        local rpo_s, o = proof.objectives(backup.stamp, rto_s, reached)
        ff.evidence.set("rpo_s", rpo_s)
        ff.evidence.set("rto_s", math.floor(rto_s * 1000) / 1000)
        ff.evidence.set("objectives", o)
        local line = string.format("RTO %.1f s (objective %d s), RPO %d s (objective %d s)",
          rto_s, o.rto_s, rpo_s, o.rpo_s)
        rb.check(o.met, "objectives missed: %s", line)
        ff.log.info(line .. ": met")
      end,
    },
    {
      name = "amcheck",
      doc = "Physical integrity: pg_amcheck --heapallindexed on every table and index of the restored copy",
      run = function(p)
        -- After objectives: RTO ends at smoke PASS, this time is its own.
        if not cfg.drill.amcheck then
          return amcheck.skipped("drill.amcheck is false in the configuration")
        end
        if not inst then
          return amcheck.skipped(string.format("%s is a configured drill server, not a throwaway instance: "
            .. "pg_amcheck would install the amcheck extension there", p.target), true)
        end
        amcheck.instance(inst, dbname)
      end,
    },
    {
      name = "services_down",
      doc = "services.drill.down, whatever happened, once up may have run (the drill database still exists)",
      cleanup = true,
      run = function()
        if app_env then services.down(cfg.services.drill.down, 120, app_env, "drill-services") end
      end,
    },
    {
      name = "teardown",
      doc = "Stop the throwaway instance and remove its folder, whatever happened (or drop the drill database)",
      cleanup = true,
      run = function()
        if inst then
          inst:stop()
        elseif admin and dbname then
          admin:drop_database(dbname)
        end
      end,
    },
  },
}

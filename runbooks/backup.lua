-- backup: a consistent dump we can prove (canon §1, §3.1, §5): what was
-- dumped, from where, by which runbook, with which digests; written as
-- <STAMP>.partial and renamed only once complete, fsynced and verified.
local rb = require "rb"
local backups = require "backups"
local inventory = require "inventory"
local pgbr = require "pgbackrest"

local cfg = ff.config
local root = ff.paths.backups
local verify_mode = cfg.backup.verify

-- State shared by the steps of one run.
local db, facts, lock, stamp, partial, snapshot
local tables, sequences = {}, {}
local categories = {} -- matviews, large_objects, schema_inventory, database
local artifacts = {}
local created_at, dump_result, toc_sha256, dumped_by
-- engine pgbackrest: the source's wal_level, the stanza before the backup,
-- the new backup set, its info JSON, the proof point, what was observed
local physical, wal_level, stanza_before, set, set_json, point, wal_segment_size
local observed_sequences

-- A file this run wrote, with the text it wrote (the DIGEST written at
-- the seal checks the bytes on disk against it).
local function record(name, text)
  artifacts[#artifacts + 1] = { path = name, bytes = #text, sha256 = ff.hash.string(text) }
end

-- An inventory file written into the backup by conn:copy_out.
local function inventory_file(name, r)
  artifacts[#artifacts + 1] = { path = name, bytes = r.bytes, sha256 = r.sha256 }
  return { file = name, sha256 = r.sha256 }
end

-- What the proof compares besides the tables, read on conn in the dump's
-- snapshot: the database's properties, the materialized views (their
-- content fingerprinted like a table's), the large objects and the
-- schema's inventory (files beside the dump, for a readable diff).
-- Returns the sequences the server lists.
local function read_categories(conn)
  categories.database = inventory.database(conn, facts.server_major)
  categories.matviews = {}
  local populated = {}
  for _, mv in ipairs(inventory.matviews(conn)) do
    categories.matviews[#categories.matviews + 1] = mv
    if mv.populated then populated[#populated + 1] = mv end
  end
  if #populated > 0 then
    for i, fp in ipairs(rb.must(conn:fingerprints(populated, verify_mode, 1))) do
      populated[i].rows, populated[i].content_sha256 = fp.rows, fp.content_sha256
    end
  end
  local lo = inventory.write(conn, "large_objects", partial .. "/large_objects.tsv")
  categories.large_objects = inventory_file("large_objects.tsv", lo)
  categories.large_objects.count = lo.rows
  local schema = inventory.write(conn, "schema", partial .. "/schema.tsv")
  categories.schema_inventory = inventory_file("schema.tsv", schema)
  categories.schema_inventory.objects = schema.rows
  return inventory.sequences(conn)
end

-- The sequences' values as the archive sets them (the dump's result:
-- pg_dump reads each one when it dumps it, outside any snapshot), named
-- by the server's parts.
-- A name from the archive's script, which is in the database's encoding,
-- as the server lists it (in UTF-8).
local function as_listed(conn, text)
  if facts.encoding == "UTF8" or facts.encoding == "SQL_ASCII" or not text:find("[\128-\255]") then
    return text
  end
  local hex = text:gsub(".", function(c) return string.format("%02x", c:byte()) end)
  return rb.must(conn:query("SELECT convert_from(decode($1, 'hex'), $2) AS t", hex, facts.encoding))[1].t
end

-- engine pgbackrest: every category read in the proof point's snapshot
-- (imported on a new connection while the slot holds it). Sequences are
-- not transactional: their values are recorded as observed, not proved.
local function take_proof(target, snapshot_id)
  local fp = rb.must(ff.pg.connect(target))
  -- A rehearsal's point is planned (no snapshot): it reads, and plans the
  -- inventories' writes, outside any.
  if snapshot_id then rb.must(fp:use_snapshot(snapshot_id)) end
  local list = rb.must(fp:tables())
  -- An unlogged table is not in a physical backup: the restored copy has
  -- it empty, and that is what a drill proves of it.
  local unlogged, logged = {}, {}
  for _, r in ipairs(rb.must(fp:query([[SELECT n.nspname AS schema, c.relname AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p')]]))) do
    unlogged[r.schema .. "\0" .. r.name] = true
  end
  for _, t in ipairs(list) do
    if not unlogged[t.schema .. "\0" .. t.name] then logged[#logged + 1] = t end
  end
  -- Over a connection a core (at most 8), all in the slot's snapshot.
  local fps = verify_mode ~= "none" and #logged > 0 and rb.must(fp:fingerprints(logged, verify_mode)) or {}
  local i = 0
  for _, t in ipairs(list) do
    if unlogged[t.schema .. "\0" .. t.name] then
      -- The digest of no rows: the sum of nothing.
      tables[#tables + 1] = { schema = t.schema, name = t.name, rows = verify_mode ~= "none" and 0 or nil,
                              content_sha256 = verify_mode == "content" and string.rep("0", 64) or nil,
                              unlogged = true }
    else
      i = i + 1
      local f = fps[i] or {}
      tables[#tables + 1] = { schema = t.schema, name = t.name, rows = f.rows, content_sha256 = f.content_sha256 }
    end
  end
  local n = 0
  for _ in pairs(unlogged) do n = n + 1 end
  if n > 0 then
    ff.log.info(string.format("%d unlogged table(s): not in a physical backup, proved empty in a drill", n))
  end
  if verify_mode ~= "none" then
    observed_sequences = read_categories(fp)
  end
  fp:close()
end

local function sequence_values(conn, listed, from_archive)
  local set = {}
  for _, s in ipairs(from_archive) do set[as_listed(conn, s.qname)] = s end
  for _, s in ipairs(listed) do
    local a = set[s.qname]
    if a then
      sequences[#sequences + 1] = { schema = s.schema, name = s.name, last_value = a.last_value,
                                    is_called = a.is_called }
    end
  end
end

-- engine pgbackrest: the manifest names the backup set and the proof
-- point; pgBackRest's own info for the set is kept beside it.
local function pgbr_manifest(p)
  local exact = point and point.level == "exact"
  rb.must(ff.fs.write(partial .. "/pgbackrest_info.json", set_json))
  record("pgbackrest_info.json", set_json)
  local t = cfg.targets[p.target].pgbackrest
  local m = {
    format = backups.FORMAT,
    engine = "pgbackrest",
    stamp = stamp,
    created_at = ff.time.iso(created_at),
    completed_at = ff.time.iso(),
    source = {
      target = p.target, host = facts.host, port = tonumber(facts.port), dbname = facts.dbname,
      server_version = facts.server_version, system_identifier = facts.system_identifier,
      size_bytes = facts.size_bytes, encoding = facts.encoding, wal_level = wal_level,
      wal_segment_size = wal_segment_size,
    },
    tools = { ffrun = ff.version, pgbackrest = set and set.backrest and set.backrest.version },
    runbook = { path = ff.paths.runbook, sha256 = (ff.hash.file(ff.paths.runbook)) },
    artifacts = artifacts,
    pgbackrest = { stanza = t.stanza, repo = p.repo, label = set and set.label, type = set and set.type,
                   timestamp = set and set.timestamp, lsn = set and set.lsn, archive = set and set.archive,
                   info = "pgbackrest_info.json" },
    proof = point,
    verify = exact and verify_mode or "none",
    tables = tables,
    matviews = exact and categories.matviews or nil,
    large_objects = exact and categories.large_objects or nil,
    schema_inventory = exact and categories.schema_inventory or nil,
    database = exact and categories.database or nil,
    sequences_observed = exact and observed_sequences or nil,
    evidence_run = ff.run.id,
  }
  rb.must(ff.fs.write(partial .. "/manifest.json", ff.json.encode(m)))
  ff.evidence.set("backup", { stamp = stamp, engine = "pgbackrest", label = m.pgbackrest.label,
    proof_level = point and point.level, lsn = point and point.lsn, tables = #tables })
  if point.planned then return ff.log.info("manifest: planned (the backup set and the proof point are taken only in a real run)") end
  ff.log.info(string.format("manifest: pgBackRest set %s, proof level %s at %s%s", tostring(m.pgbackrest.label),
    point and point.level or "(planned)", point and point.lsn or "(planned)",
    exact and "" or ": integrity only (amcheck and smoke in a drill, no data compared)"))
end

return {
  name = "backup",
  version = "1.0",
  summary = "Consistent dump + globals + fingerprints + snapshots, manifest, DIGEST, atomic commit",
  params = {
    { name = "target", type = "string", default = "prod",
      doc = "the configured database target to back up",
      check = function(v) return cfg.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "type", type = "string", default = "auto",
      doc = "engine pgbackrest: full, diff or incr; auto is incr when the stanza has a full backup, else full",
      check = function(v)
        return v == "auto" or v == "full" or v == "diff" or v == "incr", "must be auto, full, diff or incr"
      end },
    { name = "repo", type = "integer", default = 1,
      doc = "engine pgbackrest: the repository (repoN of pgbackrest.conf) the backup set goes to; WAL reaches every repository through archive-push",
      check = function(v) return v >= 1 and v <= 256, "must be a repository key, 1 to 256" end },
    { name = "archive_timeout", type = "integer", default = 300,
      doc = "engine pgbackrest: seconds to wait for the proof point's WAL segment to reach the repository",
      check = function(v) return v >= 1, "must be at least 1" end },
  },
  steps = {
    {
      name = "preflight",
      doc = "Connect, read the server's facts, take the backups lock, check free disk",
      run = function(p)
        db = rb.must(ff.pg.connect(p.target))
        facts = rb.must(db:facts())
        ff.log.info(string.format("source %s: PostgreSQL %s, database %s, %s",
          p.target, facts.server_version, facts.dbname, rb.bytes(facts.size_bytes)))
        physical = pgbr.engine(p.target)
        if physical then wal_level, stanza_before, wal_segment_size = pgbr.preflight(db, p.target) end
        lock = ff.fs.lock(root)
        -- Under the lock, any .partial folder belongs to a run that died.
        for _, dead in ipairs(backups.partials(root)) do
          ff.log.warn("removing the unfinished backup left by a killed run: " .. dead)
          rb.must(ff.fs.remove(dead, true))
        end
        -- A physical backup's data goes to pgBackRest's repository: this
        -- folder only gets the manifest and the proof's inventories.
        if ff.fs.exists(root) and not physical then -- a rehearsal may have no folder yet
          local free = rb.must(ff.fs.free_bytes(root))
          -- A custom-format dump is compressed: half the database's size
          -- is the least it can need.
          rb.check(free > facts.size_bytes // 2,
            "%s has %s free, the database is %s: not enough room for a dump",
            root, rb.bytes(free), rb.bytes(facts.size_bytes))
          if free < facts.size_bytes then
            ff.log.warn(string.format("only %s free for a %s database", rb.bytes(free), rb.bytes(facts.size_bytes)))
          end
        end
        created_at = ff.time.now()
        stamp = ff.time.stamp(created_at)
        if ff.fs.exists(root .. "/" .. stamp) then
          -- A stamp names a second, and the backup before this one (it held
          -- the lock) finished within it: take the next second's.
          ff.time.sleep(1 - created_at % 1 + 0.01)
          created_at = ff.time.now()
          stamp = ff.time.stamp(created_at)
        end
        partial = root .. "/" .. stamp .. ".partial"
        rb.check(not ff.fs.exists(root .. "/" .. stamp), "backup %s already exists", stamp)
        rb.must(ff.fs.mkdir(partial))
      end,
    },
    {
      name = "snapshot",
      doc = "Export a snapshot: the dump, row counts and fingerprints all see exactly it",
      run = function()
        if physical then return end
        snapshot = db:export_snapshot()
        ff.log.info("exported snapshot " .. tostring(snapshot))
      end,
    },
    {
      name = "dump",
      doc = "pg_dump -Fc in the snapshot, streamed through sha256 into db.dump and read back by pg_restore for content digests; row counts on a second connection",
      run = function(p)
        if physical then return end
        -- Content digests come from the dump's own bytes, read back by
        -- pg_restore as they are written: no second COPY of every table
        -- beside the dump. Row counts are cheaper on the server (count(*)
        -- costs less than inflating the archive), and a database not in
        -- UTF8 (or older than 12) is fingerprinted on the server too.
        local stream = verify_mode == "content" and facts.encoding == "UTF8"
          and facts.server_major >= 12 and verify_mode or nil
        -- The progress line's ETA: the last dump of this database, grown
        -- as the database did, or else the database's size as a bound.
        local expected = backups.expected_dump_bytes(root, facts)
        local job = ff.pg.dump({ target = p.target, out = partial .. "/db.dump", snapshot = snapshot,
                                 major = facts.server_major, estimate_bytes = expected or facts.size_bytes,
                                 estimate_about = expected ~= nil, fingerprint = stream })
        local fp = rb.must(ff.pg.connect(p.target))
        rb.must(fp:use_snapshot(snapshot))
        local list = rb.must(fp:tables())
        local plan = stream and backups.stream_plan(fp, list) or { server = list, leaves = {} }
        -- What the stream cannot give is read on this connection, in the
        -- same snapshot, while the dump streams.
        local got = {}
        local function read_from_server(some)
          if verify_mode == "none" or #some == 0 then return end
          for i, r in ipairs(rb.must(fp:fingerprints(some, verify_mode, 1))) do
            got[some[i].schema .. "\0" .. some[i].name] = r
          end
        end
        read_from_server(plan.server)
        -- The categories' own time, beside the dump and after it: an
        -- upper bound on what they add to the backup (bench/backup.sh).
        local t0 = ff.time.now()
        local listed = verify_mode ~= "none" and read_categories(fp) or {}
        local categories_s = ff.time.now() - t0
        dump_result = job:wait()
        rb.check(dump_result.ok, "pg_dump failed: %s", tostring(dump_result.error))
        if stream then
          rb.check(not dump_result.fingerprint_error,
            "db.dump could not be read back as it was written: %s", tostring(dump_result.fingerprint_error))
          local by, late = backups.stream_index(dump_result.tables), {}
          for _, t in ipairs(list) do
            local name = t.schema .. "\0" .. t.name
            if not got[name] then
              got[name] = backups.stream_fingerprint(by, plan, t, verify_mode)
              if not got[name] then late[#late + 1] = t end
            end
          end
          read_from_server(late)
        end
        for _, t in ipairs(list) do
          local fpi = got[t.schema .. "\0" .. t.name] or {}
          tables[#tables + 1] = { schema = t.schema, name = t.name, rows = fpi.rows,
                                  content_sha256 = fpi.content_sha256 }
        end
        if verify_mode ~= "none" then
          rb.check(dump_result.sequences, "db.dump: the sequences' values cannot be read back: %s",
            tostring(dump_result.sequences_error))
          local t1 = ff.time.now()
          sequence_values(fp, listed, dump_result.sequences)
          categories_s = categories_s + (ff.time.now() - t1) + dump_result.sequences_s
        end
        ff.evidence.set("categories_s", math.floor(categories_s * 1000) / 1000)
        fp:close()
        artifacts[#artifacts + 1] = { path = "db.dump", bytes = dump_result.bytes, sha256 = dump_result.sha256 }
        ff.log.info(string.format("db.dump: %s, %d tables fingerprinted (%s)",
          rb.bytes(dump_result.bytes), #tables, verify_mode))
        if verify_mode ~= "none" then
          ff.log.info(string.format("also recorded: %d sequences, %d materialized views, %d large objects, schema (%d objects), database properties",
            #sequences, #categories.matviews, categories.large_objects.count, categories.schema_inventory.objects))
        end
      end,
    },
    {
      name = "physical",
      doc = "engine pgbackrest: pgbackrest backup --type=full|diff|incr; the data stays in pgBackRest's repository",
      run = function(p)
        if not physical then return end
        local type = pgbr.backup_type(p.type, stanza_before, p.repo)
        set, set_json = pgbr.backup(p.target, type, stanza_before, p.repo)
      end,
    },
    {
      name = "proof_point",
      doc = "engine pgbackrest: a temporary logical slot's snapshot (its consistent point L), every proof category read in it, then L's WAL segment archived; a restore point and proof level integrity without logical WAL",
      run = function(p)
        if not physical then return end
        point = pgbr.proof_point(db, p.target, wal_level, stamp, function(id) take_proof(p.target, id) end)
        if point.planned then return end -- a rehearsal: no WAL switched, nothing awaited
        if point.level == "integrity" then -- the built-in smoke of a drill reads each table
          for _, t in ipairs(rb.must(db:tables())) do tables[#tables + 1] = { schema = t.schema, name = t.name } end
          ff.evidence.set("proof_note", "wal_level is not logical: proof level integrity, nothing but amcheck and smoke can be checked by a drill")
        end
        point.wal_segment = pgbr.wait_archived(db, point.lsn, p.archive_timeout)
        ff.evidence.set("wal_archive", pgbr.archive_lag(db))
        if point.level == "exact" then
          ff.log.info(string.format("proof at %s: %d tables (%s), %d materialized views, %d large objects, schema (%d objects), database properties",
            point.lsn, #tables, verify_mode, #(categories.matviews or {}),
            categories.large_objects and categories.large_objects.count or 0,
            categories.schema_inventory and categories.schema_inventory.objects or 0))
        end
      end,
    },
    {
      name = "globals",
      doc = "pg_dumpall --globals-only: roles and tablespaces, without password hashes unless configured",
      run = function(p)
        -- A physical copy holds the roles itself.
        if cfg.backup.globals == "none" or physical then return end
        local r = ff.pg.globals({ target = p.target, out = partial .. "/globals.sql",
                                  major = facts.server_major, passwords = cfg.backup.globals == "with-passwords" })
        rb.check(r.ok, "pg_dumpall --globals-only failed: %s", tostring(r.error))
        artifacts[#artifacts + 1] = { path = "globals.sql", bytes = r.bytes, sha256 = r.sha256 }
      end,
    },
    {
      name = "snapshots",
      doc = "Redacted copies of the configured files: values under secret-looking keys replaced",
      run = function()
        for _, src in ipairs(cfg.snapshots_missing) do
          ff.log.warn("snapshot " .. src .. " skipped: the file does not exist or is not readable")
        end
        if #cfg.snapshots == 0 then return end
        rb.must(ff.fs.mkdir(partial .. "/snapshots"))
        local used = {}
        for i, src in ipairs(cfg.snapshots) do
          local name = src:match("([^/]+)$")
          -- Two files of the same name (two compose.yml) keep both.
          if used[name] then name = i .. "-" .. name end
          used[name] = true
          local text, err = ff.fs.read(src)
          if not text then
            ff.log.warn("snapshot " .. src .. " skipped: " .. tostring(err))
          else
            local safe, replaced = rb.must(ff.yaml.redact(text, name))
            rb.must(ff.fs.write(partial .. "/snapshots/" .. name, safe))
            ff.log.info(string.format("snapshot %s: %d value(s) redacted", name, replaced))
            record("snapshots/" .. name, safe)
          end
        end
      end,
    },
    {
      name = "app_state",
      doc = "The application's state at backup time (backup.app_state, e.g. docker compose ps), redacted, as compose_ps.txt; optional: a failure is a warning",
      run = function()
        local argv = cfg.backup.app_state
        if #argv == 0 then return end
        local function skipped(why)
          ff.log.warn("app_state " .. table.concat(argv, " ") .. ": " .. why .. ": no compose_ps.txt in this backup")
          ff.evidence.set("app_state", { ok = false, warning = why })
        end
        if argv[1]:sub(1, 1) ~= "/" then return skipped("program " .. argv[1] .. " not found") end
        local r, err = ff.exec(argv, { timeout = 60, name = "app_state.log", redact = "compose_ps.txt" })
        if not r then return skipped(tostring(err)) end
        if not r.ok then
          return skipped(r.timed_out and "timed out after 60 s" or string.format("exit %d (see %s)", r.code, r.raw))
        end
        rb.must(ff.fs.write(partial .. "/compose_ps.txt", r.output))
        record("compose_ps.txt", r.output)
        ff.evidence.set("app_state", { ok = true, redacted = r.redacted, truncated = r.truncated })
        ff.log.info(string.format("app_state: compose_ps.txt, %d bytes, %d value(s) redacted%s", #r.output,
          r.redacted, r.truncated and ", cut at 1 MiB" or ""))
      end,
    },
    {
      name = "archive",
      doc = "The archive's table of contents as stock pg_restore read it back after the dump (verify reads every byte)",
      run = function()
        if physical then return end
        local toc = dump_result.toc
        rb.check(toc, "pg_restore --list cannot read db.dump: %s", tostring(dump_result.toc_error))
        local entries
        toc_sha256, entries = backups.toc_sha256(toc)
        -- The pg_dump that wrote this archive, as the archive says.
        dumped_by = toc:match("Dumped by pg_dump version: ([^\n]+)")
        rb.check(dumped_by, "db.dump names no pg_dump version in its table of contents")
        ff.log.info(string.format("archive readable: %d TOC entries", entries))
      end,
    },
    {
      name = "manifest",
      doc = "manifest.json: source, tools, runbook, artifacts, and every proof category: tables, sequences, materialized views, large objects, schema, database properties",
      run = function(p)
        if physical then return pgbr_manifest(p) end
        local m = {
          format = backups.FORMAT,
          stamp = stamp,
          created_at = ff.time.iso(created_at),
          completed_at = ff.time.iso(),
          source = {
            target = p.target, host = facts.host, port = tonumber(facts.port), dbname = facts.dbname,
            server_version = facts.server_version, system_identifier = facts.system_identifier,
            size_bytes = facts.size_bytes, encoding = facts.encoding,
          },
          tools = { ffrun = ff.version, pg_dump = "pg_dump (PostgreSQL) " .. dumped_by },
          runbook = { path = ff.paths.runbook, sha256 = (ff.hash.file(ff.paths.runbook)) },
          artifacts = artifacts,
          verify = verify_mode,
          tables = tables,
          sequences = verify_mode ~= "none" and sequences or nil,
          matviews = categories.matviews,
          large_objects = categories.large_objects,
          schema_inventory = categories.schema_inventory,
          database = categories.database,
          schema_sha256 = toc_sha256,
          evidence_run = ff.run.id,
        }
        rb.must(ff.fs.write(partial .. "/manifest.json", ff.json.encode(m)))
        ff.evidence.set("backup", { stamp = stamp, tables = #tables, bytes = dump_result.bytes,
          sequences = #sequences, matviews = categories.matviews and #categories.matviews,
          large_objects = categories.large_objects and categories.large_objects.count,
          schema_objects = categories.schema_inventory and categories.schema_inventory.objects })
      end,
    },
    {
      name = "seal",
      doc = "backup.log and DIGEST, read back at once: every file hashed again before anything calls this a backup",
      run = function()
        local log = ff.fs.read(ff.run.dir .. "/raw/run.log") or ""
        rb.must(ff.fs.write(partial .. "/backup.log", log))
        -- db.dump and globals.sql were hashed as they were written; the
        -- DIGEST is written from those digests, then checked against every
        -- byte on disk.
        rb.must(ff.fs.write_digest(partial, artifacts))
      end,
    },
    {
      name = "commit",
      doc = "fsync, then rename <STAMP>.partial to <STAMP>: only now is it a backup",
      run = function()
        rb.must(ff.fs.fsync(partial))
        rb.must(ff.fs.rename(partial, root .. "/" .. stamp))
        rb.must(ff.fs.fsync(root))
        ff.log.info("backup: " .. root .. "/" .. stamp)
      end,
    },
    {
      name = "cleanup",
      doc = "On failure remove the unfinished .partial folder; always release the lock",
      cleanup = true,
      run = function()
        if partial and ff.fs.exists(partial) then
          ff.log.warn("removing unfinished " .. partial)
          ff.fs.remove(partial, true)
        end
        if lock then lock:release() end
        if db then db:close() end
      end,
    },
  },
}

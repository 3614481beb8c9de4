-- pgbackrest.lua: what backup and drill do for a target whose engine is
-- pgbackrest. pgBackRest keeps the data (a physical backup and the WAL
-- archive); ffrun keeps the proof: an LSN L whose committed transactions
-- are exactly those a snapshot saw, and every proof category taken in that
-- snapshot. A drill restores to L and compares.
local rb = require "rb"
local proof = require "proof"

local pgbr = {}

--- True when target's engine is pgbackrest.
function pgbr.engine(target)
  local t = ff.config.targets[target]
  return t ~= nil and t.engine == "pgbackrest"
end

--- The decoded `pgbackrest info --output=json` of target's stanza (one
--- backup set when label is given), and its text.
function pgbr.info(target, label)
  local r = rb.must(ff.pgbackrest.info(target, label))
  rb.check(r.ok, "pgbackrest info failed (exit %d, see %s): %s", r.code, r.raw, r.tail)
  local ok, v = pcall(ff.json.decode, r.output)
  rb.check(ok and type(v) == "table" and type(v[1]) == "table",
    "pgbackrest info --output=json: not the JSON expected (see %s)", r.raw)
  return v[1], r.output
end

-- The labels of the stanza's backups, and whether a full one is there.
local function labels(stanza)
  local set, full = {}, false
  for _, b in ipairs(stanza.backup or {}) do
    set[b.label] = true
    if b.type == "full" then full = true end
  end
  return set, full
end

--- Preflight on the source connection db: archive_mode on, archive_command
--- running pgbackrest, and `pgbackrest check` (the stanza's configuration
--- and a WAL segment pushed to the repository). Returns the source's
--- wal_level, the stanza's info before the backup and the WAL segment
--- size in bytes.
function pgbr.preflight(db, target)
  local s = rb.must(db:query([[SELECT current_setting('archive_mode') AS archive_mode,
    current_setting('archive_command') AS archive_command, current_setting('wal_level') AS wal_level,
    (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS wal_segment_size,
    current_setting('server_version_num')::int AS version_num,
    (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier]]))[1]
  -- The proof point's SQL (pg_lsn arithmetic) is PostgreSQL 14's.
  local version = tonumber(s.version_num)
  rb.check(version and version >= 140000,
    "engine pgbackrest: the source runs PostgreSQL %s; ffrun's proof point needs 14 or later", tostring(s.version_num))
  rb.check(s.archive_mode == "on" or s.archive_mode == "always",
    "archive_mode is %s on the source: a pgBackRest backup needs WAL archiving (archive_mode = on)", s.archive_mode)
  -- The command itself is not shown: an operator may have put an option
  -- with a secret in it.
  rb.check(s.archive_command:find("pgbackrest", 1, true),
    "archive_command on the source does not run pgbackrest: set archive_command = 'pgbackrest --stanza=%s archive-push %%p'",
    ff.config.targets[target].pgbackrest.stanza)
  -- The stanza must be this server's, before pgBackRest is asked anything
  -- else: its system-id (read from the text, a 64-bit number no Lua
  -- number holds exactly) is the source's.
  local stanza, text = pgbr.info(target)
  local ours, any = false, false
  for id in text:gmatch('"system%-id"%s*:%s*(%d+)') do
    any = true
    if id == s.system_identifier then ours = true end
  end
  rb.check(any, "stanza %s has no database in its repository: run pgbackrest stanza-create (and check) for it first",
    ff.config.targets[target].pgbackrest.stanza)
  rb.check(ours, "stanza %s is not this server's: none of its databases has system-id %s (the source's)",
    ff.config.targets[target].pgbackrest.stanza, s.system_identifier)
  local r = rb.must(ff.pgbackrest.check(target))
  rb.check(r.ok, "pgbackrest check failed (exit %d, see %s): %s", r.code, r.raw, r.tail)
  ff.log.info(string.format("pgbackrest check: stanza %s %s; wal_level %s, archive_mode %s",
    ff.config.targets[target].pgbackrest.stanza, ff.dry_run and "(check planned)" or "passes", s.wal_level, s.archive_mode))
  return s.wal_level, stanza, tonumber(s.wal_segment_size)
end

--- The backup type for the type= param: full, diff or incr as given, or
--- for "auto" incr when the stanza already has a full backup, else full.
function pgbr.backup_type(param, stanza)
  if param ~= "auto" then return param end
  local _, full = labels(stanza)
  return full and "incr" or "full"
end

--- pgbackrest backup --type=type; returns the new backup set's entry of
--- `pgbackrest info` (label, type, timestamps, LSNs, WAL range) and the
--- set's info JSON text.
function pgbr.backup(target, type, before)
  local r = rb.must(ff.pgbackrest.backup(target, type))
  rb.check(r.ok, "pgbackrest backup --type=%s failed (exit %d, see %s): %s", type, r.code, r.raw, r.tail)
  -- A rehearsal's info is a planned text: like the real one it is shown
  -- as "(text)" in a plan (more than one line).
  if ff.dry_run then return { label = "(planned)", type = type }, '{"planned": true}\n' end
  local had = labels(before)
  local stanza = pgbr.info(target)
  local new
  for _, b in ipairs(stanza.backup or {}) do
    if not had[b.label] then new = b end
  end
  rb.check(new, "pgbackrest backup passed but pgbackrest info lists no new backup set")
  local _, text = pgbr.info(target, new.label)
  ff.log.info(string.format("pgbackrest backup %s (%s): %.1f s", new.label, new.type, r.duration_s))
  return new, text
end

--- The proof point. With wal_level logical: a temporary logical slot's
--- exported snapshot, held while take(snapshot) reads every proof
--- category in it; returns { level = "exact", lsn = L }. Otherwise a
--- named restore point and { level = "integrity", restore_point =, lsn = }:
--- nothing but amcheck and smoke can be proved against it. A
--- rehearsal's point has planned = true (take gets no snapshot).
function pgbr.proof_point(db, target, wal_level, stamp, take)
  if wal_level ~= "logical" then
    local name = "ffrun_" .. stamp:gsub("-", "_")
    if ff.dry_run then return { level = "integrity", restore_point = name, lsn = "(planned)", planned = true } end
    local lsn = rb.must(db:query("SELECT pg_create_restore_point($1)::text AS lsn", name))[1].lsn
    ff.log.warn(string.format("wal_level is %s, not logical: restore point %s at %s, proof level integrity "
      .. "(a drill checks amcheck and smoke, not the data)", wal_level, name, lsn))
    return { level = "integrity", restore_point = name, lsn = lsn, taken_at = ff.time.iso(),
             taken_epoch = math.floor(ff.time.now() * 1000) / 1000 }
  end
  -- Closed whatever happens in take: the slot goes with its connection.
  local slot <close> = rb.must(ff.pg.logical_snapshot(target))
  -- The data is as of now, not of when the proof has been read and L's
  -- segment archived (minutes on a big database): the RPO counts from here.
  local taken_at, taken_epoch = ff.time.iso(), math.floor(ff.time.now() * 1000) / 1000
  local point = slot:point()
  ff.log.info(string.format("proof point: slot %s, consistent at %s, snapshot %s", point.slot, point.lsn,
    point.snapshot))
  take(not point.planned and point.snapshot or nil)
  slot:close()
  return { level = "exact", lsn = point.lsn, planned = point.planned or nil, taken_at = taken_at,
           taken_epoch = taken_epoch }
end

--- pg_switch_wal(), then wait until the segment holding lsn is archived
--- (pg_stat_archiver), at most timeout_s seconds. Returns the segment.
function pgbr.wait_archived(db, lsn, timeout_s)
  -- The segment holding the byte at lsn: a drill to lsn reads the record
  -- that starts there, so its segment must be in the repository.
  local seg = rb.must(db:query("SELECT pg_walfile_name($1::pg_lsn + 1) AS seg", lsn))[1].seg
  rb.must(db:query("SELECT pg_switch_wal()::text AS lsn"))
  local deadline = ff.time.now() + timeout_s
  while true do
    local a = rb.must(db:query([[SELECT coalesce(last_archived_wal, '') AS archived,
      coalesce(last_failed_wal, '') AS failed FROM pg_stat_archiver]]))[1]
    -- A segment of L's timeline at or after L's: a .history file, or
    -- another timeline's segment, says nothing of L's.
    local got = a.archived:match("^(%x+)$")
    if got and #got == 24 and got:sub(1, 8) == seg:sub(1, 8) and got >= seg then
      ff.log.info(string.format("WAL segment %s (proof point %s) archived", seg, lsn))
      return seg
    end
    if ff.time.now() > deadline then
      rb.fail("WAL segment %s holding the proof point %s was not archived within %d s (last archived %s, last failed %s): check archive_command and the repository",
        seg, lsn, timeout_s, a.archived ~= "" and a.archived or "none", a.failed ~= "" and a.failed or "none")
    end
    ff.time.sleep(0.2)
  end
end

--- What a drill restores to: { type =, target =, exclusive =, level = }
--- from the manifest's proof point, or the operator's target_time= /
--- target_name= (then the proof is integrity: the point is not the one
--- the proof saw).
function pgbr.recovery_target(m, p)
  if p.target_time ~= "" then
    return { type = "time", target = p.target_time, level = "integrity",
             why = "target_time=" .. p.target_time .. " is not the proof point" }
  elseif p.target_name ~= "" then
    return { type = "name", target = p.target_name, level = "integrity",
             why = "target_name=" .. p.target_name .. " is not the proof point" }
  elseif m.proof.level == "exact" and m.verify == "none" then
    return { type = "lsn", target = m.proof.lsn, exclusive = true, level = "integrity",
             why = "the backup was made with verify: none: no data to compare" }
  elseif m.proof.level == "exact" then
    -- Exclusive: the record that starts at L (a commit the snapshot did
    -- not see) is not replayed.
    return { type = "lsn", target = m.proof.lsn, exclusive = true, level = "exact" }
  end
  return { type = "name", target = m.proof.restore_point, level = "integrity",
           why = "the backup's source had no logical WAL: a restore point, not a proof point" }
end

-- The source's data directory, when it can be asked, so that the drill's
-- own is provably not it.
local function production_data_directory(source)
  local db = ff.pg.connect(source)
  if not db then return nil end
  local r = db:query("SELECT current_setting('data_directory') AS d")
  db:close()
  return r and r[1] and r[1].d
end

--- The drill's instance for a backup m of this engine: pgbackrest restore
--- of m's set into a throwaway instance's own data folder, recovery to
--- recovery (pgbr.recovery_target), promotion. Only an ephemeral target:
--- a physical restore replaces a whole data directory. Returns the
--- instance (a rehearsal's is planned).
function pgbr.instance(p, m, recovery, major)
  local cfg = ff.config
  rb.check(cfg.targets[p.target].ephemeral,
    "target %s is a configured server: a drill of a pgBackRest backup restores into a throwaway instance only (an ephemeral target)",
    p.target)
  local source = m.source.target
  local t = cfg.targets[source]
  rb.check(t and t.engine == "pgbackrest",
    "the backup's source target %s is not configured with engine pgbackrest: no repository to restore from", tostring(source))
  rb.check(t.pgbackrest.stanza == m.pgbackrest.stanza,
    "target %s's stanza is %s, the backup's is %s", source, t.pgbackrest.stanza, m.pgbackrest.stanza)
  local prod_data = production_data_directory(source)
  local inst = rb.must(ff.pg.instance({ major = major, restore = {
    from = source, set = m.pgbackrest.label, type = recovery.type, target = recovery.target,
    exclusive = recovery.exclusive, timeout_s = p.recovery_timeout,
    wal_segment_size = math.tointeger(m.source.wal_segment_size) } }))
  local i = inst:info()
  if prod_data then
    local mine = i.folder .. "/data"
    rb.check(prod_data ~= mine and prod_data:sub(1, #i.folder + 1) ~= i.folder .. "/"
      and i.folder:sub(1, #prod_data + 1) ~= prod_data .. "/",
      "the drill's data directory %s is production's (%s): refused", mine, prod_data)
  end
  ff.evidence.set("restore", { label = m.pgbackrest.label, type = recovery.type, target = recovery.target,
    folder = i.folder, restore_s = i.restore_s, recover_s = i.recover_s })
  if i.folder == "(planned)" then
    ff.log.info(string.format("pgbackrest restore of %s and recovery to %s %s: planned", m.pgbackrest.label,
      recovery.type, recovery.target))
  else
    ff.log.info(string.format("pgbackrest restore of %s: %.1f s; recovery to %s %s and promotion: %.1f s",
      m.pgbackrest.label, i.restore_s, recovery.type, recovery.target, i.recover_s))
  end
  return inst
end

--- A drill at a point that is not the proof's (proof level integrity):
--- the smoke checks only (amcheck is the drill's own step), said so in
--- the evidence. Returns the verification.
function pgbr.integrity_only(db, m, recovery)
  local v = { level = "integrity", tables = 0, mismatches = {}, note = recovery.why }
  ff.evidence.set("verification", v)
  local smoke = proof.smoke(db, ff.config.smoke, m)
  ff.evidence.set("smoke", smoke)
  rb.check(proof.smoke_passed(smoke), "smoke checks failed")
  ff.log.warn(string.format("proof level integrity (%s): no data compared; %d smoke checks passed%s", recovery.why,
    #smoke.checks, smoke.builtin and " (built-in: every table readable)" or ""))
  return v
end

return pgbr

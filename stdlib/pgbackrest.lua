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

--- The repository key of a backup set's entry in `pgbackrest info`
--- (1 when pgBackRest does not say: one repository).
function pgbr.repo_of(b)
  return math.tointeger(b.database and b.database["repo-key"]) or 1
end

--- The repository keys of the stanza's info, in order.
function pgbr.repos(stanza)
  local keys = {}
  for _, r in ipairs(stanza.repo or {}) do keys[#keys + 1] = math.tointeger(r.key) end
  if #keys == 0 then keys[1] = 1 end
  return keys
end

-- The labels of the stanza's backups, and whether repository repo (any
-- when nil) has a full one.
local function labels(stanza, repo)
  local set, full = {}, false
  for _, b in ipairs(stanza.backup or {}) do
    set[b.label .. "\0" .. pgbr.repo_of(b)] = true
    if b.type == "full" and (repo == nil or pgbr.repo_of(b) == repo) then full = true end
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
--- for "auto" incr when repository repo already has a full backup of the
--- stanza, else full.
function pgbr.backup_type(param, stanza, repo)
  if param ~= "auto" then return param end
  local _, full = labels(stanza, repo)
  return full and "incr" or "full"
end

--- pgbackrest backup --type=type --repo=repo; returns the new backup
--- set's entry of `pgbackrest info` (label, type, timestamps, LSNs, WAL
--- range) and the set's info JSON text.
function pgbr.backup(target, type, before, repo)
  local known = {}
  for _, k in ipairs(pgbr.repos(before)) do known[k] = true end
  rb.check(known[repo], "repo=%d: stanza %s has no repository %d (pgbackrest info lists repo %s)", repo,
    ff.config.targets[target].pgbackrest.stanza, repo, table.concat(pgbr.repos(before), ", repo "))
  local r = rb.must(ff.pgbackrest.backup(target, type, repo))
  rb.check(r.ok, "pgbackrest backup --type=%s --repo=%d failed (exit %d, see %s): %s", type, repo, r.code, r.raw, r.tail)
  -- A rehearsal's info is a planned text: like the real one it is shown
  -- as "(text)" in a plan (more than one line).
  if ff.dry_run then return { label = "(planned)", type = type }, '{"planned": true}\n' end
  local had = labels(before)
  local stanza = pgbr.info(target)
  local new
  for _, b in ipairs(stanza.backup or {}) do
    if not had[b.label .. "\0" .. pgbr.repo_of(b)] and pgbr.repo_of(b) == repo then new = b end
  end
  rb.check(new, "pgbackrest backup passed but pgbackrest info lists no new backup set in repo%d", repo)
  local _, text = pgbr.info(target, new.label)
  ff.log.info(string.format("pgbackrest backup %s (%s) in repo%d: %.1f s", new.label, new.type, repo, r.duration_s))
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

--- The source's WAL archive lag (pg_stat_archiver on connection db):
--- { lag_bytes = WAL written past the end of the last archived segment,
--- lag_s = how long WAL has been waiting: the seconds since the last
--- segment was archived while WAL waits behind it (0 when none does), or
--- since the oldest segment still waiting (.ready) was completed when that
--- is longer and ffrun may list pg_wal/archive_status (superuser or
--- pg_monitor), failing = the last attempt failed after the last success,
--- last_archived_wal =, last_failed_wal = }. No lag figures when nothing
--- was archived, or the last file archived names no segment (a timeline's
--- .history): unknown says which.
function pgbr.archive_lag(db)
  local a = rb.must(db:query([[
    WITH s AS (
      SELECT last_archived_wal AS w, last_archived_time AS at, last_failed_wal AS fw, last_failed_time AS ft,
             substring(last_archived_wal FROM '^([0-9A-F]{24})(\.partial|\.[0-9A-F]{8}\.backup)?$') AS seg_name,
             (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS seg,
             pg_current_wal_lsn() - '0/0'::pg_lsn AS cur
        FROM pg_stat_archiver)
    SELECT coalesce(w, '') AS last_archived_wal, coalesce(fw, '') AS last_failed_wal,
           coalesce(ft > at, ft IS NOT NULL) AS failing,
           CASE WHEN seg_name IS NOT NULL THEN greatest(0, cur - (('x' || substr(seg_name, 9, 8))::bit(32)::bigint * 4294967296
             + (('x' || substr(seg_name, 17, 8))::bit(32)::bigint + 1) * seg))::text END AS lag_bytes,
           extract(epoch FROM clock_timestamp() - at)::float8 AS since_s
      FROM s]]))[1]
  local lag = { last_archived_wal = a.last_archived_wal, last_failed_wal = a.last_failed_wal,
                failing = a.failing == "t" }
  if not a.lag_bytes then
    lag.unknown = a.last_archived_wal == "" and "nothing archived yet"
      or ("the last file archived, " .. a.last_archived_wal .. ", names no WAL segment")
    return lag
  end
  lag.lag_bytes = math.tointeger(tonumber(a.lag_bytes))
  local s = lag.lag_bytes > 0 and tonumber(a.since_s) or 0
  -- A backlog: the oldest segment waiting was completed that long ago.
  local r = db:query([[SELECT extract(epoch FROM clock_timestamp() - min(modification))::float8 AS s
    FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready']])
  local ready = r and r[1] and tonumber(r[1].s)
  if ready and ready > s then s = ready end
  lag.lag_s = math.floor(s * 10 + 0.5) / 10
  return lag
end

--- An LSN ("X/Y") as an integer.
function pgbr.lsn(s)
  local hi, lo = tostring(s):match("^(%x+)/(%x+)$")
  rb.check(hi, "not an LSN: %s", tostring(s))
  return tonumber(hi, 16) * 4294967296 + tonumber(lo, 16)
end

--- The cluster a backup set b is of: "SYSTEM-ID VERSION" of its entry in
--- the stanza's db list (pgBackRest numbers those in each repository's
--- own history: the id alone is not comparable across repositories).
function pgbr.db_of(stanza, b)
  local d = b and b.database or {}
  for _, x in ipairs(stanza.db or {}) do
    if x.id == d.id and math.tointeger(x["repo-key"]) == pgbr.repo_of(b) then
      return string.format("%.0f %s", tonumber(x["system-id"]) or -1, tostring(x.version))
    end
  end
end

--- The newest backup set of the stanza in repository repo that ended at
--- or before lsn (a recovery to lsn can start from it), or nil. Only a
--- set of the cluster db (pgbr.db_of; a stanza-upgrade starts another)
--- and, when tli is given, on that timeline (its first WAL segment's):
--- LSNs of others say nothing of lsn.
function pgbr.set_before(stanza, repo, lsn, db, tli)
  local best
  for _, b in ipairs(stanza.backup or {}) do
    local same = (db == nil or pgbr.db_of(stanza, b) == db)
      and (tli == nil or (b.archive and type(b.archive.start) == "string" and b.archive.start:sub(1, 8) == tli))
    if same and pgbr.repo_of(b) == repo and b.lsn and b.lsn.stop and pgbr.lsn(b.lsn.stop) <= pgbr.lsn(lsn) then
      if not best or pgbr.lsn(b.lsn.stop) > pgbr.lsn(best.lsn.stop) then best = b end
    end
  end
  return best
end

-- The archive id (e.g. 15-1) of set b's database in its repository.
local function archive_id(stanza, b)
  for _, a in ipairs(stanza.archive or {}) do
    local d = a.database or {}
    if math.tointeger(d["repo-key"]) == pgbr.repo_of(b) and d.id == (b.database or {}).id then return a.id end
  end
end

--- The WAL segments from first to last (24-hex names of one timeline)
--- that repository repo's archive does not hold: a drill from a set that
--- starts at first cannot replay through last past the first of them.
--- Returns the missing names (at most 10), and how many were checked.
function pgbr.wal_gaps(target, stanza, b, first, last, segment_size)
  local id = archive_id(stanza, b)
  rb.check(id, "pgbackrest info: no WAL archive of set %s's database in repo%d", b.label, pgbr.repo_of(b))
  rb.check(first:sub(1, 8) == last:sub(1, 8),
    "WAL from %s to %s crosses a timeline: not checked segment by segment", first, last)
  local per_log = 4294967296 // (segment_size or 16777216)
  local function num(seg) return tonumber(seg:sub(9, 16), 16) * per_log + tonumber(seg:sub(17, 24), 16) end
  local tli, from, to = first:sub(1, 8), num(first), num(last)
  local listed, missing, checked = {}, {}, 0
  for n = from, to do
    local name = string.format("%s%08X%08X", tli, n // per_log, n % per_log)
    local dir = name:sub(1, 16)
    if not listed[dir] then
      local r = rb.must(ff.pgbackrest.wal_list(target, pgbr.repo_of(b), id, dir))
      rb.check(r.ok, "pgbackrest repo-ls of repo%d's archive/%s failed (exit %d, see %s): %s", pgbr.repo_of(b), dir,
        r.code, r.raw, r.tail)
      rb.check(not r.output_cut, "pgbackrest repo-ls of repo%d's archive/%s: more than the listing holds", pgbr.repo_of(b), dir)
      listed[dir] = {}
      for line in r.output:gmatch("[^\n]+") do
        local seg = line:match("^(%x+)%-%x+")
        if seg and #seg == 24 then listed[dir][seg] = true end
      end
    end
    checked = checked + 1
    if not listed[dir][name] and #missing < 10 then missing[#missing + 1] = name end
  end
  return missing, checked
end

--- pgbackrest verify of repository repo: { ok =, status =, invalid = {
--- "backup LABEL: ..." or "archive ID: ..." lines }, text = }. pgBackRest
--- exits 0 when it found invalid files: its text is what says.
function pgbr.verify_repo(target, repo)
  local r = rb.must(ff.pgbackrest.verify(target, repo))
  rb.check(r.ok, "pgbackrest verify --repo=%d failed (exit %d, see %s): %s", repo, r.code, r.raw, r.tail)
  local v = { status = r.output:match("\nstatus: (%a+)") or r.output:match("^status: (%a+)"), invalid = {},
              text = r.output, valid = {} }
  -- Each set's or archive's line, then its counts: what is not valid,
  -- or counts anything but valid files, is named.
  -- A set whose status is not valid is named even without counts (a
  -- manifest missing, a backup in progress print none).
  local head, bad_head
  local function flush(counts)
    if head and bad_head then v.invalid[#v.invalid + 1] = head .. (counts and ": " .. counts or "") end
    head, bad_head = nil, false
  end
  for line in r.output:gmatch("[^\n]+") do
    local label, st = line:match("^%s*backup: ([^,]+), status: ([^,]+)")
    local arch = line:match("^%s*archiveId: ([^,]+),")
    if label then
      flush()
      head, bad_head = "backup " .. label .. " (" .. st .. ")", st ~= "valid"
      if st == "valid" then v.valid[label] = true end
    elseif arch then
      flush()
      head, bad_head = "archive " .. arch, false
    elseif head and line:match("^%s*missing:") then
      for n in line:gmatch(": (%d+)") do if tonumber(n) > 0 then bad_head = true end end
      flush((line:gsub("^%s+", "")))
    end
  end
  flush()
  v.ok = v.status == "ok" and #v.invalid == 0
  return v
end

--- A backup folder's set (manifest m) against pgBackRest: the source
--- target still names m's stanza, the set is in its repository, every
--- repository passes pgbackrest verify, and the WAL from the set's start
--- through the proof point's segment is whole in the set's repository and
--- in every other one holding a set that ended before the proof point (a
--- drill with repo= restores from that one). Fails naming the first
--- problem; returns what was checked, per repository.
function pgbr.verify_backup(m)
  local target = m.source and m.source.target
  local t = ff.config.targets[target]
  rb.check(t and t.engine == "pgbackrest",
    "the backup's source target %s is not configured with engine pgbackrest: no repository to check", tostring(target))
  rb.check(t.pgbackrest.stanza == m.pgbackrest.stanza,
    "target %s's stanza is %s, the backup's is %s", target, t.pgbackrest.stanza, m.pgbackrest.stanza)
  local stanza = pgbr.info(target)
  local home = math.tointeger(m.pgbackrest.repo) or 1
  local set
  for _, b in ipairs(stanza.backup or {}) do
    if b.label == m.pgbackrest.label and pgbr.repo_of(b) == home then set = b end
  end
  rb.check(set, "backup set %s is not in repo%d any more (expired or removed): this backup cannot be restored",
    m.pgbackrest.label, home)
  local last = m.proof and m.proof.wal_segment
  local checked = {}
  for _, repo in ipairs(pgbr.repos(stanza)) do
    local v = pgbr.verify_repo(target, repo)
    local c = { repo = repo, status = v.status, invalid = v.invalid }
    checked[#checked + 1] = c
    rb.check(v.ok, "repo%d: pgbackrest verify says %s: %s", repo, tostring(v.status),
      #v.invalid > 0 and table.concat(v.invalid, "; ") or "see the raw verify log")
    local from = repo == home and set or (m.proof and m.proof.lsn and last and
      pgbr.set_before(stanza, repo, m.proof.lsn, pgbr.db_of(stanza, set) or "?", last:sub(1, 8)))
    if from then
      rb.check(v.valid[from.label], "repo%d: pgbackrest verify does not list set %s as valid", repo, from.label)
    end
    if from and last then
      local missing, n = pgbr.wal_gaps(target, stanza, from, from.archive.start, last, m.source.wal_segment_size)
      rb.check(#missing == 0, "repo%d: gap in the WAL archive: %s missing (of %d segments from set %s's start %s to the proof point's %s)",
        repo, table.concat(missing, ", "), n, from.label, from.archive.start, last)
      c.set, c.wal_segments = from.label, n
      ff.log.info(string.format("repo%d: verify ok; set %s and the %d WAL segments from %s to the proof point's %s are there",
        repo, from.label, n, from.archive.start, last))
    else
      ff.log.warn(string.format("repo%d: verify ok, but it holds no set that ended before the proof point: a drill from it cannot reach %s",
        repo, tostring(m.proof and m.proof.lsn)))
    end
  end
  return checked
end

--- Retention of one stanza's physical backups (target: a target with
--- that stanza and pgbackrest.conf; folders: the backup folders of every
--- target that has them, {stamp, path, manifest}, oldest first; proven:
--- backups.proven's map). pgBackRest's own retention (each repository's
--- repoN-retention-* in pgbackrest.conf) decides which sets expire,
--- `pgbackrest expire --dry-run` says which, and ffrun expires them one by
--- one (`--set`) except, for each database, the set of its newest
--- drill-proven backup, the set that drill restored, the sets they depend
--- on, and any set newer than those in that repository. Then the WAL older
--- than every set left goes (ff.pgbackrest.expire_wal), and the WAL from
--- each kept set to its proof point is listed again. A folder whose set
--- is gone from a repository pgBackRest reads is returned to be removed;
--- a newest proven one never is. Returns doomed folders, expired
--- "repoN LABEL"s, and the sets kept against pgBackRest's retention.
function pgbr.prune(target, folders, proven)
  local stanza = pgbr.info(target)
  local by_key = {}
  for _, b in ipairs(stanza.backup or {}) do by_key[pgbr.repo_of(b) .. " " .. b.label] = b end
  -- The sets a set needs: the prior chain (what pgBackRest's --set
  -- follows) and its references.
  local function needs(repo, b, into)
    local seen = 0
    while b and seen < 10000 do
      for _, ref in ipairs(type(b.reference) == "table" and b.reference or {}) do into[repo .. " " .. ref] = true end
      if type(b.prior) ~= "string" then break end
      into[repo .. " " .. b.prior] = true
      b, seen = by_key[repo .. " " .. b.prior], seen + 1
    end
  end
  -- Each database's newest proven folder (a stanza is a whole cluster:
  -- several targets may share it).
  local newest, order = {}, {}
  for _, f in ipairs(folders) do
    local key = tostring(f.manifest.source.target) .. "\0" .. tostring(f.manifest.source.dbname)
    if proven[f.stamp] then
      if not newest[key] then order[#order + 1] = key end
      newest[key] = f
    end
  end
  local keep, pinned, checks, spared = {}, {}, {}, {}
  local function hold(repo, label, f)
    local k = repo .. " " .. label
    keep[k] = true
    local b = by_key[k]
    if not b then return end
    needs(repo, b, keep)
    local t = b.timestamp and math.tointeger(b.timestamp.start)
    if t and (not pinned[repo] or t < pinned[repo]) then pinned[repo] = t end
    checks[#checks + 1] = { set = b, folder = f }
  end
  for _, key in ipairs(order) do
    local f = newest[key]
    spared[f] = true
    local r = proven[f.stamp].restore
    local home = math.tointeger(f.manifest.pgbackrest.repo) or 1
    hold(home, f.manifest.pgbackrest.label, f)
    local repo = type(r) == "table" and math.tointeger(r.repo) or home
    local label = type(r) == "table" and type(r.label) == "string" and r.label or f.manifest.pgbackrest.label
    if repo ~= home or label ~= f.manifest.pgbackrest.label then hold(repo, label, f) end
    ff.log.info(string.format("%s: the newest drill-proven backup of database %s is %s (set %s in repo%d%s): kept with what it depends on",
      tostring(f.manifest.source.target), tostring(f.manifest.source.dbname), f.stamp, f.manifest.pgbackrest.label, home,
      (repo ~= home or label ~= f.manifest.pgbackrest.label) and string.format("; its drill restored set %s from repo%d", label, repo) or ""))
  end
  local expired, held, gone = {}, {}, {}
  for _, repo in ipairs(pgbr.repos(stanza)) do
    local plan = rb.must(ff.pgbackrest.expire_plan(target, repo))
    rb.check(plan.ok, "pgbackrest expire --repo=%d --dry-run failed (exit %d, see %s): %s", repo, plan.code, plan.raw, plan.tail)
    rb.check(not plan.output_cut, "pgbackrest expire --repo=%d --dry-run: more output than ffrun reads", repo)
    local here = 0
    for label in plan.output:gmatch("repo" .. repo .. ": remove expired backup ([%w_%-]+)") do
      local k = repo .. " " .. label
      local b = by_key[k]
      local start = b and b.timestamp and math.tointeger(b.timestamp.start)
      if gone[k] then
        -- taken along with a set it depends on
      elseif not b then
        ff.log.warn(string.format("repo%d: pgBackRest's retention names %s, which its info does not list: left to pgBackRest", repo, label))
      elseif keep[k] then
        held[#held + 1] = "repo" .. k
        ff.log.warn(string.format("repo%d: pgBackRest's retention would expire set %s, which a newest drill-proven backup needs: kept (drill a newer backup to let it go)",
          repo, label))
      elseif pinned[repo] and not (start and start < pinned[repo]) then
        -- Expiring a set removes the WAL only it needed: one newer than a
        -- held set could take WAL the held set replays to its proof point.
        held[#held + 1] = "repo" .. k
        ff.log.warn(string.format("repo%d: pgBackRest's retention would expire set %s, newer than a set kept for a newest drill-proven backup: kept with it",
          repo, label))
      else
        -- A set expired with --set takes the sets that depend on it along.
        local r = rb.must(ff.pgbackrest.expire(target, repo, label))
        rb.check(r.ok, "pgbackrest expire --repo=%d --set=%s failed (exit %d, see %s): %s", repo, label, r.code, r.raw, r.tail)
        expired[#expired + 1] = "repo" .. k
        here = here + 1
        gone[k] = true
        for _, d in ipairs(stanza.backup or {}) do
          local deps = {}
          if pgbr.repo_of(d) == repo then needs(repo, d, deps) end
          if deps[k] then gone[repo .. " " .. d.label] = true end
        end
        ff.log.info(string.format("repo%d: set %s %s (pgBackRest's retention)", repo, label,
          ff.dry_run and "would expire" or "expired"))
      end
    end
    -- The WAL older than every set left: the expires by set keep it all.
    if not ff.dry_run and here > 0 then
      local fulls = 0
      for _, b in ipairs(pgbr.info(target).backup or {}) do
        if pgbr.repo_of(b) == repo and b.type == "full" then fulls = fulls + 1 end
      end
      if fulls > 0 then
        local r = rb.must(ff.pgbackrest.expire_wal(target, repo, fulls))
        rb.check(r.ok, "pgbackrest expire --repo=%d (the WAL before its %d full sets) failed (exit %d, see %s): %s", repo, fulls,
          r.code, r.raw, r.tail)
      end
    end
  end
  -- What is left in the repositories (a rehearsal expired nothing: the
  -- plan says what would go). Only a repository pgBackRest lists and
  -- reads now can say a set is gone.
  local left, readable = {}, {}
  local now = ff.dry_run and stanza or pgbr.info(target)
  for _, r in ipairs(now.repo or {}) do
    if r.status and r.status.code == 0 then readable[math.tointeger(r.key)] = true end
  end
  for _, b in ipairs(now.backup or {}) do
    local k = pgbr.repo_of(b) .. " " .. b.label
    if not (ff.dry_run and gone[k]) then left[k] = true end
  end
  -- The kept sets' WAL must still reach their proof points.
  if not ff.dry_run and #expired > 0 then
    for _, c in ipairs(checks) do
      local last = c.folder.manifest.proof and c.folder.manifest.proof.wal_segment
      if last then
        local missing = pgbr.wal_gaps(target, now, c.set, c.set.archive.start, last, c.folder.manifest.source.wal_segment_size)
        rb.check(#missing == 0, "repo%d: after expire, the WAL set %s replays to the proof point of %s is gone: %s missing (check repo%d-retention-archive)",
          pgbr.repo_of(c.set), c.set.label, c.folder.stamp, table.concat(missing, ", "), pgbr.repo_of(c.set))
      end
    end
  end
  local doomed = {}
  for _, f in ipairs(folders) do
    local repo = math.tointeger(f.manifest.pgbackrest.repo) or 1
    local label = f.manifest.pgbackrest.label
    if type(label) == "string" and readable[repo] and not left[repo .. " " .. label] and not spared[f] then
      doomed[#doomed + 1] = f
    end
  end
  return doomed, expired, held
end

--- The params target_time= and target_name= of drill and restore: their
--- checks.
function pgbr.valid_time(v)
  return v == "" or (#v <= 64 and v:match("^%d%d%d%d%-%d%d%-%d%d[%w :.+/_-]*$") ~= nil),
    "must be a time like 2026-12-02 15:09:38+00"
end
function pgbr.valid_point(v)
  return v == "" or (#v <= 63 and v:match("^[%w_.:][%w_.:-]*$") ~= nil), "must be a restore point name (letters, digits, _ . : -)"
end

--- What a drill or restore recovers to: { type =, target =, exclusive =, level = }
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

--- The live cluster a physical restore or rollback switches, opened with
--- confirm= (its database name): { data =, running = }. When its server
--- answers, its data_directory must be pgBackRest's pg1-path.
function pgbr.live(target, confirm)
  local live = ff.pgbackrest.live(target, confirm)
  local served = production_data_directory(target)
  rb.check(not served or served == live.data,
    "target %s's server runs from %s, but stanza %s's pg1-path is %s: the cluster to switch is not known for sure",
    target, tostring(served), ff.config.targets[target].pgbackrest.stanza, live.data)
  return live
end

--- The drill's instance for a backup m of this engine: pgbackrest restore
--- of m's set into a throwaway instance's own data folder, recovery to
--- recovery (pgbr.recovery_target), promotion. Only an ephemeral target:
--- a physical restore replaces a whole data directory. With beside
--- ("restore_STAMP"), restore's: the data folder is made beside
--- production's, to be switched in once proven (inst:release,
--- ff.pgbackrest.switch). Returns the instance (a rehearsal's is planned).
function pgbr.instance(p, m, recovery, major, beside)
  local cfg = ff.config
  rb.check(beside or cfg.targets[p.target].ephemeral,
    "target %s is a configured server: a drill of a pgBackRest backup restores into a throwaway instance only (an ephemeral target)",
    p.target)
  local source = m.source.target
  local t = cfg.targets[source]
  rb.check(t and t.engine == "pgbackrest",
    "the backup's source target %s is not configured with engine pgbackrest: no repository to restore from", tostring(source))
  rb.check(t.pgbackrest.stanza == m.pgbackrest.stanza,
    "target %s's stanza is %s, the backup's is %s", source, t.pgbackrest.stanza, m.pgbackrest.stanza)
  local prod_data = not beside and production_data_directory(source)
  -- The set's own repository, or the one repo= names: there, the newest
  -- set that ended before the proof point (the WAL replays it to there).
  local home = math.tointeger(m.pgbackrest.repo) or 1
  local repo, label = home, m.pgbackrest.label
  if p.repo ~= 0 and p.repo ~= home then
    repo = p.repo
    local stanza = pgbr.info(source)
    local known = {}
    for _, k in ipairs(pgbr.repos(stanza)) do known[k] = true end
    rb.check(known[repo], "repo=%d: stanza %s has no repository %d", repo, m.pgbackrest.stanza, repo)
    rb.check(m.proof and m.proof.lsn and m.proof.lsn ~= "(planned)", "repo=%d: the backup has no proof point to restore to", repo)
    local own
    for _, x in ipairs(stanza.backup or {}) do
      if x.label == m.pgbackrest.label and pgbr.repo_of(x) == home then own = x end
    end
    local b = pgbr.set_before(stanza, repo, m.proof.lsn, own and pgbr.db_of(stanza, own) or "?",
      type(m.proof.wal_segment) == "string" and m.proof.wal_segment:sub(1, 8) or nil)
    rb.check(b, "repo%d holds no backup set of stanza %s that ended before the proof point %s: nothing there can reach it",
      repo, m.pgbackrest.stanza, m.proof.lsn)
    label = b.label
    ff.log.info(string.format("repo%d: set %s (ended at %s) replays to the proof point %s", repo, label, b.lsn.stop, m.proof.lsn))
  end
  if beside then
    -- The copy beside production's folder takes the set's whole size
    -- there (pgbackrest info's database size), and a margin for WAL.
    local live = ff.pgbackrest.live(source, p.confirm)
    local set = (pgbr.info(source, label).backup or {})[1]
    local need = set and set.info and math.tointeger(set.info.size)
    if need and live.free_bytes >= 0 then
      need = need + math.max(need // 10, 1 << 30)
      rb.check(live.free_bytes >= need, "the copy of set %s needs about %.1f GB beside %s, and its file system has %.1f GB free: nothing was restored",
        label, need / 1e9, live.data, live.free_bytes / 1e9)
    end
  end
  local inst = rb.must(ff.pg.instance({ major = major, restore = {
    from = source, set = label, repo = repo, type = recovery.type, target = recovery.target,
    exclusive = recovery.exclusive, timeout_s = p.recovery_timeout, beside = beside,
    wal_segment_size = math.tointeger(m.source.wal_segment_size) } }))
  local i = inst:info()
  if prod_data then
    local mine = i.folder .. "/data"
    rb.check(prod_data ~= mine and prod_data:sub(1, #i.folder + 1) ~= i.folder .. "/"
      and i.folder:sub(1, #prod_data + 1) ~= prod_data .. "/",
      "the drill's data directory %s is production's (%s): refused", mine, prod_data)
  end
  ff.evidence.set("restore", { label = label, repo = repo, type = recovery.type, target = recovery.target,
    folder = i.folder, beside = beside, restore_s = i.restore_s, recover_s = i.recover_s })
  if i.folder == "(planned)" then
    ff.log.info(string.format("pgbackrest restore of %s from repo%d and recovery to %s %s: planned", label, repo,
      recovery.type, recovery.target))
  else
    ff.log.info(string.format("pgbackrest restore of %s from repo%d: %.1f s; recovery to %s %s and promotion: %.1f s",
      label, repo, i.restore_s, recovery.type, recovery.target, i.recover_s))
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

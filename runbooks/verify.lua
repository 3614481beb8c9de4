-- verify: check a finished backup or evidence folder against what it
-- claims about itself. Trust evidence, not words.
local rb = require "rb"
local backups = require "backups"
local pgbr = require "pgbackrest"

local kind      -- "backup" or "evidence"
local folder

return {
  name = "verify",
  version = "1.0",
  summary = "Check a backup or an evidence folder against its DIGEST (and its hash chain or manifest)",
  params = {
    { name = "path", type = "dir", required = true,
      doc = "the backup (<backups>/<STAMP>) or evidence (<evidence>/<RUN_ID>) folder to check" },
  },
  steps = {
    {
      name = "identify",
      doc = "Tell a backup (manifest.json) from an evidence folder (summary.json)",
      run = function(p)
        folder = p.path
        rb.check(not folder:match("%.partial$"),
          "%s: a .partial folder is an unfinished backup, never a complete one", folder)
        if ff.fs.exists(folder .. "/manifest.json") then
          kind = "backup"
        elseif ff.fs.exists(folder .. "/summary.json") then
          kind = "evidence"
        else
          rb.fail("%s: neither manifest.json nor summary.json: not a backup or evidence folder", folder)
        end
        rb.check(ff.fs.exists(folder .. "/DIGEST"), "%s/DIGEST: missing", folder)
        ff.log.info(string.format("%s is %s folder", folder, kind == "backup" and "a backup" or "an evidence"))
        ff.evidence.set("verified", { path = folder, kind = kind })
      end,
    },
    {
      name = "digest",
      doc = "Every file's sha256 equals its DIGEST line, and every file is listed",
      run = function()
        local ok, problems = ff.verify.digest(folder)
        if not ok then
          ff.evidence.raw("digest-problems.txt", table.concat(problems, "\n") .. "\n")
          rb.fail("%s", table.concat(problems, "; "))
        end
      end,
    },
    {
      name = "chain",
      doc = "events.jsonl is an unbroken hash chain whose end matches summary.json",
      run = function()
        if kind ~= "evidence" then return end
        local ok, problems, count, last = ff.verify.events(folder)
        if not ok then rb.fail("%s", table.concat(problems, "; ")) end
        local summary = rb.read_json(folder .. "/summary.json")
        local anchor = summary.events or {}
        rb.check(anchor.count == count and anchor.last_sha256 == last,
          "events.jsonl: %d lines ending in %s, but summary.json says %s lines ending in %s",
          count, last:sub(1, 12), tostring(anchor.count), tostring(anchor.last_sha256):sub(1, 12))
      end,
    },
    {
      name = "manifest",
      doc = "Every artifact in manifest.json exists with its recorded size and sha256",
      run = function()
        if kind ~= "backup" then return end
        local m = rb.read_json(folder .. "/manifest.json")
        local digest = {}
        for hex, name in rb.must(ff.fs.read(folder .. "/DIGEST")):gmatch("(%x+)  ([^\n]+)") do
          digest[name] = hex
        end
        rb.check(backups.FORMATS[m.format], "manifest.json: unknown format %s", tostring(m.format))
        rb.check(type(m.artifacts) == "table" and #m.artifacts > 0, "manifest.json: no artifacts")
        for _, a in ipairs(m.artifacts) do
          local path = folder .. "/" .. a.path
          local st = ff.fs.stat(path)
          rb.check(st, "%s: listed in manifest.json but missing", a.path)
          rb.check(st.size == a.bytes, "%s: %d bytes, manifest.json says %d", a.path, st.size, a.bytes)
          -- The digest step already hashed every file against DIGEST, so
          -- agreeing with DIGEST proves the file: no second read of a dump.
          rb.check(digest[a.path] == a.sha256, "%s: sha256 in manifest.json differs from DIGEST", a.path)
        end
      end,
    },
    {
      name = "archive",
      doc = "Read the whole archive with stock pg_restore (a truncated dump still lists its TOC); engine pgbackrest: pgbackrest verify of every repository, and the WAL from the set to the proof point whole",
      run = function()
        if kind ~= "backup" then return end
        local m = rb.read_json(folder .. "/manifest.json")
        if m.engine == "pgbackrest" then
          -- The data is in pgBackRest's repositories, not in this folder.
          local repos = pgbr.verify_backup(m)
          ff.evidence.set("archive", { engine = "pgbackrest", read = true, repos = repos })
          return
        end
        local ok, msg = ff.pg.archive_read(folder .. "/db.dump")
        rb.check(ok, "db.dump: pg_restore cannot read the whole archive: %s", tostring(msg):gsub("%s+", " "))
      end,
    },
  },
}

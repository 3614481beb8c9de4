-- A test runbook: checks a backup's manifest.json against SPEC §6 and
-- against row counts computed by psql, independently of ffrun, into
-- <counts>/counts.txt ("schema.table N" lines).
local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

return {
  name = "check-manifest", version = "1", summary = "check a manifest against SPEC §6",
  params = {
    { name = "path", type = "dir", required = true, doc = "the backup folder" },
    { name = "counts", type = "dir", required = true, doc = "folder with counts.txt" },
  },
  steps = { { name = "check", doc = "every key present, counts equal", run = function(p)
    local m = ff.json.decode(assert(ff.fs.read(p.path .. "/manifest.json")))
    for _, k in ipairs({ "format", "stamp", "created_at", "completed_at", "source", "tools",
                         "runbook", "artifacts", "verify", "tables", "evidence_run",
                         "sequences", "schema_sha256", "matviews", "large_objects",
                         "schema_inventory", "database" }) do
      if m[k] == nil then fail("manifest.json lacks %s", k) end
    end
    for _, k in ipairs({ "target", "host", "port", "dbname", "server_version", "system_identifier", "size_bytes" }) do
      if m.source[k] == nil then fail("manifest.json source lacks %s", k) end
    end
    if not (m.tools.ffrun and m.tools.pg_dump) then fail("manifest.json tools incomplete") end
    if not (m.runbook.path and #m.runbook.sha256 == 64) then fail("manifest.json runbook incomplete") end
    if m.format ~= "ffrun.backup/2" then fail("format %s", m.format) end
    for _, k in ipairs({ "encoding", "collate", "ctype", "locale_provider", "owner", "connlimit", "settings" }) do
      if m.database[k] == nil then fail("manifest.json database lacks %s", k) end
    end
    if not (m.schema_inventory.objects > 0 and #m.schema_inventory.sha256 == 64) then fail("schema inventory empty") end
    if m.stamp ~= p.path:match("([^/]+)$") then fail("stamp %s is not the folder's name", m.stamp) end
    local seen = {}
    for _, a in ipairs(m.artifacts) do
      if not (a.path and a.bytes and #a.sha256 == 64) then fail("artifact incomplete") end
      seen[a.path] = true
    end
    for _, f in ipairs({ "db.dump", "globals.sql", "schema.tsv", "large_objects.tsv" }) do
      if not seen[f] then fail("artifacts lack %s", f) end
    end
    local want = {}
    for name, n in assert(ff.fs.read(p.counts .. "/counts.txt")):gmatch("(%S+) (%d+)") do
      want[name] = tonumber(n)
    end
    local compared = 0
    for _, t in ipairs(m.tables) do
      if not (t.schema and t.name) then fail("a table not named by its parts") end
      t.name = t.schema .. "." .. t.name
      if want[t.name] == nil then fail("manifest table %s unknown to psql", t.name) end
      if t.rows ~= want[t.name] then fail("%s: manifest says %s rows, count(*) says %d", t.name, tostring(t.rows), want[t.name]) end
      if m.verify == "content" and #(t.content_sha256 or "") ~= 64 then fail("%s: no content_sha256", t.name) end
      compared = compared + 1
      want[t.name] = nil
    end
    if next(want) then fail("table %s missing from the manifest", next(want)) end
    if compared == 0 then fail("no table compared") end
    ff.log.info(string.format("%d tables compared", compared))
  end } },
}

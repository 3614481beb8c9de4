-- A test runbook: backups.expected_dump_bytes (the pg_dump progress's
-- estimate) against the newest backup's own manifest, read here.
local backups = require "backups"
local function fail(fmt, ...) error(string.format(fmt, ...), 0) end

return {
  name = "expected-dump", version = "1", summary = "the dump size a backup expects",
  params = {
    { name = "root", type = "dir", required = true, doc = "a backups folder" },
  },
  steps = { { name = "check", doc = "scaled from the newest backup of the same database, else nil", run = function(p)
    local all = backups.list(p.root)
    if #all == 0 then fail("no backup in %s", p.root) end
    local m = ff.json.decode(assert(ff.fs.read(all[#all].path .. "/manifest.json")))
    local dump
    for _, a in ipairs(m.artifacts) do if a.path == "db.dump" then dump = a.bytes end end
    local src = { dbname = m.source.dbname, system_identifier = m.source.system_identifier,
                  size_bytes = m.source.size_bytes }
    local got = backups.expected_dump_bytes(p.root, src)
    if got ~= dump then fail("same size: expected %s, got %s", tostring(dump), tostring(got)) end
    src.size_bytes = m.source.size_bytes * 3
    got = backups.expected_dump_bytes(p.root, src)
    if got ~= dump * 3 then fail("database 3x bigger: expected %s, got %s", tostring(dump * 3), tostring(got)) end
    src.dbname = "not_" .. m.source.dbname
    if backups.expected_dump_bytes(p.root, src) ~= nil then fail("another database's dump was taken") end
    src.dbname, src.system_identifier = m.source.dbname, "1"
    if backups.expected_dump_bytes(p.root, src) ~= nil then fail("another cluster's dump was taken") end
  end } },
}

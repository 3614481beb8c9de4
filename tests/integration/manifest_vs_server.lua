-- A backup's manifest fingerprints (most of them taken from the dump's own
-- stream) against conn:fingerprint on the unchanged source, table by table.
local rb = require "rb"

return {
  name = "manifest-vs-server",
  version = "1",
  summary = "manifest rows and content digests equal the server's",
  params = {
    { name = "target", type = "string", default = "prod", doc = "configured target" },
    { name = "path", type = "string", doc = "the backup folder" },
  },
  steps = {
    {
      name = "compare",
      doc = "Every manifest table against one COPY on the server",
      run = function(p)
        local m = ff.json.decode((rb.must(ff.fs.read(p.path .. "/manifest.json"))))
        rb.check(m.verify == "content", "manifest verify is %s, not content", tostring(m.verify))
        local db = rb.must(ff.pg.connect(p.target))
        local by = {}
        for _, t in ipairs(rb.must(db:tables())) do by[t.schema .. "\0" .. t.name] = t end
        for _, want in ipairs(m.tables) do
          local t = by[want.schema .. "\0" .. want.name]
          rb.check(t, "%s: not on the server", want.name)
          local rows, sum = rb.must(db:fingerprint(t.schema, t.name, "content"))
          rb.check(rows == want.rows, "%s: manifest %s rows, server %d", want.name, tostring(want.rows), rows)
          rb.check(sum == want.content_sha256, "%s: manifest content %s, server %s", want.name,
            tostring(want.content_sha256), sum)
        end
        ff.log.info(string.format("%d tables equal", #m.tables))
      end,
    },
  },
}

-- conn:fingerprints (many connections, big tables cut into page ranges)
-- must give exactly what conn:fingerprint (one connection, one COPY) gives,
-- for every table, whatever the number of connections.
local rb = require "rb"

return {
  name = "fingerprints-split",
  version = "1",
  summary = "conn:fingerprints equals conn:fingerprint table by table",
  params = {
    { name = "target", type = "string", default = "prod", doc = "configured target" },
    { name = "big", type = "string", default = "public.pgbench_accounts",
      doc = "a table over 32 MiB, which must be split" },
  },
  steps = {
    {
      name = "compare",
      doc = "One COPY per table against 1, 2 and 3 connections with splits",
      run = function(p)
        local db = rb.must(ff.pg.connect(p.target))
        local list = rb.must(db:tables())
        local size = rb.must(db:query("SELECT pg_relation_size($1::regclass) AS b", p.big))[1].b
        rb.check(tonumber(size) > 32 * 1024 * 1024, "%s is only %s bytes: nothing to split", p.big, size)
        local one = {}
        for i, t in ipairs(list) do
          local rows, sum = rb.must(db:fingerprint(t.schema, t.name, "content"))
          one[i] = { rows = rows, sum = sum }
        end
        for _, jobs in ipairs({ 1, 2, 3 }) do
          for _, mode in ipairs({ "rows", "content" }) do
            local got = rb.must(db:fingerprints(list, mode, jobs))
            rb.check(#got == #list, "%d results for %d tables", #got, #list)
            for i, t in ipairs(list) do
              local name = t.schema .. "." .. t.name
              rb.check(got[i].rows == one[i].rows, "%s jobs=%d %s: %s rows, one COPY says %s",
                name, jobs, mode, tostring(got[i].rows), tostring(one[i].rows))
              if mode == "content" then
                rb.check(got[i].content_sha256 == one[i].sum, "%s jobs=%d: content differs", name, jobs)
              end
            end
          end
        end
        ff.log.info(string.format("%d tables equal over 1, 2 and 3 connections", #list))
      end,
    },
  },
}

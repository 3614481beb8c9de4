-- conn:fingerprints (tables shared between several connections) must give
-- exactly what conn:fingerprint (one connection) gives, for every table, in
-- the order asked, whatever the number of connections.
local rb = require "rb"

return {
  name = "fingerprints-parallel",
  version = "1",
  summary = "conn:fingerprints equals conn:fingerprint table by table",
  params = {
    { name = "target", type = "string", default = "prod", doc = "configured target" },
    { name = "ranges", type = "boolean", default = false,
      doc = "the database holds a table over 64 MiB: some result must come from page ranges" },
  },
  steps = {
    {
      name = "compare",
      doc = "One connection against 1, 2 and 3, tables given in reverse order",
      run = function(p)
        local db = rb.must(ff.pg.connect(p.target))
        local list = rb.must(db:tables())
        rb.check(#list >= 3, "only %d tables", #list)
        -- Reversed: results must follow the order asked, not the order
        -- (biggest first) in which the connections take the tables.
        for i = 1, #list // 2 do list[i], list[#list + 1 - i] = list[#list + 1 - i], list[i] end
        local one = {}
        for i, t in ipairs(list) do
          local rows, sum = rb.must(db:fingerprint(t.schema, t.name, "content"))
          one[i] = { rows = rows, sum = sum }
        end
        local split = 0
        for _, jobs in ipairs({ 1, 2, 3 }) do
          for _, mode in ipairs({ "rows", "content" }) do
            local got = rb.must(db:fingerprints(list, mode, jobs))
            rb.check(#got == #list, "%d results for %d tables", #got, #list)
            for i, t in ipairs(list) do
              local name = t.schema .. "." .. t.name
              rb.check(jobs > 1 or got[i].parts == 1, "%s read in %d parts by one connection", name, got[i].parts)
              if got[i].parts > 1 then split = split + 1 end
              rb.check(got[i].rows == one[i].rows, "%s jobs=%d %s: %s rows, one COPY says %s",
                name, jobs, mode, tostring(got[i].rows), tostring(one[i].rows))
              if mode == "content" then
                rb.check(got[i].content_sha256 == one[i].sum, "%s jobs=%d: content differs", name, jobs)
              end
            end
          end
        end
        -- The test database holds a table over 64 MiB: it must have been
        -- read in page ranges, or the comparison above proved nothing of them.
        rb.check(split > 0 or not p.ranges, "no table was read in page ranges")
        ff.log.info(string.format("%d tables equal over 1, 2 and 3 connections (%d results from page ranges)",
          #list, split))
      end,
    },
  },
}

-- table-counts: an example runbook (docs/runbook-guide.md). Counts the rows
-- of every table of a target and keeps the counts as evidence. Read-only:
-- it runs the same way with and without --dry-run.
--
--   ffrun --describe examples/runbooks/table-counts.lua
--   ffrun -c ffrun.yaml examples/runbooks/table-counts.lua target=prod min_tables=5
local rb = require "rb"

local db           -- shared by the steps of one run
local counts = {}

---@type FfRunbook
return {
  name = "table-counts",
  version = "1.0",
  summary = "Count the rows of every table of a target, as evidence",
  params = {
    { name = "target", type = "string", default = "prod",
      doc = "the configured database target to count",
      check = function(v) return ff.config.targets[v] ~= nil, "no such target in the configuration" end },
    { name = "min_tables", type = "integer", default = 1,
      doc = "FAIL when the database has fewer tables than this",
      check = function(v) return v >= 0, "must be 0 or more" end },
  },
  steps = {
    {
      name = "connect",
      doc = "Connect to the target (a throwaway instance cannot be counted)",
      run = function(p)
        if ff.config.targets[p.target].ephemeral then
          ff.usage("target " .. p.target .. " is ephemeral: name a server")   -- exit 2
        end
        db = rb.must(ff.pg.connect(p.target))        -- nil, msg -> step FAIL
        local facts = rb.must(db:facts())
        ff.log.info(string.format("%s: database %s on PostgreSQL %s",
          p.target, facts.dbname, facts.server_version))
      end,
    },
    {
      name = "count",
      doc = "Exact count(*) of every table, in one read-only transaction each",
      run = function(p)
        local tables = rb.must(db:tables())
        rb.check(#tables >= p.min_tables, "%d tables, expected at least %d", #tables, p.min_tables)
        local lines = {}
        for _, t in ipairs(tables) do
          local name = t.schema .. "." .. t.name
          local rows = rb.must(db:fingerprint(t.schema, t.name, "rows"))
          counts[#counts + 1] = { name = name, rows = rows }
          lines[#lines + 1] = string.format("%-40s %12d", name, rows)
        end
        ff.evidence.raw("counts.txt", table.concat(lines, "\n") .. "\n")
        ff.evidence.set("counts", counts)
      end,
    },
    {
      name = "close",
      doc = "Close the connection, whatever happened",
      cleanup = true,
      run = function()
        if db then db:close() end
      end,
    },
  },
}

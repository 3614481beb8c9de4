-- amcheck.lua: physical integrity of a restored copy (issue #13, item 5).
-- The proof compares what a database holds with what the backup had; it
-- does not read every page of every index. pg_amcheck --heapallindexed
-- does: a heap page or an index that restored wrong on this disk is found
-- here, before the copy is trusted. Its time is its own, kept out of RTO.
local rb = require "rb"

local amcheck = {}

--- Check database db of instance inst (a throwaway one: pg_amcheck
--- installs the amcheck extension into it), record `amcheck_s` and
--- `amcheck` in the evidence, log the time on its own line, and fail the
--- step naming the corrupt relations. Returns the result.
function amcheck.instance(inst, db)
  local r = rb.must(inst:amcheck(db))
  local s = math.floor(r.duration_s * 1000) / 1000
  ff.evidence.set("amcheck_s", s)
  ff.evidence.set("amcheck", { database = db, ok = r.ok, problems = r.problems, raw = r.raw,
                               relations = #r.relations > 0 and r.relations or nil })
  ff.log.info(string.format("amcheck of %s (pg_amcheck --heapallindexed): %.1f s, %s", db, s,
    r.dry_run and "planned" or r.ok and "no corruption" or string.format("%d problem(s)", r.problems)))
  rb.check(r.ok, "amcheck: corruption in %s: %s (whole report: %s)",
    table.concat(r.relations, ", "), r.summary, r.raw)
  return r
end

--- Record in the evidence, and say, that the check was not done and why
--- (as a warning when the configuration asked for it).
function amcheck.skipped(why, warn)
  ff.evidence.set("amcheck", { skipped = why })
  ;(warn and ff.log.warn or ff.log.info)("amcheck skipped: " .. why)
end

return amcheck

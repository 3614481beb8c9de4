-- readers.lua: what tests/fuzz/fuzz_readers.c runs in the sandbox on every
-- input (under --check: the top level runs, no step). The folders hold one
-- backup and one drill summary the fuzzer wrote; every reader that verify,
-- report, prune, gate, restore and drill use on such folders is called as
-- they call it. A clean failure (rb.fail's message) is what hostile input
-- may give; a Lua runtime error (a position prefix, a bad argument) means
-- a reader trusted what it read: raised here, so the run exits non-zero
-- and the target traps.
local backups = require "backups"
local proof = require "proof"

local function runtime_error(msg)
  msg = tostring(msg)
  return msg:match("^[^:\n]*%.lua:%d+: ") ~= nil or msg:match("^bad argument #") ~= nil
end

local function must_be_clean(what, ok, msg)
  if not ok and runtime_error(msg) then error("FUZZ FINDING in " .. what .. ": " .. tostring(msg), 0) end
end

local root, evidence = ff.paths.backups, ff.paths.evidence
local facts = { dbname = "app", system_identifier = "7000000000000000001", size_bytes = 1000 }

-- prune, report, gate: summaries and the backups list, which never fail.
must_be_clean("runs/proven/last_drills", pcall(function()
  local runs = backups.runs(evidence)
  local proven = backups.proven(runs)
  local last = backups.last_drills(runs)
  for stamp, r in pairs(proven) do assert(type(stamp) == "string" and type(r) == "table") end
  for stamp, r in pairs(last) do
    assert(backups.is_stamp(stamp) and type(r) == "table")
    -- What gate and report print of a drill run.
    local _ = tostring(r.run_id) .. tostring(r.status) .. tostring(r.error)
  end
end))
must_be_clean("list/size/of_database/expected_dump_bytes", pcall(function()
  for _, b in ipairs(backups.list(root)) do
    local n = backups.size(b)
    assert(n == nil or math.type(n) ~= nil)
  end
  backups.of_database(root, facts)
  backups.expected_dump_bytes(root, facts)
end))
-- verify, restore, drill: the backup checked against its DIGEST and manifest.
for _, b in ipairs(backups.list(root)) do
  must_be_clean("proof.check_backup", pcall(proof.check_backup, b.path))
end

return {
  name = "fuzz-readers", version = "1",
  summary = "The stdlib readers on folders a fuzzer wrote (tests/fuzz/fuzz_readers.c)",
  steps = { { name = "none", doc = "Nothing: the readers ran at load", run = function() end } },
}

-- expect: 3
-- match: memory limit
return { name = "escape", version = "1", summary = "escape attempt: 18-memory-bomb",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local t = {}; for i = 1, 1e9 do t[i] = string.rep("x", 65536) .. i end
  end } } }

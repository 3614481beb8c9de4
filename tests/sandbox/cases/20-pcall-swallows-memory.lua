-- expect: 3
-- match: memory limit
return { name = "escape", version = "1", summary = "escape attempt: 20-pcall-swallows-memory",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    for i = 1, 1000 do pcall(string.rep, "x", 1 << 30) end; while true do end
  end } } }

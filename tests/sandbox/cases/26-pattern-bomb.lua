-- expect: 3
-- match: wall-clock limit
return { name = "escape", version = "1", summary = "escape attempt: 26-pattern-bomb",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local s = string.rep("a", 200000); s:find(".-.-.-.-.-.-.-.-.-b")
  end } } }

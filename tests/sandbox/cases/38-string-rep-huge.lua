-- expect: 3
-- match: memory limit
return { name = "escape", version = "1", summary = "escape attempt: 38-string-rep-huge",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local s = string.rep("x", 1 << 30)
  end } } }

-- expect: 1
-- match: attempt to index a boolean value
return { name = "escape", version = "1", summary = "escape attempt: 11-string-metatable",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    getmetatable("").__index = { upper = function() return "pwned" end }
  end } } }

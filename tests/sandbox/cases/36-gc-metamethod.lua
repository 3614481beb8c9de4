-- expect: 3
-- match: __gc are not allowed
return { name = "escape", version = "1", summary = "escape attempt: 36-gc-metamethod",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    setmetatable({}, { __gc = function() while true do end end })
  end } } }

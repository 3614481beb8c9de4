-- expect: 3
-- match: instruction limit
return { name = "escape", version = "1", summary = "escape attempt: 24-tostring-loop-print",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    print(setmetatable({}, { __tostring = function() while true do end end }))
  end } } }

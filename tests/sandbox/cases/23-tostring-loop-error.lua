-- expect: 1
-- match: error object is a table value
return { name = "escape", version = "1", summary = "escape attempt: 23-tostring-loop-error",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    error(setmetatable({}, { __tostring = function() while true do end end }))
  end } } }

-- expect: 3
-- match: instruction limit
return { name = "escape", version = "1", summary = "escape attempt: 19-pcall-swallows-loop",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    while true do pcall(function() while true do end end) end
  end } } }

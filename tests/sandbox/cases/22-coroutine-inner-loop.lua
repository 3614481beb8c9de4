-- expect: 3
-- match: instruction limit
return { name = "escape", version = "1", summary = "escape attempt: 22-coroutine-inner-loop",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    coroutine.wrap(function() while true do end end)()
  end } } }

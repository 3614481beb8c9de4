-- expect: 3
-- match: instruction limit
return { name = "escape", version = "1", summary = "escape attempt: 21-coroutine-loop",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local co = coroutine.wrap(function() while true do coroutine.yield() end end); while true do co() end
  end } } }

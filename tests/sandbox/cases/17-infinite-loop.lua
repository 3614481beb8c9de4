-- expect: 3
-- match: instruction limit
return { name = "escape", version = "1", summary = "escape attempt: 17-infinite-loop",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    while true do end
  end } } }

-- expect: 3
-- match: collectgarbage("stop") is not allowed
return { name = "escape", version = "1", summary = "escape attempt: 16-collectgarbage",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    collectgarbage("stop")
  end } } }

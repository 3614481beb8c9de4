-- expect: 3
-- match: 'dump' is not available
return { name = "escape", version = "1", summary = "escape attempt: 10-string-dump",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local s = string.dump(function() end); load(s, "x", "b", {})()
  end } } }

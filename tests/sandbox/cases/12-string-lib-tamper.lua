-- expect: 3
-- match: modify a protected table
return { name = "escape", version = "1", summary = "escape attempt: 12-string-lib-tamper",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    string.upper = function() return "pwned" end
  end } } }

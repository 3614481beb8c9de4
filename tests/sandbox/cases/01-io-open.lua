-- expect: 3
-- match: 'io' is not available
return { name = "escape", version = "1", summary = "escape attempt: 01-io-open",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local f = io.open("@PWNED@", "w"); f:write("x")
  end } } }

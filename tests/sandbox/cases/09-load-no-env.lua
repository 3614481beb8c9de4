-- expect: 3
-- match: explicit environment
return { name = "escape", version = "1", summary = "escape attempt: 09-load-no-env",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    load("return 1")()
  end } } }

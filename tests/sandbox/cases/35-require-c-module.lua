-- expect: 1
-- match: module 'io' not found
return { name = "escape", version = "1", summary = "escape attempt: 35-require-c-module",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    require("io")
  end } } }

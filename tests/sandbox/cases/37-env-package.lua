-- expect: 3
-- match: 'package' is not available
return { name = "escape", version = "1", summary = "escape attempt: 37-env-package",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local p = _ENV.package; p.cpath = "/tmp/?.so"
  end } } }

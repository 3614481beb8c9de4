-- expect: 3
-- match: 'loadfile' is not available
return { name = "escape", version = "1", summary = "escape attempt: 07-loadfile-via-G",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    _G["loadfile"]("/etc/passwd")
  end } } }

-- expect: 3
-- match: not in exec.allow
return { name = "escape", version = "1", summary = "escape attempt: 32-exec-not-allowed",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/bin/sh", "-c", "touch @PWNED@" })
  end } } }

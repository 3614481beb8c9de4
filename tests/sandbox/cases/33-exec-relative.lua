-- expect: 3
-- match: absolute path
return { name = "escape", version = "1", summary = "escape attempt: 33-exec-relative",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "sh", "-c", "touch @PWNED@" })
  end } } }

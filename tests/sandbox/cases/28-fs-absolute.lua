-- expect: 3
-- match: outside the allowed folders
return { name = "escape", version = "1", summary = "escape attempt: 28-fs-absolute",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.write("@PWNED@", "x")
  end } } }

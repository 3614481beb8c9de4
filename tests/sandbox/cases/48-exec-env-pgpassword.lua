-- expect: 3
-- match: exec env PGPASSWORD: only
return { name = "escape", version = "1", summary = "escape attempt: 48-exec-env-pgpassword",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/usr/bin/touch", "@PWNED@" }, { env = { PGPASSWORD = "secret" } })
  end } } }

-- expect: 3
-- match: exec env DATABASE_URL: a password in it
return { name = "escape", version = "1", summary = "escape attempt: 49-exec-env-url-password",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/usr/bin/touch", "@PWNED@" }, { env = { DATABASE_URL = "postgres://app:secret@db/app" } })
  end } } }

-- expect: 3
-- match: exec env DATABASE_URL: a password in it
return { name = "escape", version = "1", summary = "escape attempt: 51-exec-env-query-password",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/usr/bin/touch", "@PWNED@" }, { env = { DATABASE_URL = "postgresql://app@db/app?sslmode=require&password=secret" } })
  end } } }

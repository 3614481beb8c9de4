-- expect: 3
-- match: exec env DATABASE_URL: a password in it
return { name = "escape", version = "1", summary = "escape attempt: 50-exec-env-conninfo-password",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/usr/bin/touch", "@PWNED@" }, { env = { PGDATABASE = "app", DATABASE_URL = "host=db dbname=app password=secret" } })
  end } } }

-- expect: 3
-- match: exec env LD_PRELOAD: only
return { name = "escape", version = "1", summary = "escape attempt: 47-exec-env-ld-preload",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec({ "/usr/bin/touch", "@PWNED@" }, { env = { LD_PRELOAD = "/tmp/evil.so" } })
  end } } }

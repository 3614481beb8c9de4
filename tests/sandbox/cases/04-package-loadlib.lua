-- expect: 3
-- match: 'package' is not available
return { name = "escape", version = "1", summary = "escape attempt: 04-package-loadlib",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    package.loadlib("/lib/x86_64-linux-gnu/libc.so.6", "system")("touch @PWNED@")
  end } } }

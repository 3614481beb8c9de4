-- expect: 3
-- match: 'getenv' is not available
return { name = "escape", version = "1", summary = "escape attempt: 03-os-getenv",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.write(ff.paths.backups .. "/env", os.getenv("HOME"))
  end } } }

-- expect: 3
-- match: read-only
return { name = "escape", version = "1", summary = "escape attempt: 31-fs-readonly-root",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.write(ff.paths.config_dir .. "/pwned", "x")
  end } } }

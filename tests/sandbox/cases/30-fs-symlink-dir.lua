-- expect: 3
-- match: symlink or not a folder
return { name = "escape", version = "1", summary = "escape attempt: 30-fs-symlink-dir",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.write(ff.paths.backups .. "/link-dir/pwned", "x")
  end } } }

-- expect: 3
-- match: '..' is not allowed
return { name = "escape", version = "1", summary = "escape attempt: 27-fs-dotdot",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.read(ff.paths.backups .. "/../../../../../../etc/passwd")
  end } } }

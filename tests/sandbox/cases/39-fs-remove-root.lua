-- expect: 3
-- match: root folder cannot be removed
return { name = "escape", version = "1", summary = "escape attempt: 39-fs-remove-root",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.fs.remove(ff.paths.backups, true)
  end } } }

-- expect: 3
-- match: symlinks are not followed
return { name = "escape", version = "1", summary = "escape attempt: 29-fs-symlink-file",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.evidence.raw("passwd", ff.fs.read(ff.paths.backups .. "/link-file"))
  end } } }

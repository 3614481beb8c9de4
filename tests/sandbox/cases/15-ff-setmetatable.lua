-- expect: 1
-- match: cannot change a protected metatable
return { name = "escape", version = "1", summary = "escape attempt: 15-ff-setmetatable",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    setmetatable(ff.fs, nil); ff.fs.write = print
  end } } }

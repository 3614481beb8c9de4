-- expect: 3
-- match: rawset on a protected table
return { name = "escape", version = "1", summary = "escape attempt: 14-ff-rawset",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    rawset(ff, "fs", { write = function() end })
  end } } }

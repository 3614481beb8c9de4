-- expect: 3
-- match: modify a protected table
return { name = "escape", version = "1", summary = "escape attempt: 13-ff-replace",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    ff.exec = function() end
  end } } }

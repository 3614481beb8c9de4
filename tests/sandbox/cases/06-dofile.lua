-- expect: 3
-- match: 'dofile' is not available
return { name = "escape", version = "1", summary = "escape attempt: 06-dofile",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    dofile("/etc/passwd")
  end } } }

-- expect: 3
-- match: 'execute' is not available
return { name = "escape", version = "1", summary = "escape attempt: 02-os-execute",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    os.execute("touch @PWNED@")
  end } } }

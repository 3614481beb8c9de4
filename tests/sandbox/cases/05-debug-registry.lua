-- expect: 3
-- match: 'debug' is not available
return { name = "escape", version = "1", summary = "escape attempt: 05-debug-registry",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local reg = debug.getregistry(); reg["ff.loaded"] = nil
  end } } }

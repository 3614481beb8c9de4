-- expect: 3
-- match: source text only
return { name = "escape", version = "1", summary = "escape attempt: 40-load-reader-function",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    load(function() return nil end, "x", "t", {})
  end } } }

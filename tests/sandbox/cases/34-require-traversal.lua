-- expect: 3
-- match: not a module name
return { name = "escape", version = "1", summary = "escape attempt: 34-require-traversal",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    require("..etc.passwd")
  end } } }

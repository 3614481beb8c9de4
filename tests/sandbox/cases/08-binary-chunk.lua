-- expect: 3
-- match: binary chunks are not allowed
return { name = "escape", version = "1", summary = "escape attempt: 08-binary-chunk",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    load("\27Lua\84\0\25\147\13\10\26\10", "x", "b", {})()
  end } } }

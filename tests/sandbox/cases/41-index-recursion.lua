-- expect: 1
-- match: stack overflow
return { name = "escape", version = "1", summary = "escape attempt: 41-index-recursion",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local t = setmetatable({}, { __index = function(t, k) return t[k .. "x"] end })
    return t.x
  end } } }

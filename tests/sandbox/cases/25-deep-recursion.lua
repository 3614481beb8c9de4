-- expect: 1
-- match: stack overflow
return { name = "escape", version = "1", summary = "escape attempt: 25-deep-recursion",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    local function f(n) return 1 + f(n + 1) end; f(1)
  end } } }

-- expect: 1
-- match: stack overflow
return { name = "escape", version = "1", summary = "escape attempt: 25-deep-recursion",
  steps = { { name = "attempt", doc = "try to break out", run = function()
    -- Recursion through C (gsub calling back into Lua): the C stack limit
    -- refuses it long before the host's own stack is at risk.
    local function f() return (("x"):gsub("x", f)) end
    f()
  end } } }

-- expect: 1
-- match: attempt to index a boolean value
-- A handle's metatable is hidden: a runbook cannot replace its __gc with
-- a finalizer that loops after the watchdog (the host then hung in
-- lua_close, deaf to SIGTERM).
return { name = "escape", version = "1", summary = "escape attempt: 44-handle-metatable-gc",
  steps = { { name = "attempt", doc = "replace a lock's finalizer", run = function()
    local l = ff.fs.lock(ff.paths.tmp)
    getmetatable(l).__gc = function() while true do end end
  end } } }

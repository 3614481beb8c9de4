-- expect: 3
-- match: memory limit
-- The cap is reached while a binding pushes a result it holds in C memory
-- (ff.yaml.redact's text, the largest allocation of each turn): the raise
-- must not leak it (the ASan build's leak check sees one).
return { name = "memory-cap-in-binding", version = "1", summary = "escape attempt",
  steps = { { name = "attempt", doc = "fill the cap with results a binding pushes", run = function()
    local text, kept = string.rep("x", 4 << 20), {}
    for i = 1, 64 do kept[i] = ff.yaml.redact(text, "notes.txt") end
  end } } }

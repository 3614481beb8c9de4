-- expect: 1
-- match: too many nested data structures
-- At its fixed limit the decoder refuses deep input with an error.
return { name = "escape", version = "1", summary = "escape attempt: 46-json-deep",
  steps = { { name = "attempt", doc = "decode a million levels", run = function()
    ff.json.decode(string.rep("[", 1000000) .. string.rep("]", 1000000))
  end } } }

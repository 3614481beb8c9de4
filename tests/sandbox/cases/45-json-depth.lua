-- expect: 1
-- match: attempt to call a nil value (field 'decode_max_depth')
-- cjson's depth settings are not the runbook's: raised to a million, its
-- recursive decoder ran the host out of C stack (a segmentation fault).
return { name = "escape", version = "1", summary = "escape attempt: 45-json-depth",
  steps = { { name = "attempt", doc = "lift the JSON depth limit", run = function()
    ff.json.decode_max_depth(100000000)
    ff.json.decode(string.rep("[", 1000000) .. string.rep("]", 1000000))
  end } } }

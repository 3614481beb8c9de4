-- expect: 3
-- match: attempt to modify a protected table (field 'tmp')
-- ff.paths.tmp is made when first read; it can still not be pointed elsewhere.
return { name = "paths-tmp-replace", version = "1", summary = "escape attempt",
  steps = { { name = "try", doc = "point the private folder at the outside", run = function()
    ff.paths.tmp = "@PWNED@"
    ff.fs.write(ff.paths.tmp .. "/x", "pwned")
  end } } }

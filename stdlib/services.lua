--- services: run the application's commands (services.up, services.check,
--- services.drill.*) through ff.exec, each an argv from the configuration.
local rb = require "rb"

local services = {}

local function urlenc(v)
  return (tostring(v):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- The environment that tells an application where its database is:
--- PGHOST, PGPORT, PGDATABASE, PGUSER and the same as DATABASE_URL
--- (postgresql://user@/db?host=…&port=…). Never a password: the
--- application finds its own, as ffrun does (PGPASSFILE, .pgpass).
function services.env(host, port, user, dbname)
  return {
    PGHOST = host, PGPORT = tostring(port), PGUSER = user, PGDATABASE = dbname,
    DATABASE_URL = string.format("postgresql://%s@/%s?host=%s&port=%s", urlenc(user), urlenc(dbname),
      urlenc(host), urlenc(port)),
  }
end

--- Run every argv of `list` in turn; fails naming the first that fails.
--- env: the connection settings for ff.exec (nil: none); tag names the
--- raw logs (tag-up.log).
function services.up(list, timeout, env, tag)
  for _, argv in ipairs(list) do
    local r = rb.must(ff.exec(argv, { timeout = timeout, env = env, name = tag .. "-up.log" }))
    rb.check(r.ok, "%s failed (exit %s, see %s)", argv[1], tostring(r.code), tostring(r.raw))
  end
end

--- Poll every argv of `list` once a second until it passes, within
--- timeout seconds for all; fails naming the one that did not pass.
--- Returns ff.time.now() when the last one passed.
function services.wait(list, timeout, env, tag)
  local deadline = ff.time.monotonic() + timeout
  for _, argv in ipairs(list) do
    local r
    repeat
      r = rb.must(ff.exec(argv, { timeout = 30, env = env, name = tag .. "-check.log" }))
      if not r.ok and ff.time.monotonic() < deadline then ff.time.sleep(1) end
    until r.ok or ff.time.monotonic() >= deadline
    rb.check(r.ok, "%s did not pass within %d s (see %s)", argv[1], timeout, tostring(r.raw))
  end
  return ff.time.now()
end

--- Run every argv of `list`, whatever happens (a cleanup): never fails;
--- returns the problems, one line each.
function services.down(list, timeout, env, tag)
  local problems = {}
  for _, argv in ipairs(list) do
    local ok, r, err = pcall(ff.exec, argv, { timeout = timeout, env = env, name = tag .. "-down.log" })
    if not ok or not r or not r.ok then
      problems[#problems + 1] = string.format("%s: %s", argv[1],
        not ok and tostring(r) or not r and tostring(err) or string.format("exit %s (see %s)", tostring(r.code), tostring(r.raw)))
    end
  end
  for _, p in ipairs(problems) do ff.log.warn("services down " .. p) end
  return problems
end

return services

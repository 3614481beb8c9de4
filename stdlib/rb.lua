-- rb.lua: small helpers shared by the shipped runbooks.
-- A runbook step fails by raising; rb.fail raises a plain message (no
-- position prefix), which becomes the step's error in the evidence.
local rb = {}

--- Fail the current step with a formatted message.
function rb.fail(fmt, ...)
  error(string.format(fmt, ...), 0)
end

--- Fail unless cond holds; returns cond.
function rb.check(cond, fmt, ...)
  if not cond then rb.fail(fmt, ...) end
  return cond
end

--- Join path parts with "/".
function rb.join(...)
  return (table.concat({ ... }, "/"):gsub("//+", "/"))
end

--- The value, or fail with the message a primitive returned (nil, msg).
function rb.must(v, msg, ...)
  if v == nil or v == false then rb.fail("%s", msg or "failed") end
  return v, msg, ...
end

--- Read and decode a JSON file.
function rb.read_json(path)
  local text = rb.must(ff.fs.read(path))
  local ok, value = pcall(ff.json.decode, text)
  if not ok then rb.fail("%s: not valid JSON (%s)", path, value) end
  return value
end

--- Create root/rel and every missing folder between them (0700).
function rb.mkdir_p(root, rel)
  local path = root
  for part in rel:gmatch("[^/]+") do
    path = path .. "/" .. part
    rb.must(ff.fs.mkdir(path))
  end
  return path
end

--- Run a shipped runbook as a run of its own (ff.runbook.run) and fail
--- unless it PASSed, naming its evidence run and its error. Returns the
--- call's result and the child's summary (decoded; {} in a rehearsal,
--- where no child runs).
function rb.runbook(name, params)
  local r = rb.must(ff.runbook.run(name, params))
  local ok, s = pcall(ff.json.decode, r.summary or "")
  s = ok and type(s) == "table" and s or {}
  if not r.ok then
    local why = type(s.error) == "string" and s.error or (r.output:match("ffrun: ([^\n]+)\n?$") or "see " .. r.raw)
    local given = {}
    for k, v in pairs(params or {}) do given[#given + 1] = k .. "=" .. tostring(v) end
    table.sort(given)
    rb.fail("%s FAILed (exit %d, evidence run %s): %s", table.concat({ name, table.unpack(given) }, " "),
      r.code, tostring(s.run_id or "none"), why)
  end
  rb.check(r.dry_run or type(s.run_id) == "string", "%s printed no summary (see %s)", name, r.raw)
  return r, s
end

--- Format a byte count for people.
function rb.bytes(n)
  local units = { "B", "KiB", "MiB", "GiB", "TiB" }
  local i = 1
  while n >= 1024 and i < #units do n = n / 1024; i = i + 1 end
  return string.format(i == 1 and "%d %s" or "%.1f %s", n, units[i])
end

return rb

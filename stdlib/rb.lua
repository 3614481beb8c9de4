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

--- Format a byte count for people.
function rb.bytes(n)
  local units = { "B", "KiB", "MiB", "GiB", "TiB" }
  local i = 1
  while n >= 1024 and i < #units do n = n / 1024; i = i + 1 end
  return string.format(i == 1 and "%d %s" or "%.1f %s", n, units[i])
end

return rb

#!/usr/bin/env bash
# Every handle a runbook can hold (a lock, a connection, an admin, a
# throwaway instance, a dump job, a rehearsal's planned instance) is sealed
# the same way: its metatable cannot be read or replaced, its close is
# idempotent (by hand twice, then __close, then __gc), refuses a handle of
# another type cleanly, works from a coroutine, and a handle kept alive
# past the run's end is closed by the host without keeping it alive (no
# server of an instance left behind).
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

pg_start src >/dev/null || { nok "server starts"; finish; exit 1; }
pg_createdb src app >/dev/null
pg_sql src app "create table t (id int); insert into t select generate_series(1, 100)" >/dev/null
WS=$WORK/ws
make_config "$WS" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" } }"

cat > "$WORK/handles.lua" <<'LUA'
local checks = {}
local function expect(what, ok, detail)
  checks[#checks + 1] = what
  if not ok then error(what .. ": " .. tostring(detail), 0) end
  ff.log.info("ok " .. what)
end
local function refused(f, ...) local ok, err = pcall(f, ...); return not ok, err end

-- name, a maker, the name of its close method
local function kinds()
  local k = {
    { "lock", function()
        local dir = ff.paths.tmp .. "/l" .. #checks .. "-" .. ff.time.monotonic()
        ff.fs.mkdir(dir)
        return ff.fs.lock(dir) end, "release" },
    { "conn", function() return assert(ff.pg.connect("prod")) end, "close" },
    { "admin", function() return ff.pg.admin("prod", "app") end, nil },
  }
  if ff.dry_run then
    k[#k + 1] = { "planned instance", function() return ff.pg.instance{} end, "stop" }
  else
    k[#k + 1] = { "instance", function()
      local i = assert(ff.pg.instance{})
      ff.log.warn("instance-folder " .. i:info().folder)
      return i end, "stop" }
    k[#k + 1] = { "job", function()
      DUMPS = (DUMPS or 0) + 1
      return ff.pg.dump{ target = "prod", out = ff.paths.tmp .. "/t" .. DUMPS .. ".dump" } end, "wait" }
  end
  return k
end

return { name = "handles", version = "1", summary = "every handle sealed",
  steps = { { name = "probe", doc = "try each handle the sandbox's way out", run = function()
    local a_lock, a_conn = ff.fs.lock(ff.paths.tmp, "shared"), assert(ff.pg.connect("prod"))
    for _, k in ipairs(kinds()) do
      local name, make, close = k[1], k[2], k[3]
      local h = make()
      local other = name == "lock" and a_conn or a_lock
      expect(name .. ": getmetatable is false", getmetatable(h) == false, getmetatable(h))
      expect(name .. ": its metatable cannot be written",
        refused(function() getmetatable(h).__gc = function() while true do end end end))
      expect(name .. ": setmetatable refuses it", refused(setmetatable, h, {}))
      expect(name .. ": fields cannot be added", refused(function() h.extra = 1 end))
      if close then
        local fn = h[close]
        expect(name .. ": " .. close .. " refuses another type", refused(fn, other))
        expect(name .. ": " .. close .. " refuses a string", refused(fn, "x"))
        if close ~= "wait" then
          expect(name .. ": " .. close .. " from a coroutine", coroutine.wrap(function() return pcall(fn, h) end)())
          expect(name .. ": " .. close .. " again", pcall(fn, h))
        else
          local r = fn(h)
          expect(name .. ": wait", type(r) == "table" and r.ok, r and r.error)
          expect(name .. ": wait again refused", refused(fn, h))
        end
      end
      do local c <close> = make() end   -- __close by the scope
      KEPT = KEPT or {}
      KEPT[#KEPT + 1] = make()          -- alive past the run: the host's
      local co = coroutine.create(function(x) coroutine.yield(x) end)
      coroutine.resume(co, make())      -- held by a suspended coroutine
      KEPT[#KEPT + 1] = co
    end
    ff.evidence.set("checks", #checks)
  end } } }
LUA

folders=""
for mode in run dry-run; do
  flag="" want=36; [ "$mode" = dry-run ] && flag=--dry-run want=28
  start=$(date +%s%N)
  "$FFRUN" -c "$WS/ffrun.yaml" $flag "$WORK/handles.lua" > "$WORK/out" 2> "$WORK/err"; code=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  ev=$(last_evidence "$WS")
  n=$(grep -c '^ok ' <(sed 's/^\S* *info *\[probe\] //' "$WORK/err"))
  check "$mode: every check holds, exit 0 in $ms ms ($n checks; $(grep -v '^ok\|info' "$WORK/err" | head -c 300))" \
    [ "$code" = 0 -a "$n" = "$want" ]
  folders+=" $(grep -o 'instance-folder [^ ]*' "$WORK/err" | cut -d' ' -f2 | tr '\n' ' ')"
  check "$mode: sealed PASS evidence" bash -c "grep -q '\"status\":\"PASS\"' '$ev/summary.json' && cd '$ev' && sha256sum --quiet -c DIGEST"
done
# The instances kept alive past the run were torn down by the host.
# SIGTERM during a long statement on the server: the statement is
# cancelled, the run ends within 2 s (it waited out the query before: 28 s
# for a pg_sleep(30)), FAIL evidence names the signal, the cleanup ran.
cat > "$WORK/slow.lua" <<'LUA'
return { name = "slow", version = "1", summary = "a long query", steps = {
  { name = "query", doc = "sleep on the server", run = function()
      assert(ff.pg.connect("prod")):query("select pg_sleep(30)") end },
  { name = "after", doc = "cleanup", cleanup = true, run = function() ff.log.info("cleanup ran") end } } }
LUA
"$FFRUN" -c "$WS/ffrun.yaml" "$WORK/slow.lua" > "$WORK/out" 2>&1 & pid=$!
for _ in $(seq 100); do pg_sql src postgres "select 1 from pg_stat_activity where query like 'select pg_sleep%'" | grep -q 1 && break; sleep 0.05; done
start=$(date +%s%N); kill -TERM $pid; wait $pid; code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ev=$(ls -1d "$WS"/evidence/*-slow*/ | sed 's:/$::' | sort -V | tail -n 1)
check "SIGTERM during a long query: exit 1 in $ms ms (under 2 s), FAIL naming the signal, cleanup ran" \
  bash -c "[ $code = 1 ] && [ $ms -lt 2000 ] && grep -q 'SIGTERM' '$ev/summary.json' && grep -q 'cleanup ran' '$WORK/out'"
check "and the server's statement was cancelled" \
  bash -c "! psql -h '$(pg_host src)' -p '$(pg_port src)' -U postgres -Atc \"select 1 from pg_stat_activity where query like 'select pg_sleep%'\" postgres | grep -q 1"

# A COPY through conn:query is refused at once (it waited forever in C for
# a result that only the COPY's data ends).
cat > "$WORK/copy.lua" <<'LUA'
return { name = "copy", version = "1", summary = "a COPY as a query", steps = {
  { name = "query", doc = "COPY is no query", run = function()
      local rows, err = assert(ff.pg.connect("prod")):query("copy (select 1) to stdout")
      assert(rows == nil and err, "a COPY gave rows")
  end } } }
LUA
start=$(date +%s%N)
timeout -s KILL 20 "$FFRUN" -q -c "$WS/ffrun.yaml" "$WORK/copy.lua" 2> "$WORK/err"; code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "a COPY through conn:query is answered nil, message at once (exit $code in $ms ms)" [ "$code" = 0 -a "$ms" -lt 5000 ]

set -- $folders
check "the run made 4 instances ($#)" [ $# = 4 ]
left=""
for f in $folders; do
  [ -e "$f" ] && left+=" $f"
  pgrep -f -- "$f" >/dev/null && left+=" (a server of $f)"
done
check "each was torn down: no folder, no server left${left:+:$left}" [ -z "$left" ]
finish

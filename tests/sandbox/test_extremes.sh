#!/usr/bin/env bash
# No runbook can end the host by a signal: every library function the
# sandbox exposes, driven with extreme arguments (depths, sizes, settings),
# ends in a clean error, a limit (exit 3) or success, with sealed evidence,
# within the wall-clock cap. (cjson's depth settings did not: a raised
# limit sent its recursive decoder through the C stack.)
source "$(dirname "$0")/../harness/lib.sh"
LIMIT_S=10
make_config "$WORK/ws" "limits: { memory_mb: 64, seconds: $LIMIT_S }"

deep_t='local t = {} local c = t for i = 1, 1000000 do c[1] = {} c = c[1] end'
cases=(
  'string.rep("x", 1 << 40)'
  'string.rep("x", 1e9, ",")'
  'string.format("%099999d", 1)'
  'string.format("%s", setmetatable({}, {__tostring = function(s) return tostring(s) end}))'
  'table.unpack({}, 1, 1e8)'
  'table.concat(setmetatable({}, {__index = function() return "x" end}), "", 1, 1e9)'
  'table.sort(setmetatable({}, {__len = function() return 1e9 end}))'
  'utf8.char(0x7FFFFFFF, 0x7FFFFFFF)'
  'string.pack(string.rep("i", 1e7))'
  'string.find(string.rep("a", 1e6), string.rep("a*", 1000) .. "b")'
  'string.gsub(string.rep("a", 1e6), "", "bbbbbbbbbbb")'
  'local s = "a" for i = 1, 40 do s = s .. s end'
  'load(string.rep("(", 1e6), "deep", "t", {})'
  'load("return " .. string.rep("{", 1e6), "deep", "t", {})'
  'local mt = {} mt.__index = function(t, k) return setmetatable({}, mt)[k] end local x = setmetatable({}, mt).y'
  'local co; co = function(n) return coroutine.wrap(function() return co(n + 1)() end) end co(1)()'
  'coroutine.wrap(function() local function f() coroutine.yield(f()) end f() end)()'
  'os.date(string.rep("%c", 1e6))'
  'os.date("*t", 1e300)'
  'os.time({year = 1e18, month = 1, day = 1})'
  'ff.json.decode(string.rep("[", 1000000) .. string.rep("]", 1000000))'
  "$deep_t ff.json.encode(t)"
  'ff.json.encode_max_depth(100000000)'
  'ff.json.decode_max_depth(100000000)'
  'ff.json.new()'
  'ff.json.encode(string.rep("x", 1e8))'
  "$deep_t ff.evidence.set('k', t)"
  "$deep_t ff.log.info(t)"
  'ff.evidence.set("k", string.rep("x", 5e7))'
  'ff.evidence.raw("x", string.rep("x", 5e7))'
  'ff.log.info(string.rep("x", 5e7))'
  'ff.hash.string(string.rep("x", 5e7))'
  'ff.yaml.load(string.rep("[", 1000000))'
  'ff.yaml.load(string.rep("- ", 1000000) .. "x")'
  'ff.yaml.load("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n")'
  'ff.yaml.redact(string.rep("a:\n  ", 100000) .. "b: 1", "deep.yml")'
  'ff.time.sleep(1e9)'
  'ff.time.stamp(1e300)'
  'ff.time.parse_stamp(string.rep("9", 1e6))'
  'ff.fs.read(string.rep("a/", 1e5))'
  'ff.fs.list(string.rep("/", 1e6))'
  'ff.exec({string.rep("x", 1e6)})'
)
for c in "${cases[@]}"; do
  printf 'return { name = "extreme", version = "1", summary = "an exposed function at its extremes",\n  steps = { { name = "call", doc = "call it", run = function()\n%s\nend } } }\n' "$c" > "$WORK/case.lua"
  start=$(date +%s%N)
  "$FFRUN" -q -c "$WORK/ws/ffrun.yaml" "$WORK/case.lua" > /dev/null 2> "$WORK/err"; code=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  ev=$(last_evidence "$WORK/ws")
  what="${c:0:70}"
  problems=""
  case $code in 0|1|3) ;; *) problems+=" exit $code ($(tail -c 200 "$WORK/err"));" ;; esac
  grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$WORK/err" && problems+=" sanitizer: $(grep -m1 'ERROR\|runtime error' "$WORK/err");"
  [ "$ms" -lt $(( (LIMIT_S + 3) * 1000 )) ] || problems+=" took ${ms} ms;"
  (cd "$ev" 2>/dev/null && sha256sum --quiet -c DIGEST >/dev/null 2>&1) || problems+=" no sealed evidence;"
  if [ "$code" != 0 ]; then
    grep -q '"status":"FAIL"' "$ev/summary.json" 2>/dev/null || problems+=" exit $code without a FAIL summary;"
  fi
  rm -rf "$WORK/ws/evidence"/*
  if [ -z "$problems" ]; then ok "$what: exit $code in $ms ms"; else nok "$what:$problems"; fi
done
finish

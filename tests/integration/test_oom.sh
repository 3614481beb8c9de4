#!/usr/bin/env bash
# No Lua error jumps over a C resource (STYLE.md: the core returns an error,
# the binding frees, then raises). Each case fills the sandbox's memory to
# a few bytes short of its cap, then calls one binding that holds C
# resources while it builds Lua values (a PGresult, escaped identifiers, a
# core buffer, an fd, a parsed tree). Across a sweep of margins the cap
# strikes inside the call at many points; every run must end cleanly
# (exit 0, or 3 for the memory limit, with sealed evidence), never by a
# signal, and under AddressSanitizer (FF_SANITIZE builds) with no leak
# reported. A case whose cap never struck inside the call proves nothing
# and fails.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"
CAP_MB=16
STEP=${OOM_STEP:-64}   # bytes between two margins
SPAN=${OOM_SPAN:-3200} # the widest margin

pg_start src >/dev/null || { nok "server starts"; finish; exit 1; }
pg_createdb src app >/dev/null
pg_sql src app "create table t (id int, note text); insert into t select g, repeat('n', g % 50) from generate_series(1, 300) g" >/dev/null
pg_sql src app "$(for i in $(seq 40); do echo "create table \"s p\".\"t.$i\" (a int);"; done | sed '1i create schema "s p";')" >/dev/null
for i in $(seq 12); do pg_createdb src "app__ffoom_keep$i" >/dev/null; done
WS=$WORK/ws
# A pgBackRest target whose stanza does not exist: its info is a JSON
# answer all the same (ff.pgbackrest.info holds it while pushing).
mkdir -p "$WORK/pbr/repo"
printf '[global]\nrepo1-path=%s\nlog-level-file=off\nlock-path=%s\n' "$WORK/pbr/repo" "$WORK/pbr" > "$WORK/pbr/pgbackrest.conf"
if [ "$(id -u)" = 0 ]; then chown -R "${PG_OS_USER:-postgres}:" "$WORK/pbr"; fi
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, pbr: { conninfo: \"$(pg_conninfo src app)\", engine: pgbackrest, pgbackrest: { stanza: oom, config: $WORK/pbr/pgbackrest.conf } } }" \
  "limits: { memory_mb: $CAP_MB, seconds: 20 }" \
  "exec: { allow: [/bin/echo] }"
D=$WS/backups/fixture
mkdir -p "$D/raw"
for i in $(seq 40); do echo "file $i" > "$D/f$i.txt"; done
(cd "$D" && sha256sum f*.txt | sed 's/ \*/  /' > DIGEST)
for i in $(seq 1 3 40); do echo tampered >> "$D/f$i.txt"; done   # problems to report
for i in $(seq 41 60); do echo extra > "$D/x$i.txt"; done       # unlisted files
{ echo "keys:"; for i in $(seq 200); do echo "  k$i: { password: secret$i, list: [a, b, c] }"; done; } > "$D/doc.yaml"
# An evidence folder with a real event chain to verify.
cat > "$WORK/plain.lua" <<'LUA'
return { name = "plain", version = "1", summary = "leaves evidence", steps = {
  { name = "log", doc = "a few events", run = function() for i = 1, 30 do ff.log.info("line " .. i) end end } } }
LUA
"$FFRUN" -q -c "$WS/ffrun.yaml" "$WORK/plain.lua" || { nok "a plain run in the same workspace"; finish; exit 1; }
EVD=$(last_evidence "$WS")
cp -r "$EVD" "$D/ev"
sed -i '5s/line/LINE/; 9s/line/LINE/; 14d' "$D/ev/events.jsonl"   # breaks in the chain to report
rm -rf "$WS/evidence"/*
printf 'CREATE ROLE oom_r%s;\n' $(seq 30) > "$D/globals.sql"
_pg_client src pg_dump -Fc -f "$D/app.dump" app || { nok "pg_dump of the fixture"; finish; exit 1; }

# case NAME SETUP CALL: SETUP runs before the fill (handles, texts), CALL
# after it; the runbook prints FILLED before CALL and CALLED after.
cases=()
case_() { cases+=("$1"$'\x1f'"$2"$'\x1f'"$3"); }
case_ verify.digest  ""                                   "ff.verify.digest('$D')"
case_ verify.events  ""                                   "ff.verify.events('$D/ev')"
case_ exec           "local argv = {'/bin/echo', string.rep('y', 3000)}" "ff.exec(argv)"
case_ yaml.load      "local text = ff.fs.read('$D/doc.yaml')" "ff.yaml.load(text)"
case_ yaml.redact    "local text = ff.fs.read('$D/doc.yaml')" "ff.yaml.redact(text, 'doc.yaml')"
case_ fs.list        ""                                   "ff.fs.list('$D')"
case_ pg.query       "local c = assert(ff.pg.connect('prod'))" "c:query('select id, note from t')"
case_ pg.tables      "local c = assert(ff.pg.connect('prod'))" "c:tables()"
case_ pg.databases   "local a = ff.pg.admin('prod', 'app')"   "a:databases()"
# Its quoted names and statements live in core/pgadmin.c now: no Lua
# allocation happens while one is held, so the cap may never strike
# inside it; the sweep still must end cleanly at every margin.
NO_STRIKE_OK="pg.create_drop"
case_ pg.create_drop "local a = ff.pg.admin('prod', 'app')"   "a:create_database('app__ffoom_1'); a:drop_database('app__ffoom_1')"
case_ pgbackrest.info ""                                   "ff.pgbackrest.info('pbr')"
case_ pg.apply_globals "local a = ff.pg.admin('prod', 'app')" "a:apply_globals('$D/globals.sql')"
# The table loader: its log, env and sessions held while it runs, its
# tail while the result is pushed. The restore before it writes a list.
case_ pg.load_table "local a = ff.pg.admin('prod', 'app'); a:create_database('app__ffoom_l'); local _, toc = ff.pg.archive_list('$D/app.dump'); local id = tonumber(toc:match('\\n(%d+); %d+ %d+ TABLE DATA ')); a:restore('app__ffoom_l', '$D/app.dump', 1, 0, 0, { sections = { 'pre-data' }, list = toc })" \
  "a:load_table('app__ffoom_l', '$D/app.dump', id, 2, 0, 0)"

runbook() { # SETUP CALL MARGIN
  cat <<LUA
return { name = "oom", version = "1", summary = "a binding at the memory cap", steps = {
  { name = "squeeze", doc = "fill to the cap less a margin, then call", run = function()
    $1
    local cap, margin = $CAP_MB * 1048576, $3
    local keep = {}
    for i = 1, 200 do keep[i] = false end
    local function free() return cap - collectgarbage("count") * 1024 - margin end
    local i = 0
    -- string.rep may hold its result twice over while it builds it
    while free() > 48 and i < 200 do
      local n = math.floor(free() / 3) - 32
      if n < 1 then break end
      i = i + 1
      keep[i] = string.rep("x", n)
    end
    ff.log.error("FILLED")
    $2
    ff.log.error("CALLED")
  end } } }
LUA
}

for c in "${cases[@]}"; do
  IFS=$'\x1f' read -r name setup call <<<"$c"
  [ -n "${OOM_CASES:-}" ] && ! grep -qw -- "$name" <<<"$OOM_CASES" && continue
  runs=0 struck=0 bad=""
  for margin in $(seq 0 "$STEP" "$SPAN"); do
    runbook "$setup" "$call" "$margin" > "$WORK/case.lua"
    "$FFRUN" -c "$WS/ffrun.yaml" "$WORK/case.lua" > /dev/null 2> "$WORK/err"
    code=$?
    runs=$((runs + 1))
    [ "$name" = pg.load_table ] && pg_sql src postgres "drop database if exists app__ffoom_l" >/dev/null
    if grep -q 'LeakSanitizer\|AddressSanitizer\|runtime error' "$WORK/err"; then
      bad+=" margin $margin: $(grep -m1 'SUMMARY\|ERROR\|runtime error' "$WORK/err");"
    elif [ "$code" != 0 ] && [ "$code" != 3 ]; then
      bad+=" margin $margin: exit $code: $(grep -v FILLED "$WORK/err" | head -c 200);"
    fi
    if [ "$code" = 3 ] && grep -q FILLED "$WORK/err" && ! grep -q CALLED "$WORK/err" &&
       grep -q 'memory limit' "$WORK/err"; then
      struck=$((struck + 1))
    fi
    ev=$(last_evidence "$WS")
    (cd "$ev" && sha256sum --quiet -c DIGEST >/dev/null 2>&1) || bad+=" margin $margin: evidence does not verify;"
    rm -rf "$WS/evidence"/*
  done
  pg_sql src app "select 1 from pg_database where datname = 'app__ffoom_1'" | grep -q 1 &&
    pg_sql src postgres "drop database app__ffoom_1" >/dev/null
  pg_sql src postgres "select string_agg(format('drop role %I', rolname), '; ') from pg_roles where rolname like 'oom_r%'" |
    { read -r sql; [ -n "$sql" ] && pg_sql src postgres "$sql" >/dev/null; } || true
  if [ -z "$bad" ] && [ "$struck" = 0 ] && grep -qw -- "$name" <<<"$NO_STRIKE_OK"; then
    ok "$name: $runs runs, each ended cleanly (no Lua allocation inside the call to strike)"
  elif [ -z "$bad" ] && [ "$struck" -gt 0 ]; then
    ok "$name: $runs runs, the cap struck inside the call in $struck, each ended cleanly"
  elif [ -n "$bad" ]; then
    nok "$name:${bad:0:600}"
  else
    nok "$name: the cap never struck inside the call in $runs runs (the sweep proves nothing)"
  fi
done
finish

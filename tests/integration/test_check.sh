#!/usr/bin/env bash
# --check is a lint: every shipped runbook at once, with no run-time value
# (verify.lua's required path= included); a broken runbook exits 2 naming
# file:line, and the others given with it are still linted.
source "$(dirname "$0")/../harness/lib.sh"
make_config "$WORK/ws"
cd "$WORK/ws" || exit 1

"$FFRUN" --check "$FF_SRC"/runbooks/*.lua > "$WORK/out" 2> "$WORK/err"; code=$?
n=$(ls "$FF_SRC"/runbooks/*.lua | wc -l)
check "ffrun --check runbooks/*.lua: exit 0 ($code: $(head -c 300 "$WORK/err"))" [ "$code" = 0 ]
check "each of the $n shipped runbooks said ok" [ "$(grep -c '^ok: ' "$WORK/out")" = "$n" ]
check "nothing written: no evidence folder, no backups folder made" \
  bash -c "[ -z \"\$(ls -A '$WORK/ws/evidence')\" ] && [ -z \"\$(ls -A '$WORK/ws/backups')\" ]"

header() { # PARAMS-LUA
  printf 'return { name = "broken", version = "1", summary = "lint me",\n  params = {\n%s\n  },\n  steps = { { name = "s", doc = "a step", run = function() end } } }\n' "$1"
}
printf 'return { name = "syntax", version = "1",\n  summary = "a missing brace",\n  steps = { { name = "s", doc = "d", run = function() end }\n' > "$WORK/syntax.lua"
header '    { name = "target", doc = "where", type = "strin" },' > "$WORK/type.lua"
header '    { name = "keep", doc = "how many", type = "integer",
      default = "three" },' > "$WORK/default.lua"
header '    { name = "mode", doc = "how", choices = { "a", "b" }, default = "c" },' > "$WORK/choices.lua"
cp "$FF_SRC/runbooks/verify.lua" "$WORK/good.lua"

lint() { # FILE EXPECTED-STDERR-REGEX NAME
  "$FFRUN" --check "$1" > "$WORK/out" 2> "$WORK/err"; code=$?
  check "$3: exit 2 naming file:line ($code: $(head -c 200 "$WORK/err"))" \
    bash -c "[ $code = 2 ] && grep -qE -- '$2' '$WORK/err'"
}
lint "$WORK/syntax.lua" "syntax.lua:[0-9]+: .*expected" "a syntax error"
lint "$WORK/type.lua" "type.lua:3: param .target.: unknown type .strin." "an unknown param type"
lint "$WORK/default.lua" "default.lua:3: param .keep.: default is a string, the type is integer" "a default of the wrong type"
lint "$WORK/choices.lua" "choices.lua:3: param .mode.: its default is not one of its choices" "a default outside the choices"

"$FFRUN" --check "$WORK/good.lua" path=/tmp > "$WORK/out" 2> "$WORK/err"; code=$?
check "--check takes no NAME=VALUE: exit 2 saying so, the runbook still linted ($code)" \
  bash -c "[ $code = 2 ] && grep -q 'takes no NAME=VALUE' '$WORK/err' && grep -q '^ok: .*good.lua' '$WORK/out'"

"$FFRUN" --check "$WORK/good.lua" "$WORK/type.lua" "$WORK/syntax.lua" > "$WORK/out" 2> "$WORK/err"; code=$?
check "several at once, two broken: exit 2, the good one ok, both broken named ($code)" \
  bash -c "[ $code = 2 ] && grep -q '^ok: .*good.lua' '$WORK/out' && grep -q 'type.lua:3' '$WORK/err' && grep -q 'syntax.lua:' '$WORK/err'"
finish

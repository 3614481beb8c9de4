#!/usr/bin/env bash
# The shape of host/ (docs/architecture.md): includes one way, no file over
# 800 lines, no function over 120, checked by scripts/layers.sh on the real
# tree; and the check itself fails on a tree with one planted breach of
# each rule, so a passing run means the rules hold, not that the check is
# blind.
source "$(dirname "$0")/../harness/lib.sh"
LAYERS=$FF_SRC/scripts/layers.sh

out=$("$LAYERS" "$FF_SRC/host" 2>&1)
check "host/ keeps its layers and sizes${out:+: $out}" test -z "$out"

plant() { # NAME EDIT-COMMAND...: a copy of host/ with one breach
  rm -rf "$WORK/host"; cp -r "$FF_SRC/host" "$WORK/host"; (cd "$WORK/host" && eval "$2")
  out=$("$LAYERS" "$WORK/host" 2>&1); rc=$?
  if [ "$rc" = 1 ] && grep -q "$3" <<<"$out"; then ok "planted $1 is caught: $(grep -m1 "$3" <<<"$out")"
  else nok "planted $1 not caught (rc $rc): $out"; fi
}
plant "vm -> lua include" "sed -i '0,/#include \"vm\\/vm.h\"/s//&\\n#include \"lua\\/prim.h\"/' vm/sandbox.c" \
  'vm/sandbox.c:.*must not include "lua/prim.h"'
plant "core -> vm include" "sed -i '0,/#include \"err.h\"/s//&\\n#include \"vm\\/ctx.h\"/' core/err.c" \
  'core/err.c:.*must not include "vm/ctx.h"'
plant "Lua header in core" "sed -i '0,/#include \"err.h\"/s//&\\n#include <lauxlib.h>/' core/err.c" \
  'core/err.c:.*must not include <lauxlib.h>'
plant "lua -> run include" "sed -i '0,/#include \"lua\\/handle.h\"/s//&\\n#include \"run\\/run.h\"/' lua/handle.c" \
  'lua/handle.c:.*must not include "run/run.h"'
plant "file over 800 lines" "for i in \$(seq 800); do echo '/* padding */' >> core/err.c; done" \
  'core/err.c:1: .* lines, more than 800'
plant "function over 120 lines" "printf 'int ff_long(void)\n{\n%s\treturn 0;\n}\n' \"\$(for i in \$(seq 120); do printf '\t(void)0;\n'; done)\" >> core/err.c" \
  'function of 123 lines.*ff_long'
finish

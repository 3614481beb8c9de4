#!/usr/bin/env bash
# layers.sh [HOST_DIR] - the shape rules of docs/architecture.md, checked on
# a tree of host/ sources (default: this repository's):
#   - includes run one way: core/ <- vm/ <- lua/ <- run/ <- main.c
#     (core/ includes core/ only and no Lua header; vm/ core/ and vm/;
#     lua/ core/, vm/ and lua/; run/ anything but main.c);
#   - no C file over 800 lines;
#   - no function over 120 lines (a definition starts at column 0 and its
#     body's braces are at column 0, the style of the whole tree).
# Prints every breach as FILE:LINE: what, exits 1 when there is one.
set -uo pipefail
HOST=${1:-$(cd "$(dirname "$0")/.." && pwd)/host}
MAX_FILE=800
MAX_FN=120
bad=0
breach() { echo "$1"; bad=1; }

# layer FILE -> the project folders it may include from
allowed() {
  case "$1" in
    core/*) echo "core" ;;
    vm/*)   echo "core vm" ;;
    lua/*)  echo "core vm lua" ;;
    run/*)  echo "core vm lua run" ;;
    *)      echo "core vm lua run" ;;
  esac
}

cd "$HOST" || exit 2
while IFS= read -r f; do
  layer=${f%%/*}
  [ "$layer" = "$f" ] && layer=main
  ok_dirs=" $(allowed "$f") "
  while IFS=: read -r line inc; do
    target=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$inc")
    sys=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' <<<"$inc")
    if [ -n "$sys" ]; then
      case "$layer:$sys" in
        core:lua.h|core:lauxlib.h|core:lualib.h)
          breach "$f:$line: core/ is plain C, it must not include <$sys>" ;;
      esac
      continue
    fi
    [ -n "$target" ] || continue
    case "$target" in
      */*) dir=${target%%/*} ;;
      *) # same folder ("err.h") or an outside library's header
         if [ -e "$(dirname "$f")/$target" ]; then dir=$layer; else continue; fi ;;
    esac
    case "$dir" in core|vm|lua|run) ;; *) continue ;; esac
    [[ "$ok_dirs" == *" $dir "* ]] ||
      breach "$f:$line: $layer/ must not include \"$target\" (layers: core <- vm <- lua <- run)"
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)

while IFS= read -r f; do
  n=$(wc -l < "$f")
  [ "$n" -le "$MAX_FILE" ] || breach "$f:1: $n lines, more than $MAX_FILE"
  awk -v f="$f" -v max="$MAX_FN" '
    /^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ { sig = $0; sigline = NR }
    /^\{/ && sig != "" { start = sigline; name = sig }
    /^\}/ && start { if (NR - start + 1 > max) printf "%s:%d: function of %d lines, more than %d: %s\n", f, start, NR - start + 1, max, name; start = 0; sig = "" }
  ' "$f"
done < <(find . -name '*.c' | sed 's|^\./||' | sort) | grep . && bad=1
exit $bad

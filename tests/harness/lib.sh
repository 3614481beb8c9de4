# lib.sh - shared by the black-box test scripts. Source it; it sets
# FFRUN (the binary), FF_SRC (the source tree), a private WORK folder
# removed at exit, and pass/fail counters ending in "N passed, N failed".
set -u
FFRUN=${FFRUN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/ffrun}
FF_SRC=${FF_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FF_TEST_SRC=${FF_TEST_SRC:-$FF_SRC/tests}
export FFRUN_HOME=$FF_SRC
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fftest-XXXXXX")
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0

ok()   { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
nok()  { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# A workspace with a config: backups and evidence under $1.
make_config() {
  local dir=$1; shift
  mkdir -p "$dir/backups" "$dir/evidence"
  {
    echo "paths:"
    echo "  backups: $dir/backups"
    echo "  evidence: $dir/evidence"
    for line in "$@"; do echo "$line"; done
  } > "$dir/ffrun.yaml"
}

# The newest evidence folder under $1/evidence; with $2, the newest of
# runbook $2's. Same-second runs get -2, -3…: version sort puts X before
# X-2 before X-10, but it orders two runbooks' folders of one second by
# name, so give $2 when another runbook may have run in the same second.
last_evidence() {
  if [ $# -ge 2 ]; then
    ls -1d "$1"/evidence/*-"$2"/ "$1"/evidence/*-"$2"-[0-9]*/ 2>/dev/null
  else
    ls -1d "$1"/evidence/*/ 2>/dev/null
  fi | sed 's:/$::' | sort -V | tail -n 1
}

# Field of a JSON file, via the binary itself is overkill: grep is enough
# for the flat "status" member we check.
json_status() { grep -o '"status":"[A-Z]*"' "$1/summary.json" | head -n 1 | cut -d'"' -f4; }

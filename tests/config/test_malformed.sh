#!/usr/bin/env bash
# test_malformed.sh - every tests/config/bad/*.yaml must be refused with
# exit status 2 and one stderr line naming FILE:LINE:COL and the problem;
# the first line of each file says what: `# expect: LINE:COL: substring`.
# good.yaml must be accepted (no FILE: error, whatever the runbook says).
set -u

: "${FFRUN:?FFRUN must name the ffrun binary}"
: "${FF_SRC:?FF_SRC must name the source tree}"
here=$(cd "$(dirname "$0")" && pwd)
runbook="$FF_SRC/runbooks/verify.lua"
pass=0 fail=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

not_ok() {
	echo "FAIL $1: $2"
	sed 's/^/  stderr: /' "$err"
	fail=$((fail + 1))
}

for f in "$here"/bad/*.yaml; do
	name=${f##*/}
	expect=$(sed -n '1s/^# expect: //p' "$f")
	pos=${expect%%: *}   # LINE:COL
	what=${expect#*: }
	if [[ -z $expect || ! $pos =~ ^[0-9]+:[0-9]+$ ]]; then
		echo "FAIL $name: no '# expect: LINE:COL: text' on line 1"
		fail=$((fail + 1))
		continue
	fi
	"$FFRUN" -c "$f" --check "$runbook" >/dev/null 2>"$err"
	status=$?
	if [[ $status -ne 2 ]]; then
		not_ok "$name" "exit status $status, want 2"
	elif ! grep -qF -- "$f:$pos:" "$err"; then
		not_ok "$name" "stderr does not name $name:$pos:"
	elif ! grep -qF -- "$what" "$err"; then
		not_ok "$name" "stderr does not say: $what"
	elif grep -qF hunter2 "$err"; then
		not_ok "$name" "the password was echoed"
	else
		pass=$((pass + 1))
	fi
done

"$FFRUN" -c "$here/good.yaml" --check "$runbook" >/dev/null 2>"$err"
if grep -qF -- "$here/good.yaml:" "$err"; then
	not_ok good.yaml "a good configuration was refused"
else
	pass=$((pass + 1))
fi

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]

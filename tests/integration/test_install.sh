#!/usr/bin/env bash
# Installable (issue #15, item 5): `cmake --install` into a clean prefix
# and the .deb that CPack builds, unpacked into an empty root, each give an
# ffrun that finds its runbooks and stdlib under <prefix>/share/ffrun
# without the source tree, and run a real backup and drill from there.
source "$(dirname "$0")/../harness/lib.sh"
source "$(dirname "$0")/../harness/pg.sh"

BUILD=$(dirname "$FFRUN")
why() { { grep -m 1 '^ffrun:' "$1" || tail -n 1 "$1"; } 2>/dev/null | head -c 300; }

# --- cmake --install into a clean prefix -------------------------------------------
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log" 2>&1; code=$?
check "cmake --install into a clean prefix (exit $code)" [ $code = 0 ]
for f in bin/ffrun share/ffrun/runbooks/drill.lua share/ffrun/stdlib/proof.lua share/man/man1/ffrun.1 \
         share/doc/ffrun/examples/ffrun.yaml share/doc/ffrun/examples/systemd/ffrun-drill.timer; do
  check "installed: $f" [ -e "$WORK/prefix/$f" ]
done

# --- the .deb ----------------------------------------------------------------------------
(cd "$WORK" && cpack -G DEB -B "$WORK/pkg" --config "$BUILD/CPackConfig.cmake" > "$WORK/cpack.log" 2>&1)
deb=$(ls "$WORK"/pkg/ffrun_*.deb 2>/dev/null | head -n 1)
check "cpack -G DEB builds a package ($(tail -n 1 "$WORK/cpack.log"))" [ -n "$deb" ]
check "the package depends on libpq5" bash -c "dpkg-deb -f '$deb' Depends | grep -q libpq5"
check "the package holds /usr/bin/ffrun, its runbooks, stdlib and man page" \
  bash -c "dpkg-deb -c '$deb' | grep -q ' ./usr/bin/ffrun\$' && dpkg-deb -c '$deb' | grep -q ' ./usr/share/ffrun/runbooks/backup.lua\$' && dpkg-deb -c '$deb' | grep -q ' ./usr/share/ffrun/stdlib/rb.lua\$' && dpkg-deb -c '$deb' | grep -q ' ./usr/share/man/man1/ffrun.1'"
dpkg-deb -x "$deb" "$WORK/root"
check "the package unpacks into an empty root" [ -x "$WORK/root/usr/bin/ffrun" ]

# --- each installed ffrun on its own --------------------------------------------------------
pg_start src || { nok "server starts"; finish; exit 1; }
pg_load_sample src app || { nok "sample loads"; finish; exit 1; }
for where in prefix root/usr; do
  bin=$WORK/$where/bin/ffrun share=$WORK/$where/share/ffrun
  # No FFRUN_HOME: the installed binary must find share/ffrun by itself.
  run() { env -u FFRUN_HOME "$bin" "$@"; }
  run --version > "$WORK/v" 2>&1
  check "$where: ffrun --version ($(head -n 1 "$WORK/v"))" grep -q '^ffrun 0\.' "$WORK/v"
  run --check "$share"/runbooks/*.lua > "$WORK/c" 2>&1
  check "$where: ffrun --check of the installed runbooks ($(tail -n 1 "$WORK/c"))" \
    bash -c "[ \$(grep -c '^ok: ' '$WORK/c') = \$(ls '$share'/runbooks/*.lua | wc -l) ]"
  run --describe drill > "$WORK/d" 2>&1
  check "$where: a runbook by name is the installed one" grep -qx "runbook: $share/runbooks/drill.lua" "$WORK/d"
  WS=$WORK/ws-${where%%/*}
  make_config "$WS" "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }"
  (cd "$WORK" && run -q -c "$WS/ffrun.yaml" backup) 2> "$WORK/err"; code=$?
  check "$where: a backup from the installed files (exit $code: $(why "$WORK/err"))" [ $code = 0 ]
  (cd "$WORK" && run -q -c "$WS/ffrun.yaml" drill) 2> "$WORK/err"; code=$?
  ev=$(last_evidence "$WS")
  check "$where: a drill from the installed files PASSes ($(why "$WORK/err"))" [ $code = 0 ]
  check "$where: its evidence names the installed runbook" grep -q "\"path\":\"$share/runbooks/drill.lua\"" "$ev/summary.json"
done

finish

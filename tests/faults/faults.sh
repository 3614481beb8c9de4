#!/usr/bin/env bash
# faults.sh [TRIALS] - randomized faults across backup, restore and drill
# (default 108 trials): SIGKILL or SIGTERM of ffrun at a random moment, a
# PostgreSQL restart or stop, a full disk, a read-only folder, a corrupted
# artifact. After each trial:
#   - the exit status is honest (0 only with a PASS summary, a new backup
#     verifies; a fault that hit gives non-zero and a FAIL summary),
#   - no folder without .partial fails `ffrun verify`,
#   - the live database holds the old data or a verified backup's, intact,
#   - no run hangs (each is bounded), and the next clean run succeeds.
# Needs root (tmpfs mounts for the disk faults). Prints the reliability table.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../harness/lib.sh"
source "$HERE/../harness/pg.sh"
TRIALS=${1:-108}
[ "$(id -u)" = 0 ] || { echo "faults: run as root (tmpfs mounts)" >&2; exit 2; }

pg_start src >/dev/null || exit 2
pg_load_sample src app >/dev/null || exit 2
pg_load_pgbench src app 2 || exit 2
WS=$WORK/ws
mkdir -p "$WORK/disk"
mount -t tmpfs -o size=64m tmpfs "$WORK/disk"
trap 'pg_stop_all; umount -l "$WORK/disk" 2>/dev/null; rm -rf "$WORK"' EXIT
make_config "$WS" \
  "targets: { prod: { conninfo: \"$(pg_conninfo src app)\" }, drill: { ephemeral: true } }" \
  "retention: { keep_last: 3, keep_days: 0 }"
sed -i "s|backups: .*|backups: $WORK/disk/backups|" "$WS/ffrun.yaml"
B=$WORK/disk/backups
run() { timeout 120 "$FFRUN" -q -c "$WS/ffrun.yaml" "$@"; }
live() { pg_table_digest src app | sha256sum | cut -d' ' -f1; }
complete() { ls -1 "$B" 2>/dev/null | grep -E '^[0-9]{8}-[0-9]{6}$'; }
declare -A data_of   # backup stamp -> digest of the data it holds
declare -A tried held
run backup 2>/dev/null || { echo "faults: first backup failed" >&2; exit 2; }
s=$(complete | tail -n 1); data_of[$s]=$(live)
verified=" $s "

trial() { # trial KIND RUNBOOK: one fault, then every check
  local kind=$1 rb=$2 args=() code ev before latest problems=""
  [ "$rb" = restore ] && args=(confirm=app)
  before=$(live); latest=$(complete | tail -n 1)
  local runs_before; runs_before=$(ls "$WS/evidence" 2>/dev/null | sort)
  case $kind in
    corrupt)
      cp -a "$B/$latest" "$WORK/saved"
      # One byte inverted (a fixed value would sometimes equal the old one).
      local off; off=$((RANDOM * 7 % $(stat -c %s "$B/$latest/db.dump")))
      local old; old=$(od -An -tu1 -j "$off" -N1 "$B/$latest/db.dump" | tr -d ' ')
      printf "$(printf '\\%03o' $((old ^ 255)))" | dd of="$B/$latest/db.dump" bs=1 seek="$off" conv=notrunc status=none ;;
    readonly) mount -o remount,ro "$WORK/disk" ;;
  esac
  # ffrun itself in the background (a `timeout` wrapper would take the
  # signals meant for it); a run that outlives 120 s counts as a hang.
  "$FFRUN" -q -c "$WS/ffrun.yaml" "$rb" "${args[@]}" > /dev/null 2> "$WORK/err" & local pid=$!
  local delay; delay=$((RANDOM % 15)); sleep "$((delay / 10)).$((delay % 10))"
  case $kind in
    kill) kill -9 $pid 2>/dev/null ;;
    term) kill -TERM $pid 2>/dev/null ;;
    pgrestart) _pg_as_owner "$PG_BINDIR/pg_ctl" restart -w -m fast -D "$(pg_data src)" >/dev/null 2>&1 ;;
    pgstop) _pg_as_owner "$PG_BINDIR/pg_ctl" stop -w -m fast -D "$(pg_data src)" >/dev/null 2>&1 ;;
    diskfull) fallocate -l 60m "$WORK/disk/filler" 2>/dev/null || true ;;
  esac
  local waited=0
  while kill -0 $pid 2>/dev/null && [ $waited -lt 1200 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 $pid 2>/dev/null; then kill -9 $pid; wait $pid 2>/dev/null; code=124; else wait $pid; code=$?; fi
  # Undo the fault, so the checks and the next run see a healthy system.
  case $kind in
    pgstop) _pg_as_owner "$PG_BINDIR/pg_ctl" start -w -D "$(pg_data src)" -l "$(pg_log src)" >/dev/null 2>&1 ;;
    diskfull) rm -f "$WORK/disk/filler" ;;
    readonly) mount -o remount,rw "$WORK/disk" ;;
    corrupt) rm -rf "$B/$latest"; mv "$WORK/saved" "$B/$latest" ;;
  esac
  [ $code = 124 ] && problems+=" hang;"
  # This run's evidence is the folder that is new since it started (the
  # name that sorts last may be a verify of the same second). A signal in
  # the first milliseconds, before the run began, ends ffrun with no
  # evidence at all: honest too (nothing was started).
  ev=$(comm -13 <(echo "$runs_before") <(ls "$WS/evidence" 2>/dev/null | sort) | grep -- "-$rb" | head -n 1)
  if [ -n "$ev" ]; then ev=$WS/evidence/$ev; else ev=/nonexistent; fi
  if [ $code = 0 ]; then
    grep -q '"status":"PASS"' "$ev/summary.json" 2>/dev/null || problems+=" exit 0 without a PASS summary;"
    case $kind in corrupt|readonly) problems+=" exit 0 despite $kind;" ;; esac
  elif [ $code != 137 ] && [ -f "$ev/summary.json" ]; then
    grep -q '"status":"FAIL"' "$ev/summary.json" || problems+=" exit $code with a PASS summary;"
  fi
  # Every complete backup verifies; a new one is recorded with its data.
  for st in $(complete); do
    case "$verified" in *" $st "*) continue ;; esac
    if run verify path="$B/$st" 2>/dev/null; then verified+="$st "; data_of[$st]=$before
    else problems+=" complete-looking backup $st fails verify;"; fi
  done
  # The live database: the old data, or the verified backup's a restore brought.
  local now; now=$(live)
  [ "$now" = "$before" ] || [ "$now" = "${data_of[$latest]:-x}" ] || problems+=" live database neither old nor the backup's;"
  # The next clean run succeeds (and reaps what a kill left).
  run "$rb" "${args[@]}" > /dev/null 2> "$WORK/err2" || problems+=" next $rb failed: $(tail -n 1 "$WORK/err2");"
  for st in $(complete); do
    case "$verified" in *" $st "*) ;; *) run verify path="$B/$st" 2>/dev/null && verified+="$st " && data_of[$st]=$(live) ;; esac
  done
  [ "$(ps -eo args | grep -c '[p]ostgres.*ffrun-drill-')" = 0 ] || problems+=" drill server left;"
  flock -n "$B/.ffrun.lock" true || problems+=" lock left held;"
  tried[$kind,$rb]=$(( ${tried[$kind,$rb]:-0} + 1 ))
  if [ -z "$problems" ]; then
    held[$kind,$rb]=$(( ${held[$kind,$rb]:-0} + 1 )); ok "$kind during $rb (exit $code)"
  else
    nok "$kind during $rb (exit $code):$problems"
    # What the run said and what its evidence holds, to chase it.
    echo "#   stderr: $(tail -n 2 "$WORK/err" | tr '\n' ' ')"
    echo "#   evidence: $ev: $(grep -o '"error":"[^"]*"' "$ev/summary.json" 2>/dev/null | head -n 2 | tr '\n' ' ')"
  fi
}

# FAULT_KINDS / FAULT_RUNBOOKS (space-separated) narrow the draw, to chase
# one failure: FAULT_KINDS=readonly FAULT_RUNBOOKS=drill faults.sh 10
read -ra kinds <<< "${FAULT_KINDS:-kill term pgrestart pgstop diskfull readonly corrupt}"
read -ra runbooks <<< "${FAULT_RUNBOOKS:-backup restore drill}"
for i in $(seq "$TRIALS"); do
  kind=${kinds[$((RANDOM % ${#kinds[@]}))]}
  case $kind in
    diskfull) rbs=(backup) ;;
    corrupt) rbs=(restore drill) ;;
    *) rbs=(backup restore drill) ;;
  esac
  allowed=()
  for r in "${rbs[@]}"; do case " ${runbooks[*]} " in *" $r "*) allowed+=("$r") ;; esac; done
  [ ${#allowed[@]} -gt 0 ] || continue
  rb=${allowed[$((RANDOM % ${#allowed[@]}))]}
  trial "$kind" "$rb"
  [ $((i % 20)) = 0 ] && run prune >/dev/null 2>&1
done

echo
echo "| fault | runbook | trials | held |"
echo "|---|---|---|---|"
for k in "${kinds[@]}"; do for rb in "${runbooks[@]}"; do
  [ -n "${tried[$k,$rb]:-}" ] && echo "| $k | $rb | ${tried[$k,$rb]} | ${held[$k,$rb]:-0} |"
done; done
finish

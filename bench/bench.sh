#!/usr/bin/env bash
# bench.sh - ffrun against the stock tools, side by side, with the targets:
#   (a) start + an empty runbook, median of $RUNS runs      < 10 ms
#   (b) SHA-256 of a $SIZE_MIB MiB file, openssl/ffrun time  >= 0.9
#   (c) peak RSS of ffrun during (b)                         < 16 MiB
# Builds nothing: point FFRUN at a built binary. Not a test: it prints
# PASS/MISS per target and exits 0 once everything was measured.
#
#   FFRUN=build/ffrun RUNS=50 SIZE_MIB=1024 BENCH_TMP=/tmp bench/bench.sh
# (BENCH_POLL_RSS=1 uses the /proc polling even where /usr/bin/time exists.)
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME's decimal point, sort and awk number formats

FFRUN=${FFRUN:-build/ffrun}
RUNS=${RUNS:-50}
SIZE_MIB=${SIZE_MIB:-1024}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}

die() { echo "bench: $*" >&2; exit 2; }
[ -x "$FFRUN" ] || die "$FFRUN is not executable (build first, or set FFRUN)"
command -v openssl >/dev/null || die "openssl not found"
FFRUN=$(cd "$(dirname "$FFRUN")" && pwd)/$(basename "$FFRUN")

dir=$(mktemp -d "$BENCH_TMP/ffrun-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/b" "$dir/e"
cfg=$dir/ffrun.yaml
printf 'paths: {backups: %s/b, evidence: %s/e}\n' "$dir" "$dir" >"$cfg"

misses=0
verdict() { # verdict OK: sets $v to PASS or MISS and counts the misses
	if [ "$1" = 1 ]; then v=PASS; else v=MISS; misses=$((misses + 1)); fi
}

# Microseconds, without a fork: $(date) would cost about a millisecond,
# as much as what (a) measures.
usec() { local t=${EPOCHREALTIME/[.,]/}; echo "$((10#$t))"; }

median_ms() { # reads microseconds, one a line
	sort -n | awk '{ a[NR] = $1 }
		END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      printf "%.2f", m / 1000 }'
}

# ---- (a) start-up ---------------------------------------------------------
cat >"$dir/empty.lua" <<'EOF'
return { name = "empty", version = "1", summary = "does nothing", steps = {} }
EOF

if ! "$FFRUN" -c "$cfg" "$dir/empty.lua" >"$dir/empty.out" 2>&1; then
	cat "$dir/empty.out" >&2
	die "ffrun failed on the empty runbook (output above)"
fi

: >"$dir/t_ffrun"
: >"$dir/t_true"
for ((i = 0; i < RUNS; i++)); do
	t0=${EPOCHREALTIME/[.,]/}
	"$FFRUN" -c "$cfg" "$dir/empty.lua" >/dev/null 2>&1
	t1=${EPOCHREALTIME/[.,]/}
	/bin/true
	t2=${EPOCHREALTIME/[.,]/}
	echo $((10#$t1 - 10#$t0)) >>"$dir/t_ffrun"
	echo $((10#$t2 - 10#$t1)) >>"$dir/t_true"
done
start_ms=$(median_ms <"$dir/t_ffrun")
true_ms=$(median_ms <"$dir/t_true")
ok=$(awk -v m="$start_ms" 'BEGIN { print ((m < 10) ? 1 : 0) }')
verdict "$ok"
printf '(a) start + empty runbook: median %s ms over %d runs (a bare fork+exec of /bin/true: %s ms), target < 10 ms: %s\n' \
	"$start_ms" "$RUNS" "$true_ms" "$v"

# ---- (b) hashing ----------------------------------------------------------
big=$dir/b/big.bin
echo "    creating a $SIZE_MIB MiB file of random bytes in $dir/b ..." >&2
head -c "${SIZE_MIB}M" /dev/urandom >"$big"

# The path goes into the runbook literally; mktemp's names need no escaping.
cat >"$dir/hash.lua" <<EOF
return { name="hash", version="1", summary="hash a file", steps = { { name="hash", doc="hash the file", run=function() ff.log.info(ff.hash.file("$big")) end } } }
EOF

best_s() { # best_s FILE: the smallest of the microsecond lines, in seconds
	sort -n "$1" | awk 'NR == 1 { printf "%.3f", $1 / 1e6 }'
}

: >"$dir/t_openssl"
: >"$dir/t_hash"
want=
hash_ok=1
for i in 1 2 3; do
	t0=$(usec)
	out=$(openssl dgst -sha256 -r "$big")
	t1=$(usec)
	echo $((t1 - t0)) >>"$dir/t_openssl"
	want=${out%% *}

	t0=$(usec)
	"$FFRUN" -c "$cfg" "$dir/hash.lua" >"$dir/hash.out" 2>&1 || hash_ok=0
	t1=$(usec)
	echo $((t1 - t0)) >>"$dir/t_hash"
done
openssl_s=$(best_s "$dir/t_openssl")
ffrun_s=$(best_s "$dir/t_hash")
ratio=$(awk -v o="$openssl_s" -v f="$ffrun_s" 'BEGIN { printf "%.2f", (f > 0) ? o / f : 0 }')

# A fast wrong answer is no answer: the digest must show up in ffrun's
# output or in its evidence.
if [ "$hash_ok" = 1 ] && grep -rqs "$want" "$dir/hash.out" "$dir/e"; then
	check="digest matches openssl"
else
	check="ffrun failed or its digest was not found (output: $(head -c 300 "$dir/hash.out" | tr '\n' ' '))"
	hash_ok=0
fi
ok=$(awk -v r="$ratio" -v h="$hash_ok" 'BEGIN { print ((h && r >= 0.9) ? 1 : 0) }')
verdict "$ok"
gib_s() { awk -v s="$1" -v m="$SIZE_MIB" 'BEGIN { printf "%.2f", (s > 0) ? m / 1024 / s : 0 }'; }
printf '(b) sha256 of %s MiB, best of 3: openssl %s s (%s GiB/s), ffrun %s s (%s GiB/s), ratio openssl/ffrun %s, %s; target >= 0.9: %s\n' \
	"$SIZE_MIB" "$openssl_s" "$(gib_s "$openssl_s")" "$ffrun_s" "$(gib_s "$ffrun_s")" \
	"$ratio" "$check" "$v"

# ---- (c) peak memory during (b) --------------------------------------------
if [ -x /usr/bin/time ] && [ -z "${BENCH_POLL_RSS:-}" ]; then
	how="/usr/bin/time -v"
	/usr/bin/time -v -o "$dir/time.out" "$FFRUN" -c "$cfg" "$dir/hash.lua" >/dev/null 2>&1 || true
	rss_kb=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$dir/time.out")
else
	# The high-water mark as last seen before exit: polling can only
	# under-read by what the last few milliseconds added.
	how="VmHWM polling"
	"$FFRUN" -c "$cfg" "$dir/hash.lua" >/dev/null 2>&1 &
	pid=$!
	rss_kb=0
	while kill -0 "$pid" 2>/dev/null; do
		while read -r k val _; do
			[ "$k" = VmHWM: ] && [ "$val" -gt "$rss_kb" ] && rss_kb=$val
		done <"/proc/$pid/status" 2>/dev/null || true
		sleep 0.005
	done
	wait "$pid" || true
fi
rss_mib=$(awk -v k="${rss_kb:-0}" 'BEGIN { printf "%.1f", k / 1024 }')
ok=$(awk -v k="${rss_kb:-0}" 'BEGIN { print ((k > 0 && k < 16 * 1024) ? 1 : 0) }')
verdict "$ok"
printf '(c) peak RSS of ffrun hashing %s MiB (%s): %s MiB, target < 16 MiB: %s\n' \
	"$SIZE_MIB" "$how" "$rss_mib" "$v"

echo "$((3 - misses)) of 3 targets met"

#!/usr/bin/env bash
# run.sh [SECONDS] - build the libFuzzer targets (clang, ASan+UBSan) and run
# each for SECONDS (default 60) on its seed corpus; any crash, leak or UB
# report fails. CI runs it short; run it long locally, e.g. run.sh 600.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
build=${FF_FUZZ_BUILD:-build-fuzz}
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DFF_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_config fuzz_redact fuzz_jail fuzz_evidence fuzz_copyscan fuzz_params fuzz_readers >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=0 passed=0
for t in config redact jail evidence copyscan params readers; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  log="$build/fuzz_$t.log"
  dict=(); [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  if "$build/fuzz_$t" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
       -artifact_prefix="$build/crash-$t-" "$work" > "$log" 2>&1; then
    stats=$(grep -E '^(#[0-9]+|Done)' "$log" | tail -n 1)
    echo "ok   - fuzz_$t ${secs}s: $stats"
    passed=$((passed + 1))
  else
    echo "FAIL - fuzz_$t: see $log"; tail -n 30 "$log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

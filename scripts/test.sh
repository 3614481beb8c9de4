#!/usr/bin/env bash
# test.sh - build (installing what is missing) and run the whole suite.
#   FF_SANITIZE=1 runs it against the ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${FF_SANITIZE:-0}" = 1 ]; then build=${FF_BUILD:-build-asan}; else build=${FF_BUILD:-build}; fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j2 "$@"

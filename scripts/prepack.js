'use strict';
// npm's prepack hook: `npm pack` (and `npm publish`) from a clone must ship dist/, the compiled
// JavaScript and type declarations, which are never committed. It compiles them when they are
// missing or older than a source, and says what a tarball without prebuilt binaries means.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fail = (msg) => {
  console.error(`greenhub prepack: ${msg}`);
  process.exit(1);
};

function newest(dir) {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

const built = path.join(root, 'dist', 'index.js');
const stale = !fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(root, 'lib'));
if (stale) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) fail('dist/ must be compiled first and TypeScript is not installed: run `npm ci` (or `make build`), then `npm pack` again');
  console.error('greenhub prepack: compiling dist/ (tsc)');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) fail('tsc failed');
  fs.utimesSync(built, new Date(), new Date());
}

const prebuilds = path.join(root, 'prebuilds');
const have = fs.existsSync(prebuilds) ? fs.readdirSync(prebuilds) : [];
if (have.length === 0) {
  console.error('greenhub prepack: no prebuilt binaries (run `make prebuilds` for a release): this tarball compiles the addon where it is installed, which needs g++, make and python3 there');
}

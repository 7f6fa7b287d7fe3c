'use strict';
// npm's install hook. greenhub is built on epoll, so off Linux there is nothing to build:
// the package still installs (a dependency of a cross-platform project must not break its
// install), and requiring it there fails with one clear sentence (lib/native.ts).
// On Linux, node-gyp-build loads a matching prebuilt binary and compiles only when none matches.
if (process.platform !== 'linux') process.exit(0);
const { spawnSync } = require('node:child_process');
const bin = require.resolve('node-gyp-build/bin.js');
const r = spawnSync(process.execPath, [bin], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);

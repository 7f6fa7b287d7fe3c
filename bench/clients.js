'use strict';
// HTTP load generators nobody here wrote, for the HTTP rows of `make bench`: Debian's wrk and
// npm's autocannon. Each returns what bench/loadgen prints: { ops, ops_per_s, p50_us, p99_us,
// errors }, so run.js measures server CPU per request the same way for every client.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const AUTOCANNON_VERSION = '8.0.0';

const UNIT_US = { us: 1, ms: 1e3, s: 1e6 };

/** Parses `wrk --latency` output. Exported for a check without a server. */
function parseWrk(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    return m ? Number(m[1]) * UNIT_US[m[2]] : null;
  };
  const ops = num(/^\s*(\d+) requests in/m);
  const seconds = (() => {
    const m = /requests in ([\d.]+)(us|ms|s|m),/.exec(out);
    return m ? (Number(m[1]) * ({ us: 1e-6, ms: 1e-3, s: 1, m: 60 }[m[2]])) : null;
  })();
  let errors = num(/Non-2xx or 3xx responses: (\d+)/) ?? 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += sock.slice(1).reduce((s, x) => s + Number(x), 0);
  if (ops === null || !seconds) throw new Error(`wrk printed no totals: ${out.slice(0, 200)}`);
  return { ops, ops_per_s: ops / seconds, p50_us: pct(50), p99_us: pct(99), errors };
}

// pinned: on core 1, the server being on core 0 (as run.js pins bench/loadgen).
const run = (pinned, cmd, args, opts) => (pinned ? execFileSync('taskset', ['-c', '1', cmd, ...args], opts) : execFileSync(cmd, args, opts));

function wrk(port, conns, seconds, pinned) {
  const out = run(pinned, 'wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
    timeout: (seconds + 30) * 1000,
  });
  return parseWrk(out);
}

/** autocannon, installed on first use in .cache/ (a bench tool, not a dependency of the package). */
function autocannonPath() {
  const dir = path.join(ROOT, '.cache', 'autocannon');
  const main = path.join(dir, 'node_modules', 'autocannon', 'autocannon.js');
  if (fs.existsSync(main)) return main;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"autocannon-bench","private":true}');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `autocannon@${AUTOCANNON_VERSION}`], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 300000,
  });
  return r.status === 0 && fs.existsSync(main) ? main : null;
}

function autocannon(port, conns, seconds, pinned) {
  const main = autocannonPath();
  if (!main) throw new Error(`autocannon@${AUTOCANNON_VERSION} did not install`);
  const out = run(pinned, process.execPath, [main, '-c', String(conns), '-d', String(seconds), '-j', `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: (seconds + 30) * 1000,
  });
  const r = JSON.parse(out);
  // autocannon's latencies are whole milliseconds: coarse, but its own.
  return {
    ops: r.requests.total,
    ops_per_s: r.requests.total / r.duration,
    p50_us: r.latency.p50 * 1e3,
    p99_us: r.latency.p99 * 1e3,
    errors: r.errors + r.non2xx + r.timeouts,
  };
}

/** Whether each client can run here: wrk from Debian (make bench installs it). */
function available(name) {
  if (name === 'wrk') return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (name === 'autocannon') return autocannonPath() !== null;
  return false;
}

module.exports = { wrk, autocannon, available, parseWrk };

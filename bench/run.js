'use strict';
// make bench: greenhub beside its peers, measured in the same run, reported as ratios.
//   BENCH_QUICK=1  one short round per configuration (under a minute)
//   BENCH_ONLY, BENCH_BEFORE, BENCH_CPU_PROF, BENCH_SYSCALLS, BENCH_PERF: see below
// Writes the table to stdout and everything to bench/results/latest.json.
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const clients = require('./clients');

const ROOT = path.resolve(__dirname, '..');
const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = QUICK ? 1 : 4;
const WARMUP = QUICK ? 0.3 : 1;
const ROUNDS = QUICK ? 1 : 3;
const MICRO_MS = QUICK ? 300 : 1500;
const CORES = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const PIN = CORES >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const LOADGEN = path.join(__dirname, 'loadgen');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const notes = [];

// Debian's python3 (where python3-eventlet and python3-gevent install), not a pyenv one.
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
function hasPython(mod) {
  return spawnSync(PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0;
}

const SERVERS = {
  greenhub: (mode) => ['node', [path.join(__dirname, 'servers/greenhub-server.js'), mode]],
  ['greenhub x' + CORES]: (mode) => ['node', [path.join(__dirname, 'servers/greenhub-server.js'), mode, '--threads', String(CORES)]],
  'node net': (mode) => ['node', [path.join(__dirname, 'servers/node-net-server.js'), mode]],
  'node http': (mode) => ['node', [path.join(__dirname, 'servers/node-http-server.js'), mode]],
  'greenhub http': (mode) => ['node', [path.join(__dirname, 'servers/greenhub-http-server.js'), mode]],
  // The floor: the same servers in C straight on epoll, and Go's net (make bench builds both).
  'c epoll': (mode) => [path.join(__dirname, 'servers/c-epoll-server'), [mode]],
  'go net': (mode) => [path.join(__dirname, 'servers/go-net-server'), [mode]],
  eventlet: (mode) => [PYTHON, [path.join(__dirname, 'servers/eventlet_server.py'), mode]],
  gevent: (mode) => [PYTHON, [path.join(__dirname, 'servers/gevent_server.py'), mode]],
};
// BENCH_BEFORE=<dir of an older build's dist/>: that build runs beside this one in the same
// run (the first four workloads), so a change is judged by a same-run ratio, not across runs.
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
if (BEFORE) {
  SERVERS['greenhub before'] = (mode) => ['node', [path.join(__dirname, 'servers/greenhub-server.js'), mode]];
}
const floor = [];
for (const [impl, file, how] of [['c epoll', 'c-epoll-server', 'cc'], ['go net', 'go-net-server', "Debian's golang-go"]]) {
  if (fs.existsSync(path.join(__dirname, 'servers', file))) floor.push(impl);
  else notes.push(`${impl}: skipped (bench/servers/${file} was not built: ${how} missing)`);
}
const python = [];
for (const [impl, mod] of [['eventlet', 'eventlet'], ['gevent', 'gevent']]) {
  if (hasPython(mod)) python.push(impl);
  else notes.push(`${impl}: skipped (Debian's python3-${mod} is not installed)`);
}

// workload name -> { mode, conns, impls }
const WORKLOADS = [
  { name: 'echo 64 B, 50 conns', mode: 'echo', conns: 50, impls: ['greenhub', 'node net', ...floor, ...python] },
  { name: 'echo 64 B, 1 conn', mode: 'echo', conns: 1, impls: ['greenhub', 'node net', ...floor] },
  { name: 'hello (conn per request), 50 conns', mode: 'hello', conns: 50, impls: ['greenhub', 'node net', ...floor, 'node http', 'greenhub http', ...python] },
  { name: 'keepalive HTTP/1.1, 50 conns', mode: 'keepalive', conns: 50, impls: ['greenhub', 'node net', ...floor, 'node http', 'greenhub http', ...python] },
];
if (BEFORE) for (const w of WORKLOADS) w.impls.splice(1, 0, 'greenhub before');

if (!QUICK) {
  WORKLOADS.push({ name: 'echo 64 B, 1000 conns', mode: 'echo', conns: 1000, impls: ['greenhub', 'node net', ...floor] });
  WORKLOADS.push({ name: 'keepalive HTTP/1.1, 1000 conns', mode: 'keepalive', conns: 1000, impls: ['greenhub', 'node net', ...floor, 'node http', 'greenhub http'] });
  WORKLOADS.push({ name: 'POST 4 KiB echo HTTP/1.1, 50 conns', mode: 'post', conns: 50, impls: ['node http', 'greenhub http'] });
  // The same keep-alive hello, driven by load generators nobody here wrote.
  for (const client of ['wrk', 'autocannon']) {
    if (clients.available(client)) {
      WORKLOADS.push({ name: `keepalive hello via ${client}, 50 conns`, mode: 'keepalive', client, conns: 50, impls: ['node http', 'greenhub http'] });
    } else notes.push(`${client}: skipped (not installed)`);
  }
  WORKLOADS.push({ name: 'echo 64 B, 200 conns, scale-out', mode: 'echo', conns: 200, impls: ['greenhub', 'greenhub x' + CORES], unpinned: true });
}

// BENCH_ONLY=keepalive (a mode, or a client: wrk, autocannon): just those workloads, and no
// micro benchmarks.
const ONLY = process.env.BENCH_ONLY;
if (ONLY) WORKLOADS.splice(0, WORKLOADS.length, ...WORKLOADS.filter((w) => w.mode === ONLY || w.client === ONLY));

/** [utime, stime] of a process, all threads, in clock ticks. */
function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]), Number(fields[12])];
}

// BENCH_CPU_PROF=1: the greenhub servers run with --cpu-prof, one profile per workload in
// bench/results/profiles/ (the first round's), for `node --cpu-prof` tooling or Chrome DevTools.
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const PROFILES = path.join(__dirname, 'results', 'profiles');

function startServer(impl, mode, pinned, profileName, nodeFlags = []) {
  let [cmd, args] = SERVERS[impl](mode);
  if (cmd === 'node') args = [...nodeFlags, ...args];
  if (profileName) {
    fs.mkdirSync(PROFILES, { recursive: true });
    args = ['--cpu-prof', '--cpu-prof-dir', PROFILES, '--cpu-prof-name', profileName, ...args];
  }
  const full = pinned && PIN ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
  const env = impl === 'greenhub before' ? { ...process.env, GREENHUB_DIST: BEFORE } : process.env;
  const child = spawn(full[0], full[1], { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${impl} did not start`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${impl} exited (${code}) before it was ready`)));
  });
}

function loadgen(port, mode, conns, seconds, pinned, client) {
  if (client) return clients[client](port, conns, seconds, pinned && PIN);
  const args = ['--port', String(port), '--mode', mode, '--conns', String(conns), '--seconds', String(seconds)];
  const [cmd, a] = pinned && PIN ? ['taskset', ['-c', '1', LOADGEN, ...args]] : [LOADGEN, args];
  return JSON.parse(execFileSync(cmd, a, { encoding: 'utf8', timeout: (seconds + 30) * 1000 }).trim());
}

async function measure(impl, w, round) {
  const pinned = !w.unpinned;
  const profile = CPU_PROF && round === 0 && impl.startsWith('greenhub') ? `${impl.replace(/ /g, '-')}-${w.mode}-${w.conns}${w.client ? '-' + w.client : ''}.cpuprofile` : undefined;
  const { child, port } = await startServer(impl, w.mode, pinned, profile);
  try {
    loadgen(port, w.mode, w.conns, w.client ? 1 : WARMUP, pinned, w.client); // JIT and connection warm-up (wrk counts whole seconds)
    const before = cpuTicks(child.pid);
    const r = loadgen(port, w.mode, w.conns, SECONDS, pinned, w.client);
    const after = cpuTicks(child.pid);
    const perOp = (ticks) => (r.ops > 0 ? (ticks * (1e6 / CLK_TCK)) / r.ops : null);
    r.cpu_us_per_op = perOp(after[0] - before[0] + after[1] - before[1]);
    // user (JS, V8, the addon) against system (the kernel: syscalls, loopback TCP)
    r.cpu_user_us_per_op = perOp(after[0] - before[0]);
    r.cpu_sys_us_per_op = perOp(after[1] - before[1]);
    return r;
  } finally {
    // SIGTERM lets a profiled server write its profile (the servers exit on it); else SIGKILL.
    child.kill(profile ? 'SIGTERM' : 'SIGKILL');
    await new Promise((res) => child.once('exit', res));
  }
}

// BENCH_SYSCALLS=1: syscalls per operation, counted with `strace -c -f` on a separate short
// run of each server (strace slows it down: the counts matter here, not the speed). Memory
// management and futex (Node's and Go's helper threads) are left out: what is counted is the
// I/O the work needs.
const SYSCALLS = process.env.BENCH_SYSCALLS === '1';
const NOT_IO = new Set(['total', 'futex', 'mmap', 'munmap', 'mprotect', 'madvise', 'brk', 'rt_sigprocmask', 'rt_sigreturn', 'sched_yield', 'nanosleep', 'clock_nanosleep', 'getpid', 'gettid', 'tgkill']);

function parseStrace(text) {
  const counts = {};
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && !NOT_IO.has(m[2])) counts[m[2]] = (counts[m[2]] ?? 0) + Number(m[1]);
  }
  return counts;
}

async function syscallsPerOp(impl, w) {
  const { child, port } = await startServer(impl, w.mode, true);
  const out = path.join(os.tmpdir(), `greenhub-strace-${process.pid}.txt`);
  try {
    loadgen(port, w.mode, w.conns, WARMUP, true);
    const st = spawn('strace', ['-c', '-f', '-p', String(child.pid), '-o', out], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 500)); // attached to every thread
    const r = loadgen(port, w.mode, w.conns, QUICK ? 1 : 2, true);
    st.kill('SIGINT');
    await new Promise((res) => st.once('exit', res));
    const counts = parseStrace(fs.readFileSync(out, 'utf8'));
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const top = Object.entries(counts).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k} ${fmt(v / r.ops, 2)}`);
    return { workload: w.name, impl, per_op: r.ops > 0 ? total / r.ops : null, top };
  } finally {
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    fs.rmSync(out, { force: true });
  }
}

// BENCH_PERF=1: where a greenhub server's CPU goes, per operation, from a `perf record` of a
// separate short run (the server runs with --perf-basic-prof, so JavaScript frames are named):
// the kernel, JavaScript, V8's builtins (generator resumes, property lookups, allocation), the
// crossings into the addon (Node-API and the addon itself), the garbage collector, libc.
const PERF = process.env.BENCH_PERF === '1';
const PERF_CATEGORIES = [
  ['kernel', (dso) => dso === '[kernel.kallsyms]'],
  ['JavaScript', (dso, sym) => dso.startsWith('[JIT]') || /^perf-\d+\.map$/.test(dso) || sym.startsWith('JS:') || sym.startsWith('RegExp:')],
  // Node-API, the V8 API calls it makes (typed-array lookups, numbers), the addon's own code.
  ['addon crossings (Node-API + addon)', (dso, sym) => dso === 'greenhub.node' || /napi_|v8impl|Napi::|node::InternalMakeCallback|node::InternalCallbackScope|Builtins_CallApiCallback|^v8::(Value|Number|Integer|TypedArray|ArrayBuffer|ArrayBufferView|External|Function|Object)::|^v8::internal::JSTypedArray::/.test(sym)],
  ['garbage collector', (dso, sym) => /v8::internal::(Scaveng|Mark|Sweep|Heap|Evacuat|ConcurrentMarking|MemoryAllocator|ArrayBufferSweeper|MinorMC|RememberedSet|SlotSet)/.test(sym)],
  ['V8 builtins', (dso, sym) => sym.startsWith('Builtins_')],
  ['libc', (dso) => dso.startsWith('libc')],
  ['other (V8, Node, libuv)', () => true],
];

async function perfBreakdown(impl, w) {
  const { child, port } = await startServer(impl, w.mode, true, undefined, ['--perf-basic-prof']);
  const data = path.join(os.tmpdir(), `greenhub-perf-${process.pid}.data`);
  try {
    loadgen(port, w.mode, w.conns, WARMUP, true);
    const rec = spawn('perf', ['record', '-F', '2000', '-p', String(child.pid), '-o', data], { stdio: 'ignore' });
    await new Promise((res) => setTimeout(res, 300));
    const before = cpuTicks(child.pid);
    const r = loadgen(port, w.mode, w.conns, QUICK ? 1 : 2, true);
    const after = cpuTicks(child.pid);
    rec.kill('SIGINT');
    await new Promise((res) => rec.once('exit', res));
    const cpuPerOp = ((after[0] - before[0] + after[1] - before[1]) * (1e6 / CLK_TCK)) / r.ops;
    const report = execFileSync('perf', ['report', '-i', data, '--no-children', '--sort', 'dso,sym', '-g', 'none', '--stdio'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    const shares = Object.fromEntries(PERF_CATEGORIES.map(([name]) => [name, 0]));
    for (const line of report.split('\n')) {
      const m = /^\s*([\d.]+)%\s+(.+?)\s+\[[.k]\]\s+(.*)$/.exec(line); // a dso may hold spaces ("[JIT] tid 7")
      if (!m) continue;
      const [, pct, dso, sym] = m;
      const [name] = PERF_CATEGORIES.find(([, test]) => test(dso, sym.trim()));
      shares[name] += Number(pct);
    }
    const total = Object.values(shares).reduce((a, b) => a + b, 0) || 1;
    const perOp = Object.fromEntries(Object.entries(shares).map(([k, v]) => [k, (v / total) * cpuPerOp]));
    return { workload: w.name, impl, cpu_us_per_op: cpuPerOp, us_per_op: perOp };
  } finally {
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    fs.rmSync(data, { force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function micro(name, extraEnv = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'micro.js'), name, String(MICRO_MS)], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, ...extraEnv },
    ...(PIN ? {} : {}),
  });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { name, value: null, unit: '', skipped: (r.stderr || 'no output').split('\n')[0] };
  }
}

function buildEpollPackage() {
  // The npm `epoll` package, built in a folder of its own (it has a native addon of its own).
  const dir = path.join(ROOT, '.cache', 'epoll-pkg');
  const main = path.join(dir, 'node_modules', 'epoll');
  if (fs.existsSync(path.join(main, 'build', 'Release', 'epoll.node'))) return main;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"epoll-bench","private":true}');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'epoll@4'], { cwd: dir, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) return null;
  return main;
}

function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const started = new Date();
  const results = { date: started.toISOString(), quick: QUICK, machine: {}, notes, workloads: [], micro: [] };
  results.machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: CORES,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    pinned: PIN ? 'server on core 0, load generator on core 1' : 'not pinned',
    seconds: SECONDS,
    rounds: ROUNDS,
  };

  for (const w of WORKLOADS) {
    const runs = Object.fromEntries(w.impls.map((i) => [i, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order every round, so drift in the machine's speed hits everyone alike.
      const order = round % 2 === 0 ? w.impls : [...w.impls].reverse();
      for (const impl of order) {
        try {
          runs[impl].push(await measure(impl, w, round));
        } catch (e) {
          notes.push(`${w.name} / ${impl}: ${e.message}`);
        }
      }
    }
    const rows = [];
    for (const impl of w.impls) {
      const rs = runs[impl];
      if (rs.length === 0) continue;
      const ops = rs.map((r) => r.ops_per_s);
      rows.push({
        impl,
        ops_per_s: median(ops),
        ops_min: Math.min(...ops),
        ops_max: Math.max(...ops),
        p50_us: median(rs.map((r) => r.p50_us)),
        p99_us: median(rs.map((r) => r.p99_us)),
        cpu_us_per_op: median(rs.map((r) => r.cpu_us_per_op)),
        cpu_user_us_per_op: median(rs.map((r) => r.cpu_user_us_per_op)),
        cpu_sys_us_per_op: median(rs.map((r) => r.cpu_sys_us_per_op)),
        errors: rs.reduce((s, r) => s + r.errors, 0),
        stalled: median(rs.map((r) => r.stalled ?? 0)),
        waiting_max_us: median(rs.map((r) => r.waiting_max_us ?? 0)),
        rounds: rs,
      });
      // Percentiles count answered requests only: say so when a server left connections waiting.
      const last = rows[rows.length - 1];
      if (last.stalled > 0) {
        notes.push(`${w.name} / ${impl}: ${fmt(last.stalled)} of ${fmt(w.conns)} connections got no answer for over 1 s (the oldest waited ${fmt(last.waiting_max_us / 1e6, 1)} s; median of rounds); its p50/p99 count answered requests only`);
      }
    }
    const base = rows.find((r) => r.impl === 'node net') ?? rows.find((r) => r.impl === 'node http') ?? rows.find((r) => r.impl === 'greenhub');
    const c = rows.find((r) => r.impl === 'c epoll');
    for (const r of rows) {
      r.ops_ratio = base ? r.ops_per_s / base.ops_per_s : null;
      r.cpu_ratio = base && r.cpu_us_per_op && base.cpu_us_per_op ? r.cpu_us_per_op / base.cpu_us_per_op : null;
      // The floor: server CPU per op against the C epoll server's, same run.
      r.floor_ratio = c && r.cpu_us_per_op && c.cpu_us_per_op ? r.cpu_us_per_op / c.cpu_us_per_op : null;
    }
    results.workloads.push({ name: w.name, mode: w.mode, conns: w.conns, baseline: base?.impl, rows });
    process.stderr.write(`done: ${w.name}\n`);
  }

  if (PERF) {
    results.perf = [];
    if (spawnSync('perf', ['--version'], { stdio: 'ignore' }).status !== 0) notes.push('perf breakdown: skipped (perf is not installed)');
    else {
      for (const w of WORKLOADS.filter((x) => x.conns === 50 && (x.mode === 'echo' || x.mode === 'keepalive') && !x.client)) {
        for (const impl of ['greenhub', 'node net'].filter((i) => w.impls.includes(i))) {
          try {
            results.perf.push(await perfBreakdown(impl, w));
          } catch (e) {
            notes.push(`perf ${w.name} / ${impl}: ${e.message}`);
          }
        }
      }
    }
  }

  if (SYSCALLS) {
    results.syscalls = [];
    if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).error) notes.push("syscalls per op: skipped (Debian's strace is not installed)");
    else {
      for (const w of WORKLOADS.filter((x) => x.conns === 50 && (x.mode === 'echo' || x.mode === 'keepalive') && !x.client)) {
        for (const impl of ['greenhub', 'c epoll', 'go net', 'node net'].filter((i) => w.impls.includes(i))) {
          try {
            results.syscalls.push(await syscallsPerOp(impl, w));
          } catch (e) {
            notes.push(`syscalls ${w.name} / ${impl}: ${e.message}`);
          }
        }
      }
    }
  }

  if (ONLY) {
    // A focused run: print the table, keep latest.json for full runs.
    console.log(render(results));
    return;
  }
  const epollPkg = buildEpollPackage();
  if (!epollPkg) notes.push('npm epoll package: skipped (it did not build)');
  // A sleep(0) switch is compared with the detector's cost, with await ping-pong and with the bare
  // generator floor: run them alternately, three times each, medians.
  const paired = { 'switch-2': [], 'switch-2-detector': [], 'async-await-2': [], 'generator-floor': [] };
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    for (const name of Object.keys(paired)) paired[name].push(micro(name));
  }
  for (const [name, rs] of Object.entries(paired)) {
    const ok = rs.filter((r) => r.value !== null);
    results.micro.push(ok.length ? { ...ok[0], value: median(ok.map((r) => r.value)) } : rs[0]);
  }
  for (const name of ['switch-1000', 'switch-2-100fds', 'setImmediate-chain', 'spawn-finish', 'crossing', 'idle-100k', 'timers', 'events-greenhub', 'events-epoll-pkg', 'http-head-greenhub', 'http-head-llhttp']) {
    if (name === 'events-epoll-pkg' && !epollPkg) continue;
    results.micro.push(micro(name, epollPkg ? { EPOLL_PKG: epollPkg } : {}));
  }

  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(render(results));
}

function render(res) {
  const m = res.machine;
  const lines = [];
  lines.push(`greenhub bench — ${res.date.slice(0, 10)}${res.quick ? ' (BENCH_QUICK)' : ''}`);
  lines.push(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}; ${m.pinned}; ${m.rounds} round(s) of ${m.seconds} s, medians`);
  lines.push('');
  lines.push('| workload | server | req/s (min–max) | × node net | p50 µs | p99 µs | server CPU µs/op (user + sys) | × node net | × C floor |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const w of res.workloads) {
    for (const r of w.rows) {
      const name = w.baseline && w.baseline !== 'node net' ? `${w.name} (ratios × ${w.baseline})` : w.name;
      lines.push(`| ${name} | ${r.impl} | ${fmt(r.ops_per_s)} (${fmt(r.ops_min)}–${fmt(r.ops_max)}) | ${fmt(r.ops_ratio, 2)} | ${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${fmt(r.cpu_us_per_op, 2)} (${fmt(r.cpu_user_us_per_op, 1)} + ${fmt(r.cpu_sys_us_per_op, 1)}) | ${fmt(r.cpu_ratio, 2)} | ${fmt(r.floor_ratio, 2)} |`);
    }
  }
  if (res.syscalls?.length) {
    lines.push('');
    lines.push('| syscalls per op (strace -c, BENCH_SYSCALLS=1) | server | per op | most frequent, per op |');
    lines.push('|---|---|---|---|');
    for (const x of res.syscalls) lines.push(`| ${x.workload} | ${x.impl} | ${fmt(x.per_op, 2)} | ${x.top.join(', ')} |`);
  }
  if (res.perf?.length) {
    const cats = PERF_CATEGORIES.map(([name]) => name);
    lines.push('');
    lines.push(`| server CPU µs per op by where it goes (perf record, BENCH_PERF=1) | server | all | ${cats.join(' | ')} |`);
    lines.push(`|---|---|---|${cats.map(() => '---').join('|')}|`);
    for (const x of res.perf) lines.push(`| ${x.workload} | ${x.impl} | ${fmt(x.cpu_us_per_op, 2)} | ${cats.map((c) => fmt(x.us_per_op[c], 2)).join(' | ')} |`);
  }
  lines.push('');
  lines.push('| micro benchmark | result |');
  lines.push('|---|---|');
  const get = (n) => res.micro.find((x) => x.name === n);
  for (const x of res.micro) {
    let v = x.value === null ? `skipped: ${x.skipped}` : `${fmt(x.value)} ${x.unit}`;
    if (x.name === 'idle-100k' && x.value !== null) v += ` (${x.totalMB} MB heap for 100,000; RSS ${fmt(x.rssBytesPerGreenthread)} B each)`;
    if (x.name === 'switch-2-detector' && x.value && get('switch-2')?.value) {
      const slower = (1 - x.value / get('switch-2').value) * 100;
      v += slower >= 0 ? ` (${fmt(slower, 1)} % slower than switch-2)` : ` (${fmt(-slower, 1)} % faster than switch-2: noise)`;
    }
    if (x.name === 'switch-2' && x.value && get('async-await-2')?.value) v += ` (${fmt(x.value / get('async-await-2').value, 2)} × async-await-2, ${fmt(x.value / (get('generator-floor')?.value || NaN), 2)} × generator-floor)`;
    if (x.name === 'events-greenhub' && x.value && get('events-epoll-pkg')?.value) v += ` (${fmt(x.value / get('events-epoll-pkg').value, 1)} × the epoll package)`;
    lines.push(`| ${x.name} | ${v} |`);
  }
  if (res.notes.length) {
    lines.push('');
    for (const n of res.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

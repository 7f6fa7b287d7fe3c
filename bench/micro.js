'use strict';
// Micro benchmarks, one per process: node --expose-gc micro.js <name> <ms>
// Prints one JSON line { name, value, unit, ... }.
const path = require('node:path');
const g = require(path.join(__dirname, '..', 'dist'));
const { native } = require(path.join(__dirname, '..', 'dist', 'native.js'));

const [name, msArg] = process.argv.slice(2);
const MS = Number(msArg || 1000);
const out = (value, unit, extra = {}) => console.log(JSON.stringify({ name, value, unit, ...extra }));

function switches(n, fds, detector) {
  const pipes = [];
  for (let i = 0; i < fds; i++) pipes.push(g.pipe());
  let count = 0;
  let stop = false;
  function* spinner() {
    while (!stop) {
      count++;
      yield* g.sleep(0);
    }
  }
  const start = () => {
    for (let i = 0; i < n; i++) g.spawn(spinner);
    const t0 = performance.now();
    setTimeout(() => {
      stop = true;
      const secs = (performance.now() - t0) / 1000;
      out(Math.round(count / secs), 'switches/s', { greenthreads: n, fds });
      for (const [r, w] of pipes) { r.close(); w.close(); }
      if (detector) detector.stop();
    }, MS);
  };
  if (detector) detector.ready().then(start);
  else start();
}

function asyncPingPong() {
  // Two async functions taking turns through the microtask queue (the promise world's sleep(0)).
  let count = 0;
  const t0 = performance.now();
  const end = t0 + MS;
  let stop = false;
  async function player() {
    while (!stop) {
      count++;
      if ((count & 4095) === 0 && performance.now() > end) stop = true;
      await null;
    }
  }
  Promise.all([player(), player()]).then(() => out(Math.round(count / ((performance.now() - t0) / 1000)), 'awaits/s'));
}

// The floor under a sleep(0) switch: two generators taking turns through a bare scheduler loop,
// each `yield*`-delegating to one shared iterator as greenhub's operations do, with nothing else
// (no clock, no states, no priorities). What a switch costs beyond this is the hub's own work.
function generatorFloor() {
  const SUSPENDED = { done: false, value: undefined };
  const DONE = { done: true, value: undefined };
  let queue = [];
  let running;
  let count = 0;
  let stop = false;
  const op = {
    [Symbol.iterator]() { return this; },
    next(v) {
      if (v === 1) return DONE;
      queue.push(running);
      return SUSPENDED;
    },
  };
  function* player() {
    while (!stop) {
      count++;
      yield* op;
    }
  }
  queue.push(player(), player());
  const t0 = performance.now();
  for (let turns = 1; !stop; turns++) {
    const batch = queue;
    queue = [];
    for (const gen of batch) {
      running = gen;
      gen.next(1);
    }
    if ((turns & 1023) === 0 && performance.now() - t0 > MS) stop = true;
  }
  out(Math.round(count / ((performance.now() - t0) / 1000)), 'switches/s');
}

function setImmediateChain() {
  let count = 0;
  const t0 = performance.now();
  const end = t0 + MS;
  (function step() {
    count++;
    if (performance.now() < end) setImmediate(step);
    else out(Math.round(count / ((performance.now() - t0) / 1000)), 'callbacks/s');
  })();
}

// One crossing into the addon: a non-blocking read of an empty pipe (EAGAIN), what a socket
// read costs besides the kernel's work. Reports user-space ns per call (process.cpuUsage).
function crossing() {
  const p = new Int32Array(2);
  native.pipe2(p);
  const buf = Buffer.alloc(64);
  let calls = 0;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    for (let i = 0; i < 10_000; i++) native.read(p[0], buf, 0, 64);
    calls += 10_000;
  }
  const u = process.cpuUsage(u0);
  native.close(p[0]);
  native.close(p[1]);
  out(Math.round((u.user * 1000) / calls), 'ns user per call', { sysNsPerCall: Math.round((u.system * 1000) / calls) });
}

function spawnFinish() {
  let count = 0;
  const t0 = performance.now();
  function* nothing() {}
  g.spawn(function* () {
    while (performance.now() - t0 < MS) {
      for (let i = 0; i < 1000; i++) g.spawn(nothing);
      count += 1000;
      yield* g.sleep(0);
    }
    yield* g.sleep(0);
    out(Math.round(count / ((performance.now() - t0) / 1000)), 'greenthreads/s');
  });
}

function idleMemory() {
  const N = 100_000;
  global.gc();
  const before = process.memoryUsage();
  const gts = [];
  function* idle() {
    yield* g.sleep(1e9);
  }
  for (let i = 0; i < N; i++) gts.push(g.spawn(idle));
  setTimeout(() => {
    global.gc();
    const after = process.memoryUsage();
    const heap = after.heapUsed - before.heapUsed;
    const rss = after.rss - before.rss;
    out(Math.round(heap / N), 'heap bytes/greenthread', { rssBytesPerGreenthread: Math.round(rss / N), totalMB: +((heap) / 1048576).toFixed(1), greenthreads: N });
    g.getHub().killAll();
  }, 200);
}

function timers() {
  const hub = g.getHub();
  let count = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    for (let i = 0; i < 1000; i++) hub.cancelTimer(hub.addTimer(1000 + i, 3, undefined, () => {}, false));
    count += 1000;
  }
  out(Math.round(count / ((performance.now() - t0) / 1000)), 'timers set+cancelled/s');
}

/** Kernel events delivered to JS from 1,000 eventfds, through a poller in callback mode. */
function events(kind) {
  const N = 1000;
  const fds = [];
  for (let i = 0; i < N; i++) fds.push(native.eventfd(0));
  let delivered = 0;
  let round = 0;
  const t0 = performance.now();
  let finish;
  const signalAll = () => {
    round = 0;
    for (const fd of fds) native.eventfdWrite(fd, 1);
  };
  const onEvent = () => {
    delivered++;
    if (++round === N) {
      if (performance.now() - t0 < MS) setImmediate(signalAll);
      else finish();
    }
  };
  if (kind === 'greenhub') {
    const p = new g.Poller({ maxEvents: 1024 });
    for (const fd of fds) p.add(fd, g.Poller.EPOLLIN | g.Poller.EPOLLET);
    p.start(onEvent);
    finish = () => {
      p.close();
      out(Math.round(delivered / ((performance.now() - t0) / 1000)), 'events/s', { fds: N });
      for (const fd of fds) native.close(fd);
    };
  } else {
    let Epoll;
    try {
      ({ Epoll } = require(process.env.EPOLL_PKG));
    } catch (e) {
      out(null, 'events/s', { skipped: `npm epoll package unavailable: ${e.message.split('\n')[0]}` });
      return;
    }
    const ep = new Epoll((err) => {
      if (err) throw err;
      onEvent();
    });
    for (const fd of fds) ep.add(fd, Epoll.EPOLLIN | Epoll.EPOLLET);
    finish = () => {
      for (const fd of fds) ep.remove(fd);
      ep.close();
      out(Math.round(delivered / ((performance.now() - t0) / 1000)), 'events/s', { fds: N });
      for (const fd of fds) native.close(fd);
    };
  }
  signalAll();
}

// A typical request head (6 header lines), parsed over and over: greenhub's parser against
// Node's own llhttp (through the HTTPParser binding that node:http uses).
const HEAD = Buffer.from(
  'GET /api/items?page=2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n' +
    'Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nCookie: session=abc123\r\n\r\n',
);
function httpHead(which) {
  let parse;
  if (which === 'greenhub') {
    const { parseRequestHead, requestBodyFraming } = require(path.join(__dirname, '..', 'dist', 'http', 'parser.js'));
    const limits = { maxHeaderBytes: 16384, maxHeaders: 2000 };
    parse = () => requestBodyFraming(parseRequestHead(HEAD, limits));
  } else {
    const { HTTPParser } = require('_http_common');
    const parser = new HTTPParser();
    parser[HTTPParser.kOnHeadersComplete] = () => 0;
    parser.initialize(HTTPParser.REQUEST, {});
    parse = () => {
      parser.execute(HEAD);
      parser.initialize(HTTPParser.REQUEST, {}); // a fresh request each time
    };
  }
  for (let i = 0; i < 20000; i++) parse(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    for (let i = 0; i < 1000; i++) parse();
    n += 1000;
  }
  out(Math.round(((performance.now() - t0) * 1e6) / n), 'ns per request head', { headerLines: 6 });
}

const benches = {
  'http-head-greenhub': () => httpHead('greenhub'),
  'http-head-llhttp': () => httpHead('llhttp'),
  'switch-2': () => switches(2, 0),
  'switch-1000': () => switches(1000, 0),
  'switch-2-100fds': () => switches(2, 100),
  'switch-2-detector': () => switches(2, 0, g.detectBlocking({ thresholdMs: 100, onReport: () => {} })),
  'async-await-2': asyncPingPong,
  'generator-floor': generatorFloor,
  'setImmediate-chain': setImmediateChain,
  'spawn-finish': spawnFinish,
  'crossing': crossing,
  'idle-100k': idleMemory,
  'timers': timers,
  'events-greenhub': () => events('greenhub'),
  'events-epoll-pkg': () => events('epoll'),
};
if (!benches[name]) throw new Error(`unknown micro benchmark ${name}; one of ${Object.keys(benches).join(', ')}`);
benches[name]();

'use strict';
// Soak clients, run in a process of their own: node clients.js <port> <clients> <seconds> [seed]
// Healthy clients echo random payloads and check every byte; the rest misbehave: they reset
// mid-stream, half-close, stall for seconds, or connect and send nothing. Loopback only.
// Prints one JSON line of figures when the time is up.
const net = require('node:net');

const [port, clients, seconds, seedArg] = process.argv.slice(2).map(Number);
let seed = seedArg || 12345;
function rand() {
  // xorshift32: the same run for the same seed
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const deadline = Date.now() + seconds * 1000;
const stats = { served: 0, bytesEchoed: 0, bytesLost: 0, mismatches: 0, healthyErrors: 0, maxWaitMs: 0, resets: 0, halfCloses: 0, stalls: 0, idles: 0, exchanges: 0 };

function payload(n, tag) {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (tag + i * 31) & 0xff;
  return b;
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends data and resolves with what came back, once `expect` bytes arrived or the socket ended. */
function exchange(s, data, expect) {
  return new Promise((resolve) => {
    const chunks = [];
    let got = 0;
    const t0 = Date.now();
    const onData = (d) => {
      chunks.push(d);
      got += d.length;
      if (got >= expect) done();
    };
    const done = () => {
      s.off('data', onData);
      s.off('end', done);
      s.off('error', done);
      resolve({ back: Buffer.concat(chunks), waitMs: Date.now() - t0 });
    };
    s.on('data', onData);
    s.once('end', done);
    s.once('error', done);
    s.write(data);
  });
}

async function healthy(id) {
  while (Date.now() < deadline) {
    let s;
    try {
      s = await connect();
    } catch {
      stats.healthyErrors++;
      continue;
    }
    stats.served++;
    const rounds = 1 + Math.floor(rand() * 5);
    for (let r = 0; r < rounds && Date.now() < deadline; r++) {
      const size = 1 + Math.floor(Math.exp(rand() * Math.log(65536)));
      const data = payload(size, id + r);
      const { back, waitMs } = await exchange(s, data, size);
      stats.exchanges++;
      stats.maxWaitMs = Math.max(stats.maxWaitMs, waitMs);
      if (back.length < size) stats.bytesLost += size - back.length;
      if (!back.subarray(0, size).equals(data.subarray(0, back.length))) stats.mismatches++;
      stats.bytesEchoed += Math.min(back.length, size);
    }
    s.destroy();
  }
}

async function resetter(id) {
  while (Date.now() < deadline) {
    try {
      const s = await connect();
      s.on('error', () => {});
      s.write(payload(1 + Math.floor(rand() * 50000), id));
      await new Promise((r) => setTimeout(r, rand() * 20));
      s.resetAndDestroy();
      stats.resets++;
    } catch {
      /* the server may refuse under load: try again */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function halfCloser(id) {
  while (Date.now() < deadline) {
    try {
      const s = await connect();
      const size = 1 + Math.floor(rand() * 20000);
      const data = payload(size, id);
      const back = await new Promise((resolve) => {
        const chunks = [];
        s.on('data', (d) => chunks.push(d));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', () => resolve(Buffer.concat(chunks)));
        s.end(data); // half-close: the echo of everything must still come back
      });
      if (!back.equals(data)) stats.mismatches++;
      stats.halfCloses++;
      s.destroy();
    } catch {
      /* retry */
    }
  }
}

async function staller(id) {
  while (Date.now() < deadline) {
    try {
      const s = await connect();
      s.on('error', () => {});
      s.write(payload(100, id));
      await new Promise((r) => setTimeout(r, 1000 + rand() * 2000)); // stalls for seconds, reading nothing
      s.destroy();
      stats.stalls++;
    } catch {
      /* retry */
    }
  }
}

async function idler() {
  while (Date.now() < deadline) {
    try {
      const s = await connect();
      s.on('error', () => {});
      await new Promise((r) => setTimeout(r, Math.min(3000, Math.max(0, deadline - Date.now()))));
      s.destroy();
      stats.idles++;
    } catch {
      /* retry */
    }
  }
}

const kinds = [];
for (let i = 0; i < clients; i++) {
  const x = i % 20; // 70 % healthy, the rest misbehave
  kinds.push(x < 14 ? healthy(i) : x < 16 ? resetter(i) : x < 17 ? halfCloser(i) : x < 19 ? staller(i) : idler());
}
Promise.all(kinds).then(() => console.log(JSON.stringify(stats)));

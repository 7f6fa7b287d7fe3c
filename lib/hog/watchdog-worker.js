'use strict';
// The watchdog thread of detectBlocking (plain JS: worker threads cannot run TypeScript).
//
// It samples the hub's shared counters ([0] switches, [1] id of the running greenthread). When
// the same greenthread has held the hub past the threshold, it writes one live line on stderr
// (fs.writeSync: a worker's process.stderr shows only after the block ends) and, for a hub on
// the main thread, takes the stack through an inspector session connected to the main thread:
// Runtime.evaluate runs there at once, even inside a busy loop, on top of the blocked frames.
// When the block ends, one report goes to the hub's thread. One live line and one report per
// episode: no flood.

(function watchdog() {
  const { workerData, parentPort } = require('node:worker_threads');
  const fs = require('node:fs');
  const data = workerData;
  const shared = new Int32Array(data.shared);
  const threshold = data.thresholdMs;
  const every = Math.max(1, Math.min(50, threshold / 10));


  // The expression evaluated on the hub's thread while it is blocked: who runs, and where.
  // It takes the stack as text, so source maps (tsx, --enable-source-maps) apply to it.
  const EXPR = `(() => {
    const hub = globalThis[Symbol.for('greenhub.hub')];
    const gt = hub && hub.current;
    const l = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack;
    Error.stackTraceLimit = l;
    return JSON.stringify({ id: gt ? gt.id : 0, name: gt ? gt.name : undefined, spawnSite: gt ? gt.spawnSite : undefined, stack });
  })()`;

  // "    at fn (file:line:col)" or "    at file:line:col" -> a frame; eval frames are dropped.
  function parseStack(text) {
    const frames = [];
    for (const raw of String(text).split('\n').slice(1)) {
      const line = raw.trim();
      if (!line.startsWith('at ')) continue;
      let m = /^at (.*?) \((.*):(\d+):(\d+)\)$/.exec(line);
      let fn = '';
      let url;
      let ln;
      let col;
      if (m) {
        fn = m[1];
        url = m[2];
        ln = m[3];
        col = m[4];
      } else {
        m = /^at (.*):(\d+):(\d+)$/.exec(line);
        if (!m) continue;
        url = m[1];
        ln = m[2];
        col = m[3];
      }
      if (url.startsWith('<anonymous>') || url === 'evalmachine.<anonymous>') continue;
      frames.push({ functionName: fn.replace(/^async /, ''), url, line: Number(ln), column: Number(col) });
    }
    return frames;
  }

  let session;
  if (data.inspect) {
    const { Session } = require('node:inspector');
    session = new Session();
    session.connectToMainThread();
  }

  let lastCount = Atomics.load(shared, 0);
  let lastChange = performance.now();
  let episode;

  function live(ep) {
    const who = ep.name !== undefined ? `"${ep.name}" (id ${ep.id})` : `id ${ep.id}`;
    const top = ep.stack && ep.stack[0] ? ` at ${ep.stack[0].functionName || '<anonymous>'} (${ep.stack[0].url}:${ep.stack[0].line})` : '';
    fs.writeSync(2, `greenhub: greenthread ${who} has blocked the hub for ${Math.round(ep.noticedAt - ep.start)} ms${top} (threshold ${threshold} ms)\n`);
  }

  function report(ep) {
    if (ep.end === undefined || !ep.captured) return; // both the end and the capture are needed
    parentPort.postMessage({
      type: 'report',
      report: {
        id: ep.id,
        name: ep.name,
        spawnSite: ep.spawnSite,
        noticedAfterMs: Math.round(ep.noticedAt - ep.start),
        durationMs: Math.round(ep.end - ep.start),
        stack: ep.stack,
      },
    });
  }

  function capture(ep) {
    if (!session) {
      ep.captured = true;
      live(ep);
      return;
    }
    session.post('Runtime.evaluate', { expression: EXPR, returnByValue: true }, (err, res) => {
      if (!err && res && res.result && typeof res.result.value === 'string') {
        try {
          const v = JSON.parse(res.result.value);
          // The reply may come after the block ended: keep it only if the same greenthread ran.
          if (v.id === ep.id) {
            ep.name = v.name;
            ep.spawnSite = v.spawnSite;
            ep.stack = parseStack(v.stack);
          }
        } catch {
          /* no stack then */
        }
      }
      ep.captured = true;
      live(ep);
      report(ep);
    });
  }

  setInterval(() => {
    const now = performance.now();
    const count = Atomics.load(shared, 0);
    const id = Atomics.load(shared, 1);
    if (count !== lastCount || id === 0) {
      if (episode) {
        episode.end = now;
        report(episode);
        episode = undefined;
      }
      lastCount = count;
      lastChange = now;
      return;
    }
    if (episode === undefined && now - lastChange >= threshold) {
      episode = { id, start: lastChange, noticedAt: now, captured: false };
      capture(episode);
    }
  }, every);

  parentPort.postMessage({ type: 'ready' });
})();

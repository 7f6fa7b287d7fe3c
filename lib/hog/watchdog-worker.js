'use strict';
// The watchdog thread of detectBlocking (plain JS: worker threads cannot run TypeScript).
//
// It samples two shared buffers: the hub's counters ([0] switches, [1] id of the running
// greenthread, 0 for none) and the loop heartbeat ([0], bumped by an unref'd timer on the hub's
// thread while a detector runs). Two kinds of block, one episode at a time:
// - a greenthread holds the hub: the same greenthread has run, with no switch, past the
//   threshold;
// - the loop is blocked outside any greenthread (a plain setTimeout callback, a sync call in a
//   request handler): no greenthread runs, and neither the heartbeat nor the switch count has
//   moved past the threshold. A greenthread that ran just before does not count: the outside
//   clock starts when the hub was last seen doing anything.
// When a block is seen it writes one live line on stderr (fs.writeSync: a worker's
// process.stderr shows only after the block ends) and, for a hub on the main thread, takes the
// stack through an inspector session connected to the main thread: Runtime.evaluate runs there
// at once, even inside a busy loop, on top of the blocked frames. When the block ends, one
// report goes to the hub's thread. One live line and one report per episode: no flood.

(function watchdog() {
  const { workerData, parentPort } = require('node:worker_threads');
  const fs = require('node:fs');
  const data = workerData;
  const shared = new Int32Array(data.shared);
  const beat = new Int32Array(data.beat);
  const threshold = data.thresholdMs;
  const ownDir = data.ownDir;
  const every = Math.max(1, Math.min(50, threshold / 10));

  // The expression evaluated on the hub's thread while it is blocked: who runs, and where, and
  // the counters then (a reply that comes after the block ended is told apart by them). It takes
  // the stack as text, so source maps (tsx, --enable-source-maps) apply to it.
  const EXPR = `(() => {
    const hub = globalThis[Symbol.for('greenhub.hub')];
    const hb = globalThis[Symbol.for('greenhub.loopHeartbeat')];
    const gt = hub && hub.current;
    const l = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack;
    Error.stackTraceLimit = l;
    return JSON.stringify({
      id: gt ? gt.id : 0, name: gt ? gt.name : undefined, spawnSite: gt ? gt.spawnSite : undefined, stack,
      count: hub ? hub.shared[0] : 0, beat: hb ? hb.beat[0] : 0,
    });
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
    return userFirst(frames);
  }

  // greenhub's own frames (the hub's resume path) say nothing about the hog; node: internals on
  // top (inside readFileSync, JSON.parse of a Buffer…) hide the user's call: the first frame
  // reported is the user's. Internals below it stay (listOnTimeout says it was a timer).
  function userFirst(frames) {
    const own = ownDir ? frames.filter((f) => !f.url.startsWith(ownDir) && !f.url.startsWith(`file://${ownDir}`)) : frames;
    let i = 0;
    while (i < own.length && own[i].url.startsWith('node:')) i++;
    return i < own.length ? own.slice(i) : own;
  }

  let session;
  if (data.inspect) {
    const { Session } = require('node:inspector');
    session = new Session();
    session.connectToMainThread();
  }

  function who(ep) {
    if (ep.id === 0) return 'outside any greenthread';
    return ep.name !== undefined ? `greenthread "${ep.name}" (id ${ep.id})` : `greenthread id ${ep.id}`;
  }

  function live(ep) {
    const top = ep.stack && ep.stack[0] ? ` at ${ep.stack[0].functionName || '<anonymous>'} (${ep.stack[0].url}:${ep.stack[0].line})` : '';
    const ms = Math.round(ep.noticedAt - ep.start);
    const text =
      ep.id === 0
        ? `greenhub: the event loop has been blocked outside any greenthread for ${ms} ms${top} (threshold ${threshold} ms)\n`
        : `greenhub: ${who(ep)} has blocked the hub for ${ms} ms${top} (threshold ${threshold} ms)\n`;
    fs.writeSync(2, text);
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
          // The reply may come after the block ended: keep it only if it was taken during the
          // block (the same greenthread, no switch since, and outside one, no heartbeat since).
          if (v.id === ep.id && v.count === ep.count && (ep.id !== 0 || v.beat === ep.beat)) {
            if (ep.id !== 0) {
              ep.name = v.name;
              ep.spawnSite = v.spawnSite;
            }
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

  let lastCount = Atomics.load(shared, 0);
  let lastId = Atomics.load(shared, 1);
  let lastBeat = Atomics.load(beat, 0);
  // When the running greenthread last changed (or none ran), and when the loop was last seen
  // moving (a heartbeat, a switch, a greenthread running).
  let hubSince = performance.now();
  let loopSince = hubSince;
  let episode;

  setInterval(() => {
    const now = performance.now();
    const count = Atomics.load(shared, 0);
    const id = Atomics.load(shared, 1);
    const b = Atomics.load(beat, 0);
    if (episode) {
      const over = episode.id === 0 ? count !== episode.count || b !== episode.beat || id !== 0 : count !== episode.count || id !== episode.id;
      if (over) {
        episode.end = now;
        report(episode);
        episode = undefined;
      }
    }
    if (count !== lastCount || id !== lastId || id === 0) hubSince = now;
    if (count !== lastCount || b !== lastBeat || id !== 0) loopSince = now;
    lastCount = count;
    lastId = id;
    lastBeat = b;
    if (episode !== undefined) return;
    if (id !== 0 && now - hubSince >= threshold) {
      episode = { id, start: hubSince, noticedAt: now, count, captured: false };
      capture(episode);
    } else if (id === 0 && now - loopSince >= threshold) {
      episode = { id: 0, name: 'outside any greenthread', start: loopSince, noticedAt: now, count, beat: b, captured: false };
      capture(episode);
    }
  }, every);

  parentPort.postMessage({ type: 'ready' });
})();

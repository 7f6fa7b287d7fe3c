'use strict';
// The task runner inside tpool's piscina workers (plain JS: worker threads cannot run .ts).
// It calls `name` exported by the module at `filename` with the task's arguments. `state` is
// shared with the greenthread that waits: 0 queued, 1 running, 2 cancelled (the greenthread was
// killed before the task started: it is dropped, not run).

module.exports = async function runTask({ filename, name, args, state }) {
  if (state !== undefined && Atomics.compareExchange(state, 0, 0, 1) !== 0) return undefined;
  const mod = await import(filename);
  let fn;
  if (name === undefined) {
    // ESM default export, CommonJS module.exports = fn, or CommonJS exports.default.
    const d = mod.default;
    fn = typeof d === 'function' ? d : d != null && typeof d.default === 'function' ? d.default : undefined;
  }
  else fn = typeof mod[name] === 'function' ? mod[name] : mod.default != null ? mod.default[name] : undefined;
  if (typeof fn !== 'function') {
    throw new TypeError(`tpool: ${filename} has no exported function ${name === undefined ? '(default)' : JSON.stringify(name)}`);
  }
  return fn(...args);
};

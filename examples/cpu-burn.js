'use strict';
// The periodic task's CPU work as a plain JS module, for tpool (worker threads run JS, not TS).

/** nova's resource audit, reduced to its essence: about `ms` of pure CPU. */
function updateAvailableResource(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
  }
  return x;
}

module.exports = { updateAvailableResource };

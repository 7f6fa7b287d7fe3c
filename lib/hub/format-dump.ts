/**
 * formatDump: `getHub().dump()` as text a person reads — who is alive, in what state, waiting on
 * what, since when and where.
 */
import { getHub } from './hub';
import type { GreenThreadInfo } from './introspect';

/** "350 ms", "12.3 s", "2 min 5 s". */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** One greenthread: `"name" (id 3): waiting on X, for 350 ms, at file:line:column`. */
function line(g: GreenThreadInfo): string {
  let s = `  "${g.name}" (id ${g.id}): ${g.state}`;
  if (g.waitingOn !== null) s += ` on ${g.waitingOn}`;
  if (g.since !== undefined) s += `, for ${duration(g.since)}`;
  if (g.waitSite !== undefined) s += `, at ${g.waitSite}`;
  return `${s}\n`;
}

/**
 * The hub's live greenthreads as text, one line each: name, id, state, what it waits on, and
 * in debug mode (`getHub().debug = true` or `GREENHUB_DEBUG=1`) for how long and at which
 * `yield*` (file:line:column of the operation it is suspended in). Without debug mode a last
 * line says how to get those. Takes a `dump()` (default: the hub's now); never blocks.
 *
 * Not installed by default; to print it on a signal, one line:
 * `process.on('SIGUSR2', () => process.stderr.write(formatDump()))`, then `kill -USR2 <pid>`.
 *
 * @example
 * ```ts
 * import { formatDump, getHub } from 'greenhub';
 * getHub().debug = true; // since when and where each greenthread waits
 * process.on('SIGUSR2', () => process.stderr.write(formatDump()));
 * // greenhub: 2 live greenthreads
 * //   "consumer" (id 1): waiting on Queue.get() (1 of 1 waiting), for 12.3 s, at /app/main.ts:14:28
 * //   "ticker" (id 2): sleeping on timer until +40.0 ms, for 60 ms, at /app/main.ts:21:14
 * ```
 */
export function formatDump(dump: readonly GreenThreadInfo[] = getHub().dump()): string {
  if (dump.length === 0) return 'greenhub: no live greenthreads\n';
  let s = `greenhub: ${dump.length} live greenthread${dump.length === 1 ? '' : 's'}\n`;
  for (const g of dump) s += line(g);
  const suspended = dump.some((g) => g.state === 'waiting' || g.state === 'sleeping');
  if (suspended && !getHub().debug && dump.every((g) => g.since === undefined && g.waitSite === undefined)) {
    s += '  (debug mode adds since when and where each one waits: GREENHUB_DEBUG=1 or getHub().debug = true)\n';
  }
  return s;
}

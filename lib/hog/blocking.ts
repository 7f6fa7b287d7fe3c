/**
 * detectBlocking and formatReport: find the greenthread that holds the hub too long.
 */
import * as path from 'node:path';
import { isMainThread, Worker } from 'node:worker_threads';
import { getHub } from '../hub/hub';
import { isOwnFile } from '../hub/introspect';
import type { Operation } from '../types';
import { validateBoolean, validateFunction, validateMs, validateOptions } from '../validate';
import { waitFor } from '../wait-for';

/**
 * One frame of a blocking report's stack (1-based line and column).
 *
 * @example
 * ```ts
 * detectBlocking({ onReport: (r) => console.log(r.stack?.map((f: StackFrame) => `${f.url}:${f.line}`)) });
 * ```
 */
export interface StackFrame {
  functionName: string;
  url: string;
  line: number;
  column: number;
}

/**
 * What a blocking detector reports, once per episode, after the block ended.
 *
 * @example
 * ```ts
 * detectBlocking({ onReport: (r: BlockingReport) => log.warn(formatReport(r)) });
 * ```
 */
export interface BlockingReport {
  /** The greenthread that held the hub. */
  id: number;
  name: string;
  /** Where it was spawned (spawn sites are captured while a detector is on). */
  spawnSite?: string;
  /** How long into the block the watchdog noticed it (about thresholdMs). */
  noticedAfterMs: number;
  /** How long the block lasted, measured by the watchdog. */
  durationMs: number;
  /** Where it was while it blocked (main-thread hubs, with `stacks` on). */
  stack?: StackFrame[];
}

/**
 * Options of {@link detectBlocking}.
 *
 * @example
 * ```ts
 * const opts: DetectBlockingOptions = { thresholdMs: 50, stacks: true, onReport: console.error };
 * ```
 */
export interface DetectBlockingOptions {
  /** A greenthread holding the hub longer than this is reported (default 100). */
  thresholdMs?: number;
  /** Take the stack while it blocks (default true; main-thread hubs only). */
  stacks?: boolean;
  /** Receives each report (default: formatReport on stderr). */
  onReport?: (report: BlockingReport) => void;
}

/**
 * A running detector.
 *
 * @example
 * ```ts
 * const detector = detectBlocking();
 * await detector.ready();
 * // ...
 * detector.stop();
 * ```
 */
export interface BlockingDetector {
  /** Resolves (or, with yield*, returns) once the watchdog and its inspector session are up. */
  ready(): PromiseLike<void> & Operation<void>;
  /** Ends the watchdog. Idempotent. */
  stop(): void;
}

/**
 * The text of a report: who blocked, for how long, where it was spawned and where it was.
 *
 * @example
 * ```ts
 * detectBlocking({ onReport: (r) => process.stderr.write(formatReport(r)) });
 * ```
 */
export function formatReport(r: BlockingReport): string {
  let s = `greenhub: greenthread "${r.name}" (id ${r.id}) blocked the hub for ${r.durationMs} ms (noticed after ${r.noticedAfterMs} ms)\n`;
  if (r.spawnSite) s += `  spawned at:\n${r.spawnSite.split('\n').map((l) => `    ${l.trim()}`).join('\n')}\n`;
  if (r.stack && r.stack.length > 0) {
    s += '  stack while blocked:\n';
    for (const f of r.stack) s += `    at ${f.functionName || '<anonymous>'} (${f.url}:${f.line}:${f.column})\n`;
  }
  return s;
}

let active = 0;

/**
 * Starts a watchdog thread that reports every greenthread holding the hub longer than
 * `thresholdMs`: while the block lasts, one live line on stderr naming it; when it ends, one
 * report (`onReport`) with its id, name, spawn site, how late it was noticed, how long it
 * lasted and its stack while it blocked. The switch path pays two plain stores; the watchdog
 * never holds the process open.
 *
 * @example
 * ```ts
 * import { detectBlocking, formatReport } from 'greenhub';
 * const detector = detectBlocking({ thresholdMs: 100, onReport: (r) => console.error(formatReport(r)) });
 * ```
 */
export function detectBlocking(options: DetectBlockingOptions = {}): BlockingDetector {
  validateOptions(options, 'detectBlocking options', ['thresholdMs', 'stacks', 'onReport']);
  const thresholdMs = options.thresholdMs === undefined ? 100 : validateMs(options.thresholdMs, 'thresholdMs');
  if (thresholdMs < 1) throw new RangeError(`thresholdMs must be at least 1, got ${thresholdMs}`);
  const stacks = validateBoolean(options.stacks, 'stacks', true);
  const onReport = options.onReport ?? ((r: BlockingReport) => process.stderr.write(formatReport(r)));
  validateFunction(onReport, 'onReport');

  const hub = getHub();
  // Spawn sites are captured while a detector runs. Run-time accounting is NOT switched on
  // (DESIGN.md says it would be): it costs two clock reads per switch, measured at 40 % of the
  // switch benchmark, and the watchdog measures the duration itself. Turn it on separately.
  if (active++ === 0) hub.captureSpawnSites = true;
  const worker = new Worker(path.join(__dirname, 'watchdog-worker.js'), {
    workerData: { shared: hub.shared.buffer, thresholdMs, inspect: stacks && isMainThread },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  let stopped = false;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  readyPromise.catch(() => {});
  worker.on('message', (m: { type: string; report?: Omit<BlockingReport, 'name'> & { name?: string } }) => {
    if (m.type === 'ready') resolveReady();
    else if (m.type === 'report' && m.report && !stopped) {
      const known = hub.describeGreenThread(m.report.id);
      const report: BlockingReport = {
        id: m.report.id,
        name: m.report.name ?? known?.name ?? `greenthread-${m.report.id}`,
        noticedAfterMs: m.report.noticedAfterMs,
        durationMs: m.report.durationMs,
      };
      const site = m.report.spawnSite ?? known?.spawnSite;
      if (site) report.spawnSite = site;
      // The user's frames: greenhub's own (the hub's resume path) say nothing about the hog.
      if (m.report.stack) report.stack = m.report.stack.filter((f) => !isOwnFile(f.url));
      onReport(report);
    }
  });
  worker.on('error', (e) => {
    rejectReady(e);
    hub.warn(`blocking detector stopped: ${(e as Error).message}`);
  });

  return {
    ready() {
      return {
        then: (ok, fail) => readyPromise.then(ok, fail),
        [Symbol.iterator]: () => waitFor(readyPromise)[Symbol.iterator](),
      };
    },
    stop() {
      if (stopped) return;
      stopped = true;
      void worker.terminate();
      if (--active === 0) hub.captureSpawnSites = false;
    },
  };
}

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
  /**
   * The greenthread that held the hub; 0 when the event loop was blocked outside any
   * greenthread (a plain callback, timer or request handler: greenthread ids start at 1).
   */
  id: number;
  /** Its name; `'outside any greenthread'` for id 0. */
  name: string;
  /** Where it was spawned (spawn sites are captured while a detector is on). */
  spawnSite?: string;
  /** How long into the block the watchdog noticed it (about thresholdMs). */
  noticedAfterMs: number;
  /** How long the block lasted, measured by the watchdog. */
  durationMs: number;
  /**
   * Where it was while it blocked (main-thread hubs, with `stacks` on), innermost first: the
   * first frame is the user's code (greenhub's own frames, and `node:` internals above the
   * user's call, are left out).
   */
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
  /**
   * A greenthread holding the hub, or code outside any greenthread blocking the event loop,
   * longer than this is reported (default 100).
   */
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

/** The name of reports about the event loop blocked outside any greenthread (id 0). */
const OUTSIDE = 'outside any greenthread';

/**
 * The text of a report: who blocked, for how long, where it was spawned and where it was. A
 * block outside any greenthread (id 0) reads "the event loop was blocked outside any
 * greenthread for N ms".
 *
 * @example
 * ```ts
 * detectBlocking({ onReport: (r) => process.stderr.write(formatReport(r)) });
 * ```
 */
export function formatReport(r: BlockingReport): string {
  const what = r.id === 0 ? `the event loop was blocked ${OUTSIDE} for` : `greenthread "${r.name}" (id ${r.id}) blocked the hub for`;
  let s = `greenhub: ${what} ${r.durationMs} ms (noticed after ${r.noticedAfterMs} ms)\n`;
  if (r.spawnSite) s += `  spawned at:\n${r.spawnSite.split('\n').map((l) => `    ${l.trim()}`).join('\n')}\n`;
  if (r.stack && r.stack.length > 0) {
    s += '  stack while blocked:\n';
    for (const f of r.stack) s += `    at ${f.functionName || '<anonymous>'} (${f.url}:${f.line}:${f.column})\n`;
  }
  return s;
}

/**
 * The loop heartbeat: while a detector runs, an unref'd timer on the hub's thread bumps
 * `beat[0]`; the watchdog reports the loop blocked outside any greenthread when it stalls while
 * no greenthread runs. One per thread (on globalThis, like the hub, so two copies of greenhub
 * share it and the watchdog's stack capture can read it), shared by the thread's detectors at the
 * shortest period one asked for; no timer while no detector runs.
 */
interface LoopHeartbeat {
  readonly beat: Int32Array;
  periods: number[];
  timer: NodeJS.Timeout | undefined;
  timerPeriod: number;
}

const HEARTBEAT_KEY = Symbol.for('greenhub.loopHeartbeat');

function loopHeartbeat(): LoopHeartbeat {
  const g = globalThis as unknown as Record<symbol, LoopHeartbeat | undefined>;
  let hb = g[HEARTBEAT_KEY];
  if (hb === undefined) {
    hb = { beat: new Int32Array(new SharedArrayBuffer(4)), periods: [], timer: undefined, timerPeriod: 0 };
    Object.defineProperty(globalThis, HEARTBEAT_KEY, { value: hb, configurable: true, enumerable: false, writable: false });
  }
  return hb;
}

/** Runs the heartbeat at the shortest period asked for, or stops it when none is. */
function retime(hb: LoopHeartbeat): void {
  const period = hb.periods.length > 0 ? Math.min(...hb.periods) : 0;
  if (period === hb.timerPeriod) return;
  if (hb.timer !== undefined) clearInterval(hb.timer);
  hb.timer = undefined;
  hb.timerPeriod = period;
  if (period === 0) return;
  const beat = hb.beat;
  hb.timer = setInterval(() => {
    beat[0]++;
  }, period);
  hb.timer.unref();
}

/** The heartbeat runs (at least every periodMs) until the returned function is called. */
function startHeartbeat(periodMs: number): () => void {
  const hb = loopHeartbeat();
  hb.periods.push(periodMs);
  retime(hb);
  return () => {
    hb.periods.splice(hb.periods.indexOf(periodMs), 1);
    retime(hb);
  };
}

/**
 * Starts a watchdog thread that reports every greenthread holding the hub longer than
 * `thresholdMs`: while the block lasts, one live line on stderr naming it; when it ends, one
 * report (`onReport`) with its id, name, spawn site, how late it was noticed, how long it
 * lasted and its stack while it blocked. The event loop blocked as long outside any greenthread
 * (a plain `setTimeout` callback, a request handler of a Node server) is reported too, as id 0,
 * name `'outside any greenthread'`: an unref'd timer on this thread bumps a shared heartbeat
 * every `thresholdMs / 10` (at most 50 ms) while a detector runs, and the watchdog notices when
 * it stalls while no greenthread runs. The switch path pays two plain stores; the watchdog
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
  hub.watchSwitches(1);
  const stopHeartbeat = startHeartbeat(Math.max(1, Math.min(50, thresholdMs / 10)));
  const worker = new Worker(path.join(__dirname, 'watchdog-worker.js'), {
    workerData: {
      shared: hub.shared.buffer,
      beat: loopHeartbeat().beat.buffer,
      thresholdMs,
      inspect: stacks && isMainThread,
      ownDir: path.resolve(__dirname, '..'),
    },
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
      const known = m.report.id === 0 ? undefined : hub.describeGreenThread(m.report.id);
      const report: BlockingReport = {
        id: m.report.id,
        name: m.report.id === 0 ? OUTSIDE : m.report.name ?? known?.name ?? `greenthread-${m.report.id}`,
        noticedAfterMs: m.report.noticedAfterMs,
        durationMs: m.report.durationMs,
      };
      const site = m.report.spawnSite ?? known?.spawnSite;
      if (site) report.spawnSite = site;
      // The user's frames: greenhub's own (the hub's resume path) say nothing about the hog.
      // (The watchdog already left them out, and node: internals above the user's call.)
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
      stopHeartbeat();
      hub.watchSwitches(-1);
    },
  };
}

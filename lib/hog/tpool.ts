/**
 * tpool: CPU work on worker threads (piscina), eventlet's tpool. The greenthread that calls
 * `execute` waits; the hub keeps running everything else.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { getHub } from '../hub/hub';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateOptions } from '../validate';
import { waitFor } from '../wait-for';

/**
 * A task for the pool: the module (an absolute path or a file URL of a JS module: worker
 * threads cannot run TypeScript) and the name of its exported function (default: the default
 * export).
 *
 * @example
 * ```ts
 * const task: TpoolTask = { filename: require.resolve('./hash-worker.js'), name: 'sha256' };
 * ```
 */
export interface TpoolTask {
  filename: string | URL;
  name?: string;
}

/**
 * Options of `tpool.configure`.
 *
 * @example
 * ```ts
 * tpool.configure({ size: 4 });
 * ```
 */
export interface TpoolOptions {
  /** Worker threads (default: the machine's parallelism, at least 1). */
  size?: number;
}

const RUNNER = path.join(__dirname, 'tpool-worker.js');
/** Idle workers exit after this, so the pool never holds an idle process. */
const IDLE_TIMEOUT_MS = 2000;

let size = Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
let pool: Piscina | undefined;
let busy = 0;
/** Holds the process open while a task runs (piscina's workers do not, by themselves). */
let keepAlive: NodeJS.Timeout | undefined;

function getPool(): Piscina {
  pool ??= new Piscina({ filename: RUNNER, minThreads: 0, maxThreads: size, idleTimeout: IDLE_TIMEOUT_MS });
  return pool;
}

function taskUrl(filename: unknown): string {
  if (filename instanceof URL) {
    if (filename.protocol !== 'file:') throw new TypeError(`task.filename must be a file URL, got ${filename.href}`);
    return filename.href;
  }
  if (typeof filename !== 'string') throw new TypeError(`task.filename must be an absolute path or a file URL, got ${describeValue(filename)}`);
  if (filename.startsWith('file:')) return filename;
  if (!path.isAbsolute(filename)) throw new TypeError(`task.filename must be absolute, got ${JSON.stringify(filename)}`);
  return pathToFileURL(filename).href;
}

function hold(delta: number): void {
  busy += delta;
  if (busy > 0 && keepAlive === undefined) keepAlive = setInterval(() => {}, 1 << 30);
  if (busy === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

function* executeOp<R>(url: string, name: string | undefined, args: unknown[]): Green<R> {
  const state = new Int32Array(new SharedArrayBuffer(4));
  const promise = getPool().run({ filename: url, name, args, state }) as Promise<R>;
  hold(1);
  const settled = promise.then(
    () => hold(-1),
    () => hold(-1),
  );
  void settled;
  let done = false;
  try {
    const r = yield* waitFor(promise);
    done = true;
    return r;
  } finally {
    // Killed while waiting: a task that has not started is dropped; a running one finishes and
    // its result is discarded.
    if (!done) {
      Atomics.compareExchange(state, 0, 0, 2);
      promise.catch(() => {});
    }
  }
}

/**
 * The thread pool for CPU work.
 *
 * @example
 * ```ts
 * import { tpool } from 'greenhub';
 * spawn(function* () {
 *   const digest = yield* tpool.execute({ filename: '/srv/app/hash.js', name: 'sha256' }, bigBuffer);
 * });
 * ```
 */
export const tpool = {
  /**
   * Runs `task.name(...args)` from the module `task.filename` on a worker thread; the calling
   * greenthread waits for the result (or the error, rethrown), the hub keeps running. Killing
   * the greenthread drops the task if it has not started; a running one finishes and its result
   * is discarded. Arguments and results are structured-cloned. The pool starts on first use.
   */
  execute<R = unknown>(task: TpoolTask, ...args: unknown[]): Operation<R> {
    if (task === undefined) throw new TypeError('task must be { filename, name? }, got undefined');
    validateOptions(task, 'task', ['filename', 'name']);
    const url = taskUrl(task.filename);
    if (task.name !== undefined && typeof task.name !== 'string') throw new TypeError(`task.name must be a string, got ${describeValue(task.name)}`);
    getHub().requireCurrent('tpool.execute()');
    return executeOp<R>(url, task.name, args);
  },

  /** Sets the number of worker threads (takes effect for the next tasks). */
  configure(options: TpoolOptions): void {
    if (options === undefined) throw new TypeError('tpool.configure needs { size }, got undefined');
    validateOptions(options, 'tpool.configure options', ['size']);
    if (options.size !== undefined) {
      size = validateInt(options.size, 'size', 1, 1024);
      const old = pool;
      pool = undefined;
      void old?.close();
    }
  },

  /** Worker threads the pool may use. */
  get size(): number {
    return size;
  },

  /** Tasks queued or running. */
  get pending(): number {
    return busy;
  },
};

/** @internal Ends the pool's threads now (tests: a file must leave no thread behind). */
export async function closeTpool(): Promise<void> {
  const old = pool;
  pool = undefined;
  await old?.close({ force: true });
}

/**
 * tpool: CPU work on worker threads (piscina), eventlet's tpool. The greenthread that calls
 * `execute` waits; the hub keeps running everything else.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FixedQueue, Piscina } from 'piscina';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateOptions } from '../validate';
import { waitFor } from '../wait-for';
import { blocking } from '../operation';

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
/**
 * A pool set aside (resized, or broken) closes once its running tasks are done, however long
 * they take: piscina's default (30 s) would end them by force. The largest timer Node accepts.
 */
const CLOSE_TIMEOUT_MS = 0x7fffffff;

/** A task of a pool, until it settles. state: 0 queued, 1 running, 2 cancelled (tpool-worker.js). */
interface Pending {
  state: Int32Array;
  fail(err: Error): void;
}

/** What tpool keeps of each pool: piscina's queue (tasks waiting for a thread), its tasks. */
interface PoolState {
  queue: FixedQueue;
  tasks: Set<Pending>;
}

let size = Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
let pool: Piscina | undefined;
const stateOf = new WeakMap<Piscina, PoolState>();
let busy = 0;
/** Holds the process open while a task runs (piscina's workers do not, by themselves). */
let keepAlive: NodeJS.Timeout | undefined;

function getPool(): Piscina {
  if (pool === undefined) {
    const queue = new FixedQueue(); // piscina's default queue, held to empty it if the pool breaks
    const p = new Piscina({ filename: RUNNER, minThreads: 0, maxThreads: size, idleTimeout: IDLE_TIMEOUT_MS, closeTimeout: CLOSE_TIMEOUT_MS, taskQueue: queue });
    stateOf.set(p, { queue, tasks: new Set() });
    // piscina emits 'error' when a worker fails with no task of its own: above all one that
    // cannot start (ERR_WORKER_INIT_FAILED: EMFILE, EAGAIN, ENOMEM...). Unheard, that 'error'
    // killed the process; and the tasks queued for that worker would wait for ever (piscina
    // starts no other one for them).
    p.on('error', (err: unknown) => poolFailed(p, err));
    pool = p;
  }
  return pool;
}

/**
 * Pool `p` broke (`err`): the next execute gets a fresh pool; `p` closes once its running tasks
 * are done (they keep their results); its tasks that have not started fail with the cause.
 */
function poolFailed(p: Piscina, err: unknown): void {
  const { queue, tasks } = stateOf.get(p)!;
  if (tasks.size > 0) {
    const error = poolError(err);
    for (const t of tasks) {
      // Claims a task not started (a worker of `p` that picks it up later skips it); a
      // cancelled one has nobody waiting but holds the process open until it settles.
      if (Atomics.compareExchange(t.state, 0, 0, 2) !== 1) t.fail(error);
    }
  }
  // The tasks still queued are settled above: piscina must not reject them again when it closes
  // (the promise of a task whose run() threw is nobody's: its rejection would be unhandled).
  while (queue.size > 0) queue.shift();
  if (pool === p) {
    pool = undefined;
    p.close().catch(() => {}); // a closing pool starts no thread; its running tasks finish
  }
}

/** The error a task gets when its pool broke: a clear message, the errno code, the cause. */
function poolError(err: unknown): Error {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  let code = typeof e?.code === 'string' ? e.code : undefined;
  let text: string;
  if (code === 'ERR_WORKER_INIT_FAILED') {
    // "Worker initialization failure: EMFILE" (the thread's event loop), or "EAGAIN" (the thread).
    code = /(?:^|[\s:])(E[A-Z0-9]+)$/.exec(message)?.[1] ?? code;
    text = `tpool: a worker thread could not start (${code}): ${message}`;
  } else {
    text = `tpool: a worker thread failed before the task could run: ${message}`;
  }
  const out = new Error(text, { cause: err }) as Error & { code?: string };
  if (code !== undefined) out.code = code;
  return out;
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
  let resolve!: (r: R) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<R>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const p = getPool();
  const { tasks } = stateOf.get(p)!;
  const pending: Pending = { state, fail: reject };
  tasks.add(pending);
  hold(1);
  void promise.then(
    () => settled(),
    () => settled(),
  );
  function settled(): void {
    tasks.delete(pending);
    hold(-1);
  }
  try {
    (p.run({ filename: url, name, args, state }) as Promise<R>).then(resolve, reject);
  } catch (err) {
    // piscina starts a thread inside run(): new Worker throws when the thread cannot be created
    // (ERR_WORKER_INIT_FAILED: EAGAIN, at a thread limit). The task stays in piscina's queue,
    // which no worker would ever serve (run() starts no thread while the queue is not empty).
    poolFailed(p, err);
  }
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
   * When a worker thread cannot start (out of fds, threads or memory), the tasks waiting for
   * one throw an Error with the errno as `code` (EMFILE, EAGAIN...) and Node's error as `cause`;
   * the process and its hub carry on, and the next execute starts a fresh pool.
   */
  execute<R = unknown>(task: TpoolTask, ...args: unknown[]): Operation<R> {
    if (task === undefined) throw new TypeError('task must be { filename, name? }, got undefined');
    validateOptions(task, 'task', ['filename', 'name']);
    const url = taskUrl(task.filename);
    if (task.name !== undefined && typeof task.name !== 'string') throw new TypeError(`task.name must be a string, got ${describeValue(task.name)}`);
    return blocking(executeOp<R>(url, task.name, args), 'tpool.execute()');
  },

  /** Sets the number of worker threads (takes effect for the next tasks). */
  configure(options: TpoolOptions): void {
    if (options === undefined) throw new TypeError('tpool.configure needs { size }, got undefined');
    validateOptions(options, 'tpool.configure options', ['size']);
    if (options.size !== undefined) {
      size = validateInt(options.size, 'size', 1, 1024);
      const old = pool;
      pool = undefined;
      old?.close().catch(() => {});
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

/**
 * spawnProcess and GreenProcess: eventlet.green.subprocess — a child process whose stdin,
 * stdout and stderr are GreenFds, so a greenthread talks to it with `readLine`, `sendAll` and
 * the rest while the hub keeps running.
 *
 * How: greenhub makes the pipes itself (pipe2, close-on-exec) and hands the child's ends to
 * Node's `child_process.spawn` as plain fds (`stdio: [fd, fd, fd]`); libuv dup2()s them onto
 * the child's 0, 1, 2 and makes them blocking there, and the parent closes its copies of the
 * child's ends at once (else it would never see end of stream). Node's own pipes are not used:
 * they are libuv streams read by Node's loop, not fds a greenthread can wait on. Node still
 * spawns and reaps the child (its SIGCHLD handling is the only one in the process), and its
 * 'exit' event wakes `wait()`.
 */
import * as cp from 'node:child_process';
import { check, native } from '../native';
import { WaitList } from '../sync/wait-list';
import type { Green, Operation } from '../types';
import { describeValue, timeoutOf, validateOneOf, validateOptions } from '../validate';
import { blocking } from '../operation';
import { GreenFd } from './green-fd';

/**
 * What one of the child's stdin, stdout, stderr is: `'pipe'` (a GreenFd on `proc.stdin`…),
 * `'inherit'` (the parent's own fd 0, 1 or 2) or `'ignore'` (/dev/null).
 *
 * @example
 * ```ts
 * const stdio: [StdioMode, StdioMode, StdioMode] = ['ignore', 'pipe', 'inherit'];
 * ```
 */
export type StdioMode = 'pipe' | 'inherit' | 'ignore';

const MODES: readonly StdioMode[] = ['pipe', 'inherit', 'ignore'];

/**
 * Options of {@link spawnProcess}.
 *
 * @example
 * ```ts
 * const opts: SpawnProcessOptions = { stdio: ['pipe', 'pipe', 'inherit'], cwd: '/tmp', env: { PATH: '/bin' } };
 * ```
 */
export interface SpawnProcessOptions {
  /** One mode for all three, or `[stdin, stdout, stderr]` (default `'pipe'`). */
  stdio?: StdioMode | readonly [StdioMode, StdioMode, StdioMode];
  /** The child's working directory (default: the parent's). */
  cwd?: string;
  /** The child's whole environment (default: `process.env`); it replaces, not extends. */
  env?: NodeJS.ProcessEnv;
  /** Run `cmd` through `/bin/sh -c` (or this shell). Default false: no shell, no quoting worries. */
  shell?: boolean | string;
}

/**
 * How a child ended, as Node's 'exit' event says: `code` when it exited (`signal` null),
 * `signal` (`'SIGTERM'`…) when a signal ended it (`code` null).
 *
 * @example
 * ```ts
 * const { code, signal } = yield* proc.wait();
 * if (signal !== null) console.log(`killed by ${signal}`);
 * ```
 */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The error of a failed spawn, shaped by Node's: `code` (`'ENOENT'`…), `errno`,
 * `syscall: 'spawn <cmd>'`, `path` (cmd) and `spawnargs` (args).
 *
 * @example
 * ```ts
 * try { yield* spawnProcess('no-such-program'); }
 * catch (e) { console.log((e as SpawnError).code, (e as SpawnError).path); } // ENOENT no-such-program
 * ```
 */
export type SpawnError = Error & { code: string; errno: number; syscall: string; path: string; spawnargs: string[] };

/**
 * A running (or finished) child process. Its piped streams are GreenFds: the buffered reads
 * (`recv`, `readLine`, `readUntil`, `readExactly`), `sendAll`, `close`; a stream that is not a
 * pipe (`'inherit'`, `'ignore'`) is null.
 *
 * The pipes are yours: close them when done (`close()` closes all three). `wait()` does not,
 * since output may still be buffered after the child has exited. Reading a child's stdout
 * while it blocks writing a full stderr pipe (or the other way round) deadlocks, as in any
 * language: read both from two greenthreads, or use `runProcess`, which does.
 *
 * @example
 * ```ts
 * const proc = yield* spawnProcess('cat');
 * yield* proc.stdin!.sendAll(Buffer.from('hello\n'));
 * const line = yield* proc.stdout!.readLine(); // <Buffer 68 65 6c 6c 6f 0a>
 * proc.stdin!.close(); // cat sees end of input and exits
 * const { code } = yield* proc.wait(); // 0
 * proc.close();
 * ```
 */
export class GreenProcess {
  /** The child's process id. */
  readonly pid: number;
  /** The write end of the child's stdin, or null when stdin is not `'pipe'`. */
  readonly stdin: GreenFd | null;
  /** The read end of the child's stdout, or null when stdout is not `'pipe'`. */
  readonly stdout: GreenFd | null;
  /** The read end of the child's stderr, or null when stderr is not `'pipe'`. */
  readonly stderr: GreenFd | null;
  readonly #child: cp.ChildProcess;
  #status: ExitStatus | undefined;
  readonly #exitWaiters: WaitList<undefined>;
  readonly #onExit: Array<(s: ExitStatus) => void> = [];
  /** An error Node emitted during kill() (EPERM and the like), thrown from kill(). */
  #killError: Error | undefined;

  /** @internal use spawnProcess() */
  constructor(child: cp.ChildProcess, ends: readonly (GreenFd | null)[]) {
    this.#child = child;
    this.pid = child.pid!;
    [this.stdin, this.stdout, this.stderr] = ends;
    this.#exitWaiters = new WaitList(`GreenProcess.wait() (pid ${this.pid})`);
    child.on('exit', (code, signal) => this.#exited({ code, signal }));
    child.on('error', (err) => {
      this.#killError = err;
    });
  }

  #exited(status: ExitStatus): void {
    this.#status = status;
    this.#exitWaiters.wakeAll(status);
    for (const cb of this.#onExit.splice(0)) cb(status);
  }

  /** How it ended, or undefined while it runs (Python's `returncode`). */
  get status(): ExitStatus | undefined {
    return this.#status;
  }

  /** Whether kill() has delivered a signal to it. */
  get killed(): boolean {
    return this.#child.killed;
  }

  /**
   * Waits until the child ends and returns how (`{ code, signal }`); at once if it has.
   * Past `timeoutMs` it throws TimeoutError and the child runs on. A greenthread killed here
   * just stops waiting: the child is left alone (kill it yourself, or use `runProcess`).
   *
   * @example
   * ```ts
   * const { code, signal } = yield* proc.wait({ timeoutMs: 5000 });
   * ```
   */
  wait(options?: { timeoutMs?: number }): Operation<ExitStatus> {
    const timeoutMs = timeoutOf(options, 'GreenProcess.wait options');
    return blocking(this.#wait(timeoutMs), 'GreenProcess.wait()');
  }

  *#wait(timeoutMs: number): Green<ExitStatus> {
    if (this.#status !== undefined) return this.#status;
    return (yield* this.#exitWaiters.wait(undefined, timeoutMs)) as ExitStatus;
  }

  /**
   * Sends `signal` (a name such as `'SIGKILL'`, or a number) to the child. A plain call: it
   * does not wait for the child to end (`wait()` does). Returns false when the child has
   * already ended (nothing was sent). An unknown signal name is a TypeError.
   *
   * @example
   * ```ts
   * proc.kill(); // SIGTERM
   * const { signal } = yield* proc.wait(); // 'SIGTERM'
   * ```
   */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.#status !== undefined) return false;
    this.#killError = undefined;
    const sent = this.#child.kill(signal); // Node validates the name; a failure is emitted as 'error'
    const err = this.#killError;
    this.#killError = undefined;
    if (err !== undefined) throw err;
    return sent;
  }

  /** Closes the pipes to and from the child (idempotent). The child is not signalled. */
  close(): void {
    this.stdin?.close();
    this.stdout?.close();
    this.stderr?.close();
  }

  /** The child and its pipes hold the process open (the default). */
  ref(): this {
    this.#child.ref();
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.ref();
    return this;
  }

  /** Neither the child nor a wait on its pipes holds the process open. */
  unref(): this {
    this.#child.unref();
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.unref();
    return this;
  }

  /** @internal Calls cb once the child has ended (at once if it has). */
  onExit(cb: (s: ExitStatus) => void): void {
    if (this.#status !== undefined) cb(this.#status);
    else this.#onExit.push(cb);
  }
}

/** One stream's pipe: the fd the child gets, and the parent's end. */
interface Plumbing {
  child: number | 'inherit' | 'ignore';
  parent: GreenFd | null;
  /** The child's end, to close in the parent once the child has it. */
  childFd: number;
}

/**
 * Makes stream i's pipe. stdin: the child reads (read end), the parent writes; stdout and
 * stderr the other way round. pipe2 from greenhub's native layer: both ends close-on-exec, so
 * no other child spawned meanwhile inherits them (an inherited write end would keep EOF away).
 * The child's end never joins the hub's epoll set.
 */
function plumb(i: number, mode: StdioMode): Plumbing {
  if (mode !== 'pipe') return { child: mode, parent: null, childFd: -1 };
  const fds = new Int32Array(2);
  check(native.pipe2(fds), 'pipe2');
  const [childFd, parentFd] = i === 0 ? [fds[0], fds[1]] : [fds[1], fds[0]];
  let parent: GreenFd;
  try {
    parent = new GreenFd(parentFd);
  } catch (e) {
    native.close(childFd);
    native.close(parentFd);
    throw e;
  }
  parent.shortIoDrains = true; // a pipe from pipe2 without O_DIRECT is a byte stream (as pipe())
  return { child: childFd, parent, childFd };
}

function validateStdio(stdio: unknown): StdioMode[] {
  if (stdio === undefined) return ['pipe', 'pipe', 'pipe'];
  if (typeof stdio === 'string') {
    const m = validateOneOf(stdio, 'stdio', MODES);
    return [m, m, m];
  }
  if (!Array.isArray(stdio) || stdio.length !== 3) {
    throw new TypeError(`stdio must be 'pipe', 'inherit', 'ignore' or an array of three of them, got ${describeValue(stdio)}`);
  }
  return stdio.map((m, i) => validateOneOf(m, `stdio[${i}]`, MODES));
}

/** @internal Checked arguments of a spawn (shared with runProcess). */
export interface SpawnRequest {
  cmd: string;
  args: string[];
  modes: StdioMode[];
  options: cp.SpawnOptions;
}

/** @internal Checks spawnProcess's arguments, eagerly (before anything is created). */
export function spawnRequest(cmd: unknown, args: unknown, options: SpawnProcessOptions | undefined, name: string, extraKeys: readonly string[] = []): SpawnRequest {
  if (typeof cmd !== 'string' || cmd.length === 0) throw new TypeError(`cmd must be a non-empty string, got ${describeValue(cmd)}`);
  if (args === undefined) args = [];
  if (!Array.isArray(args)) throw new TypeError(`args must be an array of strings, got ${describeValue(args)}`);
  args.forEach((a, i) => {
    if (typeof a !== 'string') throw new TypeError(`args[${i}] must be a string, got ${describeValue(a)}`);
  });
  const o = validateOptions(options, `${name} options`, ['stdio', 'cwd', 'env', 'shell', ...extraKeys]);
  if (o.cwd !== undefined && typeof o.cwd !== 'string') throw new TypeError(`cwd must be a string, got ${describeValue(o.cwd)}`);
  if (o.env !== undefined && (o.env === null || typeof o.env !== 'object' || Array.isArray(o.env))) throw new TypeError(`env must be an object, got ${describeValue(o.env)}`);
  if (o.shell !== undefined && typeof o.shell !== 'boolean' && typeof o.shell !== 'string') throw new TypeError(`shell must be a boolean or a path, got ${describeValue(o.shell)}`);
  const spawnOptions: cp.SpawnOptions = { shell: o.shell ?? false };
  if (o.cwd !== undefined) spawnOptions.cwd = o.cwd;
  if (o.env !== undefined) spawnOptions.env = o.env;
  return { cmd, args: args as string[], modes: validateStdio(o.stdio), options: spawnOptions };
}

/**
 * Starts `cmd` with `args` (no shell unless `shell: true`) and returns its GreenProcess once
 * it runs. The pipes are made only when the operation runs, so a forgotten `yield*` leaks
 * nothing.
 *
 * A spawn that fails throws Node's error for it, and leaves no fd open: `ENOENT` (no such
 * program, or no such `cwd`), `EACCES`…, with `code`, `errno`, `syscall: 'spawn <cmd>'`,
 * `path: cmd` and `spawnargs: args` (as `child_process.spawn`'s 'error' event). It blocks
 * only then, for the turn Node takes to report it (like Python's Popen, the failure is thrown
 * at the spawn, not at a later read).
 *
 * @throws TypeError for bad arguments, at the call.
 * @example
 * ```ts
 * import { spawnProcess } from 'greenhub';
 * const proc = yield* spawnProcess('ls', ['-l', '/'], { stdio: ['ignore', 'pipe', 'inherit'] });
 * for (let line; (line = yield* proc.stdout!.readLine()).length > 0; ) process.stdout.write(line);
 * const { code } = yield* proc.wait();
 * proc.close();
 * ```
 */
export function spawnProcess(cmd: string, args?: readonly string[], options?: SpawnProcessOptions): Operation<GreenProcess> {
  const req = spawnRequest(cmd, args, options, 'spawnProcess');
  return blocking(spawnOp(req), 'spawnProcess()');
}

/** @internal spawnProcess after its checks. */
export function* spawnOp(req: SpawnRequest): Green<GreenProcess> {
  const pipes: Plumbing[] = [];
  let child: cp.ChildProcess;
  try {
    for (let i = 0; i < 3; i++) pipes.push(plumb(i, req.modes[i]));
    child = cp.spawn(req.cmd, req.args, { ...req.options, stdio: pipes.map((p) => p.child) });
  } catch (e) {
    for (const p of pipes) p.parent?.close();
    throw e;
  } finally {
    // The child has its own copies now (or there is no child): ours would hold its pipes open.
    for (const p of pipes) if (p.childFd >= 0) native.close(p.childFd);
  }
  const ends = pipes.map((p) => p.parent);
  if (child.pid !== undefined) return new GreenProcess(child, ends);
  // ENOENT, EACCES, EAGAIN…: Node emits the error on the next tick.
  for (const end of ends) end?.close();
  throw yield* spawnFailure(child);
}

/** Waits for the error Node emits on the next tick for a spawn that failed at once. */
function* spawnFailure(child: cp.ChildProcess): Green<SpawnError> {
  const failed = new WaitList<undefined>('spawnProcess() (its error)');
  child.once('error', (err) => failed.wakeAll(err));
  return (yield* failed.wait(undefined, -1)) as SpawnError;
}

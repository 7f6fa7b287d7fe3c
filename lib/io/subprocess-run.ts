/**
 * runProcess: Python's `subprocess.run(capture_output=True)` — start a child, feed it its input,
 * collect its output, wait for it; with a deadline that kills it.
 */
import { Buffer } from 'node:buffer';
import { getHub } from '../hub/hub';
import { TimerKind, isTimeoutOf } from '../hub/timers';
import { all } from '../all';
import type { Green, Operation } from '../types';
import { describeValue, validateMs, validateOptions } from '../validate';
import { blocking } from '../operation';
import type { GreenFd } from './green-fd';
import { type ExitStatus, type GreenProcess, type SpawnProcessOptions, type SpawnRequest, spawnOp, spawnRequest } from './subprocess';

/**
 * Options of {@link runProcess}.
 *
 * @example
 * ```ts
 * const opts: RunProcessOptions = { input: 'data\n', timeoutMs: 5000, encoding: 'utf8', cwd: '/tmp' };
 * ```
 */
export interface RunProcessOptions extends Omit<SpawnProcessOptions, 'stdio'> {
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Uint8Array;
  /** Past this, the child is killed (see killGraceMs) and TimeoutError is thrown. */
  timeoutMs?: number;
  /** After SIGTERM, how long the child has to end before SIGKILL (default 2000). */
  killGraceMs?: number;
  /** Most bytes kept of stdout, and of stderr (default 64 MiB); more kills the child. */
  maxBuffer?: number;
  /** Decode stdout and stderr to strings with this encoding (default: Buffers). */
  encoding?: BufferEncoding;
  /** `'pipe'` (default: collected) or `'inherit'` (the child writes to the parent's stderr). */
  stderr?: 'pipe' | 'inherit';
}

/**
 * What {@link runProcess} returns: the child's output and how it ended (`code`, or the
 * `signal` that ended it). A non-zero code is not an error: check it.
 *
 * @example
 * ```ts
 * const { stdout, code } = yield* runProcess('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
 * if (code !== 0) throw new Error('not a git checkout');
 * ```
 */
export interface RunResult<T extends Buffer | string = Buffer> extends ExitStatus {
  stdout: T;
  stderr: T;
}

/**
 * The extra fields of an error runProcess throws after killing the child (a TimeoutError, or
 * an `ERR_CHILD_PROCESS_STDIO_MAXBUFFER` RangeError): as execFile's, `killed` (true when it
 * had to be signalled; false when the child had already exited and only its output, held open
 * by a grandchild, was late), `cmd`, the `signal` it died of, and the output collected until then.
 *
 * @example
 * ```ts
 * try { yield* runProcess('sleep', ['10'], { timeoutMs: 100 }); }
 * catch (e) { if (e instanceof TimeoutError) console.log((e as RunError).signal); } // 'SIGTERM'
 * ```
 */
export interface RunError extends Error {
  code: string;
  killed: boolean;
  cmd: string;
  signal: NodeJS.Signals | null;
  stdout: Buffer | string;
  stderr: Buffer | string;
}

const DEFAULT_MAX_BUFFER = 64 << 20;
const DEFAULT_GRACE_MS = 2000;

/**
 * Runs `cmd` with `args` (no shell unless `shell: true`) to its end and returns
 * `{ stdout, stderr, code, signal }`: Buffers, or strings with `encoding`. `input` is written
 * while the output is read (by three greenthreads), so an input or an output larger than a
 * pipe holds does not deadlock.
 *
 * Throws:
 * - a spawn failure (`ENOENT`…) as {@link spawnProcess} does;
 * - past `timeoutMs`: SIGTERM to the child, SIGKILL `killGraceMs` later if it is still alive;
 *   once it has ended, a `TimeoutError` (`code: 'ETIMEDOUT'`) with `killed: true`, `signal`,
 *   `cmd` and the output so far (see {@link RunError});
 * - output beyond `maxBuffer`: the same kill, then a RangeError with
 *   `code: 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER'` (Node's), the same fields.
 *
 * It returns when the child has exited and its stdout and stderr have reached end of stream:
 * a grandchild that keeps them open keeps runProcess waiting (as Python's run): give it a
 * timeoutMs.
 *
 * A greenthread killed inside runProcess (or an enclosing `withTimeout`) sends SIGTERM (and
 * SIGKILL after the grace) without waiting: Node reaps the child when it ends, and its pipes
 * are closed at once. No fd outlives the call, whatever happens.
 *
 * @throws TypeError/RangeError for bad arguments, at the call.
 * @example
 * ```ts
 * import { runProcess } from 'greenhub';
 * const r = yield* runProcess('sort', [], { input: 'b\na\n', encoding: 'utf8', timeoutMs: 5000 });
 * console.log(r.stdout, r.code); // 'a\nb\n' 0
 * ```
 */
export function runProcess(cmd: string, args: readonly string[] | undefined, options: RunProcessOptions & { encoding: BufferEncoding }): Operation<RunResult<string>>;
export function runProcess(cmd: string, args?: readonly string[], options?: RunProcessOptions): Operation<RunResult<Buffer>>;
export function runProcess(cmd: string, args?: readonly string[], options?: RunProcessOptions): Operation<RunResult<Buffer | string>> {
  const o = validateOptions(options, 'runProcess options', ['cwd', 'env', 'shell', 'input', 'timeoutMs', 'killGraceMs', 'maxBuffer', 'encoding', 'stderr']);
  const { input, timeoutMs, killGraceMs, maxBuffer, encoding, stderr, ...spawnOptions } = o;
  if (input !== undefined && typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError(`input must be a string, a Buffer or a Uint8Array, got ${describeValue(input)}`);
  }
  if (encoding !== undefined && (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))) {
    throw new TypeError(`encoding must be a Buffer encoding such as 'utf8', got ${describeValue(encoding)}`);
  }
  if (stderr !== undefined && stderr !== 'pipe' && stderr !== 'inherit') throw new TypeError(`stderr must be 'pipe' or 'inherit', got ${describeValue(stderr)}`);
  const stdio = [input === undefined ? 'ignore' : 'pipe', 'pipe', stderr ?? 'pipe'] as const;
  const req = spawnRequest(cmd, args, { ...spawnOptions, stdio }, 'runProcess');
  const plan: Plan = {
    req,
    input: typeof input === 'string' ? Buffer.from(input) : input,
    timeoutMs: timeoutMs === undefined ? -1 : validateMs(timeoutMs, 'timeoutMs'),
    graceMs: killGraceMs === undefined ? DEFAULT_GRACE_MS : validateMs(killGraceMs, 'killGraceMs'),
    maxBuffer: maxBuffer === undefined ? DEFAULT_MAX_BUFFER : validateMaxBuffer(maxBuffer),
    encoding,
  };
  return blocking(runOp(plan), 'runProcess()');
}

function validateMaxBuffer(v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`maxBuffer must be a number of bytes, got ${describeValue(v)}`);
  if (v < 0 || (Number.isFinite(v) && !Number.isInteger(v))) throw new RangeError(`maxBuffer must be an integer >= 0 (or Infinity), got ${describeValue(v)}`);
  return v;
}

interface Plan {
  req: SpawnRequest;
  input: Uint8Array | undefined;
  timeoutMs: number;
  graceMs: number;
  maxBuffer: number;
  encoding: BufferEncoding | undefined;
}

/**
 * One output stream's bytes, up to maxBuffer, read into one buffer that doubles as it fills:
 * a child that writes a byte at a time costs bytes, not an object per read.
 */
class Collected {
  buf: Buffer = Buffer.allocUnsafe(16 * 1024);
  length = 0;
  constructor(readonly name: string) {}
  result(encoding: BufferEncoding | undefined): Buffer | string {
    const b = Buffer.from(this.buf.subarray(0, this.length)); // a copy the size of the output
    return encoding === undefined ? b : b.toString(encoding);
  }
}

function* drain(from: GreenFd | null, into: Collected, maxBuffer: number): Green<void> {
  if (from === null) return;
  for (;;) {
    if (into.length === into.buf.length) {
      // Full: grow (one byte past maxBuffer is enough to tell it was exceeded).
      const grown = Buffer.allocUnsafe(Math.min(into.buf.length * 2, Math.max(maxBuffer + 1, into.buf.length + 1)));
      into.buf.copy(grown, 0, 0, into.length);
      into.buf = grown;
    }
    const n = yield* from.recvInto(into.buf.subarray(into.length));
    if (n === 0) return;
    into.length += n;
    if (into.length > maxBuffer) {
      into.length = maxBuffer;
      const err = new RangeError(`${into.name} maxBuffer length exceeded`) as RangeError & { code: string };
      err.code = 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
      throw err;
    }
  }
}

function* feed(to: GreenFd | null, input: Uint8Array | undefined): Green<void> {
  if (to === null || input === undefined) return;
  try {
    yield* to.sendAll(input);
  } catch (e) {
    // A child that exits (or closes stdin) without reading it all is its business, as in
    // Python's communicate(); its exit status tells.
    if ((e as { code?: unknown }).code !== 'EPIPE') throw e;
  } finally {
    to.close(); // end of input
  }
}

/**
 * SIGTERM now, SIGKILL after graceMs if it has not ended. A Node timer, not a greenthread:
 * it must fire even when the greenthread that asked was killed.
 */
function terminate(proc: GreenProcess, graceMs: number): boolean {
  if (proc.status !== undefined) return false;
  const kill = (sig: NodeJS.Signals): void => {
    try {
      proc.kill(sig);
    } catch {
      // gone meanwhile (ESRCH): nothing to kill
    }
  };
  const t = setTimeout(() => kill('SIGKILL'), graceMs); // armed first: whatever SIGTERM does
  proc.onExit(() => clearTimeout(t));
  kill('SIGTERM');
  return true;
}

function* runOp(plan: Plan): Green<RunResult<Buffer | string>> {
  const proc = yield* spawnOp(plan.req);
  const out = new Collected('stdout');
  const err = new Collected('stderr');
  const hub = getHub();
  const gt = hub.requireCurrent('runProcess()');
  const timer = plan.timeoutMs < 0 ? undefined : hub.addTimer(TimerKind.Timeout, plan.timeoutMs, gt, { ref: true, message: `${commandLine(plan.req)} timed out after ${plan.timeoutMs} ms` });
  try {
    const [, , , status] = yield* all([feed(proc.stdin, plan.input), drain(proc.stdout, out, plan.maxBuffer), drain(proc.stderr, err, plan.maxBuffer), proc.wait()]);
    return { stdout: out.result(plan.encoding), stderr: err.result(plan.encoding), ...status };
  } catch (e) {
    const killed = terminate(proc, plan.graceMs);
    const ours = (timer !== undefined && isTimeoutOf(e, timer)) || (e as { code?: unknown }).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
    if (!ours) throw e; // killed, an outer deadline, a bug: do not linger
    if (timer !== undefined) hub.cancelTimer(timer);
    // Our ends closed first: a child that writes on its way out gets EPIPE instead of blocking
    // on a full pipe until the SIGKILL.
    proc.close();
    const { signal } = yield* proc.wait();
    throw Object.assign(e as Error, { killed, cmd: commandLine(plan.req), signal, stdout: out.result(plan.encoding), stderr: err.result(plan.encoding) });
  } finally {
    if (timer !== undefined) hub.cancelTimer(timer);
    proc.close();
  }
}

function commandLine(req: SpawnRequest): string {
  return [req.cmd, ...req.args].join(' ');
}


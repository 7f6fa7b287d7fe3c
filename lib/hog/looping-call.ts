/**
 * loopingCall: oslo.service's looping call — a function run every interval in its own
 * greenthread, on the monotonic clock.
 */
import { GreenletExit } from '../errors';
import { type AnyGreenThread, State } from '../hub/greenthread';
import { getHub } from '../hub/hub';
import { SUSPEND_OP } from '../hub/instructions';
import { spawn } from '../spawn';
import type { Body, Green, Operation, Priority } from '../types';
import { describeValue, validateFunction, validateMs, validateOneOf, validateOptions } from '../validate';
import { blocking } from '../operation';

/**
 * Options of {@link loopingCall}.
 *
 * @example
 * ```ts
 * const opts: LoopingCallOptions = { intervalMs: 100, policy: 'fixed-rate', name: 'report_state', priority: 'high' };
 * ```
 */
export interface LoopingCallOptions {
  intervalMs: number;
  /**
   * 'fixed-rate' (default): runs start at initialDelay + k × interval; a run that outlasts its
   * interval is reported and the next starts at once. 'fixed-delay': each run starts interval
   * after the previous one ended.
   */
  policy?: 'fixed-rate' | 'fixed-delay';
  /** Before the first run (default 0: the first run starts on the next turn). */
  initialDelayMs?: number;
  name?: string;
  priority?: Priority;
}

/**
 * What `LoopingCall.stats` reports.
 *
 * @example
 * ```ts
 * const { runs, overruns, maxLatenessMs } = heartbeat.stats;
 * ```
 */
export interface LoopingCallStats {
  runs: number;
  /** Runs that outlasted their interval (fixed-rate). */
  overruns: number;
  /** How late a run started compared with its schedule, at worst, in ms. */
  maxLatenessMs: number;
  /** How late the last run started, in ms. */
  lastLatenessMs: number;
}

/** Thrown into the loop to end a wait at once when stop() is called. */
class Stopped extends GreenletExit {
  constructor() {
    super('looping call stopped');
  }
}

/**
 * A running looping call.
 *
 * @example
 * ```ts
 * const beat = loopingCall(function* () { yield* report(); }, { intervalMs: 100, priority: 'high' });
 * // later
 * beat.stop();
 * yield* beat.wait();
 * ```
 */
export class LoopingCall {
  readonly name: string;
  readonly #gt: AnyGreenThread;
  #stopped = false;
  #waiting = false;
  #refed = true;
  readonly #stats: LoopingCallStats = { runs: 0, overruns: 0, maxLatenessMs: 0, lastLatenessMs: 0 };

  /** @internal use loopingCall() */
  constructor(fn: Body<[], unknown> | (() => void), o: Required<Omit<LoopingCallOptions, 'name'>> & { name: string }) {
    this.name = o.name;
    this.#gt = spawn({ name: o.name, priority: o.priority }, () => this.#loop(fn, o));
    // Errors reach wait(); a looping call nobody waits for reports its error like any greenthread.
  }

  get stats(): LoopingCallStats {
    return { ...this.#stats };
  }

  /** Whether the loop has ended (stopped, or fn threw). */
  get done(): boolean {
    return this.#gt.dead;
  }

  *#sleepUntil(deadline: number): Green<void> {
    const hub = getHub();
    const gt = hub.requireCurrent('loopingCall');
    const ms = deadline - performance.now();
    if (ms <= 0) return;
    hub.sleepCurrent(gt, ms, { ref: this.#refed });
    this.#waiting = true;
    try {
      yield* SUSPEND_OP;
    } finally {
      this.#waiting = false;
    }
  }

  *#loop(fn: Body<[], unknown> | (() => void), o: Required<Omit<LoopingCallOptions, 'name'>>): Green<void> {
    const hub = getHub();
    let next = performance.now() + o.initialDelayMs;
    try {
      for (;;) {
        yield* this.#sleepUntil(next);
        if (this.#stopped) return;
        const start = performance.now();
        const late = Math.max(0, start - next);
        this.#stats.lastLatenessMs = late;
        if (late > this.#stats.maxLatenessMs) this.#stats.maxLatenessMs = late;
        const r = fn();
        if (r !== undefined && r !== null && typeof (r as Partial<Operation<unknown>>)[Symbol.iterator] === 'function') {
          yield* r as Operation<unknown>;
        }
        this.#stats.runs++;
        if (this.#stopped) return;
        const end = performance.now();
        if (o.policy === 'fixed-delay') {
          next = end + o.intervalMs;
        } else {
          next += o.intervalMs; // the schedule, not the actual start: no drift
          if (end > next) {
            this.#stats.overruns++;
            hub.warn(`looping call "${this.name}": run outlasted interval by ${(end - next).toFixed(1)} ms`);
            next = end;
          }
        }
      }
    } catch (e) {
      if (e instanceof Stopped) return;
      throw e;
    }
  }

  /**
   * Ends the loop: a wait for the next run ends at once; a run in progress finishes first.
   * Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    // Waiting (or not started yet): end at once. Running fn: it finishes first.
    if ((this.#waiting || this.#gt.state === State.New) && this.#gt.state !== State.Running) this.#gt.kill(new Stopped());
  }

  /**
   * Waits until the loop ends: returns after stop(), throws the error fn threw.
   *
   * @example
   * ```ts
   * yield* beat.wait();
   * ```
   */
  wait(): Operation<void> {
    return blocking(this.#wait(this.#gt.wait()), 'LoopingCall.wait()');
  }

  *#wait(end: Operation<void>): Green<void> {
    try {
      yield* end;
    } catch (e) {
      if (!(e instanceof Stopped)) throw e; // stopped before its first run: a clean end
    }
  }

  /** The wait between runs holds the process open (the default). */
  ref(): this {
    this.#setRef(true);
    return this;
  }

  /** The wait between runs does not hold the process open. */
  unref(): this {
    this.#setRef(false);
    return this;
  }

  #setRef(ref: boolean): void {
    this.#refed = ref;
    const t = this.#gt.waitTimer;
    if (this.#waiting && t !== undefined) getHub().setTimerRef(t, ref);
  }
}

/**
 * Runs `fn` every `intervalMs` in its own greenthread, on the monotonic clock. `fn` may be a
 * generator function (it can block) or a plain function. An error thrown by fn ends the loop
 * and reaches `wait()` (or the hub's error handler).
 *
 * @example
 * ```ts
 * import { loopingCall } from 'greenhub';
 * const heartbeat = loopingCall(reportState, { intervalMs: 100, name: 'report_state', priority: 'high' });
 * ```
 */
export function loopingCall(fn: Body<[], unknown> | (() => void), options: LoopingCallOptions): LoopingCall {
  validateFunction(fn, 'fn');
  if (options === undefined) throw new TypeError('loopingCall needs options with intervalMs, got undefined');
  validateOptions(options, 'loopingCall options', ['intervalMs', 'policy', 'initialDelayMs', 'name', 'priority']);
  const intervalMs = validateMs(options.intervalMs, 'intervalMs');
  const policy = validateOneOf(options.policy ?? 'fixed-rate', 'policy', ['fixed-rate', 'fixed-delay']);
  const initialDelayMs = options.initialDelayMs === undefined ? 0 : validateMs(options.initialDelayMs, 'initialDelayMs');
  const priority = validateOneOf(options.priority ?? 'normal', 'priority', ['high', 'normal']);
  if (options.name !== undefined && typeof options.name !== 'string') throw new TypeError(`name must be a string, got ${describeValue(options.name)}`);
  return new LoopingCall(fn, { intervalMs, policy, initialDelayMs, priority, name: options.name ?? (fn.name || 'loopingCall') });
}

/**
 * Seeing into the hub: what `dump()` and `stats()` return, what each greenthread waits on,
 * where it was spawned, and the default handlers of errors and warnings. Nothing here runs on
 * the switch path.
 */
import * as path from 'node:path';
import { type AnyGreenThread, State, Wait, type Waitable } from './greenthread';
import type { Priority } from '../types';
import { validateFunction } from '../validate';

/**
 * One line of `getHub().dump()`; `formatDump()` makes text of them.
 *
 * @example
 * ```ts
 * for (const g of getHub().dump()) console.log(g.id, g.name, g.state, g.waitingOn ?? '', g.waitSite ?? '');
 * ```
 */
export interface GreenThreadInfo {
  id: number;
  name: string;
  priority: Priority;
  /** 'new' (not started), 'runnable', 'running', 'sleeping', 'waiting'. */
  state: 'new' | 'runnable' | 'running' | 'sleeping' | 'waiting';
  /** What it waits on, e.g. "fd 7 for read", "timer until +12.0 ms", "a promise", "greenthread 3 (worker)". */
  waitingOn: string | null;
  /** Time run, in ms (measured only while accounting is on). */
  runTimeMs: number;
  switches: number;
  spawnSite?: string;
  /**
   * How long, in ms, since it last suspended (sleeping, waiting, or runnable again but not yet
   * resumed). Debug mode only (`getHub().debug = true` or `GREENHUB_DEBUG=1`): absent otherwise.
   */
  since?: number;
  /**
   * Where the operation it is suspended in was created ("file:line:column" of the user's
   * `yield*`). Debug mode only: absent otherwise.
   */
  waitSite?: string;
}

/**
 * What `getHub().stats()` returns.
 *
 * @example
 * ```ts
 * const { greenthreads, runnable, fdWaiters } = getHub().stats();
 * ```
 */
export interface HubStats {
  /** Live greenthreads (not yet dead). */
  greenthreads: number;
  /** Queued to run (including the yield lane). */
  runnable: number;
  /** Pending timers. */
  timers: number;
  /** Greenthreads waiting on an fd. */
  fdWaiters: number;
  /** fds registered with the hub's poller. */
  registeredFds: number;
  /** Greenthread resumes since the hub started. */
  switches: number;
  /** Turns run since the hub started. */
  turns: number;
  /** Errors passed to the error handler. */
  uncaughtErrors: number;
}

/**
 * Receives an error that no waiter, `then` or `link` observed by the end of the turn in which
 * its greenthread died.
 *
 * @example
 * ```ts
 * const handler: ErrorHandler = (err, gt) => logger.error({ err, greenthread: gt.name });
 * getHub().onError(handler);
 * ```
 */
export type ErrorHandler = (err: unknown, gt: AnyGreenThread) => void;

/**
 * Receives warnings: looping-call overruns, EMFILE back-off and the like.
 *
 * @example
 * ```ts
 * getHub().onWarning((message) => logger.warn(message));
 * ```
 */
export type WarningHandler = (message: string) => void;

/**
 * The default error handler: name, stack and spawn site on stderr, and `process.exitCode = 1`
 * (unless a code is already set), as Node does for an unhandled rejection — except that the hub
 * keeps running. A handler of the user's (`onError`) decides the exit code for itself.
 */
export function printError(err: unknown, gt: AnyGreenThread): void {
  const stack = err instanceof Error ? err.stack ?? String(err) : String(err);
  let text = `greenhub: uncaught error in greenthread "${gt.name}" (id ${gt.id}):\n${stack}\n`;
  if (gt.spawnSite) text += `  spawned at:\n${gt.spawnSite}\n`;
  process.stderr.write(text);
  if (!process.exitCode) process.exitCode = 1;
}

/** The default warning handler: one line on stderr. */
export function printWarning(message: string): void {
  process.stderr.write(`greenhub warning: ${message}\n`);
}

/**
 * Names and spawn sites of greenthreads that ended while a blocking detector ran: a report may
 * name a greenthread that has just died. The last 1,000 are kept.
 */
export class RecentlyDead {
  readonly #byId = new Map<number, { name: string; spawnSite?: string }>();

  remember(gt: AnyGreenThread): void {
    this.#byId.set(gt.id, { name: gt.name, spawnSite: gt.spawnSite });
    if (this.#byId.size > 1000) this.#byId.delete(this.#byId.keys().next().value!);
  }

  /** A live greenthread's name and spawn site by id, or a recently dead one's. */
  find(id: number, live: Iterable<AnyGreenThread>): { name: string; spawnSite?: string } | undefined {
    for (const gt of live) if (gt.id === id) return { name: gt.name, spawnSite: gt.spawnSite };
    return this.#byId.get(id);
  }
}

/** The hub's error and warning handlers, and the count of errors reported. */
export class Reporter {
  #onError: ErrorHandler = printError;
  #onWarning: WarningHandler = printWarning;
  /** Errors passed to the error handler. */
  errors = 0;

  onError(handler: ErrorHandler | null): void {
    if (handler !== null) validateFunction(handler, 'onError() handler (or null)');
    this.#onError = handler ?? printError;
  }

  onWarning(handler: WarningHandler | null): void {
    if (handler !== null) validateFunction(handler, 'onWarning() handler (or null)');
    this.#onWarning = handler ?? printWarning;
  }

  warn(message: string): void {
    this.#onWarning(message);
  }

  error(err: unknown, gt: AnyGreenThread): void {
    this.errors++;
    try {
      this.#onError(err, gt);
    } catch (handlerErr) {
      // A broken handler must not corrupt the turn or swallow the next reports: its own error
      // surfaces as an uncaught exception, after the turn.
      process.nextTick(() => {
        throw handlerErr;
      });
    }
  }
}

/** A yielded or returned value, for messages ("a Promise", "the string \"x\"", "number 3"). */
export function describeYielded(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') {
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

const OPERATION_SITE = Symbol.for('greenhub.operationSite');

/**
 * The TypeError of `yield op` without the star. Where the operation was made (debug mode) is
 * its first stack frame, so the report points at the user's line, not the hub's.
 */
export function badYieldError(v: unknown): TypeError {
  const site = typeof v === 'object' && v !== null ? (v as Record<symbol, string | undefined>)[OPERATION_SITE] : undefined;
  const isOp = typeof v === 'object' && v !== null && typeof (v as Record<symbol, unknown>)[Symbol.iterator] === 'function';
  let message = `a greenthread yielded ${describeYielded(v)}: write \`yield* op\` (with the star) to run a greenhub operation`;
  if (site !== undefined) message += ` (the operation was created at ${site})`;
  else if (isOp) message += ' (run with GREENHUB_DEBUG=1 to see where it was created)';
  const err = new TypeError(message);
  if (site !== undefined) err.stack = `TypeError: ${message}\n    at ${site}`;
  return err;
}

/** One greenthread as `dump()` shows it; `t` is the hub's clock now. */
export function infoOf(gt: AnyGreenThread, t: number): GreenThreadInfo {
  const info: GreenThreadInfo = {
    id: gt.id,
    name: gt.name,
    priority: gt.priority,
    state: 'waiting',
    waitingOn: null,
    runTimeMs: gt.runTimeMs,
    switches: gt.switches,
  };
  if (gt.spawnSite) info.spawnSite = gt.spawnSite;
  switch (gt.state) {
    case State.New:
      info.state = gt.startTimer ? 'sleeping' : 'new';
      if (gt.startTimer) info.waitingOn = `start at +${(gt.startTimer.deadline - t).toFixed(1)} ms`;
      break;
    case State.Runnable:
      info.state = 'runnable';
      break;
    case State.Running:
      info.state = 'running';
      break;
    default:
      info.waitingOn = describeWait(gt, t);
      info.state = gt.waitKind === Wait.Timer ? 'sleeping' : 'waiting';
  }
  // Debug mode: since when, and where, it waits (a running or unstarted one waits nowhere).
  if (gt.hub.debug && gt.state !== State.New && gt.state !== State.Running) {
    if (gt.suspendedAt > 0) info.since = Math.max(0, t - gt.suspendedAt);
    if (gt.opSite) info.waitSite = String(gt.opSite);
  }
  return info;
}

function describeWait(gt: AnyGreenThread, t: number): string {
  switch (gt.waitKind) {
    case Wait.Yield:
      return 'the yield lane';
    case Wait.Timer:
      return gt.waitTimer ? `timer until +${(gt.waitTimer.deadline - t).toFixed(1)} ms` : 'a timer';
    case Wait.FdRead:
      return `fd ${gt.waitFd} for read`;
    case Wait.FdWrite:
      return `fd ${gt.waitFd} for write`;
    case Wait.Promise:
      return 'a promise';
    case Wait.GreenThread: {
      const o = gt.waitObj as AnyGreenThread;
      return `greenthread ${o.id} (${o.name})`;
    }
    case Wait.Custom:
      return (gt.waitObj as Waitable).describeWait(gt);
    default:
      return 'nothing (suspended)';
  }
}

/** greenhub's own sources (lib/ or dist/), left out of spawn sites. */
const OWN_DIR = path.resolve(__dirname, '..');

/** Where spawn was called: the first user frames of the current stack. */
export function captureSpawnSite(): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 20;
  Error.captureStackTrace(holder, captureSpawnSite);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? '').split('\n').slice(1);
  const user = lines.filter((l) => !l.includes(OWN_DIR) && !l.includes('(<anonymous>)') && !l.includes('node:internal'));
  return (user.length > 0 ? user : lines).slice(0, 8).join('\n') || undefined;
}

/** Whether a stack frame's file is greenhub's own. */
export function isOwnFile(url: string): boolean {
  return url.startsWith(OWN_DIR) || url.startsWith(`file://${OWN_DIR}`);
}

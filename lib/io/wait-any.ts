/**
 * waitAny: a green select/poll over several fds (Python's `select.select`, eventlet's green
 * select). The hub's fd table holds one reader and one writer per fd, each a greenthread, so
 * the wait over many fds is a watcher greenthread per (fd, direction), each running
 * trampoline's wait; the first to see readiness wakes the caller, who kills the rest. The
 * watchers are in the table like any reader or writer: a second waiter on the same fd either
 * way is the usual clear error, and closing a green socket wakes its watcher with its error.
 *
 * READINESS FIRST: one poll(2) of every fd before anything parks, and each watcher polls its
 * fd again just before it parks (in the same synchronous step), so an edge consumed earlier
 * cannot hang it. What it returns is one more poll of every fd, taken when the first watcher
 * saw readiness: all that were ready then.
 */
import { isGreenletExit, systemError } from '../errors';
import type { Direction, FdTable } from '../hub/fd-table';
import { type AnyGreenThread, NO_ERROR } from '../hub/greenthread';
import { type Hub, getHub } from '../hub/hub';
import { TimerKind, isTimeoutOf } from '../hub/timers';
import { E, K, native } from '../native';
import { Gather } from '../all';
import { blocking } from '../operation';
import type { Green, Operation } from '../types';
import { describeValue, validateBoolean, validateFd, validateMs, validateOptions } from '../validate';
import { identityOf, statFd } from './adopt';
import { FdHandle } from './fd-handle';
import { POLL_READ, POLL_WRITE, waitReadyOnce } from './trampoline';

/**
 * What waitAny can wait on: an fd number you own (a pipe, an eventfd, a tty…) or a green
 * handle (GreenSocket, GreenFd, a server, a UDP socket).
 *
 * @example
 * ```ts
 * const fds: WaitAnyFd[] = [sock, pipeReadEnd, efd];
 * ```
 */
export type WaitAnyFd = number | FdHandle;

/**
 * One fd to wait on, and for what: `read`, `write` or both (at least one).
 *
 * @example
 * ```ts
 * const e: WaitAnyEntry<GreenSocket> = { fd: sock, read: true };
 * ```
 */
export interface WaitAnyEntry<F extends WaitAnyFd = WaitAnyFd> {
  fd: F;
  read?: boolean;
  write?: boolean;
}

/**
 * An fd that is ready: `fd` as you passed it, and which of the asked directions are ready (a
 * hang-up or error counts as ready: the next read or write reports it).
 *
 * @example
 * ```ts
 * for (const { fd, read, write }: WaitAnyReady<GreenSocket> of ready) if (read) yield* fd.recv();
 * ```
 */
export interface WaitAnyReady<F extends WaitAnyFd = WaitAnyFd> {
  fd: F;
  read: boolean;
  write: boolean;
}

/**
 * Options of {@link waitAny}: `timeoutMs` (none: wait until one is ready; 0: just poll).
 *
 * @example
 * ```ts
 * const opts: WaitAnyOptions = { timeoutMs: 500 };
 * ```
 */
export interface WaitAnyOptions {
  timeoutMs?: number;
}

/** One fd of a waitAny, checked. */
interface Item {
  readonly user: WaitAnyFd;
  readonly fd: number;
  readonly read: boolean;
  readonly write: boolean;
  /** The green handle, when one was given (its closed state is checked before each park). */
  readonly handle: FdHandle | undefined;
  /** dev:ino of a bare fd (trampoline registers it while waited on); undefined for a handle. */
  readonly identity: string | undefined;
}

const ENTRY_KEYS = ['fd', 'read', 'write'];

/**
 * Suspends the calling greenthread until at least one of the fds is ready for what its entry
 * asks, and returns every one that is (in the order given, `fd` as passed). Like Python's
 * `select`, a timeout is not an error: past `timeoutMs` it returns an empty array, and
 * `timeoutMs: 0` polls without waiting.
 *
 * Readiness is the kernel's, checked before any wait, so an fd that is already ready returns
 * at once; bytes a green stream has already read ahead (`readLine` buffers) count as
 * readable too. One reader and one writer per fd, as everywhere: an fd another greenthread
 * waits on in the same direction is an error (`ERR_ROLE_TAKEN`), and so is a read that has
 * to wait on a handle while a waitAny waits on it for reading. Killed, it leaves no wait
 * behind.
 *
 * @throws TypeError for bad entries (an empty list, an fd listed twice, neither read nor
 *   write, a regular file); the closed error of a handle closed before or during the wait;
 *   `EBADF` for an fd that is not open; `ERR_ROLE_TAKEN` as above.
 * @example
 * ```ts
 * const ready = yield* waitAny([{ fd: sock, read: true }, { fd: efd, read: true }], { timeoutMs: 1000 });
 * if (ready.length === 0) console.log('nothing in a second');
 * for (const r of ready) if (r.fd === sock) handle(yield* sock.recv());
 * ```
 */
export function waitAny<E extends WaitAnyEntry>(entries: readonly E[], options?: WaitAnyOptions): Operation<WaitAnyReady<E['fd']>[]> {
  const items = checkEntries(entries);
  const o = validateOptions(options, 'waitAny options', ['timeoutMs']);
  const timeoutMs = o.timeoutMs === undefined ? -1 : validateMs(o.timeoutMs, 'timeoutMs', { allowInfinity: true });
  const hub = getHub();
  return blocking(waitAnyOp(hub, items, timeoutMs === Infinity ? -1 : timeoutMs), 'waitAny()') as Operation<WaitAnyReady<E['fd']>[]>;
}

function checkEntries(entries: readonly WaitAnyEntry[]): Item[] {
  if (!Array.isArray(entries)) throw new TypeError(`waitAny needs an array of { fd, read?, write? }, got ${describeValue(entries)}`);
  if (entries.length === 0) throw new TypeError('waitAny needs at least one fd to wait on (to just wait, use sleep(ms)), got an empty array');
  const seen = new Map<number, number>();
  return entries.map((e, i) => {
    const name = `entries[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new TypeError(`${name} must be { fd, read?, write? }, got ${describeValue(e)}`);
    validateOptions(e, name, ENTRY_KEYS);
    const read = validateBoolean(e.read, `${name}.read`, false);
    const write = validateBoolean(e.write, `${name}.write`, false);
    if (!read && !write) throw new TypeError(`${name} needs read: true or write: true (or both), got neither`);
    const item = e.fd instanceof FdHandle ? handleItem(e.fd, read, write) : bareItem(e.fd, name, read, write);
    const before = seen.get(item.fd);
    if (before !== undefined) {
      throw new TypeError(`fd ${item.fd} is listed twice (entries[${before}] and ${name}): list it once, with { read: true, write: true } for both`);
    }
    seen.set(item.fd, i);
    return item;
  });
}

function handleItem(h: FdHandle, read: boolean, write: boolean): Item {
  h.checkOpen();
  return { user: h, fd: h.rawFd, read, write, handle: h, identity: undefined };
}

function bareItem(fd: unknown, name: string, read: boolean, write: boolean): Item {
  if (typeof fd !== 'number') {
    throw new TypeError(`${name}.fd must be a file descriptor or a green socket/fd (GreenSocket, GreenFd, a server, a UDP socket), got ${describeValue(fd)}`);
  }
  validateFd(fd, `${name}.fd`);
  const stat = statFd(fd);
  if (stat.isFile() || stat.isDirectory()) {
    throw new TypeError(`waitAny: fd ${fd} is a regular ${stat.isFile() ? 'file' : 'directory'}, which epoll cannot wait on (it is always ready); read it directly, or with tpool`);
  }
  return { user: fd, fd, read, write, handle: undefined, identity: identityOf(stat) };
}


function directions(it: Item): Direction[] {
  return it.read && it.write ? ['read', 'write'] : it.read ? ['read'] : ['write'];
}

function* waitAnyOp(hub: Hub, items: Item[], timeoutMs: number): Green<WaitAnyReady[]> {
  const parent = hub.requireCurrent('waitAny()');
  const fds = hub.fds;
  for (const it of items) it.handle?.checkOpen();
  const polled = new Int32Array(items.length * 3);
  let ready = pollAll(items, polled);
  if (ready.length > 0 || timeoutMs === 0) return ready;

  let settled = false;
  const onEnd = (k: AnyGreenThread, it: Item, dir: Direction): void => {
    if (settled) return;
    settled = true;
    if (k.error !== NO_ERROR) {
      // A watcher killed from outside fails the wait with an error of its own: rethrowing the
      // GreenletExit would end the caller as if it had been killed.
      hub.throwInto(parent, isGreenletExit(k.error) ? new Error(`waitAny(): the wait on fd ${it.fd} was killed`, { cause: k.error }) : k.error);
      return;
    }
    try {
      ready = pollAll(items, polled);
    } catch (e) {
      hub.throwInto(parent, e);
      return;
    }
    // The watcher saw it ready in this same step; only an fd poll() cannot see (none) would differ.
    if (ready.length === 0) ready = [{ fd: it.user, read: dir === 'read', write: dir === 'write' }];
    hub.resumeWith(parent, ready);
  };
  const kids: AnyGreenThread[] = [];
  // The wait holds the process open unless every fd is a handle that was unref()'d.
  const ref = items.some((it) => it.handle?.refed ?? true);
  const timer = timeoutMs > 0 ? hub.addTimer(TimerKind.Timeout, timeoutMs, parent, { ref, message: `waitAny() timed out after ${timeoutMs} ms` }) : undefined;
  try {
    for (const it of items) {
      for (const dir of directions(it)) {
        const kid = hub.spawn(`waitAny() of ${parent.name}`, parent.priority, watch as never, [fds, it, dir], 0) as AnyGreenThread;
        kid.link((k) => onEnd(k, it, dir));
        kids.push(kid);
      }
    }
    // Parked until the first watcher wakes it, killed with it (the watchers are its children).
    const described = (): string => `waitAny() on fds ${items.map((it) => `${it.fd} (${it.read && it.write ? 'read, write' : it.read ? 'read' : 'write'})`).join(', ')}`;
    return (yield* new Gather('waitAny()', described)) as WaitAnyReady[];
  } catch (e) {
    if (timer !== undefined && isTimeoutOf(e, timer)) return [];
    throw e;
  } finally {
    settled = true;
    if (timer !== undefined) hub.cancelTimer(timer);
    for (const kid of kids) kid.kill();
  }
}

/** A watcher: polls its fd and parks until the kernel says it is ready. */
function* watch(fds: FdTable, it: Item, dir: Direction): Green<void> {
  for (;;) {
    // A handle closed meanwhile is no longer in the hub's table: nothing would wake a park.
    it.handle?.checkOpen();
    if (yield* waitReadyOnce(fds, it.fd, it.identity, dir, undefined, 'waitAny()', it.handle?.refed ?? true)) return;
  }
}

/** One poll(2) of every fd; the ready ones, in order. */
function pollAll(items: readonly Item[], polled: Int32Array): WaitAnyReady[] {
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    polled[3 * i] = it.fd;
    polled[3 * i + 1] = (it.read ? POLL_READ : 0) | (it.write ? POLL_WRITE : 0);
  }
  const r = native.pollMany(polled, items.length);
  if (r < 0) throw systemError(r, 'poll');
  const ready: WaitAnyReady[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    const revents = polled[3 * i + 2];
    if (revents & K.POLLNVAL) throw systemError(E.EBADF, 'poll', { detail: `fd ${it.fd}` });
    const read = it.read && ((revents & POLL_READ) !== 0 || buffered(it.handle) > 0);
    const write = it.write && (revents & POLL_WRITE) !== 0;
    if (read || write) ready.push({ fd: it.user, read, write });
  }
  return ready;
}

/** Bytes a green stream has read ahead: a read returns them without the kernel. */
function buffered(h: FdHandle | undefined): number {
  return (h as { readBuffered?: number } | undefined)?.readBuffered ?? 0;
}

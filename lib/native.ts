/**
 * The native addon, loaded once, with precise types. Internal: users see `Poller` and the
 * green I/O modules, never this.
 *
 * Every syscall wrapper returns a count (or 0) on success and `-errno` on failure; EAGAIN is a
 * value, not an exception. {@link systemError} is the one place that turns `-errno` into a
 * Node-style error.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { type ErrorContext, systemError } from './errors';

/** An address as the kernel reports it: `family` is AF_INET, AF_INET6 or AF_UNIX. */
export interface RawAddress {
  family: number;
  address: string;
  port: number;
}

export interface NativeConstants {
  readonly EPOLLIN: number; readonly EPOLLOUT: number; readonly EPOLLPRI: number;
  readonly EPOLLERR: number; readonly EPOLLHUP: number; readonly EPOLLRDHUP: number;
  readonly EPOLLET: number; readonly EPOLLONESHOT: number; readonly EPOLLEXCLUSIVE: number;
  readonly EPOLLWAKEUP: number;
  readonly EPOLL_CTL_ADD: number; readonly EPOLL_CTL_MOD: number; readonly EPOLL_CTL_DEL: number;
  readonly POLLIN: number; readonly POLLOUT: number; readonly POLLPRI: number;
  readonly POLLERR: number; readonly POLLHUP: number; readonly POLLRDHUP: number;
  readonly POLLNVAL: number;
  readonly AF_INET: number; readonly AF_INET6: number; readonly AF_UNIX: number;
  readonly SOCK_STREAM: number; readonly SOCK_DGRAM: number;
  readonly SOL_SOCKET: number; readonly SO_REUSEADDR: number; readonly SO_REUSEPORT: number;
  readonly SO_KEEPALIVE: number; readonly SO_ERROR: number; readonly SO_RCVBUF: number;
  readonly SO_SNDBUF: number; readonly SO_TYPE: number; readonly SO_ACCEPTCONN: number;
  readonly SO_PASSCRED: number; readonly SO_BROADCAST: number; readonly MSG_OOB: number;
  readonly IPPROTO_TCP: number; readonly IPPROTO_IPV6: number; readonly TCP_NODELAY: number;
  readonly TCP_KEEPIDLE: number; readonly IPV6_V6ONLY: number;
  readonly TCP_KEEPINTVL: number; readonly TCP_KEEPCNT: number;
  readonly IPPROTO_IP: number; readonly IP_TTL: number;
  readonly SHUT_RD: number; readonly SHUT_WR: number; readonly SHUT_RDWR: number;
}

/** The addon's exports (native/*.cc). */
export interface NativeAddon {
  readonly constants: NativeConstants;
  // poller.cc
  epollCreate(): number;
  epollCtl(epfd: number, op: number, fd: number, events: number, token: number): number;
  /** Writes (fd, token, events) triples into `out`; returns how many. */
  epollWait(epfd: number, out: Int32Array, timeoutMs: number): number;
  // loop.cc
  attach(epfd: number, out: Int32Array, onEvents: (count: number) => void, onTimer: () => void): number;
  detach(epfd: number): number;
  pollRef(epfd: number, ref: boolean): number;
  timerStart(epfd: number, ms: number, ref: boolean): number;
  timerStop(epfd: number): number;
  // syscalls.cc. A byte offset, length or buffer index is a non-negative integer up to
  // Number.MAX_SAFE_INTEGER (buffers may exceed 2 GiB), checked against the buffer
  // (RangeError); one call moves at most 1 GiB, so a larger range gives a partial count.
  // No call raises SIGPIPE: a closed peer or reader is -EPIPE (or -ECONNRESET).
  socket(domain: number, type: number): number;
  bind(fd: number, family: number, address: string, port: number): number;
  connect(fd: number, family: number, address: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept4(fd: number): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** write(2) of buf[offset, offset + length), for any fd (SIGPIPE blocked around the call). */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  readv(fd: number, bufs: readonly Uint8Array[], index?: number, offset?: number): number;
  /** writev(2) of bufs[index..], starting `offset` bytes into bufs[index]; at most IOV_MAX buffers a call. */
  writev(fd: number, bufs: readonly Uint8Array[], index?: number, offset?: number): number;
  /** send(2) with MSG_NOSIGNAL of buf[offset, offset + length): sockets only (else -ENOTSOCK). */
  send(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** sendmsg(2) with MSG_NOSIGNAL, with writev's arguments: sockets only (else -ENOTSOCK). */
  sendv(fd: number, bufs: readonly Uint8Array[], index?: number, offset?: number): number;
  recvfrom(fd: number, buf: Uint8Array, offset: number, length: number, from: RawAddress): number;
  /** sendto(2) with MSG_NOSIGNAL. */
  sendto(fd: number, buf: Uint8Array, offset: number, length: number, family: number, address: string, port: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  setNonBlocking(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: number): number;
  getsockopt(fd: number, level: number, name: number): number;
  getsockname(fd: number): RawAddress | number;
  getpeername(fd: number): RawAddress | number;
  pipe2(out: Int32Array): number;
  eventfd(initval: number): number;
  eventfdWrite(fd: number, value: number): number;
  eventfdRead(fd: number): number;
  poll(fd: number, events: number): number;
  /**
   * poll(2) of `count` fds at once, never blocking: `entries` holds (fd, events, revents)
   * triples and each revents is written (POLLNVAL: not open). Returns how many are ready.
   */
  pollMany(entries: Int32Array, count: number): number;
  /** socketpair(2): two connected AF_UNIX sockets of `type` into out[0], out[1] (non-blocking, close-on-exec). */
  socketpair(type: number, out: Int32Array): number;
  /** fcntl(F_DUPFD_CLOEXEC): a new fd for the same open file (sharing its O_NONBLOCK). */
  dup(fd: number): number;
  own(fd: number): number;
  disown(fd: number): number;
}

function load(): NativeAddon {
  if (process.platform !== 'linux') {
    throw new Error(`greenhub runs only on Linux (it is built on epoll); this platform is ${process.platform}.`);
  }
  // node-gyp-build looks in build/Release (a local build) and then in prebuilds/<platform>-<arch>.
  // An installed package has a build/ only when no prebuild matched, so a user gets the prebuilt
  // binary when one matches and the local build otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  return nodeGypBuild(path.join(__dirname, '..')) as NativeAddon;
}

/**
 * The addon for this thread (Node loads it once per environment), copied into a plain object:
 * the addon's own exports object is in V8's dictionary mode (properties added one by one from
 * C++), so every `native.read` on the hot path would be a hash lookup instead of an inline load.
 */
export const native: NativeAddon = { ...load() };
// Copied for the same reason as `native`: the hot path reads K.EPOLLIN and friends.
export const K: NativeConstants = { ...native.constants };

/** Returns `r` when it is not an error, else throws the system error for it. */
export function check(r: number, syscall: string, ctx?: ErrorContext): number {
  if (r < 0) throw systemError(r, syscall, ctx);
  return r;
}

const errno = os.constants.errno;
/** Negative errno values by name, for comparisons on the hot path (`r === E.EAGAIN`). */
export const E = {
  EAGAIN: -errno.EAGAIN,
  EINTR: -errno.EINTR,
  EBADF: -errno.EBADF,
  EINVAL: -errno.EINVAL,
  EINPROGRESS: -errno.EINPROGRESS,
  EEXIST: -errno.EEXIST,
  ENOENT: -errno.ENOENT,
  EPERM: -errno.EPERM,
  EMFILE: -errno.EMFILE,
  ENFILE: -errno.ENFILE,
  ENOBUFS: -errno.ENOBUFS,
  ENOMEM: -errno.ENOMEM,
  ECONNABORTED: -errno.ECONNABORTED,
  EPROTO: -errno.EPROTO,
  EPIPE: -errno.EPIPE,
  ECONNRESET: -errno.ECONNRESET,
  ENOTCONN: -errno.ENOTCONN,
  ETIMEDOUT: -errno.ETIMEDOUT,
} as const;

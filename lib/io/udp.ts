/**
 * udpSocket(): datagrams, greenthread-style.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { type AddressInfo, familyName, ipFamily, toAddressInfo, validatePort } from './address';
import { closedError, validateBytes } from './fd-stream';
import { waitFdReady } from '../hub/fd-wait';
import type { AnyGreenThread } from '../hub/greenthread';
import { READY_READ, READY_WRITE, getHub } from '../hub/hub';
import { E, K, type RawAddress, check, native, systemError } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateInt, validateMs } from '../validate';
import { waitFor } from '../wait-for';

/**
 * Options of {@link udpSocket}: bind to `{ host, port }` (host an IP literal, default
 * `127.0.0.1`), or leave unbound (the kernel picks a port at the first send) with `family`.
 *
 * @example
 * ```ts
 * const opts: UdpOptions = { bind: { host: '::1', port: 0 } };
 * ```
 */
export interface UdpOptions {
  bind?: { host?: string; port?: number };
  /** For an unbound socket: 'IPv4' (default) or 'IPv6'. */
  family?: 'IPv4' | 'IPv6';
}

/**
 * A datagram received by `recvFrom`.
 *
 * @example
 * ```ts
 * const { data, address, port }: Datagram = yield* sock.recvFrom();
 * ```
 */
export interface Datagram {
  data: Buffer;
  address: string;
  port: number;
  family: AddressInfo['family'];
}

/**
 * A UDP socket. Datagram fds are drained to EAGAIN (a short datagram says nothing about the
 * next).
 *
 * @example
 * ```ts
 * const sock = udpSocket({ bind: { port: 0 } });
 * yield* sock.sendTo(Buffer.from('ping'), peerPort, '127.0.0.1');
 * const { data, address, port } = yield* sock.recvFrom();
 * sock.close();
 * ```
 */
export class GreenUdpSocket {
  readonly #hub = getHub();
  readonly #fd: number;
  readonly #af: number;
  #closed = false;
  #refed = true;
  #timeoutMs = 0;
  #reader: AnyGreenThread | undefined;
  readonly #from: RawAddress = { family: 0, address: '', port: 0 };

  /** @internal use udpSocket() */
  constructor(fd: number, af: number) {
    this.#fd = fd;
    this.#af = af;
    this.#hub.registerFd(fd);
  }

  get fd(): number {
    return this.#closed ? -1 : this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The bound address. */
  address(): AddressInfo {
    this.#check();
    const a = native.getsockname(this.#fd);
    if (typeof a === 'number') throw systemError(a, 'getsockname');
    return toAddressInfo(a);
  }

  /** recvFrom (and a sendTo that would block) throw TimeoutError after ms; 0 = never. */
  setTimeout(ms: number): this {
    this.#timeoutMs = validateMs(ms, 'ms');
    return this;
  }

  #check(): void {
    if (this.#closed) throw closedError('UDP socket', 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  }

  *#park(write: boolean): Green<void> {
    yield* waitFdReady(this.#hub, this.#fd, write, this.#refed, this.#timeoutMs > 0 ? this.#timeoutMs : -1,
      `UDP ${write ? 'send' : 'receive'} timed out after ${this.#timeoutMs} ms`);
    this.#check();
  }

  /**
   * Sends one datagram to `host:port` (an IP literal, or a name resolved with dns.lookup).
   * Returns the bytes sent.
   *
   * @example
   * ```ts
   * yield* sock.sendTo(Buffer.from('hello'), 9999, '127.0.0.1');
   * ```
   */
  sendTo(buf: Uint8Array, port: number, host = '127.0.0.1'): Operation<number> {
    validateBytes(buf, 'buf');
    validatePort(port, 'port', 1);
    if (typeof host !== 'string') throw new TypeError(`host must be a string, got ${describeValue(host)}`);
    this.#check();
    return this.#sendTo(buf, port, host);
  }

  *#sendTo(buf: Uint8Array, port: number, host: string): Green<number> {
    let address = host;
    if (net.isIP(host) === 0) {
      const r = yield* waitFor(dns.promises.lookup(host, { family: this.#af === K.AF_INET6 ? 6 : 4 }));
      address = r.address;
    }
    const hub = this.#hub;
    for (;;) {
      this.#check();
      if (hub.readiness(this.#fd) & READY_WRITE) {
        const n = native.sendto(this.#fd, buf, 0, buf.length, this.#af, address, port);
        if (n >= 0) return n;
        if (n !== E.EAGAIN) throw systemError(n, 'sendto', { address, port });
        hub.clearReadiness(this.#fd, READY_WRITE);
      }
      yield* this.#park(true);
    }
  }

  /**
   * Receives one datagram (truncated to `max` bytes, default 65536).
   *
   * @example
   * ```ts
   * const { data, address, port } = yield* sock.recvFrom();
   * ```
   */
  recvFrom(max = 65536): Operation<Datagram> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.#check();
    return this.#recvFrom(max);
  }

  *#recvFrom(max: number): Green<Datagram> {
    const hub = this.#hub;
    const cur = hub.requireCurrent('recvFrom()');
    if (this.#reader !== undefined && this.#reader !== cur && !this.#reader.dead) {
      throw new Error(`UDP socket already has a reader: greenthread ${this.#reader.id} (${this.#reader.name})`);
    }
    const prev = this.#reader;
    this.#reader = cur;
    try {
      const buf = Buffer.allocUnsafe(max);
      for (;;) {
        this.#check();
        if (hub.readiness(this.#fd) & READY_READ) {
          const n = native.recvfrom(this.#fd, buf, 0, max, this.#from);
          if (n >= 0) {
            const f = this.#from;
            return { data: n === max ? buf : Buffer.from(buf.subarray(0, n)), address: f.address, port: f.port, family: familyName(f.family) };
          }
          if (n !== E.EAGAIN) throw systemError(n, 'recvfrom');
          hub.clearReadiness(this.#fd, READY_READ);
        }
        yield* this.#park(false);
      }
    } finally {
      this.#reader = prev;
    }
  }

  /** Closes the socket; a greenthread blocked on it gets the closed error. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#hub.closeFd(this.#fd, closedError('UDP socket', 'ERR_SOCKET_DGRAM_NOT_RUNNING'), false);
    native.close(this.#fd);
  }

  /** A waiting call holds the process open (the default). */
  ref(): this {
    this.#refed = true;
    if (this.#reader) this.#hub.setFdWaitRef(this.#reader, true);
    return this;
  }

  /** A waiting call does not hold the process open. */
  unref(): this {
    this.#refed = false;
    if (this.#reader) this.#hub.setFdWaitRef(this.#reader, false);
    return this;
  }
}

/**
 * Opens a UDP socket, bound when `bind` is given.
 *
 * @throws TypeError/RangeError for bad options; a system error (`EADDRINUSE`…) from bind.
 * @example
 * ```ts
 * const server = udpSocket({ bind: { host: '127.0.0.1', port: 5353 } });
 * ```
 */
export function udpSocket(options: UdpOptions = {}): GreenUdpSocket {
  if (options === null || typeof options !== 'object') throw new TypeError(`udpSocket options must be an object, got ${describeValue(options)}`);
  let af = options.family === 'IPv6' ? K.AF_INET6 : K.AF_INET;
  if (options.family !== undefined && options.family !== 'IPv4' && options.family !== 'IPv6') throw new TypeError(`family must be 'IPv4' or 'IPv6'`);
  let host: string | undefined;
  let port = 0;
  if (options.bind !== undefined) {
    host = options.bind.host ?? (options.family === 'IPv6' ? '::1' : '127.0.0.1');
    af = ipFamily(host, 'bind.host');
    port = validatePort(options.bind.port ?? 0, 'bind.port');
  }
  const fd = check(native.socket(af, K.SOCK_DGRAM), 'socket');
  try {
    if (host !== undefined) {
      const r = native.bind(fd, af, host, port);
      if (r < 0) throw systemError(r, 'bind', { address: host, port });
    }
    return new GreenUdpSocket(fd, af);
  } catch (e) {
    native.close(fd);
    throw e;
  }
}

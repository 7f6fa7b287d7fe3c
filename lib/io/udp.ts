/**
 * udpSocket(): datagrams, greenthread-style.
 */
import { Buffer } from 'node:buffer';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { closedError, systemError } from '../errors';
import { K, type RawAddress, check, native } from '../native';
import type { Green, Operation } from '../types';
import { describeValue, validateBytes, validateInt, validateOneOf, validateOptions } from '../validate';
import { waitFor } from '../wait-for';
import { type AddressInfo, familyName, ipFamily, toAddressInfo, validatePort } from './address';
import { FdHandle } from './fd-handle';
import { blocking } from '../operation';

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
 * What `recvFromInto` returns: the datagram's size in the caller's buffer and its sender.
 *
 * @example
 * ```ts
 * const { bytes, address, port }: DatagramInfo = yield* sock.recvFromInto(buf);
 * ```
 */
export interface DatagramInfo {
  /** Bytes written at the start of the buffer (a longer datagram is cut to the buffer's length). */
  bytes: number;
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
export class GreenUdpSocket extends FdHandle {
  readonly #af: number;
  readonly #from: RawAddress = { family: 0, address: '', port: 0 };

  /** @internal use udpSocket() */
  constructor(fd: number, af: number) {
    super(fd, { adopted: false });
    this.#af = af;
  }

  /** @internal */
  describe(): string {
    return 'UDP socket';
  }

  /** @internal */
  closedError(): Error {
    return closedError('UDP socket', 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  }

  /** @internal */
  protected override verb(dir: 'read' | 'write'): string {
    return dir === 'read' ? 'receive' : 'send';
  }

  /** The bound address. */
  address(): AddressInfo {
    this.checkOpen();
    const a = native.getsockname(this.rawFd);
    if (typeof a === 'number') throw systemError(a, 'getsockname');
    return toAddressInfo(a);
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
    this.checkOpen();
    return blocking(this.#sendTo(buf, port, host), 'sendTo()');
  }

  *#sendTo(buf: Uint8Array, port: number, host: string): Green<number> {
    let address = host;
    if (net.isIP(host) === 0) {
      const r = yield* waitFor(dns.promises.lookup(host, { family: this.#af === K.AF_INET6 ? 6 : 4 }));
      address = r.address;
    }
    // No writer role: datagrams are whole, so greenthreads may send side by side.
    return yield* this.io('write', () => native.sendto(this.rawFd, buf, 0, buf.length, this.#af, address, port), 'sendto', { address, port });
  }

  /**
   * Receives one datagram (truncated to `max` bytes, default 65536). Datagram sockets are
   * drained to EAGAIN: a short datagram says nothing about the next.
   *
   * @example
   * ```ts
   * const { data, address, port } = yield* sock.recvFrom();
   * ```
   */
  recvFrom(max = 65536): Operation<Datagram> {
    validateInt(max, 'max', 1, 0x7fffffff);
    this.checkOpen();
    return blocking(this.#recvFrom(max), 'recvFrom()');
  }

  /**
   * Receives one datagram into `buf` (no copy, no allocation for the data), as Python's
   * `recvfrom_into`: the datagram's bytes at the start of `buf`, the rest of a datagram longer
   * than `buf` discarded (UDP keeps no remainder). A 0-byte datagram gives `bytes: 0`.
   *
   * @throws TypeError unless buf is a Buffer/Uint8Array; the closed error; TimeoutError or
   *   `EAGAIN` as setTimeout says.
   * @example
   * ```ts
   * const buf = Buffer.allocUnsafe(1500);
   * const { bytes, address, port } = yield* sock.recvFromInto(buf);
   * handle(buf.subarray(0, bytes), address, port);
   * ```
   */
  recvFromInto(buf: Uint8Array): Operation<DatagramInfo> {
    validateBytes(buf, 'buf');
    this.checkOpen();
    return blocking(this.#recvFromInto(buf), 'recvFromInto()');
  }

  *#recvFromInto(buf: Uint8Array): Green<DatagramInfo> {
    const prev = this.enter('read', 'recvFromInto()');
    try {
      const n = yield* this.io('read', () => native.recvfrom(this.rawFd, buf, 0, buf.length, this.#from), 'recvfrom');
      const f = this.#from;
      return { bytes: n, address: f.address, port: f.port, family: familyName(f.family) };
    } finally {
      this.leave('read', prev);
    }
  }

  *#recvFrom(max: number): Green<Datagram> {
    const prev = this.enter('read', 'recvFrom()');
    try {
      const buf = Buffer.allocUnsafe(max);
      const n = yield* this.io('read', () => native.recvfrom(this.rawFd, buf, 0, max, this.#from), 'recvfrom');
      const f = this.#from;
      return { data: n === max ? buf : Buffer.from(buf.subarray(0, n)), address: f.address, port: f.port, family: familyName(f.family) };
    } finally {
      this.leave('read', prev);
    }
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
  validateOptions(options, 'udpSocket options', ['bind', 'family']);
  if (options.family !== undefined) validateOneOf(options.family, 'family', ['IPv4', 'IPv6']);
  let af = options.family === 'IPv6' ? K.AF_INET6 : K.AF_INET;
  let host: string | undefined;
  let port = 0;
  if (options.bind !== undefined) {
    validateOptions(options.bind, 'bind', ['host', 'port']);
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

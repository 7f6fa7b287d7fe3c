/**
 * Socket options by name: the common int options of setsockopt(2)/getsockopt(2), as
 * `setOption(name, value)` / `getOption(name)` on green sockets, servers and UDP sockets.
 * Flags are booleans, sizes and counts are integers. The kernel has the last word: an option
 * the socket's family does not have (TCP_NODELAY on a Unix socket) is its error (EOPNOTSUPP,
 * which Node names ENOTSUP).
 */
import { K, check, native } from '../native';
import { describeValue, validateInt } from '../validate';

/**
 * The options `setOption`/`getOption` know. Flags (`boolean`): `SO_REUSEADDR`,
 * `SO_REUSEPORT`, `SO_KEEPALIVE`, `SO_BROADCAST`, `TCP_NODELAY`. Numbers: `SO_RCVBUF` and
 * `SO_SNDBUF` (bytes: Linux doubles the value set, for its bookkeeping, and reports the
 * doubled value; it caps it at net.core.rmem_max / wmem_max), `TCP_KEEPIDLE`,
 * `TCP_KEEPINTVL` (seconds), `TCP_KEEPCNT` (probes), `IP_TTL` (hops, IPv4).
 *
 * @example
 * ```ts
 * const name: SocketOptionName = 'SO_RCVBUF';
 * sock.setOption(name, 256 * 1024);
 * ```
 */
export type SocketOptionName = keyof typeof OPTIONS;

/**
 * The value type of an option: a boolean for flags, a number otherwise.
 *
 * @example
 * ```ts
 * const on: SocketOptionValue<'TCP_NODELAY'> = true;
 * const bytes: SocketOptionValue<'SO_RCVBUF'> = 65536;
 * ```
 */
export type SocketOptionValue<N extends SocketOptionName> = (typeof OPTIONS)[N]['flag'] extends true ? boolean : number;

interface OptionSpec {
  readonly level: number;
  readonly name: number;
  readonly flag: boolean;
}

function spec<F extends boolean>(level: number, name: number, flag: F): { level: number; name: number; flag: F } {
  return { level, name, flag };
}

const OPTIONS = {
  SO_REUSEADDR: spec(K.SOL_SOCKET, K.SO_REUSEADDR, true),
  SO_REUSEPORT: spec(K.SOL_SOCKET, K.SO_REUSEPORT, true),
  SO_KEEPALIVE: spec(K.SOL_SOCKET, K.SO_KEEPALIVE, true),
  SO_BROADCAST: spec(K.SOL_SOCKET, K.SO_BROADCAST, true),
  SO_RCVBUF: spec(K.SOL_SOCKET, K.SO_RCVBUF, false),
  SO_SNDBUF: spec(K.SOL_SOCKET, K.SO_SNDBUF, false),
  TCP_NODELAY: spec(K.IPPROTO_TCP, K.TCP_NODELAY, true),
  TCP_KEEPIDLE: spec(K.IPPROTO_TCP, K.TCP_KEEPIDLE, false),
  TCP_KEEPINTVL: spec(K.IPPROTO_TCP, K.TCP_KEEPINTVL, false),
  TCP_KEEPCNT: spec(K.IPPROTO_TCP, K.TCP_KEEPCNT, false),
  IP_TTL: spec(K.IPPROTO_IP, K.IP_TTL, false),
} as const;

/**
 * The names `setOption`/`getOption` accept, in a fixed order.
 *
 * @example
 * ```ts
 * for (const name of SOCKET_OPTIONS) console.log(name, sock.getOption(name));
 * ```
 */
export const SOCKET_OPTIONS: readonly SocketOptionName[] = Object.freeze(Object.keys(OPTIONS) as SocketOptionName[]);

/** @internal The spec of a name, or a RangeError listing the names there are. */
function lookup(name: unknown): OptionSpec {
  if (typeof name !== 'string') throw new TypeError(`option name must be a string, got ${describeValue(name)}`);
  const s = Object.prototype.hasOwnProperty.call(OPTIONS, name) ? (OPTIONS as Record<string, OptionSpec>)[name] : undefined;
  if (s === undefined) throw new RangeError(`unknown socket option; the options are ${SOCKET_OPTIONS.join(', ')}, got ${describeValue(name)}`);
  return s;
}

/** @internal setsockopt(2) of a named option on fd; bad names and values throw before the syscall. */
export function setSocketOption(fd: number, name: SocketOptionName, value: unknown): void {
  const s = lookup(name);
  let v: number;
  if (s.flag) {
    if (typeof value !== 'boolean') throw new TypeError(`${name} is a flag: its value must be a boolean, got ${describeValue(value)}`);
    v = value ? 1 : 0;
  } else {
    v = validateInt(value, `${name} value`, 0, 0x7fffffff);
  }
  check(native.setsockopt(fd, s.level, s.name, v), 'setsockopt');
}

/** @internal getsockopt(2) of a named option on fd. */
export function getSocketOption(fd: number, name: SocketOptionName): boolean | number {
  const s = lookup(name);
  const v = check(native.getsockopt(fd, s.level, s.name), 'getsockopt');
  return s.flag ? v !== 0 : v;
}

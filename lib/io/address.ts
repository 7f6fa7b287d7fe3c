/** Address helpers shared by sockets, servers and UDP (internal). */
import * as net from 'node:net';
import { K, type RawAddress } from '../native';
import { describeValue } from '../validate';

/**
 * An endpoint as greenhub reports it: `family` is `'IPv4'`, `'IPv6'` or `'Unix'` (then
 * `address` is the socket's path and `port` is 0).
 *
 * @example
 * ```ts
 * const { address, family, port }: AddressInfo = server.address();
 * ```
 */
export interface AddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6' | 'Unix';
  port: number;
}

export function familyName(af: number): AddressInfo['family'] {
  return af === K.AF_INET6 ? 'IPv6' : af === K.AF_UNIX ? 'Unix' : 'IPv4';
}

export function toAddressInfo(raw: RawAddress): AddressInfo {
  return { address: raw.address, family: familyName(raw.family), port: raw.port };
}

/** A TCP/UDP port: an integer in [min, 65535]. */
export function validatePort(port: unknown, name = 'port', min = 0): number {
  if (typeof port !== 'number') throw new TypeError(`${name} must be a number, got ${describeValue(port)}`);
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(`${name} must be an integer from ${min} to 65535, got ${describeValue(port)}`);
  }
  return port;
}

/** The address family of an IP literal, or a TypeError naming the option. */
export function ipFamily(host: unknown, name = 'host'): number {
  if (typeof host !== 'string') throw new TypeError(`${name} must be a string, got ${describeValue(host)}`);
  const v = net.isIP(host);
  if (v === 0) throw new TypeError(`${name} must be an IP address literal (such as 127.0.0.1 or ::1), got ${describeValue(host)}`);
  return v === 6 ? K.AF_INET6 : K.AF_INET;
}

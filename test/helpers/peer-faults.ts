// A hostile peer for every read path: the same faults (data then a half-close, data then a
// reset, a stall in the middle of a line) against a GreenSocket, a GreenFd, a GreenDuplex and a
// GreenTlsSocket. Loopback only.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { GreenFd, GreenSocket, listen, waitFor, wrapTls } from '../../lib';
import type { Green, GreenStream } from '../../lib';
import { native } from '../../lib/native';
import { tcpPair, writeStr } from './raw';

/** What the peer does, whatever sits under the reader. */
export interface Peer {
  send(text: string): void;
  /** Ends its writing: the reader sees end of stream after the data. */
  halfClose(): void;
  /** Resets the connection (RST): the reader sees ECONNRESET. */
  reset(): void;
}

/** What a reader saw: the bytes, and how the stream ended ('eof', an error code or name). */
export interface Seen {
  data: string;
  end: string;
}

/** One read path and its peer. */
export interface ReadPath {
  /** Reads until end of stream or an error. */
  readToEnd(): Green<Seen>;
  /** Bounds each wait of the reader (a stalled peer must end in TimeoutError). */
  setTimeout(ms: number): void;
  peer: Peer;
  cleanup(): void;
}

/** How a read ended with an error: its code, else its name. */
function endOf(e: unknown): string {
  return (e as { code?: string }).code ?? (e as Error).name ?? String(e);
}

function* readStream(s: GreenStream): Green<Seen> {
  let data = '';
  try {
    for (;;) {
      const b = yield* s.recv();
      if (b.length === 0) return { data, end: 'eof' };
      data += b.toString();
    }
  } catch (e) {
    return { data, end: endOf(e) };
  }
}

export const PATHS = ['GreenSocket', 'GreenFd', 'GreenDuplex', 'GreenTlsSocket'] as const;
export type PathKind = (typeof PATHS)[number];

/** A raw TCP peer (addon syscalls): a reset is a close with unread bytes in its buffer. */
function rawPeer(fd: number, readerFd: () => number): Peer & { close(): void } {
  let closed = false;
  return {
    send: (text) => void writeStr(fd, text),
    halfClose: () => void native.shutdown(fd, 1 /* SHUT_WR */),
    reset: () => {
      // Closing a socket whose receive buffer holds unread bytes sends RST, not FIN.
      const b = Buffer.from('unread');
      native.write(readerFd(), b, 0, b.length);
      for (let i = 0; i < 50; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      native.close(fd);
      closed = true;
    },
    close: () => {
      if (!closed) native.close(fd);
      closed = true;
    },
  };
}

/** Makes one read path and its peer. TLS needs a key and certificate. */
export function* openPath(kind: PathKind, tlsKeys?: { key: Buffer; cert: Buffer }): Green<ReadPath> {
  if (kind === 'GreenTlsSocket') return yield* openTls(tlsKeys!);
  const [peerFd, readerFd] = tcpPair();
  const peer = rawPeer(peerFd, () => readerFd);
  if (kind === 'GreenFd') {
    const fd = new GreenFd(readerFd);
    return { readToEnd: () => readStream(fd), setTimeout: (ms) => fd.setTimeout(ms), peer, cleanup: () => { fd.close(); peer.close(); } };
  }
  const sock = GreenSocket.fromFd(readerFd);
  if (kind === 'GreenSocket') {
    return { readToEnd: () => readStream(sock), setTimeout: (ms) => sock.setTimeout(ms), peer, cleanup: () => { sock.close(); peer.close(); } };
  }
  const duplex = sock.toDuplex();
  return { readToEnd: () => readDuplex(duplex), setTimeout: (ms) => sock.setTimeout(ms), peer, cleanup: () => { duplex.destroy(); peer.close(); } };
}

/** Reads a Duplex the Node way ('data', 'end', 'error'), from a greenthread. */
function* readDuplex(d: Duplex): Green<Seen> {
  let data = '';
  const end = yield* waitFor(new Promise<string>((resolve) => {
    d.on('data', (c: Buffer) => (data += c.toString()));
    d.on('end', () => resolve('eof'));
    d.on('error', (e) => resolve(endOf(e)));
  }));
  return { data, end };
}

function* openTls(keys: { key: Buffer; cert: Buffer }): Green<ReadPath> {
  const server = listen({ port: 0 });
  const tcp = net.connect(server.address().port, '127.0.0.1');
  tcp.on('error', () => {});
  const client = tls.connect({ socket: tcp, ca: keys.cert, servername: 'localhost' });
  client.on('error', () => {});
  const raw = yield* server.accept();
  server.close();
  const s = yield* wrapTls(raw, { isServer: true, key: keys.key, cert: keys.cert });
  const c = client;
  return {
    readToEnd: () => readStream(s),
    setTimeout: (ms) => s.setTimeout(ms),
    peer: {
      send: (text) => void c.write(text),
      halfClose: () => void c.end(),
      reset: () => void tcp.resetAndDestroy(),
    },
    cleanup: () => {
      s.close();
      c.destroy();
    },
  };
}

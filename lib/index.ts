// The public surface of greenhub: re-exports only (DESIGN.md, "Public surface").
export type { Body, Green, GreenStream, GreenThreadStats, Operation, Priority, ReadUntilOptions, SpawnOptions } from './types';
export { GreenletExit, TimeoutError } from './errors';
export { GreenThread } from './hub/greenthread';
export { getHub } from './hub/hub';
export { formatDump } from './hub/format-dump';
export type { ErrorHandler, GreenThreadInfo, Hub, HubStats, WarningHandler } from './hub/hub';
export { current, spawn, spawnAfter } from './spawn';
export { spawnAfterLocal } from './spawn-after-local';
export { cooperate, sleep } from './sleep';
export { waitFor } from './wait-for';
export { trampoline } from './io/trampoline';
export type { TrampolineOptions } from './io/trampoline';
export { all, race } from './all';
export { Poller } from './io/poller';
export type { PollEvent, PollerOptions } from './io/poller';
export { listen, listenFd, GreenServer } from './io/server';
export type { ListenOptions } from './io/server';
export { connect } from './io/connect';
export type { ConnectOptions, ConnectCallOptions } from './io/connect';
export { GreenSocket } from './io/socket';
export type { AddressInfo } from './io/address';
export { serve } from './io/serve';
export type { ServeOptions } from './io/serve';
export { udpSocket, GreenUdpSocket } from './io/udp';
export type { Datagram, DatagramInfo, UdpOptions } from './io/udp';
export { socketpair } from './io/socketpair';
export { waitAny } from './io/wait-any';
export type { WaitAnyEntry, WaitAnyFd, WaitAnyOptions, WaitAnyReady } from './io/wait-any';
export { SOCKET_OPTIONS } from './io/socket-options';
export type { SocketOptionName, SocketOptionValue } from './io/socket-options';
export { spawnProcess, GreenProcess } from './io/subprocess';
export type { StdioMode, SpawnProcessOptions, ExitStatus, SpawnError } from './io/subprocess';
export { runProcess } from './io/subprocess-run';
export type { RunProcessOptions, RunResult, RunError } from './io/subprocess-run';
export { backdoor, backdoorServer, Backdoor } from './backdoor';
export type { BackdoorOptions, BackdoorServerOptions } from './backdoor';
export { GreenFd, pipe } from './io/green-fd';
export type { GreenFdOptions } from './io/green-fd';
export { Event } from './sync/event';
export { BoundedSemaphore, CappedSemaphore, Lock, Semaphore } from './sync/semaphore';
export { RLock } from './sync/rlock';
export { ResourcePool } from './sync/resource-pool';
export type { MaybeGreen, ResourcePoolOptions } from './sync/resource-pool';
export { LifoQueue, PriorityQueue, Queue } from './sync/queue';
export type { PriorityQueueOptions } from './sync/queue';
export { GreenPool } from './sync/green-pool';
export { GreenPile } from './sync/green-pile';
export type { AnyIterable, GreenIterator } from './sync/green-iterator';
export { Timeout, timeout, withTimeout } from './sync/timeout';
export type { TimeoutOptions, WithTimeoutOptions } from './sync/timeout';
export { scope } from './sync/scope';
export type { Scope } from './sync/scope';
export { tpool } from './hog/tpool';
export type { TpoolOptions, TpoolTask } from './hog/tpool';
export { loopingCall, LoopingCall } from './hog/looping-call';
export type { LoopingCallOptions, LoopingCallStats } from './hog/looping-call';
export { detectBlocking, formatReport } from './hog/blocking';
export type { BlockingDetector, BlockingReport, DetectBlockingOptions, StackFrame } from './hog/blocking';
export { local } from './local';
export type { LocalOptions } from './local';
export { withSignal } from './sync/with-signal';
export { wrapTls, GreenTlsSocket } from './io/tls';
export type { WrapTlsOptions } from './io/tls';
export { GreenDuplex } from './io/duplex';
export { main } from './main';
export type { MainOptions } from './main';
export { greenReader, greenWriter, GreenReader, GreenWriter } from './http/adapters';
export type { ReadAllOptions } from './http/adapters';
export { serveHttp } from './http/server';
export type { HttpHandler, HttpServerOptions } from './http/server';
export { HttpError, HttpRequest } from './http/request';
export { HttpResponse } from './http/response';

// V8 keeps the exports object TypeScript builds here (70 getters, defined one by one) in
// dictionary mode: every `greenhub.sleep(0)` — what `import { sleep }` compiles to in CommonJS —
// would be a hash lookup and a getter call. The same names as plain values, on an object V8
// lays out flat, cost an inline load. (Node's ESM import finds the names in this file's text.)
module.exports = flatExports(exports);

function flatExports(e: object): object {
  const flat = { ...e };
  Object.defineProperty(flat, '__esModule', { value: true });
  return flat;
}

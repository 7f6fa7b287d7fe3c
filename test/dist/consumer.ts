// A TypeScript consumer: type-checked (not run) against the installed package's types.
import { GreenSocket, connect, listen, sleep, spawn } from 'greenhub';
import type { Green, GreenThread, Operation } from 'greenhub';

function* echo(sock: GreenSocket): Green<number> {
  const buf = Buffer.allocUnsafe(1024);
  const n: number = yield* sock.recvInto(buf);
  yield* sock.sendAll(buf.subarray(0, n));
  return n;
}

const server = listen({ port: 0 });
const gt: GreenThread<number> = spawn(function* (): Green<number> {
  const conn: GreenSocket = yield* server.accept();
  return yield* echo(conn);
});
const op: Operation<void> = sleep(1);
void op;
void connect;
void gt;

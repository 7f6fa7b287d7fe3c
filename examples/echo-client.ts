/**
 * An echo client: sends each argument as a line and prints what comes back.
 *
 * Run:  npx tsx examples/echo-client.ts hello world      (PORT=7001, HOST=… to change the server)
 */
import { connect, spawn } from '../lib';
import type { Green } from '../lib';

function* main(words: string[]): Green<void> {
  const sock = yield* connect({ host: process.env.HOST ?? 'localhost', port: Number(process.env.PORT ?? 7000) }, { timeoutMs: 5000 });
  try {
    for (const word of words) {
      yield* sock.sendAll(Buffer.from(word + '\n'));
      const reply = yield* sock.readLine();
      console.log(`echo: ${reply.toString().trimEnd()}`);
    }
  } finally {
    sock.close();
  }
}

const words = process.argv.slice(2);
spawn(main, words.length > 0 ? words : ['hello']).then(undefined, (err: unknown) => {
  console.error(`echo-client: ${(err as Error).message}`);
  process.exitCode = 1;
});

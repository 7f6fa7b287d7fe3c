/**
 * An echo client: sends each argument as a line and prints what comes back.
 *
 * Run:  npx tsx examples/echo-client.ts hello world      (PORT=7001, HOST=… to change the server)
 * Exit code 0 once every word came back; 1 with the error (e.g. ECONNREFUSED) if not.
 */
import { connect, main } from 'greenhub';
import type { Green } from 'greenhub';

function* client(words: string[]): Green<void> {
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
main(() => client(words.length > 0 ? words : ['hello']));

/**
 * Adopting greenhub one route at a time: an ordinary Node `http.createServer` in which POST
 * /upper runs as a greenthread that reads the body blocking-style through greenReader and
 * answers through greenWriter. Every other route stays plain Node.
 *
 * Run:  npx tsx examples/http-adopt.ts      (PORT=9000 to change the port)
 * Try:  curl -d 'hello, green world' http://127.0.0.1:8080/upper
 */
import * as http from 'node:http';
import { greenReader, greenWriter, spawn } from 'greenhub';
import type { Green } from 'greenhub';

/** The adopted route: plain blocking-style code, one greenthread per request. */
function* upper(req: http.IncomingMessage, res: http.ServerResponse): Green<void> {
  let text: string;
  try {
    text = yield* greenReader(req).text({ maxBytes: 1 << 20 });
  } catch (e) {
    // The rest of the body is read and dropped (Node's requestTimeout bounds how long): closing
    // while the client still sends would reset the connection, and the client could lose the
    // answer along with it.
    req.resume();
    res.statusCode = (e as { code?: string }).code === 'ERR_BODY_TOO_LARGE' ? 413 : 400;
    yield* greenWriter(res).end(`${(e as Error).message}\n`);
    return;
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  yield* greenWriter(res).end(text.toUpperCase());
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/upper') {
    spawn(upper, req, res);
    return;
  }
  // The routes not adopted yet: plain Node.
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello, world!');
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}/`);
});

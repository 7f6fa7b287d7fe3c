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
    res.statusCode = (e as { code?: string }).code === 'ERR_BODY_TOO_LARGE' ? 413 : 400;
    res.setHeader('Connection', 'close'); // the rest of the body is not read
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

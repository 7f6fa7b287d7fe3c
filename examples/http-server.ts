/**
 * The hello server (examples/hello-server.ts) as an HTTP handler: serveHttp() parses each request, keeps the
 * connection alive between requests, and runs the handler — plain blocking-style code — in
 * the connection's greenthread. POST /echo shows a body read the same way.
 *
 * Run:  npx tsx examples/http-server.ts      (PORT=9000 to change the port)
 * Try:  curl http://127.0.0.1:8080/
 *       curl --data-binary 'green threads' http://127.0.0.1:8080/echo
 */
import { listen, main, serveHttp } from 'greenhub';
import type { Green, HttpRequest, HttpResponse } from 'greenhub';

function* hello(req: HttpRequest, res: HttpResponse): Green<void> {
  if (req.method === 'POST' && req.path === '/echo') {
    const body = yield* req.readAll({ maxBytes: 1 << 20 }); // blocks this greenthread only
    res.setHeader('Content-Type', req.header('content-type') ?? 'application/octet-stream');
    yield* res.end(body);
    return;
  }
  res.setHeader('Content-Type', 'text/plain');
  yield* res.end('Hello, world!');
}

// The program's root greenthread: Ctrl-C kills it, the server closes, the connections end.
main(function* httpServer(): Green<void> {
  const server = listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080), backlog: 1024 });
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
  try {
    yield* serveHttp(server, hello, { keepAliveTimeoutMs: 5000 });
  } finally {
    server.close();
  }
});

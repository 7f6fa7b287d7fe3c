'use strict';
// Node `net` servers for `make bench`: node node-net-server.js <echo|hello|keepalive>
const net = require('node:net');

const HELLO_10 = Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!');
const HELLO_11 = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!');
const mode = process.argv[2];

const server = net.createServer((sock) => {
  if (mode === 'echo') {
    sock.on('data', (d) => sock.write(d));
    sock.on('error', () => {});
    return;
  }
  let pending = '';
  sock.on('data', (d) => {
    pending += d.toString('latin1');
    let i;
    while ((i = pending.indexOf('\r\n\r\n')) >= 0) {
      pending = pending.slice(i + 4);
      if (mode === 'hello') {
        sock.end(HELLO_10);
        return;
      }
      sock.write(HELLO_11);
    }
  });
  sock.on('error', () => {});
});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => console.log(`ready ${server.address().port}`));

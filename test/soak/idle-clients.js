'use strict';
// Holds N idle connections to a server, spread over several 127.0.0.x source addresses, then,
// on a line on stdin, echoes "ping" on every one and reports how many answered.
// node idle-clients.js <port> <n>
const net = require('node:net');

const [port, n] = process.argv.slice(2).map(Number);
const sockets = [];

async function open() {
  const batch = 500;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => new Promise((resolve, reject) => {
        const localAddress = `127.0.0.${2 + ((i + k) % 4)}`;
        const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve());
        s.on('error', reject);
        sockets.push(s);
      })),
    );
  }
  console.log(`open ${sockets.length}`);
}

async function pingAll() {
  let ok = 0;
  await Promise.all(sockets.map((s) => new Promise((resolve) => {
    const t = setTimeout(resolve, 20000);
    s.once('data', (d) => {
      if (d.toString() === 'ping') ok++;
      clearTimeout(t);
      resolve();
    });
    s.write('ping');
  })));
  console.log(`echoed ${ok}`);
  for (const s of sockets) s.destroy();
}

open().then(() => process.stdin.once('data', () => pingAll().then(() => process.exit(0))), (e) => {
  console.error(e.message);
  process.exit(1);
});

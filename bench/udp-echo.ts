// The Node floor for `npm run bench`: bench/udp-echo.c's no-work server, written with node:dgram
// and run with the server's Node and flags. Probed beside the C one, the difference is what Node's
// datagram path (receive, the JS callback, send) costs before any DNS work.
// Binds 127.0.0.1 only; exits after SECONDS.
//   node_modules/.bin/node bench/udp-echo.ts SECONDS  → prints the bound port
import dgram from 'node:dgram';

const seconds = Number(process.argv[2]);
if (!(seconds > 0 && seconds <= 3600)) {
  console.error('usage: node_modules/.bin/node bench/udp-echo.ts SECONDS (1-3600)');
  process.exit(2);
}
// Replies go to IP literals: the lookup is the identity, as in src/server/udp.ts.
const socket = dgram.createSocket({
  type: 'udp4',
  lookup: ((address: string, _family: number, cb: (e: null, a: string, f: number) => void) => cb(null, address, 4)) as never,
});
socket.on('message', (msg, rinfo) => {
  if (msg.length < 12) return;
  msg[2]! |= 0x80; // QR: a reply
  socket.send(msg, rinfo.port, rinfo.address);
});
socket.bind(0, '127.0.0.1', () => console.log(socket.address().port));
setTimeout(() => process.exit(0), seconds * 1000).unref();

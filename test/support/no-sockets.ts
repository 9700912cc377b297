// Loaded with --import by `npm run test:unit`: any socket a test opens throws, so the unit set
// is the tests that provably need no network, not the ones we believe do not.
import dgram from 'node:dgram';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { syncBuiltinESMExports } from 'node:module';

function refuse(what: string): () => never {
  return () => {
    throw new Error(`${what}: a unit test opens no socket (move it to test:e2e)`);
  };
}

Object.assign(dgram, { createSocket: refuse('dgram.createSocket') });
Object.assign(net, {
  createServer: refuse('net.createServer'),
  connect: refuse('net.connect'),
  createConnection: refuse('net.createConnection'),
});
Object.assign(http, { createServer: refuse('http.createServer'), request: refuse('http.request'), get: refuse('http.get') });
Object.assign(https, { createServer: refuse('https.createServer'), request: refuse('https.request'), get: refuse('https.get') });
Object.assign(tls, { connect: refuse('tls.connect'), createServer: refuse('tls.createServer') });
syncBuiltinESMExports();

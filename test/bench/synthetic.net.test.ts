// The benchmark's pieces, cheaply (the benchmark itself is `npm run bench`; no speed is asserted
// here): the query mix is the one the issue names, every query gets the answer its class expects
// from our zone, Knot's zone file holds the same records we answer, and the latency probe builds
// and times replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knotZone } from '../../bench/knot-zone.ts';
import { clusterObjects, dressPod, EXTERNAL_NAMES, queryLines } from '../../bench/synthetic.ts';
import { toPod } from '../../src/objects/pod.ts';
import { indexOf } from '../support/cluster.ts';
import { decode, replyMessage } from '../support/dns.ts';
import { KubernetesZone } from '../../src/zone/kubernetes.ts';
import { TYPE } from '../../src/dns/constants.ts';

const objects = [...clusterObjects(2_000)];
const zone = new KubernetesZone({ index: indexOf(objects as never), zone: 'cluster.local', ttl: 5, pods: 'verified' });
const ask = (name: string, type: number) => {
  const reply = zone.serve({ name, type } as never);
  assert.ok(reply, `${name}: answered by the zone`);
  return decode(replyMessage(name, type, reply));
};

test('the query mix: 70 % A, 10 % SRV, 10 % search-path NXDOMAIN, 10 % AAAA NODATA, and 20 % external in the cache run', () => {
  const lines = queryLines(20_000);
  const share = (re: RegExp) => lines.filter((l) => re.test(l)).length / lines.length;
  const searchPath = /\.svc\.cluster\.local\.(ns-\d+\.svc\.|svc\.)?cluster\.local A$/;
  assert.ok(Math.abs(share(/^svc-\d+\.ns-\d+\.svc\.cluster\.local A$/) - 0.7) < 0.02);
  assert.ok(Math.abs(share(/ SRV$/) - 0.1) < 0.01);
  assert.ok(Math.abs(share(searchPath) - 0.1) < 0.01);
  assert.ok(Math.abs(share(/ AAAA$/) - 0.1) < 0.01);
  const external = queryLines(20_000, 0.2).filter((l) => EXTERNAL_NAMES.includes(l.split(' ')[0]!)).length / 20_000;
  assert.ok(Math.abs(external - 0.2) < 0.02);
});

test('--real-pods: a dressed pod is ~5.5 KB of JSON, the same every time, and the same record for DNS', () => {
  const pods = objects.filter((o) => o.kind === 'Pod').slice(0, 50);
  for (const pod of pods) {
    const dressed = dressPod(pod);
    const size = JSON.stringify(dressed).length;
    assert.ok(size > 5_000 && size < 6_500, `${size} bytes`);
    assert.deepEqual(dressPod(pod), dressed, 'deterministic');
    assert.ok(toPod(pod as never), 'a pod DNS keeps');
    assert.deepEqual(toPod(dressed as never), toPod(pod as never));
    assert.ok((dressed.metadata.managedFields as unknown[]).length === 2);
  }
  assert.equal(new Set(pods.map((p) => dressPod(p).metadata.uid)).size, pods.length, 'a uid of its own each');
});

test('every query class gets the answer it stands for, and Knot serves the same records', () => {
  const knot = new Set(
    knotZone(objects)
      .split('\n')
      .filter((l) => /^\S+ (A|SRV) /.test(l))
      .map((l) => {
        const [owner, type, ...rdata] = l.split(' ');
        return `${owner}.cluster.local. ${type} ${rdata.join(' ')}`;
      }),
  );
  const inKnot = (rr: string) => {
    const [owner, , , type, ...rdata] = rr.split(' ');
    return knot.has(`${owner} ${type} ${rdata.join(' ')}`);
  };
  for (const line of queryLines(400, 0, 7)) {
    const [name, typeName] = line.split(' ') as [string, 'A' | 'SRV' | 'AAAA'];
    const out = ask(name, TYPE[typeName]);
    if (/^svc-\d+\.ns-\d+\.svc\.cluster\.local\./.test(name)) {
      assert.equal(out.rcode, 'NXDOMAIN', line);
    } else if (typeName === 'AAAA') {
      assert.equal(out.rcode, 'NOERROR', line);
      assert.equal(out.answer.length, 0, line);
    } else {
      assert.equal(out.rcode, 'NOERROR', line);
      assert.ok(out.answer.length > 0, line);
      for (const rr of out.answer) assert.ok(inKnot(rr), `Knot's zone lacks ${rr}`);
    }
  }
  // Headless services, their endpoints' names and pods are in both.
  for (const [name, type] of [
    ['svc-9.ns-3.svc.cluster.local', TYPE.A],
    ['_http._tcp.svc-9.ns-3.svc.cluster.local', TYPE.SRV],
    ['10-244-0-5.ns-5.pod.cluster.local', TYPE.A],
  ] as const) {
    const out = ask(name, type);
    assert.ok(out.answer.length > 0, name);
    for (const rr of out.answer) assert.ok(inKnot(rr), `Knot's zone lacks ${rr}`);
  }
});

test('the latency probe builds and times replies (when a C compiler is installed)', async (t) => {
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (!cc) {
    t.skip('no C compiler');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cdns-probe-'));
  const binary = join(dir, 'udp-latency');
  const built = spawnSync(cc, ['-O2', '-o', binary, new URL('../../bench/udp-latency.c', import.meta.url).pathname], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  writeFileSync(join(dir, 'q.txt'), 'svc-1.ns-1.svc.cluster.local A\n');
  // A tiny echo "server": the reply is the query with QR set.
  const echo = createSocket('udp4');
  echo.on('message', (msg, rinfo) => {
    msg[2]! |= 0x80;
    echo.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  t.after(() => echo.close());
  const { port } = echo.address();
  // Asynchronously: this process is the echo server.
  const run = await new Promise<string>((resolve, reject) => {
    execFile(binary, ['127.0.0.1', String(port), join(dir, 'q.txt'), '2000', '0.25'], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  const result = JSON.parse(run) as { sent: number; received: number; p50Us: number; p99Us: number };
  assert.equal(result.sent, 500);
  assert.ok(result.received > 450, `${result.received} replies`);
  assert.ok(result.p50Us > 0 && result.p99Us >= result.p50Us);
});

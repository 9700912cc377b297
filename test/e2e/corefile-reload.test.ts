// A Corefile edit that changes options, applied by the real server without a restart: the
// zone's TTL, the upstream (its cached answers dropped, the cluster index kept), the query log;
// an option that needs a restart is logged by name; a line that clashes with a flag is a failed
// reload that keeps everything running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { a, FakeUpstream } from '../support/upstream.ts';
import { eventually } from '../support/eventually.ts';
import { SHOP_WEB } from '../support/cluster.ts';

const corefile = (o: { ttl: number; upstream: string; extra?: string }) => `.:0 {
    bind 127.0.0.1
    kubernetes cluster.local {
        ttl ${o.ttl}
    }
    forward . ${o.upstream}
    cache 30
    reload 2s 1s
    ${o.extra ?? ''}
}
`;

async function ask(server: ServerProcess, name: string) {
  const reply = await queryUdp(server.dns, buildQuery(name, TYPE.A));
  assert.ok(reply, `a reply for ${name}`);
  return decode(reply);
}

test('a Corefile edit applies its options live: TTL, upstream, query log; restart-only ones are named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cdns-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cluster.yaml'), SHOP_WEB);
  const path = join(dir, 'Corefile');
  const [one, two] = await Promise.all([FakeUpstream.start(), FakeUpstream.start()]);
  t.after(() => Promise.all([one.close(), two.close()]));
  one.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.1')] });
  two.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.2')] });
  writeFileSync(path, corefile({ ttl: 30, upstream: one.address }));
  const server = await startServer(['--conf', path, '--manifests', join(dir, 'cluster.yaml')], {}, 15_000, { corefileListens: true });
  t.after(() => server.stop());
  const write = (text: string) => {
    writeFileSync(`${path}.new`, text);
    renameSync(`${path}.new`, path);
  };

  assert.deepEqual((await ask(server, 'web.shop.svc.cluster.local')).answer, ['web.shop.svc.cluster.local. 30 IN A 10.96.0.20']);
  assert.deepEqual((await ask(server, 'www.example.com')).answer, ['www.example.com. 30 IN A 192.0.2.1']);

  write(corefile({ ttl: 10, upstream: two.address, extra: 'log\n    bufsize 1400' }));
  await eventually(
    'the new TTL',
    () => ask(server, 'web.shop.svc.cluster.local'),
    (r) => r.answer[0]?.includes(' 10 IN A ') === true,
  );
  assert.deepEqual(
    (await ask(server, 'www.example.com')).answer,
    ['www.example.com. 30 IN A 192.0.2.2'],
    'the new upstream answers: the old one’s cached answer was dropped',
  );
  assert.equal(two.received.filter((r) => r.name === 'www.example.com').length, 1);
  await eventually(
    'a CoreDNS log line',
    async () => server.stdout(),
    (out) => /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN www\.example\.com\. udp /m.test(out),
  );
  const reloaded = server
    .stdout()
    .split('\n')
    .find((l) => l.includes('these options apply at the next start'));
  assert.ok(reloaded, 'the restart-only option is named');
  const fields = JSON.parse(reloaded) as { options: string[]; applied: string[] };
  assert.deepEqual(fields.options, ['--max-udp-size']);
  for (const flag of ['--ttl', '--upstream', '--log-queries']) assert.ok(fields.applied.includes(flag), `${flag} applied`);

  // A line for an option a flag sets (startServer passes --metrics): the reload fails, nothing changes.
  write(corefile({ ttl: 20, upstream: one.address, extra: 'prometheus 127.0.0.1:0' }));
  await eventually(
    'the failed reload',
    async () => server.stdout(),
    (out) => /Corefile not reloaded/.test(out),
  );
  assert.match(server.stdout(), /--metrics: also set at .*Corefile:\d+: prometheus/);
  assert.deepEqual((await ask(server, 'web.shop.svc.cluster.local')).answer, ['web.shop.svc.cluster.local. 10 IN A 10.96.0.20']);
});

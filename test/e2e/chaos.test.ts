// Chaos: the server (in-process, real listeners, real reflectors over client-node) keeps
// answering while the kube-apiserver double drops watches, sends garbage, fails with 500s,
// forgets history (410), goes away and comes back changed, and goes silent; and while garbage
// packets hit the DNS port. A client queries all along. No answer may be wrong: a name that
// existed throughout always answers with its address, and a changing name answers with a state
// it really had recently (within the lag a fault window allows), and with the final state once
// the faults stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { startClusterDns } from '../../src/app.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import { TYPE } from '../../src/dns/constants.ts';
import { silentLogger } from '../../src/base/log.ts';
import { buildQuery, decode } from '../support/dns.ts';
import { FakeApiServer, namespace, service } from '../support/apiserver.ts';
import { a, FakeUpstream, type Behaviour } from '../support/upstream.ts';

const STABLE = 10;
const CHURN = 6;
/** How far behind the API server an answer may be outside fault windows. */
const LAG_MS = 1_500;

interface State {
  from: number;
  ip: string | null;
}
interface Answer {
  name: string;
  at: number;
  rcode: string;
  ips: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('chaos: API faults and garbage packets while a client keeps asking; no answer is ever wrong', { timeout: 60_000 }, async (t) => {
  const api = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  t.after(() => api.close());
  // The upstream for names outside the cluster: short TTLs, so the cache has to go back to it
  // while it misbehaves.
  const upstream = await FakeUpstream.start();
  t.after(() => upstream.close());
  const EXTERNAL = 4;
  const externalAnswers = () => {
    for (let i = 0; i < EXTERNAL; i++)
      upstream.set(`ext-${i}.example.com`, { kind: 'answer', records: [a(`ext-${i}.example.com`, `192.0.2.${i + 1}`, 1)] });
  };
  externalAnswers();
  api.apply(namespace('chaos'));
  for (let i = 0; i < STABLE; i++) api.apply(service('chaos', `stable-${i}`, { clusterIP: `10.96.50.${i + 1}` }));

  const history = new Map<string, State[]>();
  const setChurn = (name: string, ip: string | null) => {
    if (ip === null) api.delete('Service', 'chaos', name);
    else api.apply(service('chaos', name, { clusterIP: ip }));
    const states = history.get(name) ?? [];
    states.push({ from: Date.now(), ip });
    history.set(name, states);
  };
  for (let i = 0; i < CHURN; i++) setChurn(`churn-${i}`, i % 2 === 0 ? `10.96.60.${i + 1}` : null);
  // Changed once, while the API server is away and its history is compacted, then never again:
  // only a relist that removes what it did not see, and adds what it did, gets them right.
  setChurn('victim', '10.96.70.1');
  setChurn('newcomer', null);

  const parsed = parseConfig(
    [
      '--kubeconfig',
      api.writeKubeconfig(),
      '--listen',
      '127.0.0.1:0',
      '--health',
      'off',
      '--ready',
      'off',
      '--metrics',
      'off',
      '--log-level',
      'silent',
      '--upstream',
      upstream.address,
    ],
    {},
    existsSync,
  );
  assert.equal(parsed.kind, 'run');
  const config = (parsed as { config: Config }).config;
  const app = await startClusterDns(config, silentLogger(), 'test', {
    kubernetes: { backoff: { initialMs: 50, maxMs: 300 }, stallTimeoutMs: 800, pageSize: 4 },
  });
  t.after(() => app.close());
  const deadline = Date.now() + 5_000;
  while (!app.index.synced && Date.now() < deadline) await sleep(10);
  assert.ok(app.index.synced, 'synced');
  const dns = app.dns[0]!;

  // The client: one query every 3 ms, round robin over every name.
  const names = [
    ...Array.from({ length: STABLE }, (_, i) => `stable-${i}`),
    ...history.keys(),
    ...Array.from({ length: EXTERNAL }, (_, i) => `ext-${i}.example.com`),
  ];
  const answers: Answer[] = [];
  const pending = new Map<number, string>();
  let sent = 0;
  let lost = 0;
  const client = createSocket('udp4');
  t.after(() => client.close());
  client.on('message', (msg) => {
    const reply = decode(msg);
    const name = pending.get(reply.id);
    if (name === undefined) return;
    pending.delete(reply.id);
    answers.push({ name, at: Date.now(), rcode: reply.rcode, ips: reply.answer.map((rr) => rr.split(' ').pop()!) });
  });
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  let asking = true;
  const asker = (async () => {
    let id = 0;
    while (asking) {
      const name = names[sent % names.length]!;
      id = (id + 1) & 0xffff;
      if (pending.has(id)) lost++;
      pending.set(id, name);
      const qname = name.endsWith('.example.com') ? name : `${name}.chaos.svc.cluster.local`;
      client.send(buildQuery(qname, TYPE.A, { id }), dns.port, dns.host);
      sent++;
      await sleep(3);
    }
  })();

  // The churn: a changing service every 60 ms, in the API server, whatever state we are in.
  const random = seededRandom(7);
  let changes = 0;
  let churning = true;
  const churner = (async () => {
    let next = 100;
    while (churning) {
      const name = `churn-${Math.floor(random() * CHURN)}`;
      const states = history.get(name)!;
      const current = states[states.length - 1]!.ip;
      setChurn(name, current !== null && random() < 0.4 ? null : `10.96.61.${next++ % 250}`);
      changes++;
      await sleep(60);
    }
  })();

  // The faults, each with its window (start, end) during which answers may lag further.
  const windows: { from: number; to: number; fault: string }[] = [];
  const fault = async (name: string, run: () => Promise<void> | void) => {
    const from = Date.now();
    await run();
    // The fault lasts until the Service watch is open again (the relist done): on a loaded
    // machine the relist after it can take longer than LAG_MS, and the last index serves meanwhile.
    const back = Date.now() + 10_000;
    while (api.openWatches('Service') === 0 && Date.now() < back) await sleep(10);
    windows.push({ from, to: Date.now(), fault: name });
    await sleep(400);
  };
  const garbage = createSocket('udp4');
  t.after(() => garbage.close());
  let garbagePackets = 0;
  await sleep(300);
  await fault('watches dropped', () => api.dropWatches());
  await fault('garbage in the watch stream', () => api.injectGarbage());
  await fault('watch 500s', () => {
    api.failNext(4, 500, { watch: true });
    api.dropWatches();
  });
  await fault('410 Gone', () => {
    api.compact();
    api.dropWatches();
  });
  await fault('API server outage, back with changes', async () => {
    await api.pause();
    await sleep(700);
    await api.resume();
  });
  await fault('silent watches (stall)', async () => {
    api.silenceWatches(true);
    await sleep(1_200);
    api.silenceWatches(false);
  });
  await fault('outage with compaction (410 after it)', async () => {
    await api.pause();
    await sleep(250);
    setChurn('victim', null);
    setChurn('newcomer', '10.96.70.2');
    await sleep(250);
    api.compact();
    await api.resume();
  });
  await fault('list 503s during a relist', () => {
    api.failNext(3, 503, { watch: false });
    api.compact();
    api.dropWatches();
  });
  await fault('garbage packets to the DNS port', async () => {
    for (let i = 0; i < 300; i++) {
      const size = Math.floor(random() * 80);
      const bytes = Buffer.alloc(size);
      for (let b = 0; b < size; b++) bytes[b] = Math.floor(random() * 256);
      garbage.send(bytes, dns.port, dns.host);
      garbagePackets++;
      if (i % 50 === 0) await sleep(1);
    }
  });

  // The upstream misbehaves: silent, then garbage, then spoofed replies before each real one.
  const upstreamWindows: { from: number; to: number }[] = [];
  const upstreamFault = async (name: string, behaviour: Behaviour, ms: number) => {
    const from = Date.now();
    for (let i = 0; i < EXTERNAL; i++)
      upstream.set(
        `ext-${i}.example.com`,
        behaviour.kind === 'spoof'
          ? {
              ...behaviour,
              records: [a(`ext-${i}.example.com`, `192.0.2.${i + 1}`, 1)],
              forged: [a(`ext-${i}.example.com`, '203.0.113.66', 3600)],
            }
          : behaviour,
      );
    upstream.fallback = behaviour;
    await sleep(ms);
    externalAnswers();
    upstream.fallback = { kind: 'nxdomain' };
    upstreamWindows.push({ from, to: Date.now() });
    windows.push({ from, to: Date.now(), fault: name });
    await sleep(300);
  };
  // Long enough for every external name's 1 s TTL to run out inside it.
  await upstreamFault('upstream spoofed replies', { kind: 'spoof', how: 'source', records: [] }, 1_200);
  await upstreamFault('upstream answers garbage', { kind: 'garbage' }, 600);
  await upstreamFault('upstream silent', { kind: 'silent' }, 1_200);

  // Faults over: stop the churn, let the last change settle, then stop asking.
  churning = false;
  await churner;
  const settledFrom = Date.now() + LAG_MS;
  await sleep(LAG_MS + 500);
  asking = false;
  await asker;
  await sleep(50);

  const metricsText = await app.registry.text();
  const spoofedCount = Number(/^cluster_dns_spoofed_replies_total (\d+)$/m.exec(metricsText)?.[1] ?? 0);
  assert.ok(spoofedCount > 0, 'the spoofed upstream replies were seen and dropped');
  const allowedFrom = (at: number): number => {
    // Windows chain: a fault that starts before the lag of the previous one has run out (a
    // silent watch not yet noticed when an outage begins) extends the allowance back through both.
    let edge = at;
    for (let changed = true; changed; ) {
      changed = false;
      for (const w of windows) {
        if (w.to + LAG_MS >= edge && w.from < edge) {
          edge = w.from;
          changed = true;
        }
      }
    }
    return edge - LAG_MS;
  };
  const wrong: string[] = [];
  let checked = 0;
  let externalChecked = 0;
  for (const a of answers) {
    checked++;
    if (a.name.startsWith('ext-')) {
      const ip = `192.0.2.${Number(a.name.slice(4, a.name.indexOf('.'))) + 1}`;
      const correct = a.rcode === 'NOERROR' && a.ips.length === 1 && a.ips[0] === ip;
      // SERVFAIL is honest while the upstream fails (before serve-stale has something to give);
      // a wrong address never is.
      const duringUpstreamFault = upstreamWindows.some((w) => a.at >= w.from && a.at <= w.to + LAG_MS);
      if (!correct && !(a.rcode === 'SERVFAIL' && duringUpstreamFault)) wrong.push(`${a.name} at ${a.at}: ${a.rcode} ${a.ips.join(',')}`);
      externalChecked++;
      continue;
    }
    if (a.name.startsWith('stable-')) {
      const ip = `10.96.50.${Number(a.name.slice(7)) + 1}`;
      if (a.rcode !== 'NOERROR' || a.ips.length !== 1 || a.ips[0] !== ip) wrong.push(`${a.name} at ${a.at}: ${a.rcode} ${a.ips.join(',')}`);
      continue;
    }
    const states = history.get(a.name)!;
    const from = a.at >= settledFrom ? a.at : allowedFrom(a.at);
    // States active at any moment in [from, at].
    const possible = states.filter((s, i) => s.from <= a.at && (states[i + 1]?.from ?? Infinity) >= from).map((s) => s.ip);
    const got = a.rcode === 'NXDOMAIN' && a.ips.length === 0 ? null : a.rcode === 'NOERROR' && a.ips.length === 1 ? a.ips[0]! : 'invalid';
    if (got === 'invalid' || !possible.includes(got)) {
      wrong.push(`${a.name} at ${a.at}: ${a.rcode} ${a.ips.join(',')}; possible ${JSON.stringify(possible)}`);
    }
  }
  t.diagnostic(
    `queries ${sent}, answers checked ${checked} (${externalChecked} forwarded), faults injected ${windows.length}, cluster changes ${changes}, garbage packets ${garbagePackets}, spoofed upstream replies dropped ${spoofedCount}, wrong answers ${wrong.length}`,
  );
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong answers`);
  assert.ok(checked > 0.9 * sent, `answered ${checked} of ${sent} (UDP on loopback loses nothing this slow)`);
  assert.equal(lost, 0);
  // And the final state, exactly.
  for (const [name, states] of history) {
    const last = answers.filter((a) => a.name === name && a.at >= settledFrom);
    assert.ok(last.length > 0, `${name} asked after settling`);
    const final = states[states.length - 1]!.ip;
    for (const a of last) assert.deepEqual(a.ips, final === null ? [] : [final], `${name} final state`);
  }
});

// cluster-dns as a real Prometheus sees it: Debian's `prometheus` scrapes the real server (watching
// the kube-apiserver double, forwarding to an upstream double, all on loopback) every second under
// the job name kube-dns, and every query of the kube-prometheus-stack CoreDNS dashboard (12539), of
// deploy/grafana/cluster-dns.json and of the coredns-mixin alerts is evaluated through Prometheus's
// HTTP API against the live series. `promtool check metrics` reads the same scrape. Without the
// binaries (.ci/run installs them) the tests say they skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery } from '../support/dns.ts';
import { queryTcp, queryUdp } from '../support/client.ts';
import { startServer, type ServerProcess } from '../support/process.ts';
import { endpointSlice, FakeApiServer, namespace, pod, service, type ApiObject } from '../support/apiserver.ts';
import { a as aRecord, FakeUpstream } from '../support/upstream.ts';

const fixture = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as T;
const DASHBOARD_12539 = fixture<{ variables: string[]; panels: { title: string; exprs: string[] }[] }>(
  '../fixtures/coredns-dashboard-12539.json',
);
const MIXIN = fixture<{ alerts: { alert: string; severity: string; expr: string }[] }>('../fixtures/coredns-mixin-alerts.json');
type Panel = { title: string; targets?: { expr: string }[]; panels?: Panel[] };
const OURS = fixture<{ panels: Panel[]; templating: { list: { name: string; query?: string }[] } }>(
  '../../deploy/grafana/cluster-dns.json',
);

const has = (bin: string) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
const skip = has('prometheus') ? false : 'no prometheus binary (Debian package prometheus; .ci/run installs it)';
const SCRAPE_SECONDS = 1;
const JOB = 'kube-dns'; // the coredns-mixin's default selector
const CLUSTER = 'test';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Sample[] };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

class Prometheus {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly base: string;
  #log = '';
  private constructor(child: ChildProcess, dir: string, port: number) {
    this.#child = child;
    this.#dir = dir;
    this.base = `http://127.0.0.1:${port}`;
    child.stderr!.on('data', (d: Buffer) => (this.#log = (this.#log + d.toString()).slice(-8000)));
  }

  /** Prometheus on loopback scraping `target` every second, with a throwaway TSDB. */
  static async start(target: string): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-dns-prometheus-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        `  scrape_interval: ${SCRAPE_SECONDS}s`,
        `  evaluation_interval: ${SCRAPE_SECONDS}s`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        `    scrape_timeout: ${SCRAPE_SECONDS}s`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        `        labels: {cluster: ${CLUSTER}}`,
        '',
      ].join('\n'),
    );
    // The port is chosen free just before; another process may take it in between: try again.
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const reap = () => child.kill('SIGKILL');
      process.once('exit', reap);
      child.once('exit', () => process.off('exit', reap));
      const p = new Prometheus(child, dir, port);
      const up = await p.#ready();
      if (up) return p;
      await p.stop();
      if (attempt >= 2) throw new Error(`prometheus did not start: ${p.#log}`);
    }
  }

  async #ready(): Promise<boolean> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && this.#child.exitCode === null) {
      try {
        const res = await fetch(`${this.base}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) return true;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  async query(expr: string): Promise<QueryResult> {
    const res = await fetch(`${this.base}/api/v1/query`, {
      method: 'POST',
      body: new URLSearchParams({ query: expr }),
      signal: AbortSignal.timeout(5_000),
    });
    return (await res.json()) as QueryResult;
  }

  async labelValues(label: string, match: string): Promise<string[]> {
    const res = await fetch(`${this.base}/api/v1/label/${label}/values?${new URLSearchParams({ 'match[]': match })}`, {
      signal: AbortSignal.timeout(5_000),
    });
    return ((await res.json()) as { data: string[] }).data;
  }

  /** Resolves once `expr` returns a sample with a value for which `ok` holds (bounded). */
  async until(what: string, expr: string, ok: (v: number) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: QueryResult | null = null;
    while (Date.now() < deadline) {
      last = await this.query(expr);
      if ((last.data?.result ?? []).some((s) => ok(Number(s.value[1])))) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what} (${expr}); last: ${JSON.stringify(last)}; log: ${this.#log}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = once(this.#child, 'exit');
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** An EndpointSlice carrying the trigger time CoreDNS measures DNS programming from. */
function triggeredSlice(ns: string, name: string, svc: string, ip: string): ApiObject {
  const slice = endpointSlice(ns, name, svc, [{ addresses: [ip] }], [{ name: 'http', port: 80 }]);
  return {
    ...slice,
    metadata: { ...slice.metadata, annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() } },
  };
}

/** Some of everything a dashboard panel draws: both transports, the cluster zone and upstream
 * names, cache hits, NXDOMAIN, SERVFAIL, the DO bit, a FORMERR, and watch events. */
async function traffic(server: ServerProcess, api: FakeApiServer, round: number): Promise<void> {
  for (let i = 0; i < 3; i++) {
    assert.ok(await queryUdp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.A)));
    assert.ok(await queryUdp(server.dns, buildQuery('nope.shop.svc.cluster.local', TYPE.AAAA)));
    assert.ok(await queryTcp(server.dns, buildQuery('web.shop.svc.cluster.local', TYPE.SRV)));
    assert.ok(await queryUdp(server.dns, buildQuery('www.example.com', TYPE.A)));
    assert.ok(await queryTcp(server.dns, buildQuery('www.example.com', TYPE.A)));
  }
  assert.ok(await queryUdp(server.dns, buildQuery(`broken${round}.example.com`, TYPE.A)));
  const withDo = buildQuery('web.shop.svc.cluster.local', TYPE.A, { udpSize: 1232 });
  withDo[withDo.length - 4] = 0x80; // the OPT's DO bit
  assert.ok(await queryUdp(server.dns, withDo));
  const formerr = buildQuery('web.shop.svc.cluster.local', TYPE.A);
  formerr.writeUInt16BE(2, 4); // two questions announced, one present
  assert.ok(await queryUdp(server.dns, formerr));
  api.apply(triggeredSlice('shop', `web-${round}`, 'web', `10.244.2.${10 + round}`));
  api.apply(pod('shop', `web-${round}`, `10.244.2.${10 + round}`));
}

/** A Grafana query as Prometheus runs it: variables bound to the one target, Grafana's intervals fixed. */
function bind(expr: string, instance: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', `${SCRAPE_SECONDS}s`)
    .replaceAll('$job', JOB)
    .replaceAll('$instance', instance.replaceAll('.', '\\\\.'))
    .replaceAll('$cluster', CLUSTER);
}

const values = (r: QueryResult) => (r.data?.result ?? []).map((s) => Number(s.value[1]));

describe('a real Prometheus scraping cluster-dns', { skip, timeout: 90_000 }, () => {
  let api: FakeApiServer;
  let upstream: FakeUpstream;
  let server: ServerProcess;
  let prometheus: Prometheus;
  let instance = '';

  before(async () => {
    api = await FakeApiServer.start();
    api.apply(namespace('shop'));
    api.apply(service('shop', 'web', { clusterIP: '10.96.10.20', ports: [{ name: 'http', port: 80 }] }));
    api.apply(endpointSlice('shop', 'web-0', 'web', [{ addresses: ['10.244.1.10'] }], [{ name: 'http', port: 80 }]));
    api.apply(pod('shop', 'web-0', '10.244.1.10'));
    upstream = await FakeUpstream.start();
    upstream.set('www.example.com', { kind: 'answer', records: [aRecord('www.example.com', '192.0.2.7', 60)] });
    for (let round = 0; round < 2; round++) upstream.set(`broken${round}.example.com`, { kind: 'servfail' });
    server = await startServer(['--kubeconfig', api.writeKubeconfig(), '--upstream', upstream.address]);
    instance = `${server.metrics!.host}:${server.metrics!.port}`;
    prometheus = await Prometheus.start(instance);
    // Traffic after Prometheus's first scrape of a synced server, so that every rate() has an increase to see.
    await prometheus.until('a scrape of the synced server', `cluster_dns_ready{job="${JOB}"}`, (v) => v === 1);
    await traffic(server, api, 0);
    await new Promise((r) => setTimeout(r, 2 * SCRAPE_SECONDS * 1000));
    await traffic(server, api, 1);
    const requests = (await (await fetch(`http://${instance}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('coredns_dns_requests_total{'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    // Two more scrapes once Prometheus holds every request sent.
    await prometheus.until('the traffic in Prometheus', `sum(coredns_dns_requests_total{job="${JOB}"})`, (v) => v >= requests);
    await new Promise((r) => setTimeout(r, 2 * SCRAPE_SECONDS * 1000 + 200));
  });

  after(async () => {
    await prometheus?.stop();
    await server?.stop();
    await upstream?.close();
    await api?.close();
  });

  it('scrapes it: up, under the job the mixin selects, with the cluster label', async () => {
    assert.deepEqual(values(await prometheus.query(`up{job="${JOB}",cluster="${CLUSTER}"}`)), [1]);
  });

  it('every query of the kube-prometheus-stack CoreDNS dashboard (12539) returns data', async () => {
    const empty: string[] = [];
    let checked = 0;
    for (const panel of DASHBOARD_12539.panels) {
      for (const expr of panel.exprs) {
        const r = await prometheus.query(bind(expr, instance));
        assert.equal(r.status, 'success', `${panel.title}: ${r.error}`);
        if (!values(r).some((v) => !Number.isNaN(v))) empty.push(`${panel.title}: ${expr}`);
        checked++;
      }
    }
    assert.deepEqual(empty, []);
    assert.ok(checked >= 20, `${checked} queries`);
    for (const variable of DASHBOARD_12539.variables) {
      const m = /^label_values\((.+?),\s*(\w+)\)$/.exec(variable.trim());
      assert.ok(m, variable);
      const found = await prometheus.labelValues(m[2]!, bind(m[1]!, instance));
      assert.ok(found.length > 0, `variable ${variable}`);
    }
  });

  it('every query of deploy/grafana/cluster-dns.json returns data, and its variables find values', async () => {
    const exprs = OURS.panels
      .flatMap((p) => [p, ...(p.panels ?? [])])
      .flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const r = await prometheus.query(bind(expr, instance));
      assert.equal(r.status, 'success', `${title}: ${r.error}`);
      if (!values(r).some((v) => !Number.isNaN(v))) empty.push(`${title}: ${expr}`);
    }
    assert.deepEqual(empty, []);
    for (const v of OURS.templating.list.filter((v) => v.query?.startsWith('label_values('))) {
      const m = /^label_values\((.+?),\s*(\w+)\)$/.exec(v.query!)!;
      assert.ok((await prometheus.labelValues(m[2]!, bind(m[1]!, instance))).length > 0, `variable ${v.name}`);
    }
  });

  it('every coredns-mixin alert evaluates, and what it compares finds the series', async () => {
    assert.equal(MIXIN.alerts.length, 9);
    for (const { alert, expr } of MIXIN.alerts) {
      const full = await prometheus.query(expr);
      assert.equal(full.status, 'success', `${alert}: ${full.error}`);
      // Without its threshold (or inside absent()), the expression must find data: the job label,
      // metric names and labels the mixin selects exist.
      const inner = /^absent\((.*)\)$/s.exec(expr)?.[1] ?? expr.replace(/\s*(>|<|>=|<=|==)\s*[\d.]+\s*$/, '');
      assert.notEqual(inner, expr, `${alert}: a threshold to strip`);
      const r = await prometheus.query(inner);
      assert.equal(r.status, 'success', `${alert}: ${r.error}`);
      assert.ok(
        values(r).some((v) => !Number.isNaN(v)),
        `${alert}: ${inner} returns no data`,
      );
    }
    assert.deepEqual(
      values(await prometheus.query(MIXIN.alerts.find((a) => a.alert === 'CoreDNSDown')!.expr)),
      [],
      'CoreDNSDown does not fire',
    );
  });

  it('promtool check metrics finds nothing to report in the scrape', { skip: has('promtool') ? false : 'no promtool' }, async () => {
    const text = await (await fetch(`http://${instance}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  });
});

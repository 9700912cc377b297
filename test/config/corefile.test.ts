// A Corefile's directives as options: what each line sets, what CoreDNS's silence implies, and
// the refusals of what cluster-dns cannot do as written. Rows: Corefile text → the flags it
// amounts to (by option, the values --check would print).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfiguration, type LoadResult } from '../../src/config.ts';
import { CorefileError } from '../../src/corefile/errors.ts';
import { memoryFs } from '../support/corefile.ts';

const FILE = '/cfg/Corefile';

async function load(
  corefile: string,
  flags: string[] = [],
  files: Record<string, string> = {},
): Promise<Extract<LoadResult, { kind: 'run' }>> {
  const fs = memoryFs({ [FILE]: corefile, '/etc/resolv.conf': 'nameserver 127.0.0.53\n', ...files });
  const result = await loadConfiguration(['--conf', FILE, '--manifests', '/cluster.yaml', ...flags], {
    env: {},
    fileExists: () => true,
    readText: (path) => (path === '/etc/resolv.conf' ? 'nameserver 127.0.0.53\n' : ''),
    localAddresses: new Set(),
    corefileEnv: {},
    corefileFs: fs,
  });
  assert.equal(result.kind, 'run');
  return result as Extract<LoadResult, { kind: 'run' }>;
}

/** The values a flag ends up with, in --check's terms (the last one, or all for repeatable ones). */
function valuesOf(result: Extract<LoadResult, { kind: 'run' }>, flag: string): (string | boolean)[] {
  return result.assignments.filter((a) => a.flag === flag).map((a) => a.value);
}

const KUBEADM = `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30 {
        disable success cluster.local
        disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

describe('a Corefile sets the options its directives name', () => {
  const rows: { why: string; corefile: string; want: Record<string, (string | boolean)[]> }[] = [
    {
      why: "kubeadm's Corefile",
      corefile: KUBEADM,
      want: {
        zone: ['cluster.local'],
        ttl: ['30'],
        pods: ['insecure'],
        listen: ['0.0.0.0:53'],
        health: [':8080'],
        lameduck: ['5000ms'],
        ready: [':8181'],
        metrics: [':9153'],
        'resolv-conf': ['/etc/resolv.conf'],
        'max-concurrent': ['1000'],
        'cache-success-ttl': ['30'],
        'cache-denial-ttl': ['30'],
        fallthrough: [],
      },
    },
    {
      why: 'pods and ttl follow CoreDNS when the block is silent (disabled, 5), not our flags (verified)',
      corefile: '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1:5300\n}\n',
      want: { pods: ['disabled'], ttl: ['5'], health: ['off'], ready: ['off'], metrics: ['off'], upstream: ['127.0.0.1:5300'] },
    },
    {
      why: 'bind and the key port make the listen addresses; a second port is a second listener',
      corefile:
        '.:1053 {\n bind 127.0.0.1 ::1\n kubernetes cluster.local\n}\nexample.org:5353 {\n bind 127.0.0.2\n forward . 127.0.0.1:5300\n}\n',
      want: { listen: ['127.0.0.1:1053', '[::1]:1053', '127.0.0.2:5353'], 'stub-domain': ['example.org=127.0.0.1:5300'] },
    },
    {
      why: 'the kubernetes options of issue 21 map onto their flags',
      corefile:
        '.:53 {\n kubernetes cluster.local {\n  namespaces shop data\n  endpoint_pod_names\n  noendpoints\n  ignore empty_service\n  fallthrough cluster.local\n }\n}\n',
      want: {
        namespaces: ['shop,data'],
        'endpoint-pod-names': [true],
        'no-endpoints': [true],
        'ignore-empty-service': [true],
        fallthrough: ['cluster.local'],
      },
    },
    {
      why: 'cache with its sizes and stale serving; forward options',
      corefile:
        '.:53 {\n kubernetes cluster.local\n cache 300 {\n  success 5000 120\n  denial 2000 60\n  serve_stale 1h\n  servfail 10s\n }\n forward . 127.0.0.1:5300 127.0.0.2:5353 {\n  force_tcp\n  max_fails 3\n  policy sequential\n }\n log\n autopath @kubernetes\n bufsize 1232\n}\n',
      want: {
        'cache-size': ['5000'],
        'cache-success-ttl': ['120'],
        'cache-denial-size': ['2000'],
        'cache-denial-ttl': ['60'],
        'serve-stale': ['3600s'],
        'cache-servfail-ttl': ['10'],
        upstream: ['127.0.0.1:5300,127.0.0.2:5353'],
        'force-tcp': [true],
        'max-fails': ['3'],
        'upstream-policy': ['sequential'],
        'log-queries': [true],
        autopath: [true],
        'max-udp-size': ['1232'],
        'cache-prefetch': ['0'],
      },
    },
    {
      why: 'stub blocks with options of their own; the same as forward . adds nothing',
      corefile:
        '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1:5300 {\n  policy sequential\n }\n}\ncorp:53 {\n forward . 127.0.0.2:5300 {\n  force_tcp\n  max_fails 5\n }\n}\nlab:53 {\n forward . 127.0.0.3:5300 {\n  policy sequential\n }\n}\n',
      want: { 'stub-domain': ['corp=127.0.0.2:5300;policy=random;force-tcp;max-fails=5', 'lab=127.0.0.3:5300'] },
    },
    {
      why: 'the same cache in a stub block as in the kubernetes block is the one cache',
      corefile:
        '.:53 {\n kubernetes cluster.local\n cache 30\n forward . 127.0.0.1:5300\n}\ncorp:53 {\n cache 30\n forward . 127.0.0.2:5300\n}\n',
      want: { 'cache-success-ttl': ['30'], 'stub-domain': ['corp=127.0.0.2:5300'] },
    },
    {
      why: 'health_check and expire of forward .; a stub block’s own health_check',
      corefile:
        '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1:5300 {\n  health_check 1s\n  expire 30s\n }\n}\nlab:53 {\n forward . 127.0.0.3:5300 {\n  expire 30s\n  health_check 5s\n }\n}\n',
      want: {
        'forward-health-check': ['1000ms'],
        'forward-expire': ['30000ms'],
        'stub-domain': ['lab=127.0.0.3:5300;health-check=5000ms'],
      },
    },
    {
      why: 'prefetch AMOUNT and PERCENTAGE; forward except',
      corefile:
        '.:53 {\n kubernetes cluster.local\n cache 30 {\n  prefetch 5 1m 20%\n }\n forward . 127.0.0.1:5300 {\n  except corp.example lab.example.\n }\n}\n',
      want: {
        'cache-prefetch': ['5'],
        'cache-prefetch-percent': ['20'],
        'forward-except': ['corp.example', 'lab.example'],
      },
    },
  ];
  for (const row of rows) {
    it(row.why, async () => {
      const result = await load(row.corefile);
      for (const [flag, want] of Object.entries(row.want)) assert.deepEqual(valuesOf(result, flag), want, flag);
    });
  }

  it("the Config follows: values parsed by the options' own parsers, origins name the line", async () => {
    const result = await load(KUBEADM);
    assert.equal(result.config.ttl, 30);
    assert.equal(result.config.pods, 'insecure');
    assert.equal(result.config.forward.cacheSuccessTtl, 30);
    assert.deepEqual(result.origins.get('ttl'), { kind: 'corefile', file: FILE, line: 10, directive: 'kubernetes' });
    assert.ok(result.plan, 'the plan comes along for the handlers');
  });
});

describe('flags alongside --conf', () => {
  it('a flag for an option a directive writes is an error naming both', async () => {
    await assert.rejects(
      load(KUBEADM, ['--ttl', '10']),
      (err: unknown) => err instanceof Error && err.message === `--ttl: also set at ${FILE}:10: kubernetes: set it in one place`,
    );
  });
  it('a flag for an option the Corefile only implies wins quietly', async () => {
    const result = await load('.:53 {\n kubernetes cluster.local\n}\n', ['--pods', 'verified', '--health', '127.0.0.1:8080']);
    assert.equal(result.config.pods, 'verified');
    assert.deepEqual(valuesOf(result, 'health'), ['127.0.0.1:8080']);
  });
  it("-conf, as CoreDNS's own Deployment spells it", async () => {
    const fs = memoryFs({ [FILE]: KUBEADM, '/etc/resolv.conf': '' });
    const result = await loadConfiguration(['-conf', FILE, '--manifests', '/x'], {
      env: {},
      fileExists: () => true,
      readText: () => '',
      localAddresses: new Set(),
      corefileEnv: {},
      corefileFs: fs,
    });
    assert.equal(result.kind === 'run' && result.config.conf, FILE);
  });
});

describe('what cluster-dns cannot do as written is refused at its line', () => {
  const rows: { why: string; corefile: string; error: RegExp }[] = [
    { why: 'no cluster zone at all', corefile: '.:53 {\n forward . 127.0.0.1\n}\n', error: /^\/cfg\/Corefile:1: no kubernetes directive/ },
    {
      why: 'two kubernetes plugins',
      corefile: 'a.local {\n kubernetes a.local\n}\nb.local {\n kubernetes b.local\n}\n',
      error: /^\/cfg\/Corefile:5: kubernetes: a second kubernetes plugin/,
    },
    {
      why: 'an API endpoint instead of a kubeconfig',
      corefile: '.:53 {\n kubernetes cluster.local {\n  endpoint https://10.0.0.1:6443\n }\n}\n',
      error: /^\/cfg\/Corefile:3: kubernetes: endpoint is not supported/,
    },
    {
      why: 'a prefetch DURATION: hits are counted over an entry’s life, not a window',
      corefile: '.:53 {\n kubernetes cluster.local\n cache {\n  prefetch 10 5m\n }\n}\n',
      error: /^\/cfg\/Corefile:3: cache: prefetch DURATION is not supported/,
    },
    {
      why: 'disable for a zone other than the cluster zone',
      corefile: '.:53 {\n kubernetes cluster.local\n cache {\n  disable success example.org\n }\n}\n',
      error: /cache: disable for example\.org is not supported/,
    },
    {
      why: 'a stub block whose cache differs from the kubernetes block’s (one cache serves both)',
      corefile:
        '.:53 {\n kubernetes cluster.local\n cache 30\n forward . 127.0.0.1:5300\n}\ncorp:53 {\n cache 300\n forward . 127.0.0.2:5300\n}\n',
      error: /^\/cfg\/Corefile:7: cache: other settings than at \/cfg\/Corefile:3: cluster-dns has one cache/,
    },
    {
      why: 'a health check the probe does not send',
      corefile: '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1:5300 {\n  health_check 1s no_rec\n }\n}\n',
      error: /^\/cfg\/Corefile:3: forward: health_check no_rec is not supported/,
    },
    {
      why: 'a stub block with an expire of its own',
      corefile:
        '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1:5300\n}\ncorp:53 {\n forward . 127.0.0.2:5300 {\n  expire 1m\n }\n}\n',
      error: /^\/cfg\/Corefile:6: forward: an expire of its own/,
    },
    {
      why: 'a stub block without force_tcp when "forward ." has it',
      corefile: '.:53 {\n kubernetes cluster.local\n forward . 127.0.0.1 {\n  force_tcp\n }\n}\ncorp:53 {\n forward . 127.0.0.2\n}\n',
      error: /^\/cfg\/Corefile:8: forward: a stub block without force_tcp/,
    },
    {
      why: 'DNS over TLS upstreams',
      corefile: '.:53 {\n kubernetes cluster.local\n forward . tls://127.0.0.1\n}\n',
      error: /forward: tls:\/\/ upstreams .* not supported yet/,
    },
  ];
  for (const row of rows) {
    it(row.why, async () => {
      await assert.rejects(load(row.corefile), (err: unknown) => err instanceof CorefileError && row.error.test(err.message));
    });
  }
});

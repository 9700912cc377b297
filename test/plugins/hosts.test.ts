import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { TYPE } from '../../src/dns/constants.ts';
import type { Query } from '../../src/dns/message.ts';
import { DEFAULT_HOSTS_OPTIONS, HostsHandler, hostsOptions, type HostsOptions } from '../../src/plugins/hosts.ts';
import { PluginOptionError } from '../../src/plugins/errors.ts';
import { createLogger } from '../../src/base/log.ts';
import { decode, decodeReply, replyMessage } from '../support/dns.ts';

// /etc/hosts as the hosts(5) examples and CoreDNS's README write it, plus what real files hold.
const HOSTS = `# The following lines are desirable for IPv4 capable hosts
127.0.0.1       localhost
192.168.1.10    example.com            example   # a comment after the names
::1                     localhost ip6-localhost ip6-loopback
fdfc:a744:27b5:3b0e::1  example.com example
172.18.0.2 k3s-server
::ffff:10.1.2.3 mapped.example
fe80::1%eth0 zoned.example
192.168.1.10 example.com
this line has no address
300.1.1.1 bad.example
010.1.1.1 leading-zero.example
10.9.9.9
`;

function q(name: string, type: keyof typeof TYPE): Query {
  return { id: 1, flags: 0x0100, name, type: TYPE[type], class: 1, questionEnd: 0, edns: null };
}

interface Row {
  options?: Partial<HostsOptions>;
  name: string;
  type: keyof typeof TYPE;
  /** undefined: the query goes on to the next handler. */
  rcode?: string;
  answer?: string[];
  why: string;
}

const inline = (lines: string) => ({ file: null, inline: lines.split('\n') });

const rows: Row[] = [
  {
    name: 'example.com',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['example.com. 3600 IN A 192.168.1.10'],
    why: 'an entry, TTL 3600 by default; a repeated line adds nothing',
  },
  { name: 'example.com', type: 'AAAA', rcode: 'NOERROR', answer: ['example.com. 3600 IN AAAA fdfc:a744:27b5:3b0e::1'], why: 'IPv6 entry' },
  { name: 'example', type: 'A', rcode: 'NOERROR', answer: ['example. 3600 IN A 192.168.1.10'], why: 'an alias on the same line' },
  { name: 'ip6-loopback', type: 'AAAA', rcode: 'NOERROR', answer: ['ip6-loopback. 3600 IN AAAA ::1'], why: 'third name on a line' },
  { name: 'example.com', type: 'MX', rcode: 'NOERROR', answer: [], why: 'the name exists, other type: NODATA' },
  { name: 'k3s-server', type: 'AAAA', rcode: 'NOERROR', answer: [], why: 'an A-only name asked for AAAA: NODATA' },
  {
    name: 'mapped.example',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['mapped.example. 3600 IN A 10.1.2.3'],
    why: 'an IPv4-mapped IPv6 address is IPv4 (Go net.IP)',
  },
  { name: 'zoned.example', type: 'AAAA', rcode: 'NOERROR', answer: ['zoned.example. 3600 IN AAAA fe80::1'], why: 'the %zone is dropped' },
  {
    name: 'nothere.example',
    type: 'A',
    rcode: 'SERVFAIL',
    why: 'unknown without fallthrough: SERVFAIL, as CoreDNS (hosts has no SOA to deny with)',
  },
  { name: 'bad.example', type: 'A', rcode: 'SERVFAIL', why: 'a line with a bad address is skipped' },
  { name: 'leading-zero.example', type: 'A', rcode: 'SERVFAIL', why: 'a leading zero is not an address (Go net.ParseIP)' },
  { options: { fallthrough: [] }, name: 'nothere.example', type: 'A', why: 'fallthrough: an unknown name goes on' },
  {
    options: { fallthrough: [] },
    name: 'k3s-server',
    type: 'AAAA',
    rcode: 'NOERROR',
    answer: [],
    why: 'fallthrough does not apply to NODATA',
  },
  { options: { fallthrough: ['example.org'] }, name: 'x.example.org', type: 'A', why: 'fallthrough for its zones' },
  { options: { fallthrough: ['example.org'] }, name: 'x.example.net', type: 'A', rcode: 'SERVFAIL', why: 'and only for them' },
  {
    name: '10.1.168.192.in-addr.arpa',
    type: 'PTR',
    rcode: 'NOERROR',
    answer: ['10.1.168.192.in-addr.arpa. 3600 IN PTR example.com.', '10.1.168.192.in-addr.arpa. 3600 IN PTR example.'],
    why: 'PTR for every name of the address, in file order',
  },
  {
    name: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.0.b.3.5.b.7.2.4.4.7.a.c.f.d.f.ip6.arpa',
    type: 'PTR',
    rcode: 'NOERROR',
    answer: [
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.0.b.3.5.b.7.2.4.4.7.a.c.f.d.f.ip6.arpa. 3600 IN PTR example.com.',
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.0.b.3.5.b.7.2.4.4.7.a.c.f.d.f.ip6.arpa. 3600 IN PTR example.',
    ],
    why: 'ip6.arpa PTR',
  },
  { name: '9.9.9.10.in-addr.arpa', type: 'PTR', why: 'an address without entry: the next handler, whatever fallthrough says' },
  { options: { reverse: false }, name: '10.1.168.192.in-addr.arpa', type: 'PTR', why: 'no_reverse' },
  {
    options: { zones: ['example.com'] },
    name: 'example.com',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['example.com. 3600 IN A 192.168.1.10'],
    why: 'in the zones',
  },
  {
    options: { zones: ['example.com'] },
    name: 'localhost',
    type: 'A',
    why: 'outside the zones: the next handler, whatever fallthrough says',
  },
  {
    options: { zones: ['example.com'] },
    name: '10.1.168.192.in-addr.arpa',
    type: 'PTR',
    rcode: 'NOERROR',
    answer: ['10.1.168.192.in-addr.arpa. 3600 IN PTR example.com.'],
    why: 'names outside the zones are not read, so give no PTR',
  },
  { options: { ttl: 60 }, name: 'k3s-server', type: 'A', rcode: 'NOERROR', answer: ['k3s-server. 60 IN A 172.18.0.2'], why: 'ttl' },
  {
    options: inline('10.0.0.1 example.org\n10.0.0.2 Example.Org'),
    name: 'example.org',
    type: 'A',
    rcode: 'NOERROR',
    answer: ['example.org. 3600 IN A 10.0.0.1', 'example.org. 3600 IN A 10.0.0.2'],
    why: 'inline entries; names case-insensitive',
  },
];

for (const row of rows) {
  test(`hosts ${row.name} ${row.type}: ${row.why}`, () => {
    const h = new HostsHandler({ file: null, inline: HOSTS.split('\n'), ...row.options });
    const d = decodeReply(row.name, TYPE[row.type], h.serve(q(row.name, row.type)));
    assert.equal(d?.rcode, row.rcode, 'undefined: passed on to the next handler');
    if (d === null) return;
    if (row.answer !== undefined) {
      assert.deepEqual(d.answer, row.answer);
      assert.equal(d.aa, true);
    }
  });
}

test('an answer is encoded once and then handed out as the same bytes', () => {
  const h = new HostsHandler(inline('10.0.0.1 a.example'));
  const first = h.serve(q('a.example', 'A'));
  assert.ok(first !== null);
  assert.equal(h.serve(q('a.example', 'A')), first);
  assert.equal(h.entries, 2, 'one address plus one reverse name');
});

test('options: CoreDNS defaults and its checks', () => {
  assert.deepEqual(
    { ...DEFAULT_HOSTS_OPTIONS },
    { file: '/etc/hosts', zones: [''], inline: [], ttl: 3600, reloadMs: 5000, reverse: true, fallthrough: null },
  );
  assert.deepEqual(hostsOptions({ zones: ['Example.ORG.'], fallthrough: ['in-addr.arpa.'] }).zones, ['example.org']);
  for (const bad of [{ ttl: 0 }, { ttl: 65536 }, { ttl: 1.5 }, { reloadMs: -1 }, { zones: ['a..b'] }, { fallthrough: ['..'] }]) {
    assert.throws(() => hostsOptions(bad), PluginOptionError, JSON.stringify(bad));
  }
});

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    logger: createLogger('info', { destination: stream }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function answerOf(h: HostsHandler, name: string): string[] | string {
  const reply = h.serve(q(name, 'A'));
  if (reply === null) return 'next';
  const d = decode(replyMessage(name, TYPE.A, reply));
  return d.rcode === 'NOERROR' ? d.answer : d.rcode;
}

describe('hosts file reload', () => {
  it('a changed file replaces the entries; inline entries stay; an atomic replace is seen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hosts-'));
    try {
      const file = join(dir, 'NodeHosts');
      writeFileSync(file, '172.18.0.2 k3s-server\n');
      const h = new HostsHandler({ file, inline: ['10.0.0.1 inline.example'], reloadMs: 0 });
      h.start();
      assert.deepEqual(answerOf(h, 'k3s-server'), ['k3s-server. 3600 IN A 172.18.0.2']);
      assert.equal(await h.check(), false, 'unchanged: not read again');
      // k3s rewrites NodeHosts when a node joins; an editor or a tool renames a new file over it.
      writeFileSync(join(dir, 'tmp'), '172.18.0.2 k3s-server\n172.18.0.3 k3s-agent\n');
      renameSync(join(dir, 'tmp'), file);
      assert.equal(await h.check(), true);
      assert.deepEqual(answerOf(h, 'k3s-agent'), ['k3s-agent. 3600 IN A 172.18.0.3']);
      assert.deepEqual(answerOf(h, 'inline.example'), ['inline.example. 3600 IN A 10.0.0.1']);
      h.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a ConfigMap update (the ..data symlink swapped to a new folder) is seen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hosts-cm-'));
    try {
      // The kubelet's layout: NodeHosts -> ..data/NodeHosts, ..data -> ..<timestamp>/.
      mkdirSync(join(dir, '..v1'));
      writeFileSync(join(dir, '..v1', 'NodeHosts'), '10.0.0.1 node.example\n');
      symlinkSync('..v1', join(dir, '..data'));
      symlinkSync('..data/NodeHosts', join(dir, 'NodeHosts'));
      const h = new HostsHandler({ file: join(dir, 'NodeHosts'), reloadMs: 0 });
      h.start();
      assert.deepEqual(answerOf(h, 'node.example'), ['node.example. 3600 IN A 10.0.0.1']);
      mkdirSync(join(dir, '..v2'));
      // Same size, to show the inode is what gives it away when mtime could be equal.
      writeFileSync(join(dir, '..v2', 'NodeHosts'), '10.0.0.2 node.example\n');
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, '..v1'), { recursive: true });
      assert.equal(await h.check(), true);
      assert.deepEqual(answerOf(h, 'node.example'), ['node.example. 3600 IN A 10.0.0.2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing or unreadable file keeps the last entries, with one log line, and is read again when back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hosts-gone-'));
    try {
      const file = join(dir, 'hosts');
      writeFileSync(file, '10.0.0.1 a.example\n');
      const { logger, lines } = capture();
      const h = new HostsHandler({ file, reloadMs: 0 }, logger);
      h.start();
      unlinkSync(file);
      for (let i = 0; i < 3; i++) assert.equal(await h.check(), false);
      assert.deepEqual(answerOf(h, 'a.example'), ['a.example. 3600 IN A 10.0.0.1'], 'kept');
      mkdirSync(file); // now a directory: unreadable, another state, another line
      assert.equal(await h.check(), false);
      rmSync(file, { recursive: true });
      writeFileSync(file, '10.0.0.2 a.example\n');
      assert.equal(await h.check(), true);
      assert.deepEqual(answerOf(h, 'a.example'), ['a.example. 3600 IN A 10.0.0.2']);
      assert.deepEqual(
        lines().map((l) => l.msg),
        [
          'hosts file missing: keeping the entries last read',
          'hosts file unreadable: keeping the entries last read',
          'hosts file read again',
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file missing at start leaves the inline entries, and the reload interval picks it up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hosts-late-'));
    try {
      const file = join(dir, 'hosts');
      const { logger, lines } = capture();
      const h = new HostsHandler({ file, inline: ['10.0.0.9 inline.example'], reloadMs: 20, fallthrough: [] }, logger);
      h.start();
      assert.equal(lines()[0]?.msg, 'hosts file missing: serving the inline entries');
      assert.equal(answerOf(h, 'late.example'), 'next');
      writeFileSync(file, '10.0.0.3 late.example\n');
      // Bounded wait: the 20 ms poll, with room for a loaded machine.
      for (let i = 0; i < 250 && answerOf(h, 'late.example') === 'next'; i++) await new Promise((r) => setTimeout(r, 20));
      h.stop();
      assert.deepEqual(answerOf(h, 'late.example'), ['late.example. 3600 IN A 10.0.0.3']);
      assert.ok(h.reloadedAt > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

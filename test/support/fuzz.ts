// Seeded generators of hostile DNS messages, for the fuzz tests and `npm run fuzz`: mutations of
// valid queries (bit flips, overwrites, truncation, lying counts, compression pointers that loop
// or point forward, label lengths past the end, over-long names, huge OPT records, every opcode,
// class and type) and plain random bytes. Deterministic for a seed, so a failure can be replayed.
import { TYPE } from '../../src/dns/constants.ts';
import { buildQuery } from './dns.ts';

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'svc1.testns.svc.cluster.local',
  'hdls.testns.svc.cluster.local',
  '_http._tcp.svc1.testns.svc.cluster.local',
  '1.1.96.10.in-addr.arpa',
  '10-244-4-1.testns.pod.cluster.local',
  'cluster.local',
  'example.com',
];
const TYPES = [TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.PTR, TYPE.TXT, TYPE.SOA, TYPE.NS, TYPE.ANY, TYPE.AXFR, TYPE.CNAME, 65, 0, 65535];

export type MutationKind =
  | 'valid'
  | 'bitflip'
  | 'overwrite'
  | 'truncate'
  | 'counts'
  | 'pointer-loop'
  | 'pointer-forward'
  | 'label-past-end'
  | 'long-name'
  | 'huge-opt'
  | 'header-fields'
  | 'append'
  | 'random';
export const KINDS: readonly MutationKind[] = [
  'valid', 'bitflip', 'overwrite', 'truncate', 'counts', 'pointer-loop', 'pointer-forward', 'label-past-end', 'long-name', 'huge-opt', 'header-fields', 'append', 'random',
];

export function generate(random: () => number): { kind: MutationKind; packet: Buffer } {
  const int = (n: number) => Math.floor(random() * n);
  const kind = KINDS[int(KINDS.length)]!;
  const base = buildQuery(NAMES[int(NAMES.length)]!, TYPES[int(TYPES.length)]!, {
    id: int(0x10000),
    ...(random() < 0.5 ? { udpSize: int(0x10000) } : {}),
  });
  const p = Buffer.from(base);
  const questionStart = 12;
  switch (kind) {
    case 'valid':
      return { kind, packet: p };
    case 'bitflip':
      for (let i = 0, n = 1 + int(8); i < n; i++) p[int(p.length)]! ^= 1 << int(8);
      return { kind, packet: p };
    case 'overwrite':
      for (let i = 0, n = 1 + int(6); i < n; i++) p[int(p.length)] = int(256);
      return { kind, packet: p };
    case 'truncate':
      return { kind, packet: p.subarray(0, int(p.length)) };
    case 'counts':
      for (const at of [4, 6, 8, 10]) if (random() < 0.5) p.writeUInt16BE(int(0x10000), at);
      return { kind, packet: p };
    case 'pointer-loop': {
      // The name points at itself, or two pointers at each other.
      const q = Buffer.concat([p.subarray(0, questionStart), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
      return { kind, packet: random() < 0.5 ? q : Buffer.concat([p.subarray(0, questionStart), Buffer.from([1, 0x61, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1])]) };
    }
    case 'pointer-forward':
      return { kind, packet: Buffer.concat([p.subarray(0, questionStart), Buffer.from([0xc0, 40 + int(200)]), p.subarray(questionStart)]) };
    case 'label-past-end':
      return { kind, packet: Buffer.concat([p.subarray(0, questionStart), Buffer.from([63, 0x61, 0x62])]) };
    case 'long-name': {
      const labels: Buffer[] = [];
      for (let i = 0; i < 5 + int(5); i++) labels.push(Buffer.from([63]), Buffer.alloc(63, 0x61 + int(26)));
      return { kind, packet: Buffer.concat([p.subarray(0, questionStart), ...labels, Buffer.from([0, 0, 1, 0, 1])]) };
    }
    case 'huge-opt': {
      const size = int(60000);
      const opt = Buffer.alloc(11 + size, int(256));
      opt[0] = 0;
      opt.writeUInt16BE(TYPE.OPT, 1);
      opt.writeUInt16BE(int(0x10000), 3);
      opt.writeUInt16BE(random() < 0.5 ? size : int(0x10000), 9);
      const head = Buffer.from(p.subarray(0, p.length - (p.readUInt16BE(10) > 0 ? 11 : 0)));
      head.writeUInt16BE(1 + int(3), 10);
      return { kind, packet: Buffer.concat([head, opt]) };
    }
    case 'header-fields':
      // Every opcode, QR, Z, rcode bits, class values.
      p.writeUInt16BE(int(0x10000), 2);
      if (p.length >= questionStart + 4) p.writeUInt16BE(int(0x10000), p.length - (p.readUInt16BE(10) > 0 ? 13 : 2));
      return { kind, packet: p };
    case 'append':
      return { kind, packet: Buffer.concat([p, Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256)))]) };
    case 'random':
      return { kind, packet: Buffer.from(Array.from({ length: int(600) }, () => int(256))) };
  }
}

// Hostile DNS messages for the fuzz tests and `npm run fuzz`: a seeded PRNG, well-formed seed
// queries, and mutators that each aim at one way a parser goes wrong (truncated headers,
// compression-pointer loops, labels running past the end, names over 255 octets, counts that lie,
// huge OPT records, every opcode/class/type, bit flips, random bytes, appended garbage).
//
// Deliberately independent of src/: the inputs are written byte by byte from RFC 1035/6891, not
// with our own encoder, so a misunderstanding shared by the server's reader and writer cannot
// hide itself. The same seed always yields the same inputs, so every failure reproduces.

/** mulberry32: a 32-bit state, fast, and well spread; [0, 1). The same seed, the same inputs. */
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

/** Integer, choice and byte helpers over a random source. */
export class Rng {
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.#random() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

// Wire values, spelled out here rather than imported (see the top of the file).
export const WIRE = {
  HEADER: 12,
  QR: 0x8000,
  RD: 0x0100,
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  AXFR: 252,
  ANY: 255,
  IN: 1,
} as const;

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, i * 2));
  return b;
}

export function header(o: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number } = {}): Buffer {
  return u16(o.id ?? 0x1234, o.flags ?? WIRE.RD, o.qd ?? 1, o.an ?? 0, o.ns ?? 0, o.ar ?? 0);
}

/** Labels as given (latin1 bytes, so any octet can be written), then the root. */
export function wireName(labels: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = typeof label === 'string' ? Buffer.from(label, 'latin1') : label;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function labelsOf(name: string): string[] {
  return name.split('.').filter((l) => l !== '');
}

export function question(name: string | Buffer, type: number = WIRE.A, qclass: number = WIRE.IN): Buffer {
  return Buffer.concat([typeof name === 'string' ? wireName(labelsOf(name)) : name, u16(type, qclass)]);
}

/** An OPT pseudo-record: root owner, UDP size as class, version and DO in the TTL. */
export function opt(o: { size?: number; version?: number; dnssecOk?: boolean; rdata?: Buffer; owner?: Buffer } = {}): Buffer {
  const rdata = o.rdata ?? Buffer.alloc(0);
  return Buffer.concat([
    o.owner ?? Buffer.from([0]),
    u16(WIRE.OPT, o.size ?? 1232),
    Buffer.from([0, o.version ?? 0, o.dnssecOk ? 0x80 : 0, 0]),
    u16(rdata.length),
    rdata,
  ]);
}

/** An EDNS option (RFC 6891 §6.1.2): code, length, data. */
export function ednsOption(code: number, data: Buffer): Buffer {
  return Buffer.concat([u16(code, data.length), data]);
}

/** A resource record whose owner is a pointer to the question name (0xC00C). */
export function record(type: number, rdata: Buffer, owner: Buffer = Buffer.from([0xc0, 0x0c])): Buffer {
  return Buffer.concat([owner, u16(type, WIRE.IN), Buffer.from([0, 0, 0, 30]), u16(rdata.length), rdata]);
}

/** A complete query, with or without EDNS. */
export function query(
  name: string | Buffer,
  type: number,
  o: { id?: number; flags?: number; qclass?: number; udpSize?: number; dnssecOk?: boolean } = {},
): Buffer {
  const edns = o.udpSize !== undefined;
  return Buffer.concat([
    header({ id: o.id ?? 0x1234, flags: o.flags ?? WIRE.RD, ar: edns ? 1 : 0 }),
    question(name, type, o.qclass ?? WIRE.IN),
    edns ? opt({ size: o.udpSize ?? 1232, dnssecOk: o.dnssecOk ?? false }) : Buffer.alloc(0),
  ]);
}

/** Names the fuzzer starts from: cluster names of test/support/cluster.ts and examples/cluster.yaml, and some outside. */
export const SEED_NAMES: readonly string[] = [
  'svc1.testns.svc.cluster.local',
  'Hdls.TestNS.svc.cluster.local',
  'pet-0.hdls.testns.svc.cluster.local',
  '_http._tcp.svc1.testns.svc.cluster.local',
  '10-244-5-5.default.pod.cluster.local',
  '1.1.96.10.in-addr.arpa',
  'dns-version.cluster.local',
  'cluster.local',
  'web.shop.svc.cluster.local',
  '_postgres._tcp.db.data.svc.cluster.local',
  'svc1.testns.svc.cluster.local.testns.svc.cluster.local',
  'www.example.com',
  '',
];

const SEED_TYPES = [WIRE.A, WIRE.AAAA, WIRE.SRV, WIRE.PTR, WIRE.TXT, WIRE.SOA, WIRE.NS, WIRE.ANY, WIRE.CNAME] as const;

/** A well-formed query to mutate: one question, sometimes EDNS (with options), random ID and case. */
export function seedQuery(rng: Rng): Buffer {
  let name = rng.pick(SEED_NAMES);
  // 0x20 randomisation, as resolvers do: the reply must echo this case byte for byte.
  if (rng.chance(0.3)) name = [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('');
  const type = rng.pick(SEED_TYPES);
  const edns = rng.chance(0.5);
  const parts = [header({ id: rng.int(65536), flags: WIRE.RD, ar: edns ? 1 : 0 }), question(name, type)];
  if (edns) {
    const options = rng.chance(0.3) ? ednsOption(rng.pick([8, 10, 12, 15]), rng.bytes(rng.int(24))) : Buffer.alloc(0);
    parts.push(opt({ size: rng.pick([512, 1232, 4096, 65535, 0]), dnssecOk: rng.chance(0.3), rdata: options }));
  }
  return Buffer.concat(parts);
}

export interface FuzzInput {
  /** What made it (for the figures and for naming a regression fixture). */
  readonly kind: string;
  readonly packet: Buffer;
}

type Mutator = (rng: Rng, seed: Buffer) => Buffer;

/** Offset just past the question name of a seed (seeds are never compressed). */
function questionNameEnd(msg: Buffer): number {
  let pos = WIRE.HEADER;
  // Bounded by the buffer: each turn consumes a length byte.
  while (pos < msg.length && msg[pos] !== 0) pos += 1 + (msg[pos] as number);
  return Math.min(pos + 1, msg.length);
}

/** A name made of `total` octets on the wire (labels of up to 63, or of `labelSize`), root included. */
function nameOfOctets(rng: Rng, total: number, labelSize?: number): Buffer {
  const labels: Buffer[] = [];
  let left = total - 1;
  // Bounded: every label consumes at least 2 of the octets left.
  while (left >= 2) {
    const size = Math.min(labelSize ?? rng.range(1, 63), left - 1);
    labels.push(Buffer.alloc(size, 0x61 + rng.int(26)));
    left -= size + 1;
  }
  return wireName(labels);
}

const MUTATORS = {
  /** The seed as it is: the baseline every mutation departs from. */
  valid: (_rng, seed) => seed,
  /** Fewer than 12 bytes: not even a header. */
  'truncated-header': (rng) => rng.bytes(rng.int(12)),
  /** A query cut anywhere, including inside the header, a label or the OPT. */
  truncated: (rng, seed) => seed.subarray(0, rng.int(seed.length)),
  /** The question name is a pointer to itself, or two pointers pointing at each other. */
  'pointer-loop': (rng, seed) => {
    const tail = seed.subarray(questionNameEnd(seed));
    const loops = [
      Buffer.from([0xc0, 0x0c]),
      Buffer.from([1, 0x61, 0xc0, 0x0c]),
      Buffer.from([0xc0, 0x0e, 0xc0, 0x0c]),
      Buffer.from([3, 0x61, 0x62, 0x63, 0xc0, 0x0c + rng.int(4)]),
    ];
    return Buffer.concat([seed.subarray(0, WIRE.HEADER), rng.pick(loops), tail]);
  },
  /** Pointers forward, into the header, past the end, or anywhere. */
  'pointer-wild': (rng, seed) => {
    const copy = Buffer.from(seed);
    const at = WIRE.HEADER + rng.int(Math.max(1, questionNameEnd(seed) - WIRE.HEADER));
    const target = rng.pick([rng.int(12), copy.length + rng.int(100), at + 2 + rng.int(8), rng.int(0x4000)]);
    if (at + 1 < copy.length) {
      copy[at] = 0xc0 | ((target >> 8) & 0x3f);
      copy[at + 1] = target & 0xff;
    }
    return copy;
  },
  /**
   * Answer records whose owners are a label and a pointer to the previous owner: a legal chain of
   * backward pointers for the readers that follow them (upstream replies), which must refuse one
   * over 64 hops rather than walk it. Sometimes sent as a response (QR), as an upstream would.
   */
  'pointer-chain': (rng, seed) => {
    const hops = rng.range(2, 120);
    const head = Buffer.from(seed.subarray(0, Math.min(questionNameEnd(seed) + 4, seed.length)));
    if (head.length < WIRE.HEADER) return head;
    head.writeUInt16BE(hops, 6);
    head.writeUInt16BE(0, 10);
    if (rng.chance(0.5)) head.writeUInt16BE(head.readUInt16BE(2) | WIRE.QR, 2);
    const parts: Buffer[] = [head];
    let previous: number = WIRE.HEADER;
    let offset = head.length;
    for (let i = 0; i < hops; i++) {
      const owner = Buffer.from([1, 0x61 + (i % 26), 0xc0 | (previous >> 8), previous & 0xff]);
      const rr = record(WIRE.A, Buffer.from([10, 0, 0, 1]), owner);
      parts.push(rr);
      previous = offset;
      offset += rr.length;
    }
    return Buffer.concat(parts);
  },
  /** A label length byte that claims more than what follows (sometimes after a good label). */
  'label-past-end': (rng, seed) => {
    const length = rng.range(1, 63);
    const before = rng.chance(0.5) ? Buffer.from([4, 0x73, 0x76, 0x63, 0x31]) : Buffer.alloc(0);
    return Buffer.concat([seed.subarray(0, WIRE.HEADER), before, Buffer.from([length]), rng.bytes(rng.int(length))]);
  },
  /** Names of 250..300 octets, labels of 63 and 64 octets, label types 0x40 and 0x80. */
  'long-name': (rng, seed) => {
    const octets = rng.pick([253, 254, 255, 256, 257, rng.range(258, 300)]);
    const label = rng.pick([undefined, 63, 64, 65, 127]);
    let name = nameOfOctets(rng, octets, label === 64 || label === 65 || label === 127 ? 63 : label);
    if (label !== undefined && label > 63) {
      // Label lengths 64..127 have bit 0x40 set: the extended label type (RFC 2671, retired by RFC 6891): never valid.
      name = Buffer.concat([Buffer.from([label]), Buffer.alloc(Math.min(label, 80), 0x62), name]);
    }
    if (rng.chance(0.1)) name = Buffer.concat([Buffer.from([rng.pick([0x41, 0x81, 0xbf])]), name]);
    const tail = seed.subarray(questionNameEnd(seed));
    return Buffer.concat([seed.subarray(0, WIRE.HEADER), name, tail]);
  },
  /** Section counts that do not match the sections. */
  'lying-counts': (rng, seed) => {
    const copy = Buffer.from(seed);
    if (copy.length < WIRE.HEADER) return copy;
    const values = [0, 1, 2, 3, 0xff, 0xffff, rng.int(65536)];
    for (let field = 4; field < 12; field += 2) if (rng.chance(0.5)) copy.writeUInt16BE(rng.pick(values), field);
    if (rng.chance(0.3)) {
      // Counts that are right, but for records a query may not carry.
      copy.writeUInt16BE(1, 6);
      return Buffer.concat([copy, record(WIRE.A, Buffer.from([10, 0, 0, 1]))]);
    }
    return copy;
  },
  /** OPT records that are huge, repeated, versioned, owned by a name, or with lying option lengths. */
  'huge-opt': (rng, seed) => {
    const end = questionNameEnd(seed) + 4;
    const base = Buffer.from(seed.subarray(0, Math.min(end, seed.length)));
    if (base.length < WIRE.HEADER) return base;
    const size = rng.pick([0, 1, 511, 512, 1232, 4096, 65535]);
    const options: Buffer[] = [];
    const target = rng.pick([0, 16, 1000, 4000, rng.range(20_000, 64_000)]);
    let total = 0;
    // Bounded by target: each option adds at least 4 bytes.
    while (total < target) {
      const data = rng.bytes(Math.min(rng.int(1024), 65535 - 4 - total));
      const o = ednsOption(rng.int(65536), data);
      if (rng.chance(0.05)) o.writeUInt16BE(rng.int(65536), 2); // a length that lies
      options.push(o);
      total += o.length;
      if (total > 65_000) break;
    }
    let rdata = Buffer.concat(options);
    if (rdata.length > 65535 - 64) rdata = rdata.subarray(0, 65535 - 64);
    const owner = rng.chance(0.1) ? rng.pick([Buffer.from([0xc0, 0x0c]), wireName(['x']), Buffer.from([0xc0, 0xff])]) : undefined;
    const one = opt({
      size,
      version: rng.chance(0.2) ? rng.range(1, 255) : 0,
      dnssecOk: rng.chance(0.5),
      rdata,
      ...(owner ? { owner } : {}),
    });
    const count = rng.pick([1, 1, 1, 2, 3]);
    const records = Array.from({ length: count }, () => one);
    base.writeUInt16BE(rng.chance(0.9) ? count : rng.int(5), 10);
    const out = Buffer.concat([base, ...records]);
    // Whatever the mutation, a message must still fit a TCP frame.
    return out.length > 65535 ? out.subarray(0, 65535) : out;
  },
  /** Header fields set at random: opcode, QR, Z, AD/CD, rcode, and a random class and type. */
  'header-fields': (rng, seed) => {
    const copy = Buffer.from(seed);
    if (copy.length < WIRE.HEADER) return copy;
    let flags = copy.readUInt16BE(2);
    if (rng.chance(0.6)) flags = (flags & ~0x7800) | (rng.int(16) << 11);
    if (rng.chance(0.15)) flags |= WIRE.QR;
    if (rng.chance(0.3)) flags ^= 1 << rng.int(16);
    copy.writeUInt16BE(flags & 0xffff, 2);
    const end = questionNameEnd(seed);
    if (end + 4 <= copy.length) {
      if (rng.chance(0.5)) copy.writeUInt16BE(rng.pick([0, 3, 4, 254, 255, rng.int(65536)]), end + 2);
      if (rng.chance(0.5)) copy.writeUInt16BE(rng.pick([0, 41, 250, 251, 252, 253, 254, 255, 65535, rng.int(65536)]), end);
    }
    return copy;
  },
  /** Up to eight bit flips anywhere. */
  'bit-flip': (rng, seed) => {
    const copy = Buffer.from(seed);
    for (let i = rng.range(1, 8); i > 0 && copy.length > 0; i--) {
      const at = rng.int(copy.length);
      copy[at] = (copy[at] as number) ^ (1 << rng.int(8));
    }
    return copy;
  },
  /** Whole bytes overwritten with random values. */
  'byte-overwrite': (rng, seed) => {
    const copy = Buffer.from(seed);
    for (let i = rng.range(1, 6); i > 0 && copy.length > 0; i--) copy[rng.int(copy.length)] = rng.int(256);
    return copy;
  },
  /** Pure noise, mostly short, sometimes up to a full TCP frame. */
  random: (rng) => {
    const size = rng.chance(0.95) ? rng.int(600) : rng.int(65536);
    return rng.bytes(size);
  },
  /** A valid query with junk after it (which must be ignored or refused, never read as records). */
  'appended-garbage': (rng, seed) => Buffer.concat([seed, rng.bytes(rng.range(1, rng.chance(0.9) ? 500 : 8000))]),
  /** Two questions, no question, or the question twice (qdcount 0/2/N). */
  'question-count': (rng, seed) => {
    const end = Math.min(questionNameEnd(seed) + 4, seed.length);
    const q = seed.subarray(WIRE.HEADER, end);
    const n = rng.pick([0, 2, 3, 100]);
    const out = Buffer.concat([seed.subarray(0, WIRE.HEADER), ...Array.from({ length: Math.min(n, 3) }, () => q), seed.subarray(end)]);
    if (out.length >= WIRE.HEADER) out.writeUInt16BE(n, 4);
    return out;
  },
  /** Splices two queries at random points. */
  splice: (rng, seed) => {
    const other = seedQuery(rng);
    return Buffer.concat([seed.subarray(0, rng.int(seed.length + 1)), other.subarray(rng.int(other.length))]);
  },
} satisfies Record<string, Mutator>;

export type MutationKind = keyof typeof MUTATORS;
export const KINDS = Object.keys(MUTATORS) as readonly MutationKind[];

/**
 * One hostile input: a seed query and one mutation, sometimes followed by a second (counted
 * under the first). Never over 65,535 octets, so every input also fits a TCP frame.
 */
export function generate(random: () => number): { kind: MutationKind; packet: Buffer } {
  const rng = new Rng(random);
  const seed = seedQuery(rng);
  const kind = rng.pick(KINDS);
  let packet = MUTATORS[kind](rng, seed);
  if (kind !== 'valid' && rng.chance(0.15)) packet = MUTATORS[rng.pick(KINDS)](rng, packet.length >= WIRE.HEADER ? packet : seed);
  return { kind, packet: packet.length > 65535 ? packet.subarray(0, 65535) : packet };
}

/**
 * Every opcode (16), every qtype and every qclass (65,536 each) on an otherwise valid query, in a
 * fixed order: coverage a random walk does not promise. `step` thins the type and class sweeps.
 */
export function* fieldSweep(step = 1): Generator<FuzzInput> {
  for (let opcode = 0; opcode < 16; opcode++) {
    yield {
      kind: 'sweep-opcode',
      packet: query('svc1.testns.svc.cluster.local', WIRE.A, { flags: (opcode << 11) | WIRE.RD, udpSize: 1232 }),
    };
  }
  for (let type = 0; type < 65536; type += step) {
    yield { kind: 'sweep-type', packet: query('svc1.testns.svc.cluster.local', type, { id: type }) };
  }
  for (let qclass = 0; qclass < 65536; qclass += step) {
    yield { kind: 'sweep-class', packet: query('svc1.testns.svc.cluster.local', WIRE.A, { id: qclass, qclass }) };
  }
}

/** `# comment` lines, then hex (whitespace ignored): the format of test/fixtures/fuzz/*.hex. */
export function parseHexFixture(text: string): { comments: string[]; bytes: Buffer } {
  const comments: string[] = [];
  let hex = '';
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) comments.push(trimmed.slice(1).trim());
    else hex += trimmed.replace(/\s+/g, '');
  }
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('a fixture holds an odd number of hex digits or a non-hex character');
  return { comments, bytes: Buffer.from(hex, 'hex') };
}

export function formatHexFixture(comments: readonly string[], bytes: Buffer): string {
  const lines = comments.map((c) => `# ${c}`);
  for (let i = 0; i < bytes.length; i += 32)
    lines.push(
      bytes
        .subarray(i, i + 32)
        .toString('hex')
        .replace(/(.{4})/g, '$1 ')
        .trim(),
    );
  return `${lines.join('\n')}\n`;
}

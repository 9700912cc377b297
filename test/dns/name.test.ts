import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalName, fqdn, ZoneSet } from '../../src/dns/name.ts';
import { readQuery } from '../../src/dns/query.ts';
import { buildQuery } from '../support/dns.ts';

const rows: { text: string; name: string | null; why: string }[] = [
  { text: 'Example.COM.', name: 'example.com', why: 'lower-cased, trailing dot dropped' },
  { text: 'example.com', name: 'example.com', why: 'the trailing dot is optional' },
  { text: '.', name: '', why: 'the root' },
  { text: '', name: '', why: 'the root, empty' },
  { text: 'a\\.b.example', name: 'a\\046b.example', why: 'an escaped dot stays inside its label, as readQuery writes it' },
  { text: '\\065.x', name: 'a.x', why: '\\DDD is a byte, lower-cased like any other' },
  { text: 'my host.x', name: 'my\\032host.x', why: 'a byte outside [a-z0-9-_*] is written \\DDD' },
  { text: '*.wild_card-1.x', name: '*.wild_card-1.x', why: '*, _ and - are kept' },
  { text: 'a..b', name: null, why: 'an empty label' },
  { text: '.a', name: null, why: 'a leading empty label' },
  { text: `${'a'.repeat(64)}.x`, name: null, why: 'a label over 63 octets' },
  { text: `${'a'.repeat(63)}.x`, name: `${'a'.repeat(63)}.x`, why: 'a label of exactly 63 octets' },
  { text: Array(128).fill('a').join('.'), name: null, why: 'over 255 octets (128 labels: 257)' },
  { text: Array(127).fill('a').join('.'), name: Array(127).fill('a').join('.'), why: '255 octets exactly' },
  { text: 'a\\256.x', name: null, why: 'an escape above 255' },
  { text: 'a\\', name: null, why: 'a trailing backslash' },
  { text: 'é.x', name: '\\195\\169.x', why: 'non-ASCII as its UTF-8 bytes' },
];

for (const row of rows) {
  test(`canonicalName(${JSON.stringify(row.text.slice(0, 40))}): ${row.why}`, () => {
    assert.equal(canonicalName(row.text), row.name);
  });
}

test('a canonical name equals what readQuery reads from the wire for the same name', () => {
  for (const name of ['WWW.Example.org', 'a_b.c-d.x', 'x*.y']) {
    const read = readQuery(buildQuery(name, 1));
    assert.equal(read.kind, 'query');
    if (read.kind === 'query') assert.equal(canonicalName(name), read.query.name);
  }
});

test('fqdn', () => {
  assert.equal(fqdn('a.b'), 'a.b.');
  assert.equal(fqdn(''), '.');
});

const zoneRows: { zones: string[]; name: string; match: string | null; why: string }[] = [
  { zones: ['example.org', 'org'], name: 'www.example.org', match: 'example.org', why: 'the most specific zone wins' },
  { zones: ['example.org'], name: 'example.org', match: 'example.org', why: 'the apex is in the zone' },
  { zones: ['example.org'], name: 'badexample.org', match: null, why: 'a label boundary, not a string suffix' },
  { zones: [''], name: 'anything.at.all', match: '', why: 'the root holds every name' },
  { zones: ['in-addr.arpa', ''], name: '1.0.0.10.in-addr.arpa', match: 'in-addr.arpa', why: 'a zone beats the root' },
  { zones: [], name: 'x', match: null, why: 'no zones hold nothing' },
];

for (const row of zoneRows) {
  test(`ZoneSet ${JSON.stringify(row.zones)} ${row.name}: ${row.why}`, () => {
    const set = new ZoneSet(row.zones);
    assert.equal(set.match(row.name), row.match);
    assert.equal(set.has(row.name), row.match !== null);
  });
}

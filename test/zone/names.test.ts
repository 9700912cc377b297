import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashedIP, ipFromDashed, ipFromReverse, reverseName } from '../../src/zone/names.ts';

test('dashed endpoint names as CoreDNS builds them (TestEndpointHostname)', () => {
  assert.equal(dashedIP('10.11.12.13'), '10-11-12-13');
  assert.equal(dashedIP('2001:db8:3333:4444:5555:6666:7777:8888'), '2001-db8-3333-4444-5555-6666-7777-8888');
  assert.equal(dashedIP('2001:db8:3333:4444:5555:6666::'), '2001-db8-3333-4444-5555-6666--0');
  assert.equal(dashedIP('5678:abcd::1'), '5678-abcd--1');
});

test('pod labels back to addresses', () => {
  assert.equal(ipFromDashed('172-17-0-3'), '172.17.0.3');
  assert.equal(ipFromDashed('fd00-10-244--5'), 'fd00:10:244::5');
  assert.equal(ipFromDashed('fd00-0-0-0-0-0-0-1'), 'fd00::1', 'non-canonical IPv6 is canonicalised');
  assert.equal(ipFromDashed('1-2-3'), null);
  assert.equal(ipFromDashed('256-1-1-1'), null);
  assert.equal(ipFromDashed('web'), null);
});

test('reverse names both ways, v4 and v6 nibbles', () => {
  assert.equal(ipFromReverse('1.0.3.10.in-addr.arpa'), '10.3.0.1');
  assert.equal(ipFromReverse('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'), '2001:db8::1');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(reverseName('10.3.0.1'), '1.0.3.10.in-addr.arpa');
  assert.equal(ipFromReverse('0.3.10.in-addr.arpa'), null, 'partial names are not addresses');
  assert.equal(ipFromReverse('01.0.3.10.in-addr.arpa'), null);
  assert.equal(ipFromReverse('g.0.ip6.arpa'), null);
});

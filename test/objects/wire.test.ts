// The protobuf cursor the kinds' item readers are built on (their readers are checked against the
// double's encoder in test/kube/protobuf.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireReader } from '../../src/objects/wire.ts';

test('varints: one to ten bytes, lengths past 2^31', () => {
  const cases: [number[], number][] = [
    [[0x00], 0],
    [[0x7f], 127],
    [[0x80, 0x01], 128],
    [[0xac, 0x02], 300],
    [[0xff, 0xff, 0xff, 0xff, 0x0f], 2 ** 32 - 1],
    [[0x80, 0x80, 0x80, 0x80, 0x10], 2 ** 32],
  ];
  for (const [bytes, value] of cases) assert.equal(new WireReader(Buffer.from(bytes)).varint(), value, bytes.join(','));
  // -1 as Go writes an int64: ten bytes; read past without error.
  const minusOne = new WireReader(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(minusOne.next(), 1);
  minusOne.skip();
  assert.equal(minusOne.next(), 0);
});

// ListedKinds: what every source shares (the kinds listed, the listeners, the memory release).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListedKinds } from '../../src/index/source.ts';
import { KINDS } from '../../src/objects/kinds.ts';
import type { MemoryReleaser } from '../../src/base/memory.ts';

function recordingReleaser() {
  const calls: string[] = [];
  const releaser: MemoryReleaser = {
    hold: (reason) => calls.push(`hold ${reason}`),
    schedule: (reason) => calls.push(`schedule ${reason}`),
    cancel: () => calls.push('cancel'),
  };
  return { releaser, calls };
}

test('the first sync holds the memory release until every kind has listed; later lists arm it at once', () => {
  const { releaser, calls } = recordingReleaser();
  const listed = new ListedKinds(null, 'reloaded', releaser);
  const heard: string[] = [];
  listed.onListed((kind, first) => heard.push(`${kind} ${first}`));
  for (const kind of KINDS.slice(0, -1)) listed.listed(kind, true);
  assert.equal(listed.synced(), false);
  assert.ok(
    calls.every((c) => c.startsWith('hold ')),
    `held: ${calls.join('; ')}`,
  );
  listed.listed(KINDS.at(-1)!, true);
  assert.equal(listed.synced(), true);
  assert.equal(calls.at(-1), `schedule ${KINDS.at(-1)} synced`);
  listed.listed('Pod', false);
  assert.equal(calls.at(-1), 'schedule Pod reloaded');
  assert.deepEqual(heard, [...KINDS.map((k) => `${k} true`), 'Pod false']);
  listed.stop();
  assert.equal(calls.at(-1), 'cancel');
});

test('a kind listed twice before the others is still one kind short of synced', () => {
  const { releaser, calls } = recordingReleaser();
  const listed = new ListedKinds(null, 'relisted', releaser);
  listed.listed('Pod', true);
  listed.listed('Pod', false);
  assert.equal(listed.synced(), false);
  assert.deepEqual(calls, ['hold Pod synced', 'schedule Pod relisted']);
});

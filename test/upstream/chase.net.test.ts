// The ExternalName chase (src/upstream/chase.ts): a CNAME that leaves the cluster zone is
// resolved upstream and the chain returned whole; in-zone targets stay the index's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardConfig, hostPort, rig, upstreamFor } from '../support/forwarder.ts';
import { a } from '../support/upstream.ts';

test('ExternalName CNAMEs that leave the zone are chased upstream and the chain returned whole', async (t) => {
  const up = await upstreamFor(t);
  up.set('www.example.com', { kind: 'answer', records: [a('www.example.com', '192.0.2.80', 120)] });
  const { ask } = await rig(t, forwardConfig([hostPort(up)]), { withZone: true });
  const r = await ask('ext.testns.svc.cluster.local');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answer, ['ext.testns.svc.cluster.local. 5 IN CNAME www.example.com.', 'www.example.com. 120 IN A 192.0.2.80']);
  // In-zone targets still come from the index alone.
  const inZone = await ask('ext-in.testns.svc.cluster.local');
  assert.deepEqual(inZone.answer, [
    'ext-in.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.',
    'svc1.testns.svc.cluster.local. 5 IN A 10.96.1.1',
  ]);
  assert.equal(up.asked('svc1.testns.svc.cluster.local').length, 0);
});

test("a chased target that does not exist: the chain with the upstream's NXDOMAIN and SOA; an upstream failure: the zone's CNAME alone", async (t) => {
  const up = await upstreamFor(t);
  up.set('www.example.com', { kind: 'nxdomain', soaTtl: 60, minimum: 30 });
  const { ask } = await rig(t, forwardConfig([hostPort(up)]), { withZone: true });
  const gone = await ask('ext.testns.svc.cluster.local');
  assert.equal(gone.rcode, 'NXDOMAIN');
  assert.deepEqual(gone.answer, ['ext.testns.svc.cluster.local. 5 IN CNAME www.example.com.']);
  assert.equal(gone.authority.length, 1);
  assert.match(gone.authority[0]!, /^example\.com\. \d+ IN SOA /);

  const failing = await upstreamFor(t);
  failing.set('www.example.com', { kind: 'servfail' });
  const other = await rig(t, forwardConfig([hostPort(failing)]), { withZone: true });
  const alone = await other.ask('ext.testns.svc.cluster.local');
  assert.equal(alone.rcode, 'NOERROR');
  assert.equal(alone.aa, true, "the zone's own reply");
  assert.deepEqual(alone.answer, ['ext.testns.svc.cluster.local. 5 IN CNAME www.example.com.']);
});

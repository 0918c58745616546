// Drain on leave with the real BGP speaker and the loopback fake peer: cordon / exclusion label
// -> GRACEFUL_SHUTDOWN, withdraw after the period; lifted -> announced again.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BGPSpeaker } from '../../../src/bgp/speaker/index.ts';
import { GRACEFUL_SHUTDOWN } from '../../../src/bgp/speaker/rib.ts';
import { DrainOnLeave, nodeForDrain, nodeLeavingReason } from '../../../src/node/drain.ts';
import type { Node } from '../../../src/model/objects.ts';
import { EXCLUDE_LB_LABEL } from '../../../src/model/objects.ts';
import { FakePeer, isEoR, peerConfig, plan, route } from '../bgp/speaker/fakepeer.ts';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const node = (labels: Record<string, string> = {}, unschedulable?: boolean): Node => ({
  metadata: { name: 'n1', labels },
  ...(unschedulable === undefined ? {} : { spec: { unschedulable } }),
});

test('nodeLeavingReason and nodeForDrain', () => {
  assert.equal(nodeLeavingReason(undefined), undefined);
  assert.equal(nodeLeavingReason(node()), undefined);
  assert.equal(nodeLeavingReason(node({}, false)), undefined);
  assert.match(nodeLeavingReason(node({}, true)) ?? '', /cordoned/);
  assert.match(nodeLeavingReason(node({ [EXCLUDE_LB_LABEL]: '' })) ?? '', /exclude-from-external-load-balancers/);
  const n = node({ [EXCLUDE_LB_LABEL]: 'true', keep: 'x' });
  assert.deepEqual(nodeForDrain(n).metadata.labels, { keep: 'x' });
  assert.deepEqual(n.metadata.labels, { [EXCLUDE_LB_LABEL]: 'true', keep: 'x' }, 'input untouched');
});

test('cordon drains (65535:0 then withdraw), uncordon announces again', async () => {
  const peer = new FakePeer();
  await peer.start();
  const speaker = new BGPSpeaker({ nodeName: 'node1', routerId: '10.0.0.1', logger });
  cleanups.push(async () => {
    await speaker.stop();
    await peer.close();
  });
  speaker.setPlan([plan(peerConfig(peer.port), [route('192.0.2.1/32')])]);
  await peer.waitFor('End-of-RIB', () => peer.updates().some(isEoR));
  const policy = new DrainOnLeave({ target: speaker, periodMs: 200, logger });
  policy.update(node());
  assert.equal(policy.status().phase, 'serving');
  peer.clear();
  policy.update(node({}, true));
  assert.equal(policy.leaving, true);
  await peer.waitFor('GRACEFUL_SHUTDOWN', () => peer.updates().find((u) => (u.attributes.communities ?? []).includes(GRACEFUL_SHUTDOWN)));
  assert.equal(policy.status().phase, 'draining');
  policy.update(node({}, true)); // no second drain
  await peer.waitFor('withdrawn', () => peer.updates().find((u) => u.withdrawn.length > 0));
  await peer.waitFor('drained', () => policy.status().phase === 'drained' || undefined);
  assert.equal(speaker.status()[0]?.counters.drains, 1);
  peer.clear();
  policy.update(node());
  await peer.waitFor('announced again', () => peer.updates().find((u) => u.nlri.length > 0 && !(u.attributes.communities ?? []).includes(GRACEFUL_SHUTDOWN)));
  assert.equal(policy.status().phase, 'serving');
  assert.equal(speaker.status()[0]?.phase, 'established');
});

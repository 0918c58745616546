// Standalone with deferStateWrite (what the CLI uses): the plan reaches the speaker first, the
// state file is written right after; stop() writes a pending state; the real loader cache and
// allocator/planner are used on a real folder.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { Standalone } from '../../../src/standalone/runtime.ts';
import { createDeps } from '../../../src/standalone/wire.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec:
  addresses: [192.0.2.0/30]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: rtr, namespace: metallb-system }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 127.0.0.2 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
`;

function service(name: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ port: 80 }]
`;
}

function put(dir: string, name: string, text: string): void {
  writeFileSync(join(dir, `.${name}.tmp`), text);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

/** A temp dir with a manifest folder `m` (configuration and Service a) and the state file path. */
function folderWithA(): { d: string; folder: string; sp: string } {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-defer-'));
  const folder = join(d, 'm');
  mkdirSync(folder);
  put(folder, 'config.yaml', CONFIG);
  put(folder, 'a.yaml', service('a'));
  return { d, folder, sp: join(d, 'state.json') };
}

test('deferred state write: announce first, persist right after; stop() flushes; loader cache in use', async () => {
  const { d, folder, sp } = folderWithA();
  try {
    const logger = pino({ level: 'silent' });
    const speaker = new RecordingSpeaker();
    const plans = speaker.plans;
    const queued: (() => void)[] = [];
    const rt = new Standalone(
      { paths: [folder], node: 'n1', nodeAddress: '192.0.2.100', statePath: sp, logger, deferStateWrite: (w) => queued.push(w) },
      createDeps({ nodeName: 'n1', logger, layer2: false, bgp: speaker }),
    );
    assert.equal(rt.start().ok, true);
    // the speaker has the route, the state file is not written yet
    assert.deepEqual(plans.at(-1)?.[0]?.routes.map((r) => r.prefix.length), [32]);
    assert.equal(existsSync(sp), false);
    assert.equal(queued.length, 1);
    queued.shift()?.();
    assert.deepEqual(JSON.parse(readFileSync(sp, 'utf8')).assignments, { 'default/a': { ips: ['192.0.2.0'], pool: 'pool' } });

    // two reloads before the write runs: one write, with the latest assignments
    put(folder, 'b.yaml', service('b'));
    assert.equal(rt.reload().ok, true);
    put(folder, 'c.yaml', service('c'));
    assert.equal(rt.reload().ok, true);
    assert.equal(queued.length, 1);
    assert.equal(plans.at(-1)?.[0]?.routes.length, 3);
    queued.shift()?.();
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(sp, 'utf8')).assignments), ['default/a', 'default/b', 'default/c']);

    // a deletion pending at stop() is written by stop()
    unlinkSync(join(folder, 'b.yaml'));
    assert.equal(rt.reload().ok, true);
    assert.equal(plans.at(-1)?.[0]?.routes.length, 2);
    await rt.stop();
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(sp, 'utf8')).assignments), ['default/a', 'default/c']);
    // the queued write after stop is harmless (nothing pending)
    const before = readFileSync(sp, 'utf8');
    queued.shift()?.();
    assert.equal(readFileSync(sp, 'utf8'), before);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('background state write (as the CLI runs): written off the event loop, stop() waits for it', async () => {
  const { d, folder, sp } = folderWithA();
  try {
    const logger = pino({ level: 'silent' });
    const queued: (() => void)[] = [];
    const rt = new Standalone(
      { paths: [folder], node: 'n1', nodeAddress: '192.0.2.100', statePath: sp, logger, deferStateWrite: (w) => queued.push(w), backgroundStateWrite: true },
      createDeps({ nodeName: 'n1', logger, layer2: false, bgp: new RecordingSpeaker() }),
    );
    assert.equal(rt.start().ok, true);
    queued.shift()?.();
    await rt.settleState();
    assert.deepEqual(JSON.parse(readFileSync(sp, 'utf8')).assignments, { 'default/a': { ips: ['192.0.2.0'], pool: 'pool' } });
    assert.equal(rt.status().stateFile.error, null);
    // reloads while a write runs: the latest assignments end up on disk; stop() waits for them
    put(folder, 'b.yaml', service('b'));
    assert.equal(rt.reload().ok, true);
    queued.shift()?.();
    put(folder, 'c.yaml', service('c'));
    assert.equal(rt.reload().ok, true);
    unlinkSync(join(folder, 'a.yaml'));
    assert.equal(rt.reload().ok, true);
    await rt.stop();
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(sp, 'utf8')).assignments), ['default/b', 'default/c']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

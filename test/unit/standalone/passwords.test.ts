// Standalone runtime + the real loader, allocator, planner and NodeAgent: a BGPPeer with
// passwordSecret gets its password from the folder's Secret; without it the session never
// reaches the speaker, /status shows it with the reason, and the log says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseInputs } from '../../../src/config/load.ts';
import { Standalone } from '../../../src/standalone/runtime.ts';
import type { StandaloneDeps } from '../../../src/standalone/runtime.ts';
import { NodeAgent } from '../../../src/node/agent.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec: { addresses: [198.51.100.0/28] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, namespace: metallb-system }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: secured, namespace: metallb-system }
spec: { myASN: 64500, peerASN: 64501, peerAddress: 127.0.0.2, passwordSecret: { name: bgp-auth } }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: open, namespace: metallb-system }
spec: { myASN: 64500, peerASN: 64502, peerAddress: 127.0.0.3 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { type: LoadBalancer, ports: [{ port: 80, protocol: TCP }] }
`;

const SECRET = (field: 'data' | 'stringData', value: string): string => `apiVersion: v1
kind: Secret
metadata: { name: bgp-auth, namespace: metallb-system }
type: kubernetes.io/basic-auth
${field}: { password: ${JSON.stringify(value)} }
`;

test('standalone resolves passwordSecret from the folder; a missing Secret keeps that session down with the reason', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sa-pw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
  let files = [{ file: 'config.yaml', text: CONFIG }];
  const speaker = new RecordingSpeaker();
  const deps: StandaloneDeps = {
    readInputs: () => parseInputs(files),
    agent: new NodeAgent({ node: 'n1', logger, bgp: speaker }),
  };
  const sa = new Standalone({ paths: [dir], node: 'n1', nodeAddress: '10.0.0.1', statePath: join(dir, 'state.json'), logger }, deps);

  // 1. no Secret: only "open" reaches the speaker; "secured" is listed with the reason
  assert.equal(sa.start().ok, true);
  assert.deepEqual(speaker.plans.at(-1)?.map((s) => s.peer), ['open']);
  let st = sa.status();
  const secured = st.sessions.find((s) => s.peer === 'secured');
  assert.ok(secured);
  assert.equal(secured.speaker, null);
  assert.equal(secured.error, 'passwordSecret metallb-system/bgp-auth: Secret not found');
  assert.equal(secured.routes.length, 1, 'the planned routes are still shown');
  assert.equal(st.sessions.find((s) => s.peer === 'open')?.error, null);
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; peer?: string; level: number }).find((l) => l.peer === 'secured');
  assert.ok(logged, lines.join(''));
  assert.equal(logged.level, 50);
  assert.equal(logged.msg, 'BGP session not started: passwordSecret metallb-system/bgp-auth: Secret not found');

  // 2. the Secret appears (data, base64): the session reaches the speaker with the password
  files = [...files, { file: 'secret.yaml', text: SECRET('data', Buffer.from('k3y').toString('base64')) }];
  assert.equal(sa.reload().ok, true);
  const plan = speaker.plans.at(-1) ?? [];
  assert.deepEqual(plan.map((s) => s.peer).sort(), ['open', 'secured']);
  assert.equal(plan.find((s) => s.peer === 'secured')?.config.password, 'k3y');
  assert.equal(plan.find((s) => s.peer === 'open')?.config.password, undefined);
  st = sa.status();
  assert.equal(st.sessions.find((s) => s.peer === 'secured')?.error, null);
  assert.equal(st.sessions.find((s) => s.peer === 'secured')?.speaker?.state, 'Active');

  // 3. an empty password: taken down again, never sent empty
  files = [files[0] ?? { file: '', text: '' }, { file: 'secret.yaml', text: SECRET('stringData', '') }];
  assert.equal(sa.reload().ok, true);
  assert.deepEqual(speaker.plans.at(-1)?.map((s) => s.peer), ['open']);
  assert.equal(sa.status().sessions.find((s) => s.peer === 'secured')?.error, 'passwordSecret metallb-system/bgp-auth: key "password" is empty');
  assert.ok(speaker.plans.every((p) => p.every((s) => s.config.password !== '')));
});

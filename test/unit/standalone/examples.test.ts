// The quickstart folder (examples/standalone) through the real loader, allocator and planner,
// driven by the standalone runtime (the speaker is a recorder: no sockets in unit tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { Standalone } from '../../../src/standalone/runtime.ts';
import { createDeps } from '../../../src/standalone/wire.ts';
import { RecordingSpeaker } from '../helpers/speaker.ts';
import { formatIP } from '../../../src/ip/index.ts';

test('examples/standalone: web gets 203.0.113.10, announced as a /32 with both communities to local-router', () => {
  const d = mkdtempSync(join(tmpdir(), 'mlbt-ex-'));
  try {
    const speaker = new RecordingSpeaker();
    const plans = speaker.plans;
    const logger = pino({ level: 'silent' });
    const rt = new Standalone(
      { paths: ['examples/standalone'], node: 'quickstart', nodeAddress: '127.0.0.1', statePath: join(d, 's.json'), logger },
      createDeps({ nodeName: 'quickstart', logger, layer2: false, bgp: speaker }),
    );
    const r = rt.start();
    assert.deepEqual(r.errors, []);
    assert.equal(r.ok, true);
    const st = rt.status();
    assert.deepEqual(st.services, [{ namespace: 'default', name: 'web', ips: ['203.0.113.10'], pool: 'quickstart-pool', error: null }]);
    assert.equal(plans.length, 1);
    const s = plans[0]?.[0];
    assert.equal(s?.peer, 'local-router');
    assert.equal(s?.ebgp, true);
    assert.equal(s?.config.routerID && formatIP(s.config.routerID), '127.0.0.1');
    assert.deepEqual(st.sessions[0]?.routes, [
      { prefix: '203.0.113.10/32', nextHop: null, localPref: null, communities: ['64512:100'], largeCommunities: ['64512:1:2'] },
    ]);
    assert.deepEqual(st.pools, [{ pool: 'quickstart-pool', inUse: 1, total: 11 }]);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { BGPSpeaker } from '../../../../src/bgp/speaker/index.ts';

function capture(base: Record<string, string>): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ base }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

// A speaker's log lines carry `node` exactly once, whether or not the caller's logger has it.
for (const base of [{ node: 'n1' }, {}] as Record<string, string>[]) {
  test(`speaker log lines name the node once (parent bindings ${JSON.stringify(base)})`, async () => {
    const { logger, lines } = capture(base);
    const sp = new BGPSpeaker({ nodeName: 'n1', logger });
    sp.setPlan([]);
    (sp as unknown as { log: pino.Logger }).log.info('probe');
    await sp.stop();
    const probe = lines.find((l) => l.includes('"probe"'));
    assert.ok(probe, 'the probe line was logged');
    assert.equal(probe.match(/"node":/g)?.length, 1, probe);
    assert.equal(JSON.parse(probe).node, 'n1');
    assert.equal(JSON.parse(probe).component, 'bgp');
  });
}

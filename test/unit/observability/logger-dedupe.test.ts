// JSON log lines carry every key once: a child logger's bindings and a call's fields that repeat
// a base key (component, node) are merged, the more specific (later) value winning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, dedupeLine } from '../../../src/observability/logger.ts';

function keysOf(line: string): string[] {
  return [...line.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1] ?? '');
}

test('dedupeLine keeps lines without repeats byte for byte and merges repeated keys', () => {
  const clean = '{"level":30,"time":"t","component":"speaker","msg":"hi"}\n';
  assert.equal(dedupeLine(clean), clean);
  const dup = '{"level":30,"component":"speaker","node":"n1","component":"layer2","node":"n1","msg":"hi"}\n';
  const out = dedupeLine(dup);
  assert.deepEqual(keysOf(out), ['level', 'component', 'node', 'msg']);
  assert.equal((JSON.parse(out) as { component: string }).component, 'layer2');
  assert.ok(out.endsWith('\n'));
  assert.equal(dedupeLine('not json\n'), 'not json\n');
});

test('createLogger (json): a child re-binding component and a call repeating node give one key each', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = createLogger({ destination: sink, base: { component: 'speaker', node: 'n1' } });
  log.child({ component: 'layer2', node: 'n1' }).info({ node: 'n1', peer: '10.0.0.1' }, 'announcing');
  assert.equal(lines.length, 1);
  const keys = keysOf(lines[0] ?? '');
  assert.deepEqual(keys, [...new Set(keys)], `duplicate keys in ${lines[0]}`);
  assert.equal((JSON.parse(lines[0] ?? '{}') as { component: string }).component, 'layer2');
});

// The one command-line parser (src/cli/args.ts), and the rule that CLI decisions (exit codes)
// come from codes, never from matching message text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS, parseArgs, parseSeconds, pick, UsageError } from '../../../src/cli/args.ts';
import { hasUnreadableInput } from '../../../src/cli/common.ts';
import { parseStandaloneArgs, STANDALONE_USAGE } from '../../../src/cli/standalone.ts';
import { readInputs } from '../../../src/config/load.ts';
import { CONTROLLER_USAGE } from '../../../src/cli/controller.ts';
import { PLAN_USAGE } from '../../../src/cli/plan.ts';
import { SPEAKER_USAGE } from '../../../src/cli/speaker.ts';

test('argument parsing: values, --x=y, flags, unknown options and missing values are usage errors', () => {
  const spec = { '--a': { value: true }, '--f': { value: false } };
  const p = parseArgs(['--a', '1', '--f'], spec);
  assert.ok(!(p instanceof UsageError) && !p.help);
  assert.equal(p.values.get('--a'), '1');
  assert.ok(p.flags.has('--f'));
  const q = parseArgs(['--a=x=y'], spec);
  assert.ok(!(q instanceof UsageError) && !q.help && q.values.get('--a') === 'x=y');
  assert.deepEqual(parseArgs(['--b'], spec), new UsageError('unknown option "--b"'));
  assert.deepEqual(parseArgs(['stray'], spec), new UsageError('unexpected argument "stray"'));
  assert.deepEqual(parseArgs(['--a'], spec), new UsageError('option --a needs a value'));
  assert.deepEqual(parseArgs(['--f=1'], spec), new UsageError('option --f takes no value'));
  assert.deepEqual(parseArgs(['-h'], spec), { help: true });
  assert.equal(parseSeconds('--x', '1.5s', 3), 1.5);
  assert.equal(parseSeconds('--x', undefined, 3), 3);
  assert.match(String(parseSeconds('--x', '-1', 3)), /not a positive number/);
});

test('short forms, hidden aliases and repeatable options resolve to the canonical name', () => {
  const p = parseArgs(['-f', 'a', '--file=b', '--filename', 'c', '--lb-class', 'x', '-o', 'json'], pick('--filename', '--load-balancer-class', '--output'));
  assert.ok(!(p instanceof UsageError) && !p.help);
  assert.deepEqual(p.lists.get('--filename'), ['a', 'b', 'c']);
  assert.equal(p.values.get('--load-balancer-class'), 'x');
  assert.equal(p.values.get('--output'), 'json');
});

test('every command spells --load-balancer-class the same (and still takes --lb-class)', () => {
  for (const [cmd, usage] of Object.entries({ plan: PLAN_USAGE, standalone: STANDALONE_USAGE, controller: CONTROLLER_USAGE, speaker: SPEAKER_USAGE })) {
    assert.match(usage, /--load-balancer-class/, cmd);
    assert.doesNotMatch(usage, /--lb-class/, cmd);
  }
  const dir = 'examples';
  const a = parseStandaloneArgs(['-f', dir, '--node', 'n', '--lb-class', 'c']);
  const b = parseStandaloneArgs(['-f', dir, '--node-name', 'n', '--load-balancer-class', 'c']);
  assert.ok(typeof a === 'object' && !('help' in a));
  assert.deepEqual(a, b);
  assert.equal(a.loadBalancerClass, 'c');
  // a short form belongs to one option only
  const shorts = Object.values(OPTIONS).flatMap((s) => ('short' in s ? [s.short] : []));
  assert.equal(new Set(shorts).size, shorts.length);
});

test('exit codes come from diagnostic codes, not from message text', () => {
  const missing = readInputs(['/nonexistent/metallb-ts-args-test']);
  assert.equal(missing.errors[0]?.code, 'unreadable');
  assert.ok(hasUnreadableInput(missing.errors));
  // a configuration error whose text happens to read like a read failure is no read failure
  const lookalike = { file: 'x.yaml', line: 0, kind: '', name: '', field: '', message: 'cannot read: no such file or directory' };
  assert.equal(hasUnreadableInput([lookalike]), false);
});

test('no CLI decision matches message text (src/cli reads codes and types only)', () => {
  const dir = join(import.meta.dirname, '../../../src/cli');
  // `.message.startsWith(`, `message.includes(`, `/.../.test(x.message)`, `message ===`...
  const textMatch = /\bmessage\s*\.\s*(startsWith|endsWith|includes|match|search|indexOf)\s*\(|\.test\([^)]*\bmessage\b|\bmessage\s*[!=]==?\s*['"`]/;
  const offenders: string[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.ts')) continue;
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (textMatch.test(line)) offenders.push(`src/cli/${f}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(offenders, []);
  // the check itself finds what it looks for
  assert.ok(textMatch.test("return errors.some((e) => e.line === 0 && e.message.startsWith('cannot read:'));"));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDrainArgs } from '../../../src/cli/drain.ts';
import { isLoopbackClient } from '../../../src/observability/http.ts';

test('metallb-ts drain: arguments', () => {
  assert.deepEqual(parseDrainArgs([]), { host: '127.0.0.1', port: 7472, stop: false, undo: false });
  assert.deepEqual(parseDrainArgs(['--http', '[::1]:9000', '--period=5s', '--stop']), { host: '::1', port: 9000, stop: true, undo: false, period: '5s' });
  assert.deepEqual(parseDrainArgs(['--http', '0.0.0.0:7472', '--undo']), { host: '127.0.0.1', port: 7472, stop: false, undo: true });
  assert.match(parseDrainArgs(['--stop', '--undo']) as string, /exclude each other/);
  assert.match(parseDrainArgs(['--period', 'soon']) as string, /not a duration/);
  assert.match(parseDrainArgs(['--undo', '--period', '1s']) as string, /makes no sense/);
  assert.match(parseDrainArgs(['--http', 'x']) as string, /--http: invalid listen address/);
  assert.match(parseDrainArgs(['--now']) as string, /unknown option "--now"/);
  assert.match(parseDrainArgs(['--stop=yes']) as string, /takes no value/);
  assert.deepEqual(parseDrainArgs(['-h']), { help: true });
});

test('control endpoints: loopback clients only', () => {
  for (const a of ['127.0.0.1', '127.8.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopbackClient(a), true, a);
  for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', '', undefined]) assert.equal(isLoopbackClient(a), false, String(a));
});

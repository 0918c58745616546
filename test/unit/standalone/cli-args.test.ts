import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStandaloneArgs } from '../../../src/cli/standalone.ts';

const DIR = 'examples/standalone';

test('defaults', () => {
  assert.deepEqual(parseStandaloneArgs(['-f', DIR, '--node', 'n1']), {
    paths: [DIR],
    node: 'n1',
    nodeAddress: '127.0.0.1',
    statePath: 'metallb-ts-state.json',
    httpListen: '127.0.0.1:7472',
    logFormat: 'json',
    logLevel: 'info',
    drainPeriod: 30000,
    withdrawOnStop: false,
    restartMarker: 'metallb-ts-state.json.restart',
  });
  const r = parseStandaloneArgs(['-f', DIR, '--node', 'n1', '--node-address', '192.0.2.7']);
  assert.ok(typeof r === 'object' && 'node' in r);
  assert.equal(r.routerId, '192.0.2.7', 'an explicit IPv4 node address is the default router id');
});

test('every option, both --opt value and --opt=value forms', () => {
  const r = parseStandaloneArgs([
    '--file=' + DIR, '--node', 'n1', '--node-address', '2001:db8::1', '--state', '/tmp/s.json', '--http-listen=[::1]:9000',
    '--log-format', 'text', '--log-level', 'debug', '--load-balancer-class', 'x', '--router-id', '10.0.0.1',
    '--drain-period=1m30s', '--withdraw-on-stop', '--restart-marker', '/run/m',
  ]);
  assert.deepEqual(r, {
    paths: [DIR], node: 'n1', nodeAddress: '2001:db8::1', statePath: '/tmp/s.json', httpListen: '[::1]:9000',
    logFormat: 'text', logLevel: 'debug', loadBalancerClass: 'x', routerId: '10.0.0.1',
    drainPeriod: 90000, withdrawOnStop: true, restartMarker: '/run/m',
  });
  // IPv6 node address: no default router id (the speaker picks one)
  const r2 = parseStandaloneArgs(['-f', DIR, '--node', 'n1', '--node-address', '2001:db8::1', '--http-listen', 'off']);
  assert.ok(typeof r2 === 'object' && 'node' in r2);
  assert.equal(r2.routerId, undefined);
  assert.equal(r2.httpListen, null);
});

test('precise errors for bad usage', () => {
  const cases: [string[], RegExp][] = [
    [['--node', 'n1'], /missing -f DIR/],
    [['-f', DIR], /missing --node NAME/],
    [['-f', DIR, '--node', 'N_1'], /not a valid node name/],
    [['-f', '/nonexistent/dir', '--node', 'n1'], /no such file or directory/],
    [['-f', DIR, '--node', 'n1', '--node-address', '10.1'], /not an IP address/],
    [['-f', DIR, '--node', 'n1', '--http-listen', 'nowhere'], /--http-listen: invalid listen address/],
    [['-f', DIR, '--node', 'n1', '--log-format', 'xml'], /want json or text/],
    [['-f', DIR, '--node', 'n1', '--log-level', 'loud'], /unknown level/],
    [['-f', DIR, '--node', 'n1', '--router-id', '::1'], /not an IPv4 address/],
    [['-f', DIR, '--node'], /needs a value/],
    [['-f', DIR, '--node', 'n1', '--bogus'], /unknown option "--bogus"/],
    [['-f', DIR, '--node', 'n1', '--drain-period', 'soon'], /--drain-period: "soon" is not a duration/],
  ];
  for (const [argv, re] of cases) {
    const r = parseStandaloneArgs(argv);
    assert.equal(typeof r, 'string', argv.join(' '));
    assert.match(r as string, re, argv.join(' '));
  }
  assert.deepEqual(parseStandaloneArgs(['--help']), { help: true });
});

test('-f, --filename and --file all name input folders, like the other commands', () => {
  const a = parseStandaloneArgs(['-f', DIR, '--filename', 'examples', '--file=docs', '--node', 'n']);
  assert.ok(typeof a === 'object' && !('help' in a), String(a));
  assert.deepEqual(a.paths, [DIR, 'examples', 'docs']);
});

// Pure parts of the benchmark harness: statistics, command line, route sets, the MRT file fed
// to GoBGP, the manifests fed to metallb-ts standalone, /status summarizing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, putSpread, spread } from '../../../bench/lib/stats.ts';
import type { BenchResult } from '../../../bench/lib/stats.ts';
import { parseArgs } from '../../../bench/run.ts';
import { hostAddr, hostRoutes, lastHost } from '../../../bench/lib/routes.ts';
import { writeMrt } from '../../../bench/lib/gobgp.ts';
import { configYaml, serviceYaml, summarizeStatus } from '../../../bench/lib/metallbts.ts';
import { writeFileSync, mkdirSync } from 'node:fs';
import { readInputs } from '../../../src/config/load.ts';

test('spread and percentile', () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4 });
  assert.equal(spread([]), undefined);
  assert.equal(spread([NaN]), undefined);
  const v = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 100), 100);
  assert.equal(percentile([], 50), undefined);
  const r: BenchResult = { bench: 'x', n: 1, impl: 'y' };
  putSpread(r, 'seconds', [0.12345, 0.5, 0.2]);
  assert.equal(r['seconds'], 0.2);
  assert.equal(r['secondsMin'], 0.123);
  assert.equal(r['secondsMax'], 0.5);
});

test('parseArgs: subsets, sizes, smoke, errors', () => {
  const a = parseArgs(['fulltable', 'churn', '--n', '10k,200', '--runs', '5', '--impl', 'gobgp,bird']);
  assert.ok(a !== 'help');
  assert.deepEqual(a.benches, ['fulltable', 'churn']);
  assert.deepEqual(a.sizes, [10000, 200]);
  assert.equal(a.runs, 5);
  assert.deepEqual(a.impls, ['gobgp', 'bird']);
  const s = parseArgs(['--smoke']);
  assert.ok(s !== 'help');
  assert.equal(s.runs, 1);
  assert.deepEqual(s.benches, ['fulltable', 'churn', 'allocation', 'failure', 'footprint', 'coldstart', 'controller']);
  assert.equal(parseArgs(['-h']), 'help');
  const f = parseArgs(['footprint', '--sessions', '10', '--poll', '/status?routes=count']);
  assert.ok(f !== 'help');
  assert.deepEqual([f.sessions, f.poll], [[10], '/status?routes=count']);
  assert.throws(() => parseArgs(['footprint', '--poll', 'status']), /--poll: "status" is not a path/);
  assert.throws(() => parseArgs(['footprint', '--sessions', '0']), /--sessions: at least 1 session/);
  assert.throws(() => parseArgs(['nosuch']), /unknown benchmark or option "nosuch"/);
  assert.throws(() => parseArgs(['--runs', '0']), /--runs/);
  assert.throws(() => parseArgs(['--n', 'abc']), /not a non-negative integer/);
  assert.throws(() => parseArgs(['--n', '200000']), /at most 131072/);
  assert.throws(() => parseArgs(['--impl', 'frr']), /unknown frr/);
  assert.throws(() => parseArgs(['--runs']), /needs a value/);
});

test('benchmark route set counts up from 198.18.0.0', () => {
  assert.deepEqual(hostRoutes(3), ['198.18.0.0', '198.18.0.1', '198.18.0.2']);
  assert.equal(hostAddr(256), '198.18.1.0');
  assert.equal(lastHost(100000), '198.19.134.159');
  assert.throws(() => hostRoutes(131073), RangeError);
});

test('writeMrt writes a TABLE_DUMP_V2 file: peer index table, then N + padding RIB entries', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrt-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'x.mrt');
  writeMrt(f, 5, '10.77.0.2', '10.77.0.2', 65010);
  const b = readFileSync(f);
  let off = 0;
  const recs: { subtype: number; body: Buffer }[] = [];
  while (off < b.length) {
    assert.equal(b.readUInt16BE(off + 4), 13);
    const len = b.readUInt32BE(off + 8);
    recs.push({ subtype: b.readUInt16BE(off + 6), body: b.subarray(off + 12, off + 12 + len) });
    off += 12 + len;
  }
  assert.equal(off, b.length);
  assert.equal(recs[0]?.subtype, 1);
  assert.equal(recs.length, 1 + 5 + 2000);
  const prefixes = recs.slice(1).map((r) => {
    assert.equal(r.subtype, 2);
    assert.equal(r.body.readUInt8(4), 32);
    return [...r.body.subarray(5, 9)].join('.');
  });
  assert.deepEqual(prefixes.slice(0, 5), ['198.18.0.0', '198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4']);
  assert.ok(prefixes.slice(5).every((p) => p === '198.18.0.4'));
  // sequence numbers count up; the NEXT_HOP attribute carries the given address
  assert.equal(recs[3]?.body.readUInt32BE(0), 2);
  const rec = recs[1]?.body;
  assert.ok(rec);
  const attrs = rec.subarray(19);
  assert.equal(attrs.length, rec.readUInt16BE(17));
  assert.deepEqual([...attrs.subarray(attrs.length - 4)], [10, 77, 0, 2]);
});

test('generated standalone manifests are valid metallb-ts configuration', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbb-manifests-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'services'));
  writeFileSync(
    join(dir, 'config.yaml'),
    configYaml({ ns: 'x', dir, node: 'n', nodeAddress: '10.77.0.2', myASN: 65010, peers: [{ name: 'rx0', address: '10.77.0.1', peerASN: 65002 }], poolSize: 10, holdTime: 3, keepaliveTime: 1, connectTime: 1 }),
  );
  writeFileSync(join(dir, 'services', 'a.yaml'), [serviceYaml(0), serviceYaml(9)].join('---\n'));
  const r = readInputs([dir]);
  assert.deepEqual(r.errors, []);
  assert.ok(r.config);
  assert.equal(r.config.pools[0]?.name, 'bench');
  assert.equal(r.config.peers[0]?.holdTime, 3);
  assert.equal(r.services.length, 2);
});

test('summarizeStatus reads standalone and speaker-child /status shapes', () => {
  const s = summarizeStatus({
    ready: true,
    services: [{}, {}],
    sessions: [
      { peer: 'a', speaker: { state: 'Established' }, routes: [{}, {}, {}] },
      { peer: 'b', speaker: { state: 'Active' }, routeCount: 7 },
      { peer: 'c', speaker: null },
    ],
  });
  assert.deepEqual(s, {
    ready: true,
    services: 2,
    sessions: [
      { peer: 'a', state: 'established', established: true, routes: 3 },
      { peer: 'b', state: 'active', established: false, routes: 7 },
      { peer: 'c', state: '', established: false, routes: 0 },
    ],
  });
  assert.deepEqual(summarizeStatus('garbage'), { ready: false, services: 0, sessions: [] });
  // /status?routes=count&services=count: counts, no lists
  assert.equal(summarizeStatus({ serviceCount: 5, sessions: [] }).services, 5);
});

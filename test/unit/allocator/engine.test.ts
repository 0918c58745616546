// The incremental Allocator: pool edits (shrink, delete, rename, avoidBuggyIPs toggled),
// restarts through restore(), service edits, pool statistics, huge pools, and the RunSet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Allocator, RunSet } from '../../../src/allocator/index.ts';
import { config, pool, svc } from './helpers.ts';

test('pool shrink releases exactly the addresses outside the new pool', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/29'])] }));
  const services = ['s0', 's1', 's2', 's3', 's4'].map((n) => svc(n));
  for (const s of services) assert.equal(a.assign(s).error, undefined);
  assert.deepEqual(a.get('default/s4')?.ips, ['10.0.0.4']);
  const released = a.setConfig(config({ pools: [pool('p', ['10.0.0.0/30'])] }));
  assert.deepEqual(released, ['default/s4']);
  assert.deepEqual(
    Object.values(a.snapshot()).map((x) => x.ips[0]),
    ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3'],
  );
  const r = a.assign(services[4] as ReturnType<typeof svc>);
  assert.equal(r.error, 'pool p exhausted');
  assert.equal(r.changed, false);
});

test('pool deletion releases its services; they move to another pool', () => {
  const a = new Allocator(config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }));
  const s1 = svc('s1');
  const s2 = svc('s2', { pool: 'b' });
  a.assign(s1);
  a.assign(s2);
  const released = a.setConfig(config({ pools: [pool('b', ['10.0.1.0/24'])] }));
  assert.deepEqual(released, ['default/s1']);
  const r = a.assign(s1);
  assert.deepEqual(r.assignment, { ips: ['10.0.1.1'], pool: 'b' });
  assert.equal(r.changed, true);
  assert.deepEqual(a.get('default/s2'), { ips: ['10.0.1.0'], pool: 'b' });
});

test('unrelated config edits keep every assignment; renamed pool updates the pool name', () => {
  const a = new Allocator(config({ pools: [pool('old', ['10.0.0.0/24'])] }));
  for (let i = 0; i < 10; i++) a.assign(svc(`s${i}`));
  const before = a.snapshot();
  assert.deepEqual(a.setConfig(config({ pools: [pool('new', ['10.0.0.0/23'])] })), []);
  const after = a.snapshot();
  for (const [k, v] of Object.entries(before)) assert.deepEqual(after[k], { ips: v.ips, pool: 'new' });
  // bookkeeping rebuilt correctly: the next service gets the next free address
  assert.deepEqual(a.assign(svc('zz')).assignment?.ips, ['10.0.0.10']);
});

test('turning on avoidBuggyIPs releases only .0 / .255 holders', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.254-10.0.1.1'])] }));
  for (const n of ['a', 'b', 'c', 'd']) a.assign(svc(n));
  assert.deepEqual(
    Object.values(a.snapshot()).map((x) => x.ips[0]),
    ['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1'],
  );
  assert.deepEqual(a.setConfig(config({ pools: [pool('p', ['10.0.0.254-10.0.1.1'], { avoidBuggyIPs: true })] })), ['default/b', 'default/c']);
  assert.equal(a.assign(svc('b')).error, 'pool p exhausted');
});

test('serviceAllocation edit releases services the pool no longer serves', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/24'])] }));
  a.assign(svc('x', { ns: 'team' }));
  a.assign(svc('y', { ns: 'other' }));
  const released = a.setConfig(
    config({ pools: [pool('p', ['10.0.0.0/24'], { serviceAllocation: { namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } })] }),
  );
  assert.deepEqual(released, ['other/y']);
});

test('restart: restore() rebuilds the state, then new services get the next free address', () => {
  const cfg = config({ pools: [pool('p', ['10.0.0.0/24'])] });
  const a = new Allocator(cfg);
  const services = Array.from({ length: 6 }, (_, i) => svc(`s${i}`));
  for (const s of services) a.assign(s);
  a.release('default/s2');
  const snap = a.snapshot();
  const b = new Allocator(cfg);
  for (const s of services) {
    const key = `default/${s.metadata.name}`;
    const prev = snap[key];
    if (prev) assert.equal(b.restore(key, s, prev), true);
  }
  assert.deepEqual(b.snapshot(), snap);
  assert.deepEqual(b.assign(svc('new')).assignment?.ips, ['10.0.0.2']);
});

test('restore refuses conflicting or invalid assignments', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/24'])] }));
  assert.equal(a.restore('default/a', svc('a'), { ips: ['10.0.0.5'], pool: 'p' }), true);
  assert.equal(a.restore('default/b', svc('b'), { ips: ['10.0.0.5'], pool: 'p' }), false);
  assert.equal(a.restore('default/c', svc('c'), { ips: ['10.9.0.5'], pool: 'p' }), false);
  assert.equal(a.restore('default/d', svc('d'), { ips: ['garbage'], pool: 'p' }), false);
  assert.equal(a.restore('default/e', svc('e', { type: 'ClusterIP' }), { ips: ['10.0.0.6'], pool: 'p' }), false);
  assert.equal(a.restore('default/f', svc('f', { ip: '10.0.0.8' }), { ips: ['10.0.0.7'], pool: 'p' }), false);
  assert.deepEqual(Object.keys(a.snapshot()), ['default/a']);
});

test('service edits: a new requested IP moves it; an unrelated edit keeps it; becoming ClusterIP releases', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/24'])] }));
  assert.deepEqual(a.assign(svc('s')).assignment?.ips, ['10.0.0.0']);
  const same = a.assign(svc('s', { ports: [8080], labels: { x: 'y' } }));
  assert.equal(same.changed, false);
  const moved = a.assign(svc('s', { ip: '10.0.0.42' }));
  assert.deepEqual(moved.assignment?.ips, ['10.0.0.42']);
  assert.equal(moved.changed, true);
  const gone = a.assign(svc('s', { type: 'ClusterIP' }));
  assert.deepEqual(gone, { key: 'default/s', changed: true });
  assert.equal(a.get('default/s'), undefined);
  assert.deepEqual(a.holders('10.0.0.42'), []);
});

test('sharing: edit adding a conflicting port moves the service off the shared IP', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/24'])] }));
  a.assign(svc('x', { share: 'k', ports: [80] }));
  a.assign(svc('y', { share: 'k', ports: [443] }));
  assert.deepEqual(a.holders('10.0.0.0'), ['default/x', 'default/y']);
  const r = a.assign(svc('y', { share: 'k', ports: [443, 80] }));
  assert.deepEqual(r.assignment?.ips, ['10.0.0.1']);
  assert.deepEqual(a.holders('10.0.0.0'), ['default/x']);
  // releasing the last holder frees the address for anyone
  a.release('default/x');
  assert.deepEqual(a.assign(svc('z')).assignment?.ips, ['10.0.0.0']);
});

test('released address is reused (lowest free first)', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/24'])] }));
  for (let i = 0; i < 5; i++) a.assign(svc(`s${i}`));
  a.release('default/s1');
  a.release('default/s3');
  assert.deepEqual(a.assign(svc('n1')).assignment?.ips, ['10.0.0.1']);
  assert.deepEqual(a.assign(svc('n2')).assignment?.ips, ['10.0.0.3']);
  assert.deepEqual(a.assign(svc('n3')).assignment?.ips, ['10.0.0.5']);
});

test('poolStats counts arithmetically, even for a /8 and an IPv6 /64', () => {
  const a = new Allocator(
    config({ pools: [pool('big', ['10.0.0.0/8'], { avoidBuggyIPs: true }), pool('v6', ['2001:db8::/64']), pool('small', ['192.168.0.0/24'], { avoidBuggyIPs: true })] }),
  );
  assert.deepEqual(a.poolStats('small'), { v4: { assigned: 0, available: 254n }, v6: { assigned: 0, available: 0n } });
  assert.deepEqual(a.poolStats('big').v4, { assigned: 0, available: (1n << 24n) - 2n * 65536n });
  assert.deepEqual(a.poolStats('v6').v6, { assigned: 0, available: 1n << 64n });
  for (let i = 0; i < 300; i++) a.assign(svc(`s${i}`, { pool: 'big' }));
  const ips = Object.values(a.snapshot()).map((x) => x.ips[0]);
  assert.ok(!ips.some((ip) => ip?.endsWith('.0') || ip?.endsWith('.255')));
  assert.equal(a.poolStats('big').v4.assigned, 300);
  assert.equal(a.poolStats('nope').v4.assigned, 0);
});

test('huge pools: a requested address deep inside a /64 and lowest-free around it', () => {
  const a = new Allocator(config({ pools: [pool('v6', ['2001:db8::/64'])] }));
  assert.deepEqual(a.assign(svc('deep', { ip: '2001:db8::ffff:ffff:ffff:fffe' })).assignment?.ips, ['2001:db8::ffff:ffff:ffff:fffe']);
  assert.deepEqual(a.assign(svc('a')).assignment?.ips, ['2001:db8::']);
  assert.deepEqual(a.assign(svc('top', { ip: '2001:db8::ffff:ffff:ffff:ffff' })).assignment?.ips, ['2001:db8::ffff:ffff:ffff:ffff']);
  assert.deepEqual(a.assign(svc('b')).assignment?.ips, ['2001:db8::1']);
});

test('RunSet: add/delete/nextAbsent keep runs merged', () => {
  const r = new RunSet();
  for (const v of [5n, 6n, 7n, 9n]) assert.equal(r.add(v), true);
  assert.equal(r.add(6n), false);
  assert.equal(r.runs, 2);
  assert.equal(r.add(8n), true);
  assert.equal(r.runs, 1);
  assert.equal(r.nextAbsent(5n), 10n);
  assert.equal(r.nextAbsent(4n), 4n);
  assert.equal(r.delete(7n), true);
  assert.equal(r.delete(7n), false);
  assert.equal(r.runs, 2);
  assert.equal(r.nextAbsent(5n), 7n);
  assert.deepEqual([...r.values()], [5n, 6n, 8n, 9n]);
  assert.equal(r.size, 4);
  const b = RunSet.fromSorted([1n, 2n, 2n, 3n, 7n]);
  assert.deepEqual([...b.values()], [1n, 2n, 3n, 7n]);
  assert.equal(b.runs, 2);
});

test('RunSet behaves like a plain set (fast-check model test)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { maxLength: 200 }), fc.integer({ min: 0, max: 45 }), (ops, probe) => {
      const r = new RunSet();
      const model = new Set<number>();
      for (const [add, v] of ops) {
        if (add) assert.equal(r.add(BigInt(v)), !model.has(v) && (model.add(v), true));
        else assert.equal(r.delete(BigInt(v)), model.delete(v));
      }
      assert.equal(r.size, model.size);
      assert.deepEqual([...r.values()], [...model].sort((a, b) => a - b).map(BigInt));
      let free = probe;
      while (model.has(free)) free++;
      assert.equal(r.nextAbsent(BigInt(probe)), BigInt(free));
      // runs are maximal: no two runs touch
      const vals = [...model].sort((a, b) => a - b);
      let runs = 0;
      for (let i = 0; i < vals.length; i++) if (i === 0 || vals[i] !== (vals[i - 1] as number) + 1) runs++;
      assert.equal(r.runs, runs);
    }),
    { numRuns: 300, seed: 12345 },
  );
});

test('overlapping entries of one pool are merged (no address counted twice)', () => {
  const a = new Allocator(config({ pools: [pool('p', ['10.0.0.0/30', '10.0.0.2-10.0.0.5'])] }));
  assert.deepEqual(a.poolStats('p').v4, { assigned: 0, available: 6n });
  const ips = Array.from({ length: 7 }, (_, i) => a.assign(svc(`s${i}`)).assignment?.ips[0]);
  assert.deepEqual(ips, ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', undefined]);
});

// Randomized invariant test (seeded PRNG, reproducible): thousands of random create / edit /
// delete / config-edit / restart steps driven like the controller drives the Allocator. After
// every step: no conflicting sharing, no IP outside its pool (or avoided by it), requested IPs
// and pool annotations honoured, one address per family, untouched services keep their IPs,
// and a restart (restore from the snapshot, or one-shot allocate with it as `previous`)
// reproduces exactly the same assignments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator, allocate, analyzeService } from '../../../src/allocator/index.ts';
import type { Assignment } from '../../../src/allocator/index.ts';
import type { Config, Pool } from '../../../src/config/types.ts';
import { parseIP } from '../../../src/ip/index.ts';
import type { Service } from '../../../src/model/objects.ts';
import { objectKey } from '../../../src/model/objects.ts';
import { RANDOM_POOL_SETS as CONFIGS, config, randomService } from './helpers.ts';
import { mulberry32 } from '../helpers/random.ts';

const NAMES = Array.from({ length: 24 }, (_, i) => `svc${i}`);
function inPool(p: Pool, ip: string): boolean {
  const v = parseIP(ip);
  if (!p.ranges.some((r) => r.family === v.family && v.value >= r.first && v.value <= r.last)) return false;
  if (p.avoidBuggyIPs && v.family === 4 && ((v.value & 255n) === 0n || (v.value & 255n) === 255n)) return false;
  return true;
}

function checkInvariants(cfg: Config, services: Map<string, Service>, snap: Record<string, Assignment>, where: string): void {
  const holders = new Map<string, string[]>();
  for (const [key, a] of Object.entries(snap)) {
    const s = services.get(key);
    assert.ok(s, `${where}: ${key} holds ${a.ips} but does not exist`);
    const p = cfg.pools.find((x) => x.name === a.pool);
    assert.ok(p, `${where}: ${key} in unknown pool ${a.pool}`);
    for (const ip of a.ips) assert.ok(inPool(p, ip), `${where}: ${key} holds ${ip} outside pool ${a.pool}`);
    const fams = a.ips.map((ip) => (ip.includes(':') ? 6 : 4));
    assert.equal(new Set(fams).size, fams.length, `${where}: ${key} two addresses of one family`);
    assert.deepEqual(fams, [...fams].sort(), `${where}: v4 first`);
    const info = analyzeService(s);
    assert.ok(!('error' in info), `${where}: ${key} has an assignment despite an invalid spec`);
    if (info.requested.length > 0) {
      assert.equal(a.ips.length, info.requested.length, `${where}: ${key} requested IPs honoured`);
      for (const r of info.requested) {
        assert.ok(
          a.ips.some((ip) => parseIP(ip).value === r.value && parseIP(ip).family === r.family),
          `${where}: ${key} requested IP honoured`,
        );
      }
    }
    if (info.pool !== undefined) assert.equal(a.pool, info.pool, `${where}: ${key} pool annotation honoured`);
    if (info.want.kind === 'required') assert.equal(a.ips.length, info.want.families.length, `${where}: ${key} families`);
    for (const ip of a.ips) {
      const arr = holders.get(ip) ?? [];
      arr.push(key);
      holders.set(ip, arr);
    }
  }
  stats.held += Object.keys(snap).length;
  for (const [ip, keys] of holders) {
    if (keys.length < 2) continue;
    stats.shared++;
    const infos = keys.map((k) => analyzeService(services.get(k) as Service));
    const ports = new Set<string>();
    for (const [i, info] of infos.entries()) {
      assert.ok(!('error' in info));
      const first = infos[0];
      assert.ok(first && !('error' in first));
      assert.notEqual(info.sharingKey, '', `${where}: ${keys[i]} shares ${ip} without a sharing key`);
      assert.equal(info.sharingKey, first.sharingKey, `${where}: sharing key mismatch on ${ip}: ${keys.join(',')}`);
      assert.equal(info.backendKey, first.backendKey, `${where}: backend mismatch on ${ip}`);
      for (const p of info.ports) {
        assert.ok(!ports.has(p), `${where}: port ${p} used twice on ${ip} (${keys.join(',')})`);
        ports.add(p);
      }
    }
  }
}

export const stats = { shared: 0, held: 0, steps: 0 };

function runScenario(seed: number, steps: number): void {
  const rnd = mulberry32(seed);
  let cfgIndex = 0;
  let cfg = config({ pools: CONFIGS[0]?.() ?? [] });
  let alloc = new Allocator(cfg);
  const services = new Map<string, Service>();
  const assignAll = (): void => {
    for (const key of [...services.keys()].sort()) alloc.assign(services.get(key) as Service);
  };
  for (let step = 0; step < steps; step++) {
    const before = alloc.snapshot();
    const op = rnd();
    const where = `seed ${seed} step ${step}`;
    let touched: string | undefined;
    if (op < 0.55) {
      const name = NAMES[Math.floor(rnd() * NAMES.length)] as string;
      const s = randomService(rnd, name);
      touched = objectKey(s.metadata);
      // a service moving namespace is a different object: the old one disappears
      services.set(touched, s);
      const r = alloc.assign(s);
      if (r.assignment) assert.deepEqual(alloc.get(touched), r.assignment);
      else assert.equal(alloc.get(touched), undefined);
    } else if (op < 0.8) {
      const keys = [...services.keys()].sort();
      const key = keys[Math.floor(rnd() * keys.length)];
      if (key !== undefined) {
        touched = key;
        services.delete(key);
        alloc.release(key);
      }
    } else if (op < 0.9) {
      cfgIndex = Math.floor(rnd() * CONFIGS.length);
      const next = config({ pools: CONFIGS[cfgIndex]?.() ?? [] });
      const released = new Set(alloc.setConfig(next));
      cfg = next;
      // every assignment still valid in the new config is kept, at the same addresses
      const after = alloc.snapshot();
      for (const [key, a] of Object.entries(before)) {
        if (released.has(key)) {
          assert.equal(after[key], undefined);
          continue;
        }
        assert.deepEqual(after[key]?.ips, a.ips, `${where}: ${key} moved on config edit`);
      }
      assignAll();
      const settled = alloc.snapshot();
      for (const [key, a] of Object.entries(after)) assert.deepEqual(settled[key], a, `${where}: ${key} changed after re-sync`);
      checkInvariants(cfg, services, settled, where);
      continue;
    } else {
      // restart: a fresh allocator restoring the snapshot must accept every entry unchanged
      const fresh = new Allocator(cfg);
      for (const [key, a] of Object.entries(before)) {
        assert.equal(fresh.restore(key, services.get(key) as Service, a), true, `${where}: restore ${key}`);
      }
      assert.deepEqual(fresh.snapshot(), before, `${where}: restart changed assignments`);
      // the one-shot form agrees for every service that holds an address
      const once = allocate({ config: cfg, services: [...services.values()], previous: before });
      for (const [key, a] of Object.entries(before)) assert.deepEqual(once.assignments[key], a, `${where}: allocate() moved ${key}`);
      checkInvariants(cfg, services, once.assignments, `${where} (one-shot)`);
      alloc = fresh;
      continue;
    }
    const after = alloc.snapshot();
    for (const [key, a] of Object.entries(before)) {
      if (key === touched) continue;
      assert.deepEqual(after[key], a, `${where}: untouched ${key} changed`);
    }
    checkInvariants(cfg, services, after, where);
  }
}

for (const seed of [1, 7, 42, 2024]) {
  test(`random create/edit/delete/config/restart steps keep the invariants (seed ${seed})`, () => {
    const before = { ...stats };
    runScenario(seed, 1500);
    // the scenario really exercises sharing and keeps services allocated
    assert.ok(stats.shared - before.shared > 100, `only ${stats.shared - before.shared} shared-IP checks`);
    assert.ok(stats.held - before.held > 5000, `only ${stats.held - before.held} held assignments checked`);
  });
}

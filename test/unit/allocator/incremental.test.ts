// IncrementalAllocation gives exactly allocate()'s output: random sequences of Services added,
// edited, removed and re-ordered (and now and then a new configuration), each step compared
// with a one-shot allocate() over the same input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalAllocation, allocate } from '../../../src/allocator/index.ts';
import type { AllocationOutput } from '../../../src/allocator/index.ts';
import type { Config } from '../../../src/config/types.ts';
import type { Namespace, Service } from '../../../src/model/objects.ts';
import { RANDOM_POOL_SETS, config, randomService } from './helpers.ts';
import { mulberry32 } from '../helpers/random.ts';

const NAMES = Array.from({ length: 30 }, (_, i) => `svc${i}`);

function shuffled<T>(rnd: () => number, xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

test('incremental allocation equals a full allocation on random sequences of changes', () => {
  let incrementalSteps = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    let cfg: Config = config({ pools: (RANDOM_POOL_SETS[seed % RANDOM_POOL_SETS.length] as () => ReturnType<(typeof RANDOM_POOL_SETS)[0]>)() });
    const namespaces: Namespace[] = [];
    const services = new Map<string, Service>();
    const inc = new IncrementalAllocation();
    let out: AllocationOutput = { assignments: {}, results: [] };
    for (let step = 0; step < 150; step++) {
      // 1 to 3 changes per step (a step is one reload)
      const n = 1 + Math.floor(rnd() * 3);
      for (let c = 0; c < n; c++) {
        const name = pick(NAMES);
        const r = rnd();
        if (r < 0.3 && services.has(name)) services.delete(name);
        else services.set(name, randomService(rnd, name));
      }
      if (rnd() < 0.03) cfg = config({ pools: pick(RANDOM_POOL_SETS)() });
      const list = shuffled(rnd, [...services.values()]);
      // now and then the same key twice (the first one wins)
      if (rnd() < 0.05 && list.length > 0) list.push(randomService(rnd, (list[0] as Service).metadata.name));
      const input = { config: cfg, services: list, namespaces, previous: out.assignments };
      const want = allocate(input);
      out = inc.allocate(input);
      assert.deepEqual(out, want, `seed ${seed} step ${step}`);
      if (!inc.lastPass.full) incrementalSteps++;
    }
  }
  // the comparison is about the incremental path: most steps must have taken it
  assert.ok(incrementalSteps > 3000, `incremental steps: ${incrementalSteps}`);
});

test('incremental allocation decides only what changed (and what has no address)', () => {
  const cfg = config({ pools: (RANDOM_POOL_SETS[5] as () => ReturnType<(typeof RANDOM_POOL_SETS)[0]>)() });
  const rnd = mulberry32(7);
  const services = NAMES.map((n) => randomService(rnd, n)).filter((s) => s.spec.type === 'LoadBalancer');
  const inc = new IncrementalAllocation();
  const first = inc.allocate({ config: cfg, services, previous: {} });
  assert.equal(inc.lastPass.full, true);
  const failed = first.results.filter((r) => r.error !== undefined).length;
  const edited = [...services];
  edited[3] = { ...(edited[3] as Service) };
  const second = inc.allocate({ config: cfg, services: edited, previous: first.assignments });
  assert.equal(inc.lastPass.full, false);
  assert.equal(inc.lastPass.decided, 1 + failed);
  assert.deepEqual(second, allocate({ config: cfg, services: edited, previous: first.assignments }));
  // a new configuration object: full pass
  inc.allocate({ config: { ...cfg }, services: edited, previous: second.assignments });
  assert.equal(inc.lastPass.full, true);
});

test('above maxServices nothing is kept: every call is a full pass, with the same output', () => {
  const cfg = config({ pools: (RANDOM_POOL_SETS[5] as () => ReturnType<(typeof RANDOM_POOL_SETS)[0]>)() });
  const rnd = mulberry32(11);
  const services = NAMES.map((n) => randomService(rnd, n));
  const inc = new IncrementalAllocation(5);
  const first = inc.allocate({ config: cfg, services, previous: {} });
  const again = inc.allocate({ config: cfg, services, previous: first.assignments });
  assert.equal(inc.lastPass.full, true);
  assert.deepEqual(again, allocate({ config: cfg, services, previous: first.assignments }));
});

// Next-hop resolution rules (src/routes/nexthop.ts): what the kernel answered for a BGP next hop
// → the next hops the received route is installed with, or why it is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineResolutions, resolveNexthop } from '../../../src/routes/nexthop.ts';
import type { FibAnswer } from '../../../src/routes/nexthop.ts';

const BGP = 186;
const fib = (o: Partial<Extract<FibAnswer, { prefixLen: number }>>): FibAnswer => ({ prefixLen: 24, protocol: 2, type: 1, oif: 3, nexthops: [], ...o });

test('connected next hop: used as is on the connected interface', () => {
  assert.deepEqual(resolveNexthop('10.0.0.1', fib({}), BGP), { nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }], recursive: false });
});

test('next hop behind gateways: installed via those gateways (recursive, ECMP kept)', () => {
  const r = resolveNexthop('10.99.0.1', fib({ prefixLen: 28, protocol: 4, nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }, { gateway: '10.1.0.1', ifindex: 4 }] }), BGP);
  assert.deepEqual(r, { nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }, { gateway: '10.1.0.1', ifindex: 4 }], recursive: true });
});

test('unresolvable: no route, blackhole, default route only, only through a received route, non-unicast', () => {
  const err = (f: FibAnswer): string => {
    const r = resolveNexthop('10.99.0.1', f, BGP);
    assert.ok('error' in r);
    return r.error;
  };
  assert.equal(err({ error: 'ENETUNREACH' }), 'next hop 10.99.0.1 is unreachable: no route to it in the kernel (ENETUNREACH)');
  assert.equal(err({ error: 'EINVAL' }), 'next hop 10.99.0.1 is unreachable: a blackhole route covers it (EINVAL)');
  assert.match(err({ error: 'EWHATEVER' }), /the kernel has no usable route to it \(EWHATEVER\)/);
  assert.match(err(fib({ prefixLen: 0, nexthops: [{ gateway: '10.0.0.254', ifindex: 3 }] })), /only reachable through the default route/);
  assert.match(err(fib({ protocol: BGP, nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }] })), /only reachable through a route learned over BGP/);
  assert.match(err(fib({ type: 2 })), /resolves to a local route/);
});

test('several BGP next hops: union of the resolvable ones; an error naming all when none resolves', () => {
  const a = resolveNexthop('10.99.0.1', fib({ nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }] }), BGP);
  const b = resolveNexthop('10.99.0.2', fib({ nexthops: [{ gateway: '10.0.0.1', ifindex: 3 }] }), BGP);
  const c = resolveNexthop('10.0.0.7', fib({}), BGP);
  const bad = resolveNexthop('10.99.0.3', { error: 'ENETUNREACH' }, BGP);
  assert.deepEqual(combineResolutions([a, b, c, bad]), {
    nexthops: [
      { gateway: '10.0.0.1', ifindex: 3 },
      { gateway: '10.0.0.7', ifindex: 3 },
    ],
    recursive: true,
  });
  assert.deepEqual(combineResolutions([c]), { nexthops: [{ gateway: '10.0.0.7', ifindex: 3 }], recursive: false });
  const none = combineResolutions([bad, resolveNexthop('10.99.0.4', { error: 'EINVAL' }, BGP)]);
  assert.ok('error' in none && none.error.includes('10.99.0.3') && none.error.includes('10.99.0.4'));
});

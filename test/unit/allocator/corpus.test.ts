// Table-driven allocator corpus: requests, sharing, priorities, selectors, dual-stack,
// exhaustion, pool edits and restarts. Each case runs `allocate` and checks every service's
// addresses (or the precise failure reason).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate } from '../../../src/allocator/index.ts';
import type { Assignment } from '../../../src/allocator/index.ts';
import type { Config } from '../../../src/config/types.ts';
import type { Namespace, Service } from '../../../src/model/objects.ts';
import { config, namespace, pool, sel, svc } from './helpers.ts';

type Expect = string[] | RegExp | 'ignored';

interface Case {
  name: string;
  config: Config;
  services: Service[];
  previous?: Record<string, Assignment>;
  namespaces?: Namespace[];
  lbClass?: string;
  expect: Record<string, Expect>;
  pools?: Record<string, string>;
  changed?: Record<string, boolean>;
}


const small = pool('a', ['10.0.0.1-10.0.0.2']);
const one = (p = pool('a', ['192.168.1.0/24'])): Config => config({ pools: [p] });
const dual = pool('d', ['10.0.0.0/30', 'fd00::/126']);

const cases: Case[] = [
  // --- basics -------------------------------------------------------------------------------
  { name: 'lowest free address', config: one(), services: [svc('s1')], expect: { 'default/s1': ['192.168.1.0'] } },
  {
    name: 'services in key order get consecutive addresses',
    config: one(),
    services: [svc('s2'), svc('s1'), svc('s3')],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': ['192.168.1.1'], 'default/s3': ['192.168.1.2'] },
  },
  { name: 'ClusterIP service ignored', config: one(), services: [svc('s1', { type: 'ClusterIP' })], expect: { 'default/s1': 'ignored' } },
  { name: 'NodePort service ignored', config: one(), services: [svc('s1', { type: 'NodePort' })], expect: { 'default/s1': 'ignored' } },
  { name: 'other loadBalancerClass ignored', config: one(), services: [svc('s1', { cls: 'other' })], expect: { 'default/s1': 'ignored' } },
  {
    name: 'our loadBalancerClass served',
    config: one(),
    lbClass: 'metallb',
    services: [svc('s1', { cls: 'metallb' }), svc('s2', { cls: 'x' })],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': 'ignored' },
  },
  {
    name: 'service without class served when a class is configured',
    config: one(),
    lbClass: 'metallb',
    services: [svc('s1')],
    expect: { 'default/s1': ['192.168.1.0'] },
  },
  { name: 'no pools configured', config: config(), services: [svc('s1')], expect: { 'default/s1': /no IP address pools are configured/ } },
  {
    name: 'range pool (a-b)',
    config: one(pool('a', ['10.1.1.5-10.1.1.7'])),
    services: [svc('s1'), svc('s2')],
    expect: { 'default/s1': ['10.1.1.5'], 'default/s2': ['10.1.1.6'] },
  },
  {
    name: 'pool with several ranges uses the lowest first',
    config: one(pool('a', ['10.2.0.0/31', '10.1.0.7/32'])),
    services: [svc('s1'), svc('s2'), svc('s3')],
    expect: { 'default/s1': ['10.1.0.7'], 'default/s2': ['10.2.0.0'], 'default/s3': ['10.2.0.1'] },
  },
  {
    name: 'pool recorded in the assignment',
    config: config({ pools: [pool('x', ['10.0.0.0/29'])] }),
    services: [svc('s1')],
    expect: { 'default/s1': ['10.0.0.0'] },
    pools: { 'default/s1': 'x' },
  },
  // --- exhaustion ---------------------------------------------------------------------------
  {
    name: 'pool exhausted',
    config: one(small),
    services: [svc('s1'), svc('s2'), svc('s3')],
    expect: { 'default/s1': ['10.0.0.1'], 'default/s2': ['10.0.0.2'], 'default/s3': /^pool a exhausted$/ },
  },
  {
    name: 'all pools exhausted lists every pool',
    config: config({ pools: [pool('a', ['10.0.0.1/32']), pool('b', ['10.0.1.1/32'])] }),
    services: [svc('s1'), svc('s2'), svc('s3')],
    expect: { 'default/s1': ['10.0.0.1'], 'default/s2': ['10.0.1.1'], 'default/s3': /pool a exhausted; pool b exhausted/ },
  },
  {
    name: 'falls through to the next pool by name',
    config: config({ pools: [pool('b', ['10.0.1.0/32']), pool('a', ['10.0.0.0/32'])] }),
    services: [svc('s1'), svc('s2')],
    expect: { 'default/s1': ['10.0.0.0'], 'default/s2': ['10.0.1.0'] },
    pools: { 'default/s1': 'a', 'default/s2': 'b' },
  },
  // --- avoidBuggyIPs -------------------------------------------------------------------------
  {
    name: 'avoidBuggyIPs skips .0',
    config: one(pool('a', ['192.168.1.0/24'], { avoidBuggyIPs: true })),
    services: [svc('s1')],
    expect: { 'default/s1': ['192.168.1.1'] },
  },
  {
    name: 'avoidBuggyIPs skips .255 and the next .0',
    config: one(pool('a', ['192.168.1.254-192.168.2.1'], { avoidBuggyIPs: true })),
    services: [svc('s1'), svc('s2'), svc('s3')],
    expect: { 'default/s1': ['192.168.1.254'], 'default/s2': ['192.168.2.1'], 'default/s3': /pool a exhausted/ },
  },
  {
    name: 'avoidBuggyIPs rejects requested .255',
    config: one(pool('a', ['192.168.1.0/24'], { avoidBuggyIPs: true })),
    services: [svc('s1', { ip: '192.168.1.255' })],
    expect: { 'default/s1': /192\.168\.1\.255 ends in \.0 or \.255.*avoidBuggyIPs/ },
  },
  {
    name: 'avoidBuggyIPs does not affect IPv6',
    config: one(pool('a', ['fd00::/120'], { avoidBuggyIPs: true })),
    services: [svc('s1', { families: ['IPv6'] })],
    expect: { 'default/s1': ['fd00::'] },
  },
  // --- requested IPs -------------------------------------------------------------------------
  { name: 'spec.loadBalancerIP honoured', config: one(), services: [svc('s1', { ip: '192.168.1.77' })], expect: { 'default/s1': ['192.168.1.77'] } },
  { name: 'loadBalancerIPs annotation honoured', config: one(), services: [svc('s1', { ips: '192.168.1.78' })], expect: { 'default/s1': ['192.168.1.78'] } },
  {
    name: 'legacy metallb.universe.tf annotation honoured',
    config: one(),
    services: [svc('s1', { legacyIPs: '192.168.1.79' })],
    expect: { 'default/s1': ['192.168.1.79'] },
  },
  {
    name: 'annotation with spaces and a trailing comma',
    config: one(dual),
    services: [svc('s1', { ips: ' 10.0.0.3 , fd00::1, ', policy: 'RequireDualStack' })],
    expect: { 'default/s1': ['10.0.0.3', 'fd00::1'] },
  },
  {
    name: 'requested IPv6 written non-canonically comes out canonical',
    config: one(dual),
    services: [svc('s1', { ip: 'FD00:0:0::0002' })],
    expect: { 'default/s1': ['fd00::2'] },
  },
  {
    name: 'dual-stack services share both addresses',
    config: one(dual),
    services: [
      svc('s1', { policy: 'RequireDualStack', share: 'k', ports: [80] }),
      svc('s2', { policy: 'RequireDualStack', share: 'k', ports: [443] }),
    ],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'], 'default/s2': ['10.0.0.0', 'fd00::'] },
  },
  {
    name: 'requested IP not in any pool',
    config: one(),
    services: [svc('s1', { ip: '10.9.9.9' })],
    expect: { 'default/s1': /^requested IP 10\.9\.9\.9 is not in any pool$/ },
  },
  { name: 'invalid requested IP', config: one(), services: [svc('s1', { ip: '192.168.1' })], expect: { 'default/s1': /"192\.168\.1" is not a valid IP address/ } },
  {
    name: 'both loadBalancerIP and annotation is an error',
    config: one(),
    services: [svc('s1', { ip: '192.168.1.1', ips: '192.168.1.2' })],
    expect: { 'default/s1': /both spec\.loadBalancerIP and the metallb\.io\/loadBalancerIPs/ },
  },
  {
    name: 'requested IP already taken by a non-sharing service',
    config: one(),
    services: [svc('s1', { ip: '192.168.1.5' }), svc('s2', { ip: '192.168.1.5' })],
    expect: { 'default/s1': ['192.168.1.5'], 'default/s2': /IP 192\.168\.1\.5 is already in use by default\/s1/ },
  },
  {
    name: 'requested IPs placed before automatic ones',
    config: one(small),
    services: [svc('a-auto'), svc('z-req', { ip: '10.0.0.1' })],
    expect: { 'default/a-auto': ['10.0.0.2'], 'default/z-req': ['10.0.0.1'] },
  },
  {
    name: 'requested IP from an autoAssign=false pool',
    config: config({ pools: [pool('manual', ['10.5.0.0/24'], { autoAssign: false })] }),
    services: [svc('s1', { ip: '10.5.0.9' })],
    expect: { 'default/s1': ['10.5.0.9'] },
    pools: { 'default/s1': 'manual' },
  },
  {
    name: 'requested IP must match the requested pool',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1', { ip: '10.0.0.4', pool: 'b' })],
    expect: { 'default/s1': /requested IP 10\.0\.0\.4 is in pool a, not in the requested pool b/ },
  },
  {
    name: 'requested IP with a matching pool annotation',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1', { ip: '10.0.1.4', pool: 'b' })],
    expect: { 'default/s1': ['10.0.1.4'] },
  },
  {
    name: 'two IPv4 addresses requested is an error',
    config: one(),
    services: [svc('s1', { ips: '192.168.1.1,192.168.1.2' })],
    expect: { 'default/s1': /more than one IPv4 address requested/ },
  },
  {
    name: 'requested dual-stack pair',
    config: one(dual),
    services: [svc('s1', { ips: 'fd00::2, 10.0.0.2', policy: 'RequireDualStack' })],
    expect: { 'default/s1': ['10.0.0.2', 'fd00::2'] },
  },
  {
    name: 'requested pair across pools is an error',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['fd00::/64'])] }),
    services: [svc('s1', { ips: '10.0.0.1,fd00::1', policy: 'PreferDualStack' })],
    expect: { 'default/s1': /requested IPs are in different pools \(a, b\)/ },
  },
  {
    name: 'SingleStack requesting two families is an error',
    config: one(dual),
    services: [svc('s1', { ips: '10.0.0.1,fd00::1' })],
    expect: { 'default/s1': /SingleStack but requests an IPv4 and an IPv6/ },
  },
  {
    name: 'requested IPv6 on an IPv4 service is an error',
    config: one(dual),
    services: [svc('s1', { ip: 'fd00::1', families: ['IPv4'] })],
    expect: { 'default/s1': /fd00::1 is IPv6 but the service's ipFamilies are IPv4/ },
  },
  // --- pool annotation / autoAssign -----------------------------------------------------------
  {
    name: 'address-pool annotation picks the pool',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1', { pool: 'b' })],
    expect: { 'default/s1': ['10.0.1.0'] },
  },
  {
    name: 'address-pool annotation naming a missing pool',
    config: one(),
    services: [svc('s1', { pool: 'nope' })],
    expect: { 'default/s1': /^pool nope does not exist$/ },
  },
  {
    name: 'address-pool annotation on autoAssign=false pool',
    config: config({ pools: [pool('m', ['10.0.0.0/24'], { autoAssign: false })] }),
    services: [svc('s1', { pool: 'm' })],
    expect: { 'default/s1': ['10.0.0.0'] },
  },
  {
    name: 'autoAssign=false pool not used automatically',
    config: config({ pools: [pool('a', ['10.0.0.0/24'], { autoAssign: false }), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1')],
    expect: { 'default/s1': ['10.0.1.0'] },
  },
  {
    name: 'only autoAssign=false pools: clear reason',
    config: config({ pools: [pool('a', ['10.0.0.0/24'], { autoAssign: false })] }),
    services: [svc('s1')],
    expect: { 'default/s1': /no pool with autoAssign serves this service/ },
  },
  {
    name: 'address-pool annotation with legacy prefix',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1', { annotations: { 'metallb.universe.tf/address-pool': 'b' } })],
    expect: { 'default/s1': ['10.0.1.0'] },
  },
  // --- sharing -------------------------------------------------------------------------------
  {
    name: 'same sharing key, different ports share one IP',
    config: one(),
    services: [svc('s1', { share: 'k', ports: [80] }), svc('s2', { share: 'k', ports: [443] })],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': ['192.168.1.0'] },
  },
  {
    name: 'same sharing key, same port: second gets the next IP',
    config: one(),
    services: [svc('s1', { share: 'k', ports: [80] }), svc('s2', { share: 'k', ports: [80] })],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': ['192.168.1.1'] },
  },
  {
    name: 'same port number, different protocol can share',
    config: one(),
    services: [
      svc('s1', { share: 'k', ports: [{ port: 53, protocol: 'TCP' }] }),
      svc('s2', { share: 'k', ports: [{ port: 53, protocol: 'UDP' }] }),
    ],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': ['192.168.1.0'] },
  },
  {
    name: 'requested shared IP with port overlap fails',
    config: one(),
    services: [svc('s1', { share: 'k', ip: '192.168.1.9', ports: [80] }), svc('s2', { share: 'k', ip: '192.168.1.9', ports: [80] })],
    expect: { 'default/s1': ['192.168.1.9'], 'default/s2': /port TCP\/80 is already used by default\/s1 on IP 192\.168\.1\.9/ },
  },
  {
    name: 'requested shared IP with a different key fails',
    config: one(),
    services: [svc('s1', { share: 'k1', ip: '192.168.1.9' }), svc('s2', { share: 'k2', ip: '192.168.1.9', ports: [81] })],
    expect: { 'default/s1': ['192.168.1.9'], 'default/s2': /^sharing key mismatch with default\/s1 on IP 192\.168\.1\.9/ },
  },
  {
    name: 'requested shared IP held by a non-sharing service fails',
    config: one(),
    services: [svc('s1', { ip: '192.168.1.9' }), svc('s2', { share: 'k', ip: '192.168.1.9', ports: [81] })],
    expect: { 'default/s1': ['192.168.1.9'], 'default/s2': /in use by default\/s1, which does not allow sharing/ },
  },
  {
    name: 'Cluster and Local services cannot share',
    config: one(),
    services: [svc('s1', { share: 'k', ip: '192.168.1.9' }), svc('s2', { share: 'k', ip: '192.168.1.9', ports: [81], etp: 'Local' })],
    expect: { 'default/s1': ['192.168.1.9'], 'default/s2': /same externalTrafficPolicy/ },
  },
  {
    name: 'Local services with different selectors cannot share',
    config: one(),
    services: [
      svc('s1', { share: 'k', ip: '192.168.1.9', etp: 'Local', selector: { app: 'x' } }),
      svc('s2', { share: 'k', ip: '192.168.1.9', ports: [81], etp: 'Local', selector: { app: 'y' } }),
    ],
    expect: { 'default/s1': ['192.168.1.9'], 'default/s2': /same selector/ },
  },
  {
    name: 'Local services with the same selector share',
    config: one(),
    services: [
      svc('s1', { share: 'k', etp: 'Local', selector: { app: 'x' } }),
      svc('s2', { share: 'k', ports: [81], etp: 'Local', selector: { app: 'x' } }),
    ],
    expect: { 'default/s1': ['192.168.1.0'], 'default/s2': ['192.168.1.0'] },
  },
  {
    name: 'sharing across namespaces with the same key',
    config: one(),
    services: [svc('s1', { ns: 'n1', share: 'k' }), svc('s2', { ns: 'n2', share: 'k', ports: [81] })],
    expect: { 'n1/s1': ['192.168.1.0'], 'n2/s2': ['192.168.1.0'] },
  },
  {
    name: 'a sharing service joins the lowest compatible IP',
    config: one(),
    services: [svc('a', { share: 'x' }), svc('b'), svc('c', { share: 'y', ports: [81] }), svc('d', { share: 'y', ports: [82] })],
    expect: { 'default/a': ['192.168.1.0'], 'default/b': ['192.168.1.1'], 'default/c': ['192.168.1.2'], 'default/d': ['192.168.1.2'] },
  },
  {
    name: 'three services share one IP',
    config: one(small),
    services: [svc('s1', { share: 'k', ports: [1] }), svc('s2', { share: 'k', ports: [2] }), svc('s3', { share: 'k', ports: [3] })],
    expect: { 'default/s1': ['10.0.0.1'], 'default/s2': ['10.0.0.1'], 'default/s3': ['10.0.0.1'] },
  },
  {
    name: 'non-sharing service never lands on a shared IP',
    config: one(small),
    services: [svc('a', { share: 'k' }), svc('b'), svc('c')],
    expect: { 'default/a': ['10.0.0.1'], 'default/b': ['10.0.0.2'], 'default/c': /pool a exhausted/ },
  },
  // --- serviceAllocation ---------------------------------------------------------------------
  {
    name: 'priority pools tried first',
    config: config({
      pools: [
        pool('a-plain', ['10.0.0.0/24']),
        pool('z-prio', ['10.0.9.0/24'], { serviceAllocation: { priority: 10, namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } }),
      ],
    }),
    services: [svc('s1', { ns: 'team' }), svc('s2', { ns: 'other' })],
    expect: { 'team/s1': ['10.0.9.0'], 'other/s2': ['10.0.0.0'] },
  },
  {
    name: 'lower priority number first',
    config: config({
      pools: [
        pool('p5', ['10.0.5.0/24'], { serviceAllocation: { priority: 5, namespaces: [], namespaceSelectors: [], serviceSelectors: [] } }),
        pool('p1', ['10.0.1.0/24'], { serviceAllocation: { priority: 1, namespaces: [], namespaceSelectors: [], serviceSelectors: [] } }),
      ],
    }),
    services: [svc('s1')],
    expect: { 'default/s1': ['10.0.1.0'] },
  },
  {
    name: 'unset priority after numbered ones, ties by name',
    config: config({
      pools: [
        pool('c-none', ['10.0.3.0/24'], { serviceAllocation: { namespaces: [], namespaceSelectors: [], serviceSelectors: [] } }),
        pool('b-p7', ['10.0.2.0/32'], { serviceAllocation: { priority: 7, namespaces: [], namespaceSelectors: [], serviceSelectors: [] } }),
        pool('a-p7', ['10.0.1.0/32'], { serviceAllocation: { priority: 7, namespaces: [], namespaceSelectors: [], serviceSelectors: [] } }),
      ],
    }),
    services: [svc('s1'), svc('s2'), svc('s3')],
    expect: { 'default/s1': ['10.0.1.0'], 'default/s2': ['10.0.2.0'], 'default/s3': ['10.0.3.0'] },
  },
  {
    name: 'serviceAllocation pool not used by non-matching namespace even when others are full',
    config: config({
      pools: [
        pool('plain', ['10.0.0.1/32']),
        pool('team', ['10.0.9.0/24'], { serviceAllocation: { priority: 1, namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } }),
      ],
    }),
    services: [svc('s1'), svc('s2')],
    expect: { 'default/s1': ['10.0.0.1'], 'default/s2': /^pool plain exhausted$/ },
  },
  {
    name: 'namespaceSelectors match namespace labels',
    config: config({
      pools: [
        pool('plain', ['10.0.0.0/24']),
        pool('prod', ['10.0.9.0/24'], { serviceAllocation: { priority: 1, namespaces: [], namespaceSelectors: [sel({ env: 'prod' })], serviceSelectors: [] } }),
      ],
    }),
    namespaces: [namespace('shop', { env: 'prod' }), namespace('dev', { env: 'dev' })],
    services: [svc('s1', { ns: 'shop' }), svc('s2', { ns: 'dev' })],
    expect: { 'shop/s1': ['10.0.9.0'], 'dev/s2': ['10.0.0.0'] },
  },
  {
    name: 'namespaceSelectors can use kubernetes.io/metadata.name',
    config: config({
      pools: [
        pool('p', ['10.0.9.0/24'], {
          serviceAllocation: { namespaces: [], namespaceSelectors: [sel({ 'kubernetes.io/metadata.name': 'x' })], serviceSelectors: [] },
        }),
      ],
    }),
    services: [svc('s1', { ns: 'x' }), svc('s2', { ns: 'y' })],
    expect: { 'x/s1': ['10.0.9.0'], 'y/s2': /no pool serves this service/ },
  },
  {
    name: 'serviceSelectors match service labels',
    config: config({
      pools: [
        pool('plain', ['10.0.0.0/24']),
        pool('web', ['10.0.9.0/24'], { serviceAllocation: { priority: 1, namespaces: [], namespaceSelectors: [], serviceSelectors: [sel({ tier: 'web' })] } }),
      ],
    }),
    services: [svc('s1', { labels: { tier: 'web' } }), svc('s2', { labels: { tier: 'db' } })],
    expect: { 'default/s1': ['10.0.9.0'], 'default/s2': ['10.0.0.0'] },
  },
  {
    name: 'namespace and service selectors must both match',
    config: config({
      pools: [
        pool('plain', ['10.0.0.0/24']),
        pool('p', ['10.0.9.0/24'], { serviceAllocation: { priority: 1, namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [sel({ tier: 'web' })] } }),
      ],
    }),
    services: [svc('s1', { ns: 'team', labels: { tier: 'web' } }), svc('s2', { ns: 'team' }), svc('s3', { labels: { tier: 'web' } })],
    expect: { 'team/s1': ['10.0.9.0'], 'team/s2': ['10.0.0.1'], 'default/s3': ['10.0.0.0'] },
  },
  {
    name: 'requested IP in a pool that does not serve the service',
    config: config({
      pools: [pool('p', ['10.0.9.0/24'], { serviceAllocation: { namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } })],
    }),
    services: [svc('s1', { ip: '10.0.9.9' })],
    expect: { 'default/s1': /pool p does not serve this service/ },
  },
  {
    name: 'pool annotation naming a pool that does not serve the service',
    config: config({
      pools: [pool('p', ['10.0.9.0/24'], { serviceAllocation: { namespaces: ['team'], namespaceSelectors: [], serviceSelectors: [] } })],
    }),
    services: [svc('s1', { pool: 'p' })],
    expect: { 'default/s1': /pool p does not serve this service/ },
  },
  // --- dual-stack ----------------------------------------------------------------------------
  {
    name: 'RequireDualStack gets one IP per family from one pool',
    config: one(dual),
    services: [svc('s1', { policy: 'RequireDualStack', families: ['IPv4', 'IPv6'] })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
  },
  {
    name: 'IPv6-first ipFamilies still lists IPv4 first',
    config: one(dual),
    services: [svc('s1', { policy: 'RequireDualStack', families: ['IPv6', 'IPv4'] })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
  },
  {
    name: 'RequireDualStack skips single-family pools',
    config: config({ pools: [pool('a-v4', ['10.1.0.0/24']), dual] }),
    services: [svc('s1', { policy: 'RequireDualStack' })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
    pools: { 'default/s1': 'd' },
  },
  {
    name: 'RequireDualStack without a dual pool fails',
    config: one(pool('a', ['10.1.0.0/24'])),
    services: [svc('s1', { policy: 'RequireDualStack' })],
    expect: { 'default/s1': /pool a has no IPv6 addresses/ },
  },
  {
    name: 'PreferDualStack takes both when the pool has both',
    config: one(dual),
    services: [svc('s1', { policy: 'PreferDualStack' })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
  },
  // MetalLB's allocator (findBestPoolForService): for PreferDualStack with both families, a pool
  // that gives every family wins over single-family pools whatever their order; with only
  // single-family pools the primary family (ipFamilies[0], IPv4 when unset) decides.
  {
    name: 'PreferDualStack: a dual-stack pool wins over single-family pools that come first',
    config: config({ pools: [pool('a-v4', ['10.1.0.0/24']), pool('b-v6', ['fd01::/120']), dual] }),
    services: [svc('s1', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
    pools: { 'default/s1': 'd' },
  },
  {
    name: 'PreferDualStack, IPv6 primary: still the dual-stack pool first',
    config: config({ pools: [pool('a-v6', ['fd01::/120']), dual] }),
    services: [svc('s1', { policy: 'PreferDualStack', families: ['IPv6', 'IPv4'] })],
    expect: { 'default/s1': ['10.0.0.0', 'fd00::'] },
    pools: { 'default/s1': 'd' },
  },
  {
    name: 'PreferDualStack with only single-family pools: ipFamilies[0] = IPv6 takes the IPv6 pool although an IPv4 pool comes first',
    config: config({ pools: [pool('a-v4', ['10.1.0.0/24']), pool('b-v6', ['fd01::/120'])] }),
    services: [svc('s1', { policy: 'PreferDualStack', families: ['IPv6', 'IPv4'] })],
    expect: { 'default/s1': ['fd01::'] },
    pools: { 'default/s1': 'b-v6' },
  },
  {
    name: 'PreferDualStack with only single-family pools: ipFamilies[0] = IPv4 takes the IPv4 pool although an IPv6 pool comes first',
    config: config({ pools: [pool('a-v6', ['fd01::/120']), pool('b-v4', ['10.1.0.0/24'])] }),
    services: [svc('s1', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] })],
    expect: { 'default/s1': ['10.1.0.0'] },
    pools: { 'default/s1': 'b-v4' },
  },
  {
    name: 'PreferDualStack: the primary family\'s pool exhausted, the secondary family serves',
    config: config({ pools: [pool('a-v4', ['10.1.0.0/32']), pool('b-v6', ['fd01::/120'])] }),
    services: [svc('s0', { policy: 'SingleStack', families: ['IPv4'] }), svc('s1', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] })],
    expect: { 'default/s0': ['10.1.0.0'], 'default/s1': ['fd01::'] },
  },
  {
    name: 'PreferDualStack: pools pinned by serviceAllocation are tried first, even single-family ones',
    config: config({
      pools: [pool('z-v4', ['10.1.0.0/24'], { serviceAllocation: { priority: 1, namespaces: ['default'], namespaceSelectors: [], serviceSelectors: [] } }), dual],
    }),
    services: [svc('s1', { policy: 'PreferDualStack', families: ['IPv4', 'IPv6'] })],
    expect: { 'default/s1': ['10.1.0.0'] },
    pools: { 'default/s1': 'z-v4' },
  },
  {
    name: 'PreferDualStack takes one family from a single-family pool',
    config: one(pool('a', ['10.1.0.0/24'])),
    services: [svc('s1', { policy: 'PreferDualStack' })],
    expect: { 'default/s1': ['10.1.0.0'] },
  },
  {
    name: 'IPv6 single stack',
    config: one(dual),
    services: [svc('s1', { families: ['IPv6'] })],
    expect: { 'default/s1': ['fd00::'] },
  },
  {
    name: 'family unknown: IPv6-only pool gives IPv6',
    config: one(pool('a', ['2001:db8::/64'])),
    services: [svc('s1')],
    expect: { 'default/s1': ['2001:db8::'] },
  },
  {
    name: 'IPv4 service skips an IPv6-only pool',
    config: config({ pools: [pool('a6', ['2001:db8::/64']), pool('b4', ['10.0.0.0/24'])] }),
    services: [svc('s1', { families: ['IPv4'] })],
    expect: { 'default/s1': ['10.0.0.0'] },
  },
  {
    name: 'dual-stack exhaustion of one family fails the whole service',
    config: one(pool('d', ['10.0.0.1/32', 'fd00::/120'])),
    services: [svc('s1', { policy: 'RequireDualStack' }), svc('s2', { policy: 'RequireDualStack' })],
    expect: { 'default/s1': ['10.0.0.1', 'fd00::'], 'default/s2': /pool d exhausted \(no free IPv4 address\)/ },
  },
  {
    name: 'family from clusterIP',
    config: one(dual),
    services: [(() => {
      const s = svc('s1');
      s.spec.clusterIP = 'fd12::5';
      return s;
    })()],
    expect: { 'default/s1': ['fd00::'] },
  },
  // --- restarts / previous -------------------------------------------------------------------
  {
    name: 'previous assignment kept over a lower free address',
    config: one(),
    services: [svc('s1')],
    previous: { 'default/s1': { ips: ['192.168.1.50'], pool: 'a' } },
    expect: { 'default/s1': ['192.168.1.50'] },
    changed: { 'default/s1': false },
  },
  {
    name: 'previous holder keeps its IP against a new requester',
    config: one(),
    services: [svc('a-new', { ip: '192.168.1.50' }), svc('b-old')],
    previous: { 'default/b-old': { ips: ['192.168.1.50'], pool: 'a' } },
    expect: { 'default/b-old': ['192.168.1.50'], 'default/a-new': /already in use by default\/b-old/ },
  },
  {
    name: 'previous IP outside every pool is reallocated',
    config: one(),
    services: [svc('s1')],
    previous: { 'default/s1': { ips: ['10.9.9.9'], pool: 'old' } },
    expect: { 'default/s1': ['192.168.1.0'] },
    changed: { 'default/s1': true },
  },
  {
    name: 'previous IP no longer matching the request is replaced',
    config: one(),
    services: [svc('s1', { ip: '192.168.1.7' })],
    previous: { 'default/s1': { ips: ['192.168.1.3'], pool: 'a' } },
    expect: { 'default/s1': ['192.168.1.7'] },
  },
  {
    name: 'previous IP in another pool than the annotation is replaced',
    config: config({ pools: [pool('a', ['10.0.0.0/24']), pool('b', ['10.0.1.0/24'])] }),
    services: [svc('s1', { pool: 'b' })],
    previous: { 'default/s1': { ips: ['10.0.0.3'], pool: 'a' } },
    expect: { 'default/s1': ['10.0.1.0'] },
  },
  {
    name: 'previous pool renamed: address kept, pool updated',
    config: config({ pools: [pool('new', ['10.0.0.0/24'])] }),
    services: [svc('s1')],
    previous: { 'default/s1': { ips: ['10.0.0.3'], pool: 'old' } },
    expect: { 'default/s1': ['10.0.0.3'] },
    pools: { 'default/s1': 'new' },
    changed: { 'default/s1': true },
  },
  {
    name: 'previous assignment kept in an autoAssign=false pool',
    config: config({ pools: [pool('m', ['10.0.0.0/24'], { autoAssign: false })] }),
    services: [svc('s1')],
    previous: { 'default/s1': { ips: ['10.0.0.3'], pool: 'm' } },
    expect: { 'default/s1': ['10.0.0.3'] },
  },
  {
    name: 'previous conflicting holders: first key wins, the other is moved',
    config: one(),
    services: [svc('s1'), svc('s2')],
    previous: { 'default/s1': { ips: ['192.168.1.4'], pool: 'a' }, 'default/s2': { ips: ['192.168.1.4'], pool: 'a' } },
    expect: { 'default/s1': ['192.168.1.4'], 'default/s2': ['192.168.1.0'] },
  },
  {
    name: 'service turned ClusterIP loses its previous assignment',
    config: one(),
    services: [svc('s1', { type: 'ClusterIP' })],
    previous: { 'default/s1': { ips: ['192.168.1.4'], pool: 'a' } },
    expect: { 'default/s1': 'ignored' },
    changed: { 'default/s1': true },
  },
  {
    name: 'previous buggy IP released when avoidBuggyIPs is on',
    config: one(pool('a', ['192.168.1.0/24'], { avoidBuggyIPs: true })),
    services: [svc('s1')],
    previous: { 'default/s1': { ips: ['192.168.1.0'], pool: 'a' } },
    expect: { 'default/s1': ['192.168.1.1'] },
  },
  {
    name: 'previous single-stack kept when the service becomes PreferDualStack',
    config: one(dual),
    services: [svc('s1', { policy: 'PreferDualStack' })],
    previous: { 'default/s1': { ips: ['10.0.0.2'], pool: 'd' } },
    expect: { 'default/s1': ['10.0.0.2'] },
  },
  {
    name: 'previous v4 reused when the service becomes RequireDualStack',
    config: one(dual),
    services: [svc('s1', { policy: 'RequireDualStack' })],
    previous: { 'default/s1': { ips: ['10.0.0.2'], pool: 'd' } },
    expect: { 'default/s1': ['10.0.0.2', 'fd00::'] },
  },
  {
    name: 'deleted services free their previous addresses',
    config: one(small),
    services: [svc('s3')],
    previous: { 'default/s1': { ips: ['10.0.0.1'], pool: 'a' }, 'default/s2': { ips: ['10.0.0.2'], pool: 'a' } },
    expect: { 'default/s3': ['10.0.0.1'] },
  },
];

test('allocator corpus has at least 60 cases', () => {
  assert.ok(cases.length >= 60, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`allocate: ${c.name}`, () => {
    const input: Parameters<typeof allocate>[0] = { config: c.config, services: c.services, previous: c.previous ?? {} };
    if (c.namespaces) input.namespaces = c.namespaces;
    if (c.lbClass !== undefined) input.loadBalancerClass = c.lbClass;
    const out = allocate(input);
    const byKey = new Map(out.results.map((r) => [r.key, r]));
    for (const [key, exp] of Object.entries(c.expect)) {
      const r = byKey.get(key);
      if (exp === 'ignored') {
        assert.equal(out.assignments[key], undefined, `${key} must have no assignment`);
        assert.equal(r?.error, undefined);
        continue;
      }
      assert.ok(r, `no result for ${key}`);
      if (exp instanceof RegExp) {
        assert.equal(r.assignment, undefined, `${key} unexpectedly got ${JSON.stringify(r.assignment)}`);
        assert.match(r.error ?? '', exp);
        assert.equal(out.assignments[key], undefined);
      } else {
        assert.equal(r.error, undefined, `${key}: ${r.error}`);
        assert.deepEqual(r.assignment?.ips, exp, key);
        assert.deepEqual(out.assignments[key], r.assignment);
      }
    }
    for (const [key, p] of Object.entries(c.pools ?? {})) assert.equal(out.assignments[key]?.pool, p);
    for (const [key, ch] of Object.entries(c.changed ?? {})) assert.equal(byKey.get(key)?.changed, ch, `${key} changed`);
    // determinism: same input, same output
    assert.deepEqual(allocate(input), out);
    // results are sorted by key
    const keys = out.results.map((r) => r.key);
    assert.deepEqual(keys, [...keys].sort());
  });
}


// zod schema of frr-k8s's FRRConfiguration (frrk8s.metallb.io/v1beta1): the same fields and
// bounds as frr-k8s's CRD, so that a valid frr-k8s object is a valid object here and both CRDs
// can be installed side by side. What each field does in metallb-ts (or the warning when it
// cannot) is in stages/frr.ts and docs/configuration.md.

import { z } from 'zod';
import { LabelSelectorSchema } from './schema.ts';

export const FRRK8S_GROUP = 'frrk8s.metallb.io';

const UINT32_MAX = 4294967295;
const d = (description: string) => ({ description });

const PrefixSelectorSchema = z.strictObject({
  // required in meaning (stages/frr.ts says so with the field path), optional in the CRD like frr-k8s's
  prefix: z.string().meta(d('Prefix (CIDR) a received route must fall in.')).optional(),
  le: z.int().min(1).max(128).meta(d('Accept prefix lengths up to this value.')).optional(),
  ge: z.int().min(1).max(128).meta(d('Accept prefix lengths from this value.')).optional(),
});

const AllowMode = z.enum(['all', 'filtered']);

const ReceiveSchema = z.strictObject({
  allowed: z
    .strictObject({
      prefixes: z.array(PrefixSelectorSchema).optional(),
      mode: AllowMode.meta(d('all: every prefix; filtered (default): only the listed prefixes.')).optional(),
    })
    .optional(),
});

const AdvertiseSchema = z.strictObject({
  allowed: z
    .strictObject({
      prefixes: z.array(z.string()).optional(),
      mode: AllowMode.optional(),
    })
    .optional(),
  // toAdvertise is not used by metallb-ts (a warning): accepted as loosely as frr-k8s's CRD does
  withLocalPref: z.array(z.strictObject({ prefixes: z.array(z.string()).min(1).optional(), localPref: z.int().optional() })).optional(),
  withCommunity: z.array(z.strictObject({ prefixes: z.array(z.string()).min(1).optional(), community: z.string().optional() })).optional(),
  nextHop: z.strictObject({ ipv4: z.string().optional(), ipv6: z.string().optional() }).optional(),
});

/** frr-k8s `addressFamilies`: unicast (default) and/or L2VPN EVPN. */
const AddressFamily = z.enum(['unicast', 'evpn']);

const NeighborSchema = z.strictObject({
  asn: z.int().min(0).max(UINT32_MAX).meta(d('AS number of the neighbor.')).optional(),
  dynamicASN: z.enum(['internal', 'external']).optional(),
  sourceaddress: z.string().optional(),
  address: z.string().optional(),
  interface: z.string().optional(),
  port: z.int().min(0).max(16384).optional(),
  password: z.string().optional(),
  passwordSecret: z.strictObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  holdTime: z.string().optional(),
  keepaliveTime: z.string().optional(),
  connectTime: z.string().optional(),
  ebgpMultiHop: z.boolean().optional(),
  bfdProfile: z.string().optional(),
  enableGracefulRestart: z.boolean().optional(),
  toAdvertise: AdvertiseSchema.optional(),
  toReceive: ReceiveSchema.optional(),
  disableMP: z.boolean().optional(),
  dualStackAddressFamily: z.boolean().optional(),
  localASN: z.int().min(1).max(UINT32_MAX).meta(d('AS number presented to this eBGP neighbor instead of the router ASN.')).optional(),
  addressFamilies: z.array(AddressFamily).max(2).optional(),
});

/**
 * frr-k8s `evpn` of a router (VNIs, route targets). metallb-ts does not speak EVPN: the block is
 * accepted with frr-k8s's shape and ignored with a warning (stages/frr.ts).
 */
const EVPNSchema = z.looseObject({
  advertiseVNIs: z.string().optional(),
  advertiseSVI: z.boolean().optional(),
  l2vnis: z.array(z.looseObject({})).max(10).optional(),
  l3vni: z.looseObject({}).optional(),
});

const RouterSchema = z.strictObject({
  asn: z.int().min(0).max(UINT32_MAX).meta(d('Local AS number of this router.')),
  id: z.string().optional(),
  vrf: z.string().optional(),
  neighbors: z.array(NeighborSchema).optional(),
  prefixes: z.array(z.string()).optional(),
  imports: z.array(z.strictObject({ vrf: z.string().optional() })).optional(),
  evpn: EVPNSchema.optional(),
});

const FRRBFDProfileSchema = z.strictObject({
  name: z.string(),
  receiveInterval: z.int().min(10).max(60000).optional(),
  transmitInterval: z.int().min(10).max(60000).optional(),
  detectMultiplier: z.int().min(2).max(255).optional(),
  echoInterval: z.int().min(10).max(60000).optional(),
  echoMode: z.boolean().optional(),
  passiveMode: z.boolean().optional(),
  minimumTtl: z.int().min(1).max(254).optional(),
});

export const FRRConfigurationSpecSchema = z.strictObject({
  bgp: z
    .strictObject({
      routers: z.array(RouterSchema).max(50).optional(),
      bfdProfiles: z.array(FRRBFDProfileSchema).optional(),
    })
    .optional(),
  raw: z.strictObject({ priority: z.int().optional(), rawConfig: z.string().optional() }).optional(),
  nodeSelector: LabelSelectorSchema.optional(),
});

export type FRRConfigurationSpec = z.output<typeof FRRConfigurationSpecSchema>;
export type FRRRouterSpec = z.output<typeof RouterSchema>;
export type FRRNeighborSpec = z.output<typeof NeighborSchema>;

/** spec schema per frr-k8s kind and version. */
export const FRR_SPEC_SCHEMAS: Record<string, Record<string, z.ZodType>> = {
  FRRConfiguration: { v1beta1: FRRConfigurationSpecSchema },
};

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
  prefix: z.string().meta(d('Prefix (CIDR) a received route must fall in.')),
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
  withLocalPref: z.array(z.strictObject({ prefixes: z.array(z.string()).min(1), localPref: z.int().min(0).max(UINT32_MAX) })).optional(),
  withCommunity: z.array(z.strictObject({ prefixes: z.array(z.string()).min(1), community: z.string() })).optional(),
});

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
});

const RouterSchema = z.strictObject({
  asn: z.int().min(0).max(UINT32_MAX).meta(d('Local AS number of this router.')),
  id: z.string().optional(),
  vrf: z.string().optional(),
  neighbors: z.array(NeighborSchema).optional(),
  prefixes: z.array(z.string()).optional(),
  imports: z.array(z.strictObject({ vrf: z.string().optional() })).optional(),
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
      routers: z.array(RouterSchema).optional(),
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

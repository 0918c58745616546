// zod schemas of every metallb.io kind/version and of the legacy ConfigMap `config` document.
// ONE definition per kind/version drives both the structural validation done by `buildConfig`
// and the CRD OpenAPI schema (`crdOpenAPISchema`). Cross-object and semantic rules (IP
// parsing, references, timers, overlaps...) are plain code in build.ts.

import { z } from 'zod';

const UINT32_MAX = 4294967295;

const str = (description?: string) => (description ? z.string().meta({ description }) : z.string());
const bool = (description: string) => z.boolean().meta({ description });
const uint32 = (description: string) => z.int().min(0).max(UINT32_MAX).meta({ description });
const intRange = (min: number, max: number, description: string) => z.int().min(min).max(max).meta({ description });
const strList = (description: string) => z.array(z.string()).meta({ description });

export const LabelSelectorRequirementSchema = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

export const LabelSelectorSchema = z
  .strictObject({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
  })
  .meta({ description: 'Kubernetes label selector: AND of all matchLabels and matchExpressions.' });

const selectors = (description: string) => z.array(LabelSelectorSchema).meta({ description });

export const ServiceAllocationSchema = z.strictObject({
  priority: z.int().meta({ description: 'Lower values are tried first.' }).optional(),
  namespaces: strList('Namespaces whose Services may use this pool.').optional(),
  namespaceSelectors: selectors('Namespaces (by label) whose Services may use this pool.').optional(),
  serviceSelectors: selectors('Services (by label) that may use this pool.').optional(),
});

export const IPAddressPoolSpecSchema = z.strictObject({
  addresses: z
    .array(z.string())
    .meta({ description: 'CIDRs (`10.0.0.0/24`) or inclusive ranges (`10.0.0.1-10.0.0.9`), IPv4 and/or IPv6.' }),
  autoAssign: bool('Whether IPs are handed out automatically (default true).').optional(),
  avoidBuggyIPs: bool('Skip .0 and .255 addresses (default false).').optional(),
  serviceAllocation: ServiceAllocationSchema.optional(),
});

export const BGPAdvertisementSpecSchema = z.strictObject({
  ipAddressPools: strList('Names of the pools advertised.').optional(),
  ipAddressPoolSelectors: selectors('Pools (by label) advertised.').optional(),
  serviceSelectors: selectors('Only Services matching one of these.').optional(),
  aggregationLength: intRange(1, 32, 'IPv4 aggregation prefix length (default 32).').optional(),
  aggregationLengthV6: intRange(1, 128, 'IPv6 aggregation prefix length (default 128).').optional(),
  localPref: uint32('BGP LOCAL_PREF attribute.').optional(),
  localpref: uint32('Accepted alias of localPref (as written in some MetalLB documents).').optional(),
  communities: strList('Communities: `A:B`, `large:A:B:C` or a Community alias.').optional(),
  peers: strList('BGPPeer names to advertise to; empty = all.').optional(),
  nodeSelectors: selectors('Nodes that announce; empty = all.').optional(),
});

export const PreferredNodeSelectorSchema = z.strictObject({
  weight: intRange(1, 100, 'Preference weight 1..100.'),
  preference: LabelSelectorSchema,
});

export const L2AdvertisementSpecSchema = z.strictObject({
  ipAddressPools: strList('Names of the pools advertised.').optional(),
  ipAddressPoolSelectors: selectors('Pools (by label) advertised.').optional(),
  serviceSelectors: selectors('Only Services matching one of these.').optional(),
  nodeSelectors: selectors('Nodes that may announce; empty = all.').optional(),
  interfaces: strList('Interfaces to announce from; empty = automatic.').optional(),
  preferredNodeSelectors: z.array(PreferredNodeSelectorSchema).meta({ description: 'Weighted node preferences.' }).optional(),
});

export const CommunitySpecSchema = z.strictObject({
  communities: z
    .array(z.strictObject({ name: z.string(), value: z.string() }))
    .meta({ description: 'Aliases: name -> `A:B` or `large:A:B:C`.' })
    .optional(),
});

export const BFDProfileSpecSchema = z.strictObject({
  receiveInterval: intRange(10, 60000, 'Minimum receive interval in ms (default 300).').optional(),
  transmitInterval: intRange(10, 60000, 'Minimum transmit interval in ms (default 300).').optional(),
  detectMultiplier: intRange(2, 255, 'Detection multiplier (default 3).').optional(),
  echoInterval: intRange(10, 60000, 'Echo interval in ms (default 50).').optional(),
  echoMode: bool('Enable echo mode (default false).').optional(),
  passiveMode: bool('Passive mode (default false).').optional(),
  minimumTtl: intRange(1, 254, 'Minimum incoming TTL (default 254).').optional(),
});

const duration = (description: string) => z.string().meta({ description: `${description} Go duration, e.g. "90s", "1m30s".` });

const peerCommon = {
  myASN: uint32('Local AS number.'),
  peerASN: uint32('Remote AS number.').optional(),
  peerAddress: str('Address of the peer.').optional(),
  sourceAddress: str('Source address of the session.').optional(),
  peerPort: intRange(1, 16384, 'TCP port of the peer (default 179).').optional(),
  holdTime: duration('BGP hold time.').optional(),
  keepaliveTime: duration('BGP keepalive time.').optional(),
  routerID: str('BGP identifier override (IPv4 format).').optional(),
  password: str('TCP MD5 password.').optional(),
  bfdProfile: str('Name of a BFDProfile.').optional(),
  ebgpMultiHop: bool('Allow multi-hop eBGP.').optional(),
  nodeSelectors: selectors('Nodes that peer; empty = all.').optional(),
};

export const BGPPeerV1beta1SpecSchema = z.strictObject(peerCommon);

export const BGPPeerV1beta2SpecSchema = z.strictObject({
  ...peerCommon,
  dynamicASN: z.enum(['internal', 'external']).meta({ description: 'Accept any ASN of this type instead of peerASN.' }).optional(),
  localASN: uint32('AS presented to the peer instead of myASN.').optional(),
  interface: str('Unnumbered BGP over this interface instead of peerAddress.').optional(),
  connectTime: duration('Time between connection attempts.').optional(),
  passwordSecret: z
    .strictObject({ name: z.string(), namespace: z.string().optional() })
    .meta({ description: 'basic-auth Secret holding key `password`.' })
    .optional(),
  vrf: str('VRF the session runs in; empty = default.').optional(),
  enableGracefulRestart: bool('Advertise graceful restart.').optional(),
  disableMP: bool('One session per address family instead of multiprotocol.').optional(),
  dualStackAddressFamily: bool('Advertise both families over one session.').optional(),
});

export type LabelSelectorInput = z.output<typeof LabelSelectorSchema>;
export type IPAddressPoolSpec = z.output<typeof IPAddressPoolSpecSchema>;
export type BGPAdvertisementSpec = z.output<typeof BGPAdvertisementSpecSchema>;
export type L2AdvertisementSpec = z.output<typeof L2AdvertisementSpecSchema>;
export type CommunitySpec = z.output<typeof CommunitySpecSchema>;
export type BFDProfileSpec = z.output<typeof BFDProfileSpecSchema>;
export type BGPPeerSpec = z.output<typeof BGPPeerV1beta2SpecSchema>;

export const METALLB_GROUP = 'metallb.io';

/** spec schema per `kind` and API version (`v1beta1`, `v1beta2`). */
export const SPEC_SCHEMAS: Record<string, Record<string, z.ZodType>> = {
  IPAddressPool: { v1beta1: IPAddressPoolSpecSchema },
  BGPPeer: { v1beta1: BGPPeerV1beta1SpecSchema, v1beta2: BGPPeerV1beta2SpecSchema },
  BGPAdvertisement: { v1beta1: BGPAdvertisementSpecSchema },
  L2Advertisement: { v1beta1: L2AdvertisementSpecSchema },
  Community: { v1beta1: CommunitySpecSchema },
  BFDProfile: { v1beta1: BFDProfileSpecSchema },
};

/** Kinds whose spec is required (every other kind accepts a missing spec as empty). */
export const SPEC_REQUIRED = new Set(['IPAddressPool', 'BGPPeer']);

// ---------------------------------------------------------------------------------------------
// Legacy ConfigMap `config` document (MetalLB <= 0.12).

const legacySelector = z.strictObject({
  'match-labels': z.record(z.string(), z.string()).optional(),
  'match-expressions': z.array(LabelSelectorRequirementSchema).optional(),
});

export const LegacyPeerSchema = z.strictObject({
  'my-asn': uint32('Local AS number.'),
  'peer-asn': uint32('Remote AS number.'),
  'peer-address': z.string(),
  'source-address': z.string().optional(),
  'peer-port': intRange(1, 16384, 'TCP port (default 179).').optional(),
  'hold-time': z.string().optional(),
  'keepalive-time': z.string().optional(),
  'router-id': z.string().optional(),
  'node-selectors': z.array(legacySelector).optional(),
  password: z.string().optional(),
  'bfd-profile': z.string().optional(),
  'ebgp-multihop': z.boolean().optional(),
});

export const LegacyBGPAdvertisementSchema = z.strictObject({
  'aggregation-length': intRange(1, 32, '').optional(),
  'aggregation-length-v6': intRange(1, 128, '').optional(),
  localpref: uint32('').optional(),
  communities: z.array(z.string()).optional(),
});

export const LegacyPoolSchema = z.strictObject({
  name: z.string(),
  protocol: z.enum(['bgp', 'layer2']),
  addresses: z.array(z.string()),
  'auto-assign': z.boolean().optional(),
  'avoid-buggy-ips': z.boolean().optional(),
  'bgp-advertisements': z.array(LegacyBGPAdvertisementSchema).optional(),
});

export const LegacyBFDProfileSchema = z.strictObject({
  name: z.string(),
  'receive-interval': BFDProfileSpecSchema.shape.receiveInterval,
  'transmit-interval': BFDProfileSpecSchema.shape.transmitInterval,
  'detect-multiplier': BFDProfileSpecSchema.shape.detectMultiplier,
  'echo-interval': BFDProfileSpecSchema.shape.echoInterval,
  'echo-mode': z.boolean().optional(),
  'passive-mode': z.boolean().optional(),
  'minimum-ttl': BFDProfileSpecSchema.shape.minimumTtl,
});

export const LegacyConfigSchema = z.strictObject({
  peers: z.array(LegacyPeerSchema).nullish(),
  'address-pools': z.array(LegacyPoolSchema).nullish(),
  'bgp-communities': z.record(z.string(), z.string()).nullish(),
  'bfd-profiles': z.array(LegacyBFDProfileSchema).nullish(),
});

export type LegacyConfig = z.output<typeof LegacyConfigSchema>;

// ---------------------------------------------------------------------------------------------
// CRD OpenAPI

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SAFE = 9007199254740991;

/** Turns zod's JSON Schema into a Kubernetes structural schema. */
function structural(node: Json): Json {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$schema' || k === 'propertyNames' || k === 'id') continue;
    if (k === 'additionalProperties' && v === false) continue;
    if ((k === 'minimum' && v === -SAFE) || (k === 'maximum' && v === SAFE)) continue;
    if (k === 'description' && v === '') continue;
    if (k === 'properties' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // field names, not schema keywords: a field may be called `id` (FRRConfiguration router id)
      const props: { [k: string]: Json } = {};
      for (const [name, sub] of Object.entries(v)) props[name] = structural(sub);
      out[k] = props;
      continue;
    }
    out[k] = structural(v);
  }
  // int-or-string unions
  const anyOf = out['anyOf'];
  if (Array.isArray(anyOf)) {
    const types = anyOf.map((a) => (a && typeof a === 'object' && !Array.isArray(a) ? a['type'] : undefined));
    if (types.length === 2 && types.includes('integer') && types.includes('string')) {
      delete out['anyOf'];
      out['x-kubernetes-int-or-string'] = true;
    }
  }
  if (out['type'] === 'integer' && out['format'] === undefined) {
    const max = out['maximum'];
    out['format'] = typeof max === 'number' && max <= 2147483647 ? 'int32' : 'int64';
  }
  return out;
}

/**
 * The `openAPIV3Schema` of the CRD of `kind` at `version` (e.g. `('BGPPeer', 'v1beta2')`), as a
 * Kubernetes structural schema. Throws for an unknown kind/version.
 */
export function crdOpenAPISchema(kind: string, version: string): object {
  const spec = SPEC_SCHEMAS[kind]?.[version];
  if (!spec) throw new Error(`no schema for ${kind} ${METALLB_GROUP}/${version}`);
  return openAPISchemaOf(spec, kind, `${kind} is a MetalLB ${kind} object (${METALLB_GROUP}/${version}).`);
}

/** A CRD's structural `openAPIV3Schema` with `spec` from a zod schema (used for other groups' kinds too). */
export function openAPISchemaOf(spec: z.ZodType, kind: string, description: string): object {
  const specJson = structural(z.toJSONSchema(spec, { io: 'input', unrepresentable: 'any' }) as Json);
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: specJson,
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    ...(SPEC_REQUIRED.has(kind) ? { required: ['spec'] } : {}),
  };
}

/** Every (kind, version) pair with a CRD schema. */
export function crdVersions(): { kind: string; version: string }[] {
  const out: { kind: string; version: string }[] = [];
  for (const [kind, versions] of Object.entries(SPEC_SCHEMAS)) {
    for (const version of Object.keys(versions)) out.push({ kind, version });
  }
  return out;
}

// Stage "intake": every loaded document is sorted by kind, checked against its schema (with
// precise messages and suggestions), and turned into Items; legacy ConfigMaps go through the
// legacy stage. Objects that are not configuration are passed over.

import type { z } from 'zod';
import { closest, zodIssues } from '../issues.ts';
import { isRecord } from '../path.ts';
import {
  METALLB_GROUP,
  SPEC_REQUIRED,
  SPEC_SCHEMAS,
  type BFDProfileSpec,
  type BGPAdvertisementSpec,
  type BGPPeerSpec,
  type CommunitySpec,
  type IPAddressPoolSpec,
  type L2AdvertisementSpec,
} from '../schema.ts';
import { FRR_SPEC_SCHEMAS, FRRK8S_GROUP, type FRRConfigurationSpec } from '../frrschema.ts';
import type { LoadedObject } from '../types.ts';
import { crdItem, dropNulls, markBroken, type Diags, type Item, type Parsed } from './item.ts';
import { configMapIntake, isBareLegacy, legacyIntake } from './legacy.ts';

/** Kinds that are cluster inputs, not configuration: accepted and ignored here. */
export const IGNORED_KINDS = new Set(['Service', 'Node', 'EndpointSlice', 'Namespace', 'Secret']);


const KNOWN_KINDS = [...Object.keys(SPEC_SCHEMAS), ...Object.keys(FRR_SPEC_SCHEMAS), 'ConfigMap', ...IGNORED_KINDS];
const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/** API groups of Kubernetes itself that are not `*.k8s.io`. */
const KUBERNETES_GROUPS = new Set(['', 'apps', 'batch', 'policy', 'autoscaling', 'extensions']);

/**
 * Whose object this is, from the group of its apiVersion: MetalLB's (metallb.io, or a near miss
 * of it, reported by the checks of our kinds), frr-k8s's, Kubernetes' own, or another
 * product's (e.g. openpe.openperouter.github.io, crd.projectcalico.org).
 */
export function apiGroupOwner(apiVersion: string): 'metallb' | 'frrk8s' | 'kubernetes' | 'foreign' {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  if (group === METALLB_GROUP) return 'metallb';
  if (group === FRRK8S_GROUP) return 'frrk8s';
  if (KUBERNETES_GROUPS.has(group) || group.endsWith('.k8s.io')) return 'kubernetes';
  if (closest(group, [METALLB_GROUP, FRRK8S_GROUP]) !== undefined) return 'metallb';
  return 'foreign';
}

export function intake(objects: LoadedObject[], d: Diags): Parsed {
  const out: Parsed = { pools: [], peers: [], bgpAdvs: [], l2Advs: [], communities: [], bfds: [], frrConfigs: [], broken: new Map() };
  for (const lo of objects) {
    const obj = lo.object;
    if (isBareLegacy(obj)) {
      legacyIntake(lo, obj, [], (p) => lo.lineOf(p), 'LegacyConfig', '', out, d);
      continue;
    }
    const kind = obj['kind'];
    if (kind === undefined || kind === null) {
      d.raw(lo, ['kind'], 'required field is missing');
      continue;
    }
    if (typeof kind !== 'string') {
      d.raw(lo, ['kind'], 'must be a string');
      continue;
    }
    const apiVersionText = obj['apiVersion'];
    const owner = typeof apiVersionText === 'string' ? apiGroupOwner(apiVersionText) : undefined;
    if (owner === 'foreign' || (owner === 'frrk8s' && kind !== 'FRRConfiguration')) {
      // another product's object (or an frr-k8s status kind) in the same folder: not ours to judge
      d.raw(lo, ['apiVersion'], `${String(apiVersionText)} ${kind} is not used by metallb-ts; ignored`, true, 'foreign-object');
      continue;
    }
    if (IGNORED_KINDS.has(kind)) continue;
    if (kind === 'ConfigMap') {
      configMapIntake(lo, out, d);
      continue;
    }
    const group = owner === 'frrk8s' ? FRRK8S_GROUP : METALLB_GROUP;
    const schemas = owner === 'frrk8s' ? FRR_SPEC_SCHEMAS[kind] : SPEC_SCHEMAS[kind];
    if (!schemas) {
      const guess = closest(kind, KNOWN_KINDS);
      d.raw(lo, ['kind'], guess !== undefined ? `unknown kind "${kind}"; did you mean "${guess}"?` : `unknown kind "${kind}"`);
      continue;
    }
    const apiVersion = obj['apiVersion'];
    const supported = Object.keys(schemas).map((v) => `${group}/${v}`);
    if (typeof apiVersion !== 'string') {
      d.raw(lo, ['apiVersion'], apiVersion === undefined ? 'required field is missing' : 'must be a string');
      markBroken(out, kind, lo.source.name);
      continue;
    }
    const version = apiVersion.startsWith(`${group}/`) ? apiVersion.slice(group.length + 1) : '';
    const schema = schemas[version];
    if (!schema) {
      d.raw(lo, ['apiVersion'], `unsupported apiVersion "${apiVersion}" for ${kind} (supported: ${supported.join(', ')})`);
      markBroken(out, kind, lo.source.name);
      continue;
    }
    const meta = obj['metadata'];
    if (!isRecord(meta)) {
      d.raw(lo, ['metadata'], meta === undefined ? 'required field is missing' : 'must be an object');
      continue;
    }
    if (typeof meta['name'] !== 'string' || meta['name'] === '') {
      d.raw(lo, ['metadata', 'name'], meta['name'] === undefined ? 'required field is missing' : 'must be a non-empty string');
      continue;
    }
    if (meta['labels'] !== undefined && meta['labels'] !== null) {
      const labels = meta['labels'];
      if (!isRecord(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
        d.raw(lo, ['metadata', 'labels'], 'must be an object of strings');
        markBroken(out, kind, lo.source.name);
        continue;
      }
    }
    // Fields of the spec written at the top level (wrong indentation), and other unknown
    // top-level fields.
    const specFields = knownSpecFields(schema);
    // (objects from the API server are pruned by it: extra top-level keys there are not ours to judge)
    const stray = lo.fromApiServer ? [] : Object.keys(obj).filter((k) => !TOP_LEVEL.includes(k));
    let spec = obj['spec'];
    if (spec === undefined || spec === null) {
      const misplaced = stray.filter((k) => specFields.includes(k));
      if (misplaced.length > 0) {
        const list = misplaced.map((k) => `"${k}"`).join(', ');
        d.raw(lo, ['spec'], `required field is missing; ${list} ${misplaced.length > 1 ? 'are' : 'is'} at the top level: indent ${misplaced.length > 1 ? 'them' : 'it'} under "spec:"`);
        markBroken(out, kind, lo.source.name);
        continue;
      }
      if (SPEC_REQUIRED.has(kind)) {
        d.raw(lo, ['spec'], 'required field is missing');
        markBroken(out, kind, lo.source.name);
        continue;
      }
      spec = {};
    }
    let strayBad = false;
    for (const k of stray) {
      strayBad = true;
      if (specFields.includes(k)) d.raw(lo, [k], 'belongs under "spec:" (check the indentation)');
      else {
        const guess = closest(k, TOP_LEVEL);
        d.raw(lo, [k], guess !== undefined ? `unknown field; did you mean "${guess}"?` : `unknown field (an object has ${TOP_LEVEL.join(', ')})`);
      }
    }
    // Like the API server, treat `null` object fields as absent (`nodeSelectors:` with no value).
    spec = dropNulls(spec);
    let r = schema.safeParse(spec);
    let damaged: Set<string> | undefined;
    if (!r.success) {
      // a field of another version of this kind (e.g. `dynamicASN` in a v1beta1 BGPPeer)
      const otherVersion = (field: string): string | undefined =>
        Object.entries(schemas).find(([v, sch]) => v !== version && knownSpecFields(sch).includes(field))?.[0];
      for (const pm of zodIssues(r.error.issues, spec, ['spec'], schema)) {
        const field = pm.path.length === 2 && typeof pm.path[1] === 'string' ? pm.path[1] : undefined;
        const other = field !== undefined && pm.message.startsWith('unknown field') ? otherVersion(field) : undefined;
        const noGuess = pm.message === 'unknown field' || pm.message.startsWith('unknown field (');
        const otherKind = field !== undefined && other === undefined && noGuess ? kindWithField(field, kind) : undefined;
        if (other !== undefined) d.raw(lo, pm.path, `not a field of ${group}/${version} ${kind}; it needs apiVersion: ${group}/${other}`);
        else if (otherKind !== undefined) d.raw(lo, pm.path, `unknown field; "${field ?? ''}" is a field of ${otherKind}, not of ${kind}`);
        else d.raw(lo, pm.path, pm.message);
      }
      // Leave the damaged top-level fields out and check the rest, so that the independent
      // errors of the other fields are reported now rather than after the next edit.
      if (!isRecord(spec)) {
        markBroken(out, kind, lo.source.name);
        continue;
      }
      damaged = new Set<string>();
      for (const issue of r.error.issues) {
        const top = issue.path[0];
        if (typeof top === 'string') damaged.add(top);
        else if (issue.code === 'unrecognized_keys') {
          for (const k of issue.keys) {
            damaged.add(k);
            // `peer-asn` for `peerASN`: what the typo meant is reported by the typo line
            const meant = closest(k, specFields);
            if (meant !== undefined) damaged.add(meant);
          }
        }
      }
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(spec)) if (!damaged.has(k)) rest[k] = v;
      r = schema.safeParse(rest);
      if (!r.success) {
        markBroken(out, kind, lo.source.name);
        continue;
      }
    }
    if (strayBad && !damaged) damaged = new Set();
    const item = <S>(data: unknown): Item<S> => {
      const it = crdItem(lo, data as S);
      if (damaged) it.damaged = damaged;
      return it;
    };
    switch (kind) {
      case 'IPAddressPool':
        out.pools.push(item<IPAddressPoolSpec>(r.data));
        break;
      case 'BGPPeer':
        out.peers.push(item<BGPPeerSpec>(r.data));
        break;
      case 'BGPAdvertisement':
        out.bgpAdvs.push(item<BGPAdvertisementSpec>(r.data));
        break;
      case 'L2Advertisement':
        out.l2Advs.push(item<L2AdvertisementSpec>(r.data));
        break;
      case 'Community':
        out.communities.push(item<CommunitySpec>(r.data));
        break;
      case 'FRRConfiguration':
        out.frrConfigs.push(item<FRRConfigurationSpec>(r.data));
        break;
      case 'BFDProfile':
        out.bfds.push(item<BFDProfileSpec>(r.data));
        break;
    }
  }
  return out;
}

/** Another metallb.io kind whose spec has `field` (e.g. `communities` written in an L2Advertisement). */
export function kindWithField(field: string, self: string): string | undefined {
  for (const [k, versions] of Object.entries(SPEC_SCHEMAS)) {
    if (k === self) continue;
    if (Object.values(versions).some((sch) => knownSpecFields(sch).includes(field))) return k;
  }
  return undefined;
}

export function knownSpecFields(schema: z.ZodType): string[] {
  const spec = (schema as unknown as { _zod?: { def?: { shape?: Record<string, unknown> } } })._zod?.def?.shape;
  return Object.keys(spec ?? {});
}

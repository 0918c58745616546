// How a write (update or patch) of an existing object becomes the stored object: kube-apiserver's
// per-type update strategies, as far as metallb-ts relies on them.
//   - Main resource of a type with a status subresource: status is kept from the stored object
//     (a write through the main resource cannot change it).
//   - The /status subresource of a core Service (pkg/registry/core/service/strategy.go: the
//     status strategy resets only `spec`): status AND metadata changes (labels, annotations) are
//     kept, spec comes from the stored object.
//   - The /status subresource of everything else we serve, custom resources in particular
//     (ResetObjectMetaForStatus): only status changes; metadata and spec are the stored ones.
// `statusResetsMetadata` (ApiServerOptions) makes Service status writes reset metadata too: a
// realism switch for clients that must cope with a server (or a proxy in front of one) that
// drops metadata on status writes.
// Immutable metadata (name, namespace, uid, creationTimestamp, generation) always stays.

import type { ResourceType } from './resources.ts';
import { defaultServiceStatus } from './realism.ts';

export type Obj = Record<string, unknown> & { metadata: Meta };
export interface Meta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const isService = (rt: ResourceType): boolean => rt.group === '' && rt.kind === 'Service';

/** Everything except metadata, status, apiVersion and kind (what bumps generation when it changes). */
export function specPart(o: Obj): string {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') rest[k] = v;
  return JSON.stringify(rest);
}

/** Equal apart from metadata.resourceVersion and apiVersion (a no-op write). */
export function sameIgnoringRV(a: Obj, b: Obj): boolean {
  const strip = (o: Obj): string =>
    JSON.stringify(o, function (this: unknown, k: string, v: unknown) {
      if (this === o && k === 'apiVersion') return undefined;
      if (this === o.metadata && k === 'resourceVersion') return undefined;
      return v;
    });
  return strip(a) === strip(b);
}

export interface StrategyOptions {
  /** Service status writes reset metadata like a custom resource's (see the header). */
  statusResetsMetadata?: boolean;
}

/** Builds the object to store from the stored one and the full desired object of a write. */
export function mergeForWrite(rt: ResourceType, old: Obj, desired: Obj, viaStatus: boolean, opts: StrategyOptions = {}): Obj {
  let next: Obj;
  const metadataFromWrite = !viaStatus || (isService(rt) && !opts.statusResetsMetadata);
  if (!metadataFromWrite) {
    next = clone(old);
    if (desired['status'] === undefined) delete next['status'];
    else next['status'] = clone(desired['status']);
  } else {
    next = clone(desired);
    delete next['apiVersion'];
    delete next['kind'];
    if (!isObj(next.metadata)) next.metadata = { name: old.metadata.name };
    if (viaStatus) {
      // status and metadata from the write, the rest (spec) from the stored object
      for (const k of Object.keys(next)) if (k !== 'metadata' && k !== 'status') delete next[k];
      for (const [k, v] of Object.entries(old)) if (k !== 'metadata' && k !== 'status') next[k] = clone(v);
    } else if (rt.status) {
      if (old['status'] === undefined) delete next['status'];
      else next['status'] = clone(old['status']);
    }
    const m = next.metadata;
    m.name = old.metadata.name;
    if (old.metadata.namespace !== undefined) m.namespace = old.metadata.namespace;
    else delete m.namespace;
    m.uid = old.metadata.uid;
    m.creationTimestamp = old.metadata.creationTimestamp;
    m.generation = old.metadata.generation;
    if (m.labels && Object.keys(m.labels).length === 0) delete m.labels;
    if (m.annotations && Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  if (viaStatus && isService(rt)) defaultServiceStatus(next);
  next.metadata.resourceVersion = old.metadata.resourceVersion;
  return next;
}

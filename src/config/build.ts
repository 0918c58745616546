// Builds the resolved Config from loaded objects (metallb.io CRDs and/or legacy ConfigMaps),
// applying MetalLB's defaults and validation rules. Pure: no files, no clocks.
// On any error no Config is produced (errors never half-apply).
//
// A pipeline over named stages (src/config/stages/):
//   intake          documents -> schema-checked Items by kind (legacy ConfigMaps via `legacy`)
//   selectors       label selectors and lists, as the API server checks them
//   pools           IPAddressPools, overlaps
//   peers           BFDProfiles, BGPPeers, peers sharing nodes
//   frr             frr-k8s FRRConfigurations merged into the peers (receive policies, own sessions)
//   advertisements  Communities, BGP/L2Advertisements with their pools and peers resolved
//   diagnostics     checks across kinds once everything is built

import { compareDiagnostics, isRecord } from './path.ts';
import { buildAdvertisementsStage } from './stages/advertisements.ts';
import { crossChecks } from './stages/diagnostics.ts';
import { buildFRRStage } from './stages/frr.ts';
import { intake } from './stages/intake.ts';
import { byName, checkDuplicateNames, Diags, LabelIndex, type BuildOptions, type Ctx } from './stages/item.ts';
import { buildPeersStage } from './stages/peers.ts';
import { buildPools } from './stages/pools.ts';
import type { Community, Config, Diagnostic, LoadedObject, SourceRef } from './types.ts';

export type { BuildOptions } from './stages/item.ts';
export { legacyNames } from './stages/legacy.ts';
export { parseCommunity } from './stages/advertisements.ts';

export interface BuildResult {
  config?: Config;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** Wraps an object read from the API server (no file): source.file = `Kind/namespace/name`, line 0. */
export function loadedFromApiObject(obj: Record<string, unknown>): LoadedObject {
  const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : '';
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  const namespace = typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined;
  const source: SourceRef = { file: `${kind}/${namespace ?? ''}/${name}`, line: 0, kind, name };
  if (namespace !== undefined) source.namespace = namespace;
  return { object: obj, source, lineOf: () => 0, fromApiServer: true };
}

/**
 * Builds the resolved Config from loaded objects. Objects of kinds Service, Node,
 * EndpointSlice, Namespace and Secret are ignored, ConfigMaps without `data.config` too;
 * any other unknown kind is an error. On any error, `config` is undefined.
 */
export function buildConfig(objects: LoadedObject[], opts: BuildOptions = {}): BuildResult {
  const d = new Diags();
  const parsed = intake(objects, d);
  const ctx: Ctx = { opts, broken: parsed.broken };
  if (opts.nodes && opts.nodes.length > 0) ctx.nodes = new LabelIndex(opts.nodes, (n) => n.metadata.labels);

  const pools = buildPools(d, checkDuplicateNames(d, parsed.pools, 'IPAddressPool'));
  const { peers, peerItems, bfdProfiles } = buildPeersStage(d, parsed, ctx);
  buildFRRStage(d, parsed.frrConfigs, peers, bfdProfiles, ctx);
  const { aliases, bgpAdvertisements, bgpItems, l2Advertisements } = buildAdvertisementsStage(d, parsed, pools, peers, ctx);
  crossChecks(d, { pools, peers, peerItems, bfdProfiles, bgpAdvertisements, bgpItems, l2Advertisements });

  d.errors.sort(compareDiagnostics);
  d.warnings.sort(compareDiagnostics);
  if (d.errors.length > 0) return { errors: d.errors, warnings: d.warnings };
  const sortedAliases: Record<string, Community> = {};
  for (const k of Object.keys(aliases).sort()) sortedAliases[k] = aliases[k] as Community;
  const config: Config = {
    pools: [...pools.values()].map((w) => w.pool).sort(byName),
    peers: peers.sort(byName),
    bgpAdvertisements: bgpAdvertisements.sort(byName),
    l2Advertisements: l2Advertisements.sort(byName),
    bfdProfiles: bfdProfiles.sort(byName),
    communityAliases: sortedAliases,
  };
  return { config, errors: d.errors, warnings: d.warnings };
}

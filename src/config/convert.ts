// Converts legacy MetalLB ConfigMaps (data.config) and bare legacy config documents into the
// equivalent metallb.io CRD manifests (multi-document YAML). The synthesized object names are
// the same as those buildConfig gives (see legacyNames), so `validate` on the output yields the
// same Config.

import { parse as parseYAML, stringify } from 'yaml';
import type { InputSet } from './load.ts';
import { isBareLegacy, parseLegacy, translateLegacy } from './stages/legacy.ts';
import { isRecord } from './path.ts';

/** The legacy config documents among the inputs (ConfigMaps with data.config, or bare documents). */
export function legacyDocuments(inputs: InputSet): { origin: string; config: Record<string, unknown> }[] {
  const out: { origin: string; config: Record<string, unknown> }[] = [];
  for (const lo of inputs.objects) {
    const obj = lo.object;
    if (obj['kind'] === 'ConfigMap' && isRecord(obj['data']) && typeof obj['data']['config'] === 'string') {
      // the inner document was already checked by buildConfig; parse again for conversion
      const origin = `ConfigMap ${lo.source.namespace ?? ''}${lo.source.namespace ? '/' : ''}${lo.source.name} (${lo.source.file}:${lo.source.line})`;
      out.push({ origin, config: parseInner(obj['data']['config']) });
    } else if (isBareLegacy(obj)) {
      out.push({ origin: `${lo.source.file}:${lo.source.line}`, config: obj });
    }
  }
  return out;
}

function parseInner(text: string): Record<string, unknown> {
  const v: unknown = parseYAMLSafe(text);
  return isRecord(v) ? v : {};
}

function parseYAMLSafe(text: string): unknown {
  try {
    return parseYAML(text);
  } catch {
    return undefined;
  }
}

function manifest(apiVersion: string, kind: string, name: string, namespace: string, spec: object): Record<string, unknown> {
  return { apiVersion, kind, metadata: { name, namespace }, spec };
}

/**
 * Multi-document YAML of metallb.io CRDs equivalent to the legacy configuration found in
 * `inputs` (ConfigMaps with `data.config`, or bare legacy documents), all in `namespace`.
 * Inputs are expected to be valid (check `inputs.errors` first); invalid legacy documents are
 * skipped.
 */
export function convertLegacy(inputs: InputSet, namespace: string): string {
  const docs: Record<string, unknown>[] = [];
  const origins: string[] = [];
  for (const { origin, config } of legacyDocuments(inputs)) {
    const parsed = parseLegacy(config);
    if (!parsed.config) continue;
    origins.push(origin);
    const t = translateLegacy(parsed.config, []);
    for (const b of t.bfds) docs.push(manifest('metallb.io/v1beta1', 'BFDProfile', b.name, namespace, b.spec));
    if (t.communities) docs.push(manifest('metallb.io/v1beta1', 'Community', t.communities.name, namespace, t.communities.spec));
    for (const p of t.pools) docs.push(manifest('metallb.io/v1beta1', 'IPAddressPool', p.name, namespace, p.spec));
    for (const p of t.peers) docs.push(manifest('metallb.io/v1beta2', 'BGPPeer', p.name, namespace, p.spec));
    for (const a of t.bgpAdvs) docs.push(manifest('metallb.io/v1beta1', 'BGPAdvertisement', a.name, namespace, a.spec));
    for (const a of t.l2Advs) docs.push(manifest('metallb.io/v1beta1', 'L2Advertisement', a.name, namespace, a.spec));
  }
  const header = `# metallb.io CRDs converted by metallb-ts from:\n${origins.map((o) => `#   ${o}\n`).join('')}`;
  return header + docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('');
}

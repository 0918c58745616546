// Test configurations from YAML, through the real configuration builder: the text is parsed and
// validated exactly as `metallb-ts validate` does (parseInputs → buildConfig), a test fails fast
// when its own configuration is invalid, and the objects are created in the API server as
// written (no hand-copied defaults: whatever the product defaults, it defaults itself).
import { parseInputs } from '../../../src/config/load.ts';
import { R } from '../../../src/kube/client.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../../../src/kube/client.ts';

const BY_KIND = new Map<string, ResourceRef>(Object.values(R).map((r) => [r.kind, r]));

export interface ApplyOptions {
  /** Namespace for namespaced objects that name none. Default metallb-system. */
  namespace?: string;
  /** Accept a configuration with errors (to test how they are reported). Default false. */
  allowInvalid?: boolean;
}

/** Validates `yaml` with the real builder, then creates every document (namespaces first). */
export async function applyYaml(client: KubeClient, yaml: string, opts: ApplyOptions = {}): Promise<KubeObject[]> {
  const set = parseInputs([{ file: 'test.yaml', text: yaml }]);
  if (set.errors.length > 0 && !opts.allowInvalid) {
    throw new Error(`test configuration is invalid:\n${set.errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n')}`);
  }
  const docs = set.objects.map((o) => o.object);
  docs.sort((a, b) => Number(b['kind'] === 'Namespace') - Number(a['kind'] === 'Namespace'));
  const out: KubeObject[] = [];
  for (const doc of docs) {
    const kind = String(doc['kind']);
    const r = BY_KIND.get(kind);
    if (!r) throw new Error(`applyYaml: no resource for kind ${kind}`);
    const meta = { ...((doc['metadata'] ?? {}) as KubeObject['metadata']) };
    if (r.namespaced) meta.namespace ??= opts.namespace ?? 'metallb-system';
    out.push(await client.create(r, { ...doc, metadata: meta } as KubeObject));
  }
  return out;
}

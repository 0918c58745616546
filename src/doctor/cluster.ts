// Reads the live cluster's state (MetalLB configuration objects, frr-k8s FRRConfigurations when
// their CRD is installed, Services, Nodes,
// EndpointSlices, Namespaces) through a kubeconfig and turns it into the same InputSet a folder
// gives, so that doctor and `plan --diff` treat both alike. Read-only: only list calls.

import { parseInputs } from '../config/load.ts';
import type { InputSet } from '../config/load.ts';
import { CONFIG_RESOURCES, KubeClient, OPTIONAL_CONFIG_RESOURCES, R, isNotFound } from '../kube/client.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';

const CLUSTER_RESOURCES: ResourceRef[] = [...CONFIG_RESOURCES, ...OPTIONAL_CONFIG_RESOURCES, R.services, R.nodes, R.endpointslices, R.namespaces];

/** Lists every resource doctor needs; each list becomes one pseudo-file `cluster:<plural>`. */
export async function readCluster(kubeconfig: string | undefined, namespace?: string): Promise<InputSet> {
  const client = KubeClient.fromOptions(kubeconfig ? { kubeconfig } : {});
  const files: { file: string; text: string }[] = [];
  for (const r of CLUSTER_RESOURCES) {
    const opts = (r.group === 'metallb.io' || OPTIONAL_CONFIG_RESOURCES.includes(r)) && namespace ? { namespace } : {};
    let items: KubeObject[];
    try {
      ({ items } = await client.list<KubeObject>(r, opts));
    } catch (e) {
      // frr-k8s's FRRConfiguration CRD is not installed: there are none
      if (OPTIONAL_CONFIG_RESOURCES.includes(r) && isNotFound(e)) continue;
      throw e;
    }
    // JSON documents are YAML documents; server-managed fields are dropped
    const docs = items.map((o) => {
      const { managedFields: _m, ...metadata } = (o.metadata ?? {}) as Record<string, unknown>;
      return JSON.stringify({ ...o, metadata });
    });
    files.push({ file: `cluster:${r.plural}`, text: docs.join('\n---\n') });
  }
  return parseInputs(files);
}

// The resource types the fake API server serves: group/version/plural/kind, scope, and whether
// the type has a /status subresource. Mirrors what kube-apiserver (plus MetalLB's CRDs) serves.

export interface ResourceType {
  group: string; // '' = core
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
  status: boolean;
  /**
   * Served only while its CustomResourceDefinition (`<plural>.<group>`) exists, as kube-apiserver
   * serves a CRD: 404 before it is created (frr-k8s's FRRConfiguration, which a cluster without
   * frr-k8s and without our CRD does not have).
   */
  crdOnly?: boolean;
}

export const RESOURCE_TYPES: ResourceType[] = [
  { group: '', versions: ['v1'], plural: 'namespaces', kind: 'Namespace', namespaced: false, status: true },
  { group: '', versions: ['v1'], plural: 'nodes', kind: 'Node', namespaced: false, status: true },
  { group: '', versions: ['v1'], plural: 'services', kind: 'Service', namespaced: true, status: true },
  { group: '', versions: ['v1'], plural: 'secrets', kind: 'Secret', namespaced: true, status: false },
  { group: '', versions: ['v1'], plural: 'configmaps', kind: 'ConfigMap', namespaced: true, status: false },
  { group: '', versions: ['v1'], plural: 'events', kind: 'Event', namespaced: true, status: false },
  { group: '', versions: ['v1'], plural: 'pods', kind: 'Pod', namespaced: true, status: true },
  { group: '', versions: ['v1'], plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, status: false },
  { group: 'apps', versions: ['v1'], plural: 'deployments', kind: 'Deployment', namespaced: true, status: true },
  { group: 'apps', versions: ['v1'], plural: 'daemonsets', kind: 'DaemonSet', namespaced: true, status: true },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterroles', kind: 'ClusterRole', namespaced: false, status: false },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, status: false },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'roles', kind: 'Role', namespaced: true, status: false },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], plural: 'rolebindings', kind: 'RoleBinding', namespaced: true, status: false },
  { group: 'apiextensions.k8s.io', versions: ['v1'], plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, status: true },
  { group: 'admissionregistration.k8s.io', versions: ['v1'], plural: 'validatingwebhookconfigurations', kind: 'ValidatingWebhookConfiguration', namespaced: false, status: false },
  { group: 'cert-manager.io', versions: ['v1'], plural: 'issuers', kind: 'Issuer', namespaced: true, status: true },
  { group: 'cert-manager.io', versions: ['v1'], plural: 'certificates', kind: 'Certificate', namespaced: true, status: true },
  { group: 'events.k8s.io', versions: ['v1'], plural: 'events', kind: 'Event', namespaced: true, status: false },
  { group: 'discovery.k8s.io', versions: ['v1'], plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, status: false },
  { group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', kind: 'Lease', namespaced: true, status: false },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'ipaddresspools', kind: 'IPAddressPool', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta2', 'v1beta1'], plural: 'bgppeers', kind: 'BGPPeer', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'bgpadvertisements', kind: 'BGPAdvertisement', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'l2advertisements', kind: 'L2Advertisement', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'bfdprofiles', kind: 'BFDProfile', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'communities', kind: 'Community', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'servicebgpstatuses', kind: 'ServiceBGPStatus', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'servicel2statuses', kind: 'ServiceL2Status', namespaced: true, status: true },
  { group: 'metallb.io', versions: ['v1beta1'], plural: 'configurationstates', kind: 'ConfigurationState', namespaced: true, status: true },
  { group: 'frrk8s.metallb.io', versions: ['v1beta1'], plural: 'bgpsessionstates', kind: 'BGPSessionState', namespaced: true, status: true },
  { group: 'frrk8s.metallb.io', versions: ['v1beta1'], plural: 'frrconfigurations', kind: 'FRRConfiguration', namespaced: true, status: true, crdOnly: true },
];

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.plural === plural && t.versions.includes(version));
}

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Storage identity of a type (versions of one group/plural share storage). */
export function typeId(t: ResourceType): string {
  return `${t.group}/${t.plural}`;
}

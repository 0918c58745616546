// Plain-data views of the Kubernetes objects the product reads (Service, Node, EndpointSlice,
// Namespace, Secret). Only the fields we use are typed; objects straight from YAML or from the
// API server conform structurally. No Kubernetes client types leak into the pure core.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  targetPort?: number | string;
  nodePort?: number;
}

export type IPFamily = 'IPv4' | 'IPv6';
export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ServiceSpec {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  ports?: ServicePort[];
  selector?: Record<string, string>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  ipFamilies?: IPFamily[];
  ipFamilyPolicy?: IPFamilyPolicy;
  clusterIP?: string;
  clusterIPs?: string[];
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface Service {
  apiVersion?: string;
  kind?: 'Service';
  metadata: ObjectMeta;
  spec: ServiceSpec;
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
}

export interface Node {
  apiVersion?: string;
  kind?: 'Node';
  metadata: ObjectMeta;
  /** `unschedulable: true` = cordoned (kubectl cordon / drain). */
  spec?: { unschedulable?: boolean };
  status?: {
    conditions?: NodeCondition[];
    addresses?: { type: string; address: string }[];
  };
}

export interface EndpointConditions {
  ready?: boolean | null;
  serving?: boolean | null;
  terminating?: boolean | null;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  nodeName?: string;
}

export interface EndpointSlice {
  apiVersion?: string;
  kind?: 'EndpointSlice';
  metadata: ObjectMeta; // label kubernetes.io/service-name names the Service
  addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: Endpoint[] | null;
}

export interface Namespace {
  apiVersion?: string;
  kind?: 'Namespace';
  metadata: ObjectMeta;
}

export interface Secret {
  apiVersion?: string;
  kind?: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>; // base64
  stringData?: Record<string, string>;
}

/** `namespace/name` key of a namespaced object. */
export function objectKey(meta: ObjectMeta): string {
  return `${meta.namespace ?? 'default'}/${meta.name}`;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

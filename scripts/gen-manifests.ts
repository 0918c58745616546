// Generates the Kubernetes manifests from one source of truth:
//   config/crd/<group>_<plural>.yaml      CRDs; config kinds use crdOpenAPISchema (the same zod
//                                         schemas `validate` uses); status kinds are defined here
//   config/rbac/rbac.yaml                 ServiceAccounts, least-privilege (Cluster)Roles, bindings
//   config/manifests/metallb-ts.yaml      everything for `kubectl apply -f`
//   charts/metallb-ts/                    Helm chart (crds/ + templates/ + values.yaml)
//
//   node --import tsx scripts/gen-manifests.ts           write the files
//   node --import tsx scripts/gen-manifests.ts --check   exit 1 if a committed file differs
//
// test/unit/kube/manifests.test.ts asserts the committed files equal this output.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { FRR_SPEC_SCHEMAS, FRRK8S_GROUP } from '../src/config/frrschema.ts';
import { crdOpenAPISchema, openAPISchemaOf } from '../src/config/schema.ts';

type Obj = Record<string, unknown>;

export const VERSION = '0.1.0';
export const IMAGE_REPOSITORY = 'ghcr.io/metallb-ts/metallb-ts';
export const NAMESPACE = 'metallb-system';
const GROUP = 'metallb.io';

interface CrdDef {
  /** API group (default metallb.io) */
  group?: string;
  kind: string;
  plural: string;
  versions: { name: string; storage: boolean; deprecated?: string; schema: object }[];
  columns: { name: string; type: string; jsonPath: string; priority?: number }[];
}

const column = (name: string, jsonPath: string, type = 'string', priority?: number): CrdDef['columns'][number] => ({
  name,
  type,
  jsonPath,
  ...(priority !== undefined ? { priority } : {}),
});
const age = column('Age', '.metadata.creationTimestamp', 'date');

function statusKindSchema(kind: string, status: Obj): object {
  return {
    type: 'object',
    description: `${kind} is written by metallb-ts (read-only for users).`,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status,
    },
  };
}

const serviceStatusCommon: Obj = {
  node: { type: 'string', description: 'Node announcing the Service.' },
  serviceName: { type: 'string' },
  serviceNamespace: { type: 'string' },
};

/**
 * MetalLB's CRD defaults (so `kubectl get` columns are not blank and objects read back as
 * MetalLB's do). Only fields whose default is exactly what the configuration builder assumes
 * when the field is absent.
 */
const SPEC_DEFAULTS: Record<string, Record<string, unknown>> = {
  IPAddressPool: { autoAssign: true, avoidBuggyIPs: false },
  BGPAdvertisement: { aggregationLength: 32, aggregationLengthV6: 128 },
  BGPPeer: { peerPort: 179 },
};

function crdSchema(kind: string, version: string): object {
  const schema = crdOpenAPISchema(kind, version) as { properties: { spec: { properties?: Record<string, Obj> } } };
  const props = schema.properties.spec.properties ?? {};
  for (const [field, value] of Object.entries(SPEC_DEFAULTS[kind] ?? {})) {
    const p = props[field];
    if (p) p['default'] = value;
  }
  return schema;
}

/** metav1.Condition as MetalLB's CRDs declare it (patterns, lengths, required fields). */
const CONDITION_SCHEMA: Obj = {
  type: 'object',
  properties: {
    type: { type: 'string', maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    reason: { type: 'string', maxLength: 1024, minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
  required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
};

export function crdDefs(): CrdDef[] {
  const cfg = (kind: string, plural: string, columns: CrdDef['columns']): CrdDef => ({
    kind,
    plural,
    versions: [{ name: 'v1beta1', storage: true, schema: crdSchema(kind, 'v1beta1') }],
    columns: [...columns, age],
  });
  return [
    cfg('BFDProfile', 'bfdprofiles', [
      column('Passive Mode', '.spec.passiveMode', 'boolean'),
      column('Transmit Interval', '.spec.transmitInterval', 'integer'),
      column('Receive Interval', '.spec.receiveInterval', 'integer'),
      column('Multiplier', '.spec.detectMultiplier', 'integer'),
    ]),
    cfg('BGPAdvertisement', 'bgpadvertisements', [
      column('IPAddressPools', '.spec.ipAddressPools'),
      column('IPAddressPool Selectors', '.spec.ipAddressPoolSelectors'),
      column('Peers', '.spec.peers'),
      column('Node Selectors', '.spec.nodeSelectors', 'string', 10),
    ]),
    {
      kind: 'BGPPeer',
      plural: 'bgppeers',
      versions: [
        {
          name: 'v1beta1',
          storage: false,
          deprecated: 'metallb.io/v1beta1 BGPPeer is deprecated; use metallb.io/v1beta2',
          schema: crdSchema('BGPPeer', 'v1beta1'),
        },
        { name: 'v1beta2', storage: true, schema: crdSchema('BGPPeer', 'v1beta2') },
      ],
      columns: [
        column('Address', '.spec.peerAddress'),
        column('ASN', '.spec.peerASN', 'integer'),
        column('BFD Profile', '.spec.bfdProfile'),
        column('Multi Hops', '.spec.ebgpMultiHop', 'boolean'),
        age,
      ],
    },
    cfg('Community', 'communities', []),
    {
      kind: 'ConfigurationState',
      plural: 'configurationstates',
      versions: [
        {
          name: 'v1beta1',
          storage: true,
          schema: statusKindSchema('ConfigurationState', {
            type: 'object',
            properties: {
              result: { type: 'string', enum: ['Valid', 'Invalid', 'Unknown'] },
              errorSummary: { type: 'string' },
              conditions: {
                type: 'array',
                items: CONDITION_SCHEMA,
                'x-kubernetes-list-map-keys': ['type'],
                'x-kubernetes-list-type': 'map',
              },
            },
          }),
        },
      ],
      columns: [column('Result', '.status.result'), column('Error Summary', '.status.errorSummary', 'string', 10), age],
    },
    withPoolStatus(
      cfg('IPAddressPool', 'ipaddresspools', [
        column('Auto Assign', '.spec.autoAssign', 'boolean'),
        column('Avoid Buggy IPs', '.spec.avoidBuggyIPs', 'boolean'),
        column('Addresses', '.spec.addresses'),
        column('Assigned IPv4', '.status.assignedIPv4', 'integer', 10),
        column('Available IPv4', '.status.availableIPv4', 'integer', 10),
      ]),
    ),
    cfg('L2Advertisement', 'l2advertisements', [
      column('IPAddressPools', '.spec.ipAddressPools'),
      column('IPAddressPool Selectors', '.spec.ipAddressPoolSelectors'),
      column('Interfaces', '.spec.interfaces'),
      column('Node Selectors', '.spec.nodeSelectors', 'string', 10),
    ]),
    {
      kind: 'ServiceBGPStatus',
      plural: 'servicebgpstatuses',
      versions: [
        {
          name: 'v1beta1',
          storage: true,
          schema: statusKindSchema('ServiceBGPStatus', {
            type: 'object',
            properties: { ...serviceStatusCommon, peers: { type: 'array', items: { type: 'string' }, description: 'BGPPeers the Service is announced to.' } },
          }),
        },
      ],
      columns: [column('Node', '.status.node'), column('Service Name', '.status.serviceName'), column('Service Namespace', '.status.serviceNamespace'), age],
    },
    {
      // frr-k8s' session state kind, same group/schema/columns so that both can coexist
      group: FRRK8S_GROUP,
      kind: 'BGPSessionState',
      plural: 'bgpsessionstates',
      versions: [
        {
          name: 'v1beta1',
          storage: true,
          schema: statusKindSchema('BGPSessionState', {
            type: 'object',
            properties: {
              node: { type: 'string', description: 'Node of the session.' },
              peer: { type: 'string', description: 'Neighbor address.' },
              vrf: { type: 'string', description: 'VRF ("" = default).' },
              bgpStatus: { type: 'string', description: 'RFC 4271 state: Idle, Connect, Active, OpenSent, OpenConfirm, Established.' },
              bfdStatus: { type: 'string', description: 'BFD session state, N/A without a bfdProfile.' },
            },
          }),
        },
      ],
      columns: [column('Node', '.status.node'), column('Peer', '.status.peer'), column('VRF', '.status.vrf'), column('BGP', '.status.bgpStatus'), column('BFD', '.status.bfdStatus')],
    },
    {
      kind: 'ServiceL2Status',
      plural: 'servicel2statuses',
      versions: [
        {
          name: 'v1beta1',
          storage: true,
          schema: statusKindSchema('ServiceL2Status', {
            type: 'object',
            properties: {
              ...serviceStatusCommon,
              interfaces: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
            },
          }),
        },
      ],
      columns: [column('Allocated Node', '.status.node'), column('Service Name', '.status.serviceName'), column('Service Namespace', '.status.serviceNamespace'), age],
    },
    frrCrdDef(),
  ];
}

/**
 * frr-k8s's FRRConfiguration (the speaker watches it for receive policies and sessions): the
 * same group, version, kind and fields as frr-k8s's own CRD (from the zod schema `validate`
 * uses), in config/crd, the all-in-one manifest and the chart, so either CRD serves both. Every
 * object under `spec` keeps fields this schema does not list
 * (`x-kubernetes-preserve-unknown-fields`): applied over frr-k8s's CRD, ours never prunes a field
 * of a newer frr-k8s from the stored objects.
 */
export function frrCrdDef(): CrdDef {
  const spec = FRR_SPEC_SCHEMAS['FRRConfiguration']?.['v1beta1'];
  if (!spec) throw new Error('no FRRConfiguration schema');
  const schema = openAPISchemaOf(spec, 'FRRConfiguration', 'FRRConfiguration is a piece of frr-k8s configuration (frrk8s.metallb.io/v1beta1); metallb-ts reads its BGP subset.');
  preserveUnknown((schema as { properties?: Obj }).properties?.['spec']);
  return {
    group: FRRK8S_GROUP,
    kind: 'FRRConfiguration',
    plural: 'frrconfigurations',
    versions: [{ name: 'v1beta1', storage: true, schema }],
    columns: [age],
  };
}

/** Marks every object schema with properties (at any depth) as keeping unknown fields. */
function preserveUnknown(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(preserveUnknown);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Obj;
  if (o['type'] === 'object' && o['properties'] !== undefined) o['x-kubernetes-preserve-unknown-fields'] = true;
  for (const v of Object.values(o)) preserveUnknown(v);
}

/** IPAddressPool status: assigned/available counts per family (written by the controller). */
function withPoolStatus(d: CrdDef): CrdDef {
  const count = { type: 'integer', format: 'int64', minimum: 0 };
  for (const v of d.versions) {
    const s = v.schema as { properties: Obj };
    s.properties['status'] = {
      type: 'object',
      properties: { assignedIPv4: count, assignedIPv6: count, availableIPv4: count, availableIPv6: count },
    };
  }
  return d;
}

export function crd(d: CrdDef): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${d.group ?? GROUP}`, labels: { 'app.kubernetes.io/part-of': 'metallb-ts' } },
    spec: {
      group: d.group ?? GROUP,
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.kind.toLowerCase() },
      scope: 'Namespaced',
      // BGPPeer v1beta1 is a field subset of v1beta2: objects round-trip without a webhook.
      conversion: { strategy: 'None' },
      versions: d.versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage,
        ...(v.deprecated ? { deprecated: true, deprecationWarning: v.deprecated } : {}),
        additionalPrinterColumns: d.columns,
        schema: { openAPIV3Schema: v.schema },
        subresources: { status: {} },
      })),
    },
  };
}

// ---- RBAC ----

const labels = (component: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'metallb-ts',
  'app.kubernetes.io/component': component,
});

const CONFIG_PLURALS = ['bfdprofiles', 'bgpadvertisements', 'bgppeers', 'communities', 'ipaddresspools', 'l2advertisements'];
const read = ['get', 'list', 'watch'];

export function rbac(ns: string): Obj[] {
  const sa = (name: string): Obj => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, labels: labels(name) } });
  const clusterRole = (name: string, rules: Obj[]): Obj => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `metallb-ts:${name}`, labels: labels(name) },
    rules,
  });
  const role = (name: string, rules: Obj[]): Obj => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace: ns, labels: labels(name) },
    rules,
  });
  const binding = (kind: 'ClusterRoleBinding' | 'RoleBinding', name: string): Obj => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: kind === 'ClusterRoleBinding' ? { name: `metallb-ts:${name}`, labels: labels(name) } : { name, namespace: ns, labels: labels(name) },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'ClusterRoleBinding' ? 'ClusterRole' : 'Role', name: kind === 'ClusterRoleBinding' ? `metallb-ts:${name}` : name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
  });
  return [
    sa('controller'),
    sa('speaker'),
    clusterRole('controller', [
      { apiGroups: [''], resources: ['services', 'namespaces'], verbs: read },
      { apiGroups: [''], resources: ['services'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['services/status'], verbs: ['patch', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      // the webhook's caBundle (the list/watch carry a fieldSelector on this name)
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], resourceNames: [WEBHOOK_CONFIGURATION], verbs: ['get', 'list', 'watch', 'patch'] },
    ]),
    clusterRole('speaker', [
      { apiGroups: [''], resources: ['services', 'nodes', 'namespaces'], verbs: read },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]),
    role('controller', [
      { apiGroups: [GROUP], resources: CONFIG_PLURALS, verbs: read },
      { apiGroups: [GROUP], resources: ['ipaddresspools/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [GROUP], resources: ['configurationstates'], verbs: [...read, 'create'] },
      { apiGroups: [GROUP], resources: ['configurationstates/status'], verbs: ['get', 'patch', 'update'] },
      // read: BGPPeer passwordSecret checks; create: the speakers' memberlist Secret and the
      // webhook certificate Secret when absent; update: only the webhook certificate (rotation)
      { apiGroups: [''], resources: ['secrets'], verbs: [...read, 'create'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: [WEBHOOK_SECRET], verbs: ['update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]),
    role('speaker', [
      { apiGroups: [GROUP], resources: CONFIG_PLURALS, verbs: read },
      { apiGroups: [GROUP], resources: ['servicebgpstatuses', 'servicel2statuses'], verbs: [...read, 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [GROUP], resources: ['servicebgpstatuses/status', 'servicel2statuses/status'], verbs: ['get', 'patch', 'update'] },
      // frr-k8s FRRConfiguration: receive policies, sessions and BFD profiles (read only)
      { apiGroups: [FRRK8S_GROUP], resources: ['frrconfigurations'], verbs: read },
      { apiGroups: [FRRK8S_GROUP], resources: ['bgpsessionstates'], verbs: [...read, 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [FRRK8S_GROUP], resources: ['bgpsessionstates/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [GROUP], resources: ['configurationstates'], verbs: [...read, 'create'] },
      { apiGroups: [GROUP], resources: ['configurationstates/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: [''], resources: ['secrets'], verbs: read },
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]),
    binding('ClusterRoleBinding', 'controller'),
    binding('ClusterRoleBinding', 'speaker'),
    binding('RoleBinding', 'controller'),
    binding('RoleBinding', 'speaker'),
  ];
}

// ---- workloads ----

export interface WorkloadValues {
  image: string;
  pullPolicy: string;
  logLevel: string;
  controllerReplicas: number;
}

export const DEFAULTS: WorkloadValues = {
  image: `${IMAGE_REPOSITORY}:v${VERSION}`,
  pullPolicy: 'IfNotPresent',
  logLevel: 'info',
  controllerReplicas: 1,
};

const RESTART_MARKER_DIR = '/var/lib/metallb-ts';
const WEBHOOK_SECRET = 'metallb-ts-webhook-cert';
const WEBHOOK_SERVICE = 'metallb-ts-webhook';
const WEBHOOK_CONFIGURATION = 'metallb-ts-webhook';

const WEBHOOK_KINDS: [string, string, string[]][] = [
  ['ipaddresspools', 'IPAddressPool', ['v1beta1']],
  ['bgppeers', 'BGPPeer', ['v1beta1', 'v1beta2']],
  ['bgpadvertisements', 'BGPAdvertisement', ['v1beta1']],
  ['l2advertisements', 'L2Advertisement', ['v1beta1']],
  ['bfdprofiles', 'BFDProfile', ['v1beta1']],
  ['communities', 'Community', ['v1beta1']],
];

/** The ValidatingWebhookConfiguration; `annotations` only for cert-manager's CA injection. */
function webhookConfiguration(ns: string, annotations?: Record<string, string>): Obj {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: WEBHOOK_CONFIGURATION, ...(annotations ? { annotations } : {}), labels: labels('controller') },
    webhooks: WEBHOOK_KINDS.map(([plural, kind, versions]) => ({
      name: `${kind.toLowerCase()}.metallb.io`,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      // as MetalLB: a request the webhook cannot judge is refused (the controller is ready, and
      // so behind the Service, only once it serves its certificate)
      failurePolicy: 'Fail',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 10,
      clientConfig: { service: { name: WEBHOOK_SERVICE, namespace: ns, path: `/validate-metallb-io-${plural}`, port: 443 } },
      rules: [{ apiGroups: ['metallb.io'], apiVersions: versions, operations: ['CREATE', 'UPDATE', 'DELETE'], resources: [plural], scope: 'Namespaced' }],
    })),
  };
}

/**
 * The validating webhook, part of the plain manifest: its Service and configuration. The
 * controller's leader creates and rotates the certificate (Secret metallb-ts-webhook-cert) and
 * writes the caBundle; no cert-manager needed.
 */
export function webhook(ns: string): Obj[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: WEBHOOK_SERVICE, namespace: ns, labels: labels('controller') },
      spec: { selector: labels('controller'), ports: [{ name: 'webhook', port: 443, targetPort: 'webhook' }] },
    },
    webhookConfiguration(ns),
  ];
}

/**
 * Optional: cert-manager issues the certificate into the same Secret and injects the CA. The
 * controller sees the inject-ca-from annotation and leaves Secret and caBundle to cert-manager.
 */
export function webhookCertManager(ns: string): Obj[] {
  return [
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: 'metallb-ts-selfsigned', namespace: ns },
      spec: { selfSigned: {} },
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: WEBHOOK_SERVICE, namespace: ns },
      spec: {
        secretName: WEBHOOK_SECRET,
        dnsNames: [`${WEBHOOK_SERVICE}.${ns}.svc`, `${WEBHOOK_SERVICE}.${ns}.svc.cluster.local`],
        issuerRef: { name: 'metallb-ts-selfsigned', kind: 'Issuer' },
        duration: '2160h',
        renewBefore: '360h',
      },
    },
    webhookConfiguration(ns, { 'cert-manager.io/inject-ca-from': `${ns}/${WEBHOOK_SERVICE}` }),
  ];
}

// apiVersion is what the API server defaults it to: without it, a server-side apply after a
// client-side apply conflicts on the field.
const fieldEnv = (name: string, fieldPath: string): Obj => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

function probes(): Obj {
  return {
    livenessProbe: { httpGet: { path: '/healthz', port: 'monitoring' }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/readyz', port: 'monitoring' }, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
  };
}

export function workloads(ns: string, v: WorkloadValues): Obj[] {
  const controller: Obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'controller', namespace: ns, labels: labels('controller') },
    spec: {
      replicas: v.controllerReplicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: labels('controller') },
      template: {
        metadata: { labels: labels('controller'), annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '7472' } },
        spec: {
          serviceAccountName: 'controller',
          terminationGracePeriodSeconds: 10,
          securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          containers: [
            {
              name: 'controller',
              image: v.image,
              imagePullPolicy: v.pullPolicy,
              // the webhook certificate is served from the Secret (no volume): see webhook()
              args: ['controller', `--log-level=${v.logLevel}`, '--http-listen=0.0.0.0:7472', '--webhook-listen=0.0.0.0:9443'],
              env: [fieldEnv('METALLB_NAMESPACE', 'metadata.namespace'), fieldEnv('POD_NAME', 'metadata.name')],
              ports: [
                { name: 'monitoring', containerPort: 7472 },
                { name: 'webhook', containerPort: 9443 },
              ],
              ...probes(),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
  const speaker: Obj = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'speaker', namespace: ns, labels: labels('speaker') },
    spec: {
      selector: { matchLabels: labels('speaker') },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: labels('speaker'), annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '7472' } },
        spec: {
          serviceAccountName: 'speaker',
          terminationGracePeriodSeconds: 2,
          hostNetwork: true,
          volumes: [{ name: 'restart-marker', hostPath: { path: RESTART_MARKER_DIR, type: 'DirectoryOrCreate' } }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [
            { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule', operator: 'Exists' },
          ],
          containers: [
            {
              name: 'speaker',
              image: v.image,
              imagePullPolicy: v.pullPolicy,
              // the graceful restart marker lives on the node so the next Pod of this DaemonSet sees it
              args: ['speaker', '--node-name=$(NODE_NAME)', `--log-level=${v.logLevel}`, `--restart-marker=${RESTART_MARKER_DIR}/speaker-restart.json`, '--http-listen=0.0.0.0:7472'],
              env: [
                fieldEnv('NODE_NAME', 'spec.nodeName'),
                fieldEnv('METALLB_NAMESPACE', 'metadata.namespace'),
                fieldEnv('POD_NAME', 'metadata.name'),
                fieldEnv('POD_UID', 'metadata.uid'),
              ],
              ports: [{ name: 'monitoring', containerPort: 7472 }],
              volumeMounts: [{ name: 'restart-marker', mountPath: RESTART_MARKER_DIR }],
              ...probes(),
              securityContext: {
                runAsUser: 0,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN', 'NET_BIND_SERVICE'] },
              },
            },
          ],
        },
      },
    },
  };
  return [controller, speaker];
}

// ---- output ----

const HEADER = '# Generated by scripts/gen-manifests.ts — do not edit by hand.\n';

export function yamlDocs(objs: Obj[]): string {
  return objs.map((o) => stringify(o, { lineWidth: 0, indent: 2 })).join('---\n');
}

/** Helm chart templates: the default values reproduce the plain manifest exactly. */
export const CHART_VALUES = `# Default values for metallb-ts. With these defaults, \`helm template\` renders exactly the
# resources of config/manifests/metallb-ts.yaml (CRDs come from crds/).
image:
  repository: ${IMAGE_REPOSITORY}
  tag: v${VERSION}
  pullPolicy: ${DEFAULTS.pullPolicy}
logLevel: ${DEFAULTS.logLevel}
controller:
  replicas: ${DEFAULTS.controllerReplicas}
  # added to the Deployment's pod (empty: nothing added)
  resources: {}
  nodeSelector: {}
  tolerations: []
  priorityClassName: ""
  extraArgs: []
speaker:
  # added to the DaemonSet's pod (the control-plane tolerations are always there)
  resources: {}
  nodeSelector: {}
  tolerations: []
  priorityClassName: ""
  extraArgs: []
# The validating webhook. The controller creates and rotates its certificate (Secret
# metallb-ts-webhook-cert) and the caBundle; certManager: true lets cert-manager do both instead.
webhook:
  enabled: true
  certManager: false
prometheus:
  # ServiceMonitor (with a metrics Service per component) or PodMonitor, for the Prometheus
  # operator; the pods also carry prometheus.io/scrape annotations.
  serviceMonitor:
    enabled: false
    interval: 30s
    labels: {}
  podMonitor:
    enabled: false
    interval: 30s
    labels: {}
  # Alert rules (files/prometheus-rules.yaml) as a PrometheusRule.
  prometheusRule:
    enabled: false
    labels: {}
# The Grafana dashboard (files/grafana-dashboard.json) in a ConfigMap labelled for Grafana's
# dashboard sidecar.
grafanaDashboard:
  enabled: false
  labels:
    grafana_dashboard: "1"
`;

const PLACEHOLDER: WorkloadValues = {
  image: '@@IMAGE@@',
  pullPolicy: '@@PULL@@',
  logLevel: '@@LOG@@',
  controllerReplicas: 424242,
};

/** Inserts `text` after the first line matching `anchor` (which must exist). */
function after(yaml: string, anchor: RegExp, text: (indent: string) => string): string {
  const lines = yaml.split('\n');
  const i = lines.findIndex((l) => anchor.test(l));
  if (i < 0) throw new Error(`chart template: no line matches ${anchor}`);
  const indent = /^ */.exec(lines[i] ?? '')?.[0] ?? '';
  lines.splice(i + 1, 0, text(indent));
  return lines.join('\n');
}

/** The pod-level values of a component: resources, nodeSelector, tolerations, priorityClassName, extraArgs. */
function podValues(yaml: string, c: 'controller' | 'speaker'): string {
  const v = `.Values.${c}`;
  let y = yaml;
  y = after(y, /^ +imagePullPolicy: /, (ind) => `{{- with ${v}.resources }}\n${ind}resources:\n{{- toYaml . | nindent ${ind.length + 2} }}\n{{- end }}`);
  // after the last default argument
  y = after(y, c === 'controller' ? /^ +- --webhook-listen=/ : /^ +- --http-listen=/, (ind) => `{{- range ${v}.extraArgs }}\n${ind}- {{ . | quote }}\n{{- end }}`);
  y = after(y, /^ +kubernetes\.io\/os: linux$/, (ind) => `{{- with ${v}.nodeSelector }}\n{{- toYaml . | nindent ${ind.length} }}\n{{- end }}`);
  y = after(y, /^ +serviceAccountName: /, (ind) => `{{- with ${v}.priorityClassName }}\n${ind}priorityClassName: {{ . | quote }}\n{{- end }}`);
  if (c === 'speaker') {
    const lines = y.split('\n');
    // after the last default toleration
    let last = -1;
    lines.forEach((l, i) => {
      if (/^ +operator: Exists$/.test(l)) last = i;
    });
    const ind = (/^ */.exec(lines[last] ?? '')?.[0] ?? '').slice(2);
    lines.splice(last + 1, 0, `{{- with ${v}.tolerations }}\n{{- toYaml . | nindent ${ind.length} }}\n{{- end }}`);
    y = lines.join('\n');
  } else {
    // the controller has no default tolerations: the key appears only with values
    y = y.replace(/^( +)nodeSelector:$/m, (_m, ind: string) => `{{- with ${v}.tolerations }}\n${ind}tolerations:\n{{- toYaml . | nindent ${ind.length + 2} }}\n{{- end }}\n${ind}nodeSelector:`);
  }
  return y;
}

/** Service + configuration when webhook.enabled; cert-manager's objects and annotation when webhook.certManager. */
function webhookTemplate(ns: string, sub: (t: string) => string): string {
  const [service, config] = webhook(ns);
  const [issuer, certificate] = webhookCertManager(ns);
  const annotated = after(sub(yamlDocs([config as Obj])), /^metadata:$/, () =>
    `{{- if .Values.webhook.certManager }}\n  annotations:\n    cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/${WEBHOOK_SERVICE}\n{{- end }}`,
  );
  return `{{- if .Values.webhook.enabled }}\n${sub(yamlDocs([service as Obj]))}---\n${annotated}{{- if .Values.webhook.certManager }}\n---\n${sub(yamlDocs([issuer as Obj, certificate as Obj]))}{{- end }}\n{{- end }}\n`;
}

export function chartTemplates(): Record<string, string> {
  const ns = '@@NS@@';
  const sub = (text: string): string =>
    text
      .replaceAll('@@IMAGE@@', '{{ .Values.image.repository }}:{{ .Values.image.tag }}')
      .replaceAll('@@PULL@@', '{{ .Values.image.pullPolicy }}')
      .replaceAll('@@LOG@@', '{{ .Values.logLevel }}')
      .replaceAll('424242', '{{ .Values.controller.replicas }}')
      .replaceAll('@@NS@@', '{{ .Release.Namespace }}');
  const [controller, speaker] = workloads(ns, PLACEHOLDER);
  return {
    'rbac.yaml': sub(yamlDocs(rbac(ns))),
    'controller.yaml': podValues(sub(yamlDocs([controller as Obj])), 'controller'),
    'speaker.yaml': podValues(sub(yamlDocs([speaker as Obj])), 'speaker'),
    'webhook.yaml': webhookTemplate(ns, sub),
  };
}

export function generate(): Map<string, string> {
  const files = new Map<string, string>();
  const crds = crdDefs().map(crd);
  for (const c of crds) {
    const spec = c['spec'] as Obj;
    const plural = (spec['names'] as { plural: string }).plural;
    files.set(`config/crd/${spec['group'] as string}_${plural}.yaml`, HEADER + yamlDocs([c]));
  }
  files.set('config/rbac/rbac.yaml', HEADER + yamlDocs(rbac(NAMESPACE)));
  files.set('config/webhook/cert-manager.yaml', HEADER + yamlDocs(webhookCertManager(NAMESPACE)));
  const namespace: Obj = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/audit': 'privileged', 'pod-security.kubernetes.io/warn': 'privileged' } },
  };
  files.set('config/manifests/metallb-ts.yaml', HEADER + yamlDocs([namespace, ...crds, ...rbac(NAMESPACE), ...workloads(NAMESPACE, DEFAULTS), ...webhook(NAMESPACE)]));
  files.set(
    'charts/metallb-ts/Chart.yaml',
    `apiVersion: v2\nname: metallb-ts\ndescription: A TypeScript implementation of MetalLB (BGP and Layer 2 load balancer for bare-metal Kubernetes)\ntype: application\nversion: ${VERSION}\nappVersion: v${VERSION}\n`,
  );
  files.set('charts/metallb-ts/values.yaml', CHART_VALUES);
  files.set('charts/metallb-ts/crds/crds.yaml', HEADER + yamlDocs(crds));
  for (const [name, text] of Object.entries(chartTemplates())) files.set(`charts/metallb-ts/templates/${name}`, HEADER + text);
  return files;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function main(): number {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [rel, text] of generate()) {
    const p = join(root, rel);
    if (check) {
      if (!existsSync(p) || readFileSync(p, 'utf8') !== text) {
        process.stderr.write(`stale: ${rel}\n`);
        stale++;
      }
      continue;
    }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  if (check && stale > 0) {
    process.stderr.write('run: node --import tsx scripts/gen-manifests.ts\n');
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();

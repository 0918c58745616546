// The controller's compact Service copies (src/kube/compact.ts): managedFields, the kubectl
// last-applied annotation and unread spec fields are gone; everything the allocator reads is
// kept, so its analysis of the Service is the same as of the full object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactService } from '../../../src/kube/compact.ts';
import type { KubeObject } from '../../../src/kube/client.ts';
import { analyzeService, backendKeyOf } from '../../../src/allocator/service.ts';
import { ingressIPs, isManaged } from '../../../src/model/service.ts';
import type { Service } from '../../../src/model/objects.ts';

const full = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { app: 'web' },
    annotations: {
      'metallb.io/allow-shared-ip': 'k',
      'metallb.io/ip-allocated-from-pool': 'p',
      'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}}',
    },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:ports': {} } } }],
    finalizers: ['service.kubernetes.io/load-balancer-cleanup'],
  },
  spec: {
    type: 'LoadBalancer',
    loadBalancerIP: '192.0.2.7',
    selector: { app: 'web' },
    ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 31000, appProtocol: 'http' }],
    externalTrafficPolicy: 'Local',
    internalTrafficPolicy: 'Cluster',
    sessionAffinity: 'None',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    allocateLoadBalancerNodePorts: true,
    healthCheckNodePort: 32000,
  },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP', ports: [] }] }, conditions: [] },
} satisfies KubeObject;

test('compactService keeps what the controller reads and drops the rest', () => {
  const c = compactService(full);
  assert.deepEqual(c, {
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      labels: { app: 'web' },
      annotations: { 'metallb.io/allow-shared-ip': 'k', 'metallb.io/ip-allocated-from-pool': 'p' },
    },
    spec: {
      type: 'LoadBalancer',
      loadBalancerIP: '192.0.2.7',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 31000 }],
      externalTrafficPolicy: 'Local',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
    },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } },
  });
});

test('the allocator sees the same Service in the compact copy', () => {
  const svc = full as unknown as Service;
  const c = compactService(full) as unknown as Service;
  assert.deepEqual(analyzeService(c), analyzeService(svc));
  assert.equal(backendKeyOf(c), backendKeyOf(svc));
  assert.deepEqual(ingressIPs(c), ingressIPs(svc));
  assert.equal(isManaged(c, undefined), isManaged(svc, undefined));
  // no status, no annotations: nothing invented
  const bare = compactService({ metadata: { name: 'x', namespace: 'n' }, spec: { type: 'ClusterIP' } });
  assert.deepEqual(bare, { metadata: { name: 'x', namespace: 'n' }, spec: { type: 'ClusterIP' } });
});

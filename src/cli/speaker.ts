// `metallb-ts speaker --node-name NAME`: the Kubernetes speaker (BGP and Layer 2) of one node.
// See docs/kubernetes.md.

import { createLogger, isLogFormat, isLogLevel } from '../observability/logger.ts';
import { recordNodeStatus } from '../observability/metrics.ts';
import { COUNT_STATUS_LISTS, METRICS_STATUS_LISTS } from '../observability/statuslists.ts';
import { parseListenAddress, startHttpServer } from '../observability/http.ts';
import type { RunningHttpServer } from '../observability/http.ts';
import { isIP } from 'node:net';
import { KubeClient, kubeClientIdentity } from '../kube/client.ts';
import { KubeSpeaker, MEMBERLIST_SECRET_NAME } from '../kube/speaker.ts';
import { Layer2Supervisor } from '../layer2/supervisor.ts';
import { NodeAgent } from '../node/agent.ts';
import { createBgpDriver } from '../node/drivers.ts';
import { BGPSessionStateSync, sessionStatesPublisher } from '../kube/sessionstates.ts';
import { receivedRoutesExtension, sessionStatesExtension } from '../routes/extension.ts';
import type { PartitionPolicy } from '../layer2/ownership.ts';
import { createKubeMetrics } from '../kube/metrics.ts';
import { parseArgs, parseRouteTable, pick, UsageError } from './args.ts';
import { DEFAULT_DRAIN_PERIOD_MS, controlEndpoints } from './control.ts';
import { parseGoDuration } from '../config/duration.ts';

export const SPEAKER_USAGE = `usage: metallb-ts speaker --node-name NAME [options]

Announces the IPs of LoadBalancer Services from this node over BGP and Layer 2 (ARP/NDP), as
planned from the metallb.io configuration, the Services' status, EndpointSlices and Nodes.
Layer 2 owners are re-elected over the live speakers (UDP liveness protocol between the
speakers of Ready nodes, authenticated with the Secret metallb-memberlist key secretkey or
$METALLB_ML_SECRET_KEY). Publishes ServiceBGPStatus / ServiceL2Status objects and
ConfigurationState speaker-NAME. Ready (/readyz) once a valid configuration is loaded.

Stopping and draining (docs/kubernetes.md "Rollouts, cordon and drain"):
  SIGTERM/SIGINT  a restart (DaemonSet rollout): BGPPeers with enableGracefulRestart keep our
                  routes (stale) until the new pod re-announces them; other sessions withdraw.
                  --withdraw-on-stop: withdraw everything. Layer 2 stops answering. Exit 0.
  Node cordoned or labelled node.kubernetes.io/exclude-from-external-load-balancers: routes
                  re-advertised with GRACEFUL_SHUTDOWN (65535:0, LOCAL_PREF 0 on iBGP) for
                  --drain-period, then withdrawn; announced again when lifted.
  kubectl exec POD -- metallb-ts drain --stop   drain, withdraw and exit (a real stop).
  SIGHUP          ignored (logged): the configuration is watched on the API server.

options:
  --node-name NAME           this node (default $NODE_NAME; required)
  --kubeconfig FILE          kubeconfig (default: in-cluster service account, else $KUBECONFIG / ~/.kube/config)
  --namespace NS             namespace of the metallb.io objects (default $METALLB_NAMESPACE or metallb-system)
  --load-balancer-class C    announce only Services with this spec.loadBalancerClass
  --router-id IPV4           BGP identifier when a peer does not set routerID (default: node address)
  --route-table ID           routing table for routes received from peers with a receive policy
                             (FRRConfiguration toReceive; default 254 = main); see docs/routes-in.md
  --http-listen ADDR         /healthz /readyz /status /metrics (default 0.0.0.0:7472; "off" disables)
  --ml-bind-addr IP          local address of the Layer 2 liveness socket (default 0.0.0.0, :: on IPv6 nodes)
  --ml-bind-port PORT        Layer 2 liveness UDP port of every speaker (default 7946)
  --ml-secret-name NAME      Secret with the liveness key "secretkey" (default metallb-memberlist)
  --l2-partition-policy P    majority (default) | any-peer | none: when a cut-off speaker stops answering
  --log-format json|text     (default json)
  --log-level LEVEL          fatal|error|warn|info|debug|trace (default info)
  --drain-period DURATION    GRACEFUL_SHUTDOWN period before withdrawing (default 30s)
  --withdraw-on-stop         SIGTERM withdraws every route, also on graceful-restart peers
  --restart-marker FILE      graceful restart marker, on a hostPath that outlives the pod
                             (default: none, the first OPEN after a restart has no Restart State bit)
  -h, --help                 this text
`;

const SPEC = pick(
  '--node-name',
  '--kubeconfig',
  '--namespace',
  '--load-balancer-class',
  '--router-id',
  '--route-table',
  '--http-listen',
  '--ml-bind-addr',
  '--ml-bind-port',
  '--ml-secret-name',
  '--log-format',
  '--log-level',
  '--drain-period',
  '--withdraw-on-stop',
  '--restart-marker',
);

function fail(msg: string): number {
  process.stderr.write(`metallb-ts speaker: ${msg}\n${SPEAKER_USAGE}`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC);
  if (p instanceof UsageError) return fail(p.message);
  if ('help' in p) {
    process.stdout.write(SPEAKER_USAGE);
    return 0;
  }
  const v = p.values;
  const node = v.get('--node-name') ?? process.env['NODE_NAME'];
  if (!node) return fail('--node-name is required');
  const format = v.get('--log-format') ?? 'json';
  const level = v.get('--log-level') ?? 'info';
  if (!isLogFormat(format)) return fail(`--log-format must be json or text, not "${format}"`);
  if (!isLogLevel(level)) return fail(`--log-level: unknown level "${level}"`);
  const listenText = v.get('--http-listen') ?? '0.0.0.0:7472';
  const listen = listenText === 'off' ? null : parseListenAddress(listenText);
  if (typeof listen === 'string') return fail(listen);
  const namespace = v.get('--namespace') ?? process.env['METALLB_NAMESPACE'] ?? 'metallb-system';
  const mlAddr = v.get('--ml-bind-addr');
  if (mlAddr !== undefined && isIP(mlAddr) === 0) return fail(`--ml-bind-addr: "${mlAddr}" is not an IP address`);
  const mlPortText = v.get('--ml-bind-port') ?? '7946';
  const mlPort = Number(mlPortText);
  if (!/^[0-9]+$/.test(mlPortText) || mlPort < 1 || mlPort > 65535) return fail(`--ml-bind-port: "${mlPortText}" is not a port number (1-65535)`);
  const policy = v.get('--l2-partition-policy') ?? 'majority';
  if (policy !== 'majority' && policy !== 'any-peer' && policy !== 'none') return fail(`--l2-partition-policy: want majority, any-peer or none, got "${policy}"`);
  const partitionPolicy: PartitionPolicy = policy;
  const mlSecretName = v.get('--ml-secret-name') ?? MEMBERLIST_SECRET_NAME;
  const routeTable = parseRouteTable(v.get('--route-table'));
  if (typeof routeTable === 'string') return fail(routeTable);
  const mlSecret = process.env['METALLB_ML_SECRET_KEY'];
  const dp = v.get('--drain-period');
  const drainPeriod = dp === undefined ? DEFAULT_DRAIN_PERIOD_MS : parseGoDuration(dp);
  if (drainPeriod === undefined) return fail(`--drain-period: "${dp}" is not a duration (e.g. 30s, 2m)`);
  const withdrawOnStop = p.flags.has('--withdraw-on-stop');
  const restartMarker = v.get('--restart-marker');
  const logger = createLogger({ format, level, base: { component: 'speaker', node } });
  let client: KubeClient;
  try {
    const kubeconfig = v.get('--kubeconfig');
    client = KubeClient.fromOptions({ ...(kubeconfig ? { kubeconfig } : {}), ...kubeClientIdentity('speaker'), logger });
  } catch (e) {
    process.stderr.write(`metallb-ts speaker: ${(e as Error).message}\n`);
    return 1;
  }
  const metrics = createKubeMetrics();
  const routerId = v.get('--router-id');
  // BGPSessionState objects (frrk8s.metallb.io): one per session of this node, kept current
  const sessionStates = new BGPSessionStateSync({
    client,
    namespace,
    nodeName: node,
    logger,
    ...(process.env['POD_NAME'] ? { podName: process.env['POD_NAME'] } : {}),
    ...(process.env['POD_UID'] ? { podUID: process.env['POD_UID'] } : {}),
  });
  let publishStates = (): void => undefined;
  // received routes -> this node's routing table (FRRConfiguration toReceive)
  const received = receivedRoutesExtension(logger, routeTable, restartMarker);
  const bgp = createBgpDriver({
    nodeName: node,
    logger,
    registry: metrics.registry,
    ...(routerId !== undefined ? { routerId } : {}),
    ...(restartMarker !== undefined ? { restartMarker } : {}),
    ...(received ? { onReceived: received.onReceived } : {}),
    onState: () => publishStates(),
  });
  publishStates = sessionStatesPublisher(sessionStates, node, () => bgp.status());
  // BFD changes a session's bfdStatus without a BGP state change: refresh now and then too
  const refreshStates = setInterval(() => publishStates(), 5000);
  refreshStates.unref();
  const layer2 = new Layer2Supervisor({
    logger,
    nodeName: node,
    registry: metrics.registry,
    port: mlPort,
    partitionPolicy,
    ...(mlAddr !== undefined ? { bindAddress: mlAddr } : {}),
  });
  const lbClass = v.get('--load-balancer-class');
  const agent = new NodeAgent({
    node,
    logger,
    bgp,
    layer2,
    members: { port: mlPort, secretNamespace: namespace, secretName: mlSecretName, ...(mlSecret ? { secret: mlSecret } : {}) },
    extensions: [...(received ? [received] : []), sessionStatesExtension(node, () => bgp.status())],
    ...(lbClass !== undefined ? { loadBalancerClass: lbClass } : {}),
    drainOnLeave: { periodMs: drainPeriod },
  });
  const speaker = new KubeSpeaker({
    client,
    namespace,
    nodeName: node,
    logger,
    agent,
    metrics,
    ...(lbClass !== undefined ? { loadBalancerClass: lbClass } : {}),
    ...(process.env['POD_NAME'] ? { podName: process.env['POD_NAME'] } : {}),
    ...(process.env['POD_UID'] ? { podUID: process.env['POD_UID'] } : {}),
  });
  let known = recordNodeStatus(metrics, { sessions: [] });
  let http: RunningHttpServer | undefined;
  if (listen) {
    try {
      http = await startHttpServer(listen, {
        ready: () => speaker.ready,
        status: (lists) => speaker.status(lists),
        component: 'speaker',
        registry: metrics.registry,
        beforeMetrics: () => {
          known = recordNodeStatus(metrics, speaker.status(METRICS_STATUS_LISTS), known);
        },
        control: controlEndpoints(agent, () => agent.status(COUNT_STATUS_LISTS).sessions, drainPeriod, logger, (how) => requestStop(how)),
      });
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'cannot listen for HTTP');
      return 1;
    }
    logger.info({ url: http.url }, 'health and metrics endpoints listening');
  }
  let requestStop: (how: { withdraw: boolean }) => void = () => undefined;
  const done = new Promise<{ withdraw: boolean }>((resolve) => {
    requestStop = resolve;
    process.once('SIGTERM', () => resolve({ withdraw: withdrawOnStop }));
    process.once('SIGINT', () => resolve({ withdraw: withdrawOnStop }));
    // the configuration comes from the API server: SIGHUP has nothing to re-read (and must not kill)
    process.on('SIGHUP', () => logger.info({ signal: 'SIGHUP' }, 'ignored: the configuration is watched on the API server'));
  });
  logger.info({ namespace, server: client.server }, 'speaker starting');
  void speaker.start().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'speaker failed to start'));
  void sessionStates
    .start()
    .then(publishStates)
    .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'BGPSessionState publishing failed to start'));
  const how = await done;
  logger.info(
    how.withdraw ? 'stopping: withdrawing routes' : 'stopping for a restart: graceful-restart peers keep our routes, the others are withdrawn',
  );
  // BGPSessionState objects stay (owned by the Pod); the next speaker on this node adopts them
  clearInterval(refreshStates);
  await sessionStates.stop();
  await speaker.stop(how);
  await http?.close();
  return 0;
}

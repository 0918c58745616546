// `metallb-ts controller`: the Kubernetes controller (IP assignment). See docs/kubernetes.md.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createLogger, isLogFormat, isLogLevel } from '../observability/logger.ts';
import { parseListenAddress, startHttpServer } from '../observability/http.ts';
import type { RunningHttpServer } from '../observability/http.ts';
import { KubeClient, kubeClientIdentity } from '../kube/client.ts';
import { Controller } from '../kube/controller.ts';
import { createKubeMetrics } from '../kube/metrics.ts';
import { parseArgs, parseSeconds, pick, UsageError } from './args.ts';
import { WebhookServer } from '../kube/webhook.ts';

export const CONTROLLER_USAGE = `usage: metallb-ts controller [options]

Assigns IPs to LoadBalancer Services from the metallb.io IPAddressPools and writes them into
status.loadBalancer.ingress. Replicas elect a leader through a coordination.k8s.io Lease; only
the leader writes. SIGTERM/SIGINT release the Lease and exit 0.

options:
  --kubeconfig FILE          kubeconfig (default: in-cluster service account, else $KUBECONFIG / ~/.kube/config)
  --namespace NS             namespace of the metallb.io objects (default $METALLB_NAMESPACE or metallb-system)
  --identity ID              leader-election identity (default $POD_NAME or hostname + random suffix)
  --load-balancer-class C    serve only Services with this spec.loadBalancerClass
  --disable-leader-election  act as leader at once (single replica only)
  --lease-name NAME          Lease name (default metallb-ts-controller)
  --lease-duration S         seconds (default 15)
  --renew-deadline S         seconds (default 10)
  --retry-period S           seconds (default 2)
  --workers N                concurrent Service reconciles (API writes in flight; default 8)
  --http-listen ADDR         /healthz /readyz /status /metrics (default 0.0.0.0:7472; "off" disables)
  --ml-secret-name NAME      Secret holding the speakers' Layer 2 gossip key; created when missing
                             (default metallb-memberlist; "off": never create it)
  --webhook-listen ADDR      serve the validating admission webhook over HTTPS (default off)
  --webhook-cert-dir DIR     tls.crt + tls.key for the webhook, re-read on change
                             (default /tmp/k8s-webhook-server/serving-certs)
  --log-format json|text     (default json)
  --log-level LEVEL          fatal|error|warn|info|debug|trace (default info)
  -h, --help                 this text
`;

const SPEC = pick(
  '--kubeconfig',
  '--namespace',
  '--identity',
  '--load-balancer-class',
  '--disable-leader-election',
  '--lease-name',
  '--lease-duration',
  '--renew-deadline',
  '--retry-period',
  '--workers',
  '--http-listen',
  '--ml-secret-name',
  '--webhook-listen',
  '--webhook-cert-dir',
  '--log-format',
  '--log-level',
);

function fail(msg: string): number {
  process.stderr.write(`metallb-ts controller: ${msg}\n${CONTROLLER_USAGE}`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, SPEC);
  if (p instanceof UsageError) return fail(p.message);
  if ('help' in p) {
    process.stdout.write(CONTROLLER_USAGE);
    return 0;
  }
  const v = p.values;
  const format = v.get('--log-format') ?? 'json';
  const level = v.get('--log-level') ?? 'info';
  if (!isLogFormat(format)) return fail(`--log-format must be json or text, not "${format}"`);
  if (!isLogLevel(level)) return fail(`--log-level: unknown level "${level}"`);
  const leaseDuration = parseSeconds('--lease-duration', v.get('--lease-duration'), 15);
  const renewDeadline = parseSeconds('--renew-deadline', v.get('--renew-deadline'), 10);
  const retryPeriod = parseSeconds('--retry-period', v.get('--retry-period'), 2);
  for (const x of [leaseDuration, renewDeadline, retryPeriod]) if (typeof x === 'string') return fail(x);
  if ((renewDeadline as number) >= (leaseDuration as number)) return fail('--renew-deadline must be shorter than --lease-duration');
  const workersText = v.get('--workers') ?? '8';
  const workers = Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) return fail(`--workers must be an integer from 1 to 256, not "${workersText}"`);
  const listenText = v.get('--http-listen') ?? '0.0.0.0:7472';
  const listen = listenText === 'off' ? null : parseListenAddress(listenText);
  if (typeof listen === 'string') return fail(listen);

  const webhookText = v.get('--webhook-listen') ?? 'off';
  const webhookListen = webhookText === 'off' ? null : parseListenAddress(webhookText);
  if (typeof webhookListen === 'string') return fail(webhookListen);
  const certDir = v.get('--webhook-cert-dir') ?? '/tmp/k8s-webhook-server/serving-certs';

  const namespace = v.get('--namespace') ?? process.env['METALLB_NAMESPACE'] ?? 'metallb-system';
  const identity = v.get('--identity') ?? process.env['POD_NAME'] ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  const logger = createLogger({ format, level, base: { component: 'controller', identity } });
  let client: KubeClient;
  try {
    const kubeconfig = v.get('--kubeconfig');
    client = KubeClient.fromOptions({ ...(kubeconfig ? { kubeconfig } : {}), ...kubeClientIdentity('controller'), logger });
  } catch (e) {
    process.stderr.write(`metallb-ts controller: ${(e as Error).message}\n`);
    return 1;
  }
  const metrics = createKubeMetrics();
  const lbClass = v.get('--load-balancer-class');
  const mlSecret = v.get('--ml-secret-name');
  const controller = new Controller({
    client,
    namespace,
    identity,
    logger,
    ...(lbClass !== undefined ? { loadBalancerClass: lbClass } : {}),
    leaderElection: !p.flags.has('--disable-leader-election'),
    ...(v.get('--lease-name') ? { leaseName: v.get('--lease-name') } : {}),
    leaseDurationSeconds: leaseDuration as number,
    renewDeadlineSeconds: renewDeadline as number,
    retryPeriodSeconds: retryPeriod as number,
    metrics,
    workers,
    ...(mlSecret === 'off' ? { createMemberlistSecret: false } : mlSecret !== undefined ? { memberlistSecretName: mlSecret } : {}),
  });
  let http: RunningHttpServer | undefined;
  if (listen) {
    try {
      http = await startHttpServer(listen, { ready: () => controller.ready, status: () => controller.status(), registry: metrics.registry, component: 'controller' });
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'cannot listen for HTTP');
      return 1;
    }
    logger.info({ url: http.url }, 'health and metrics endpoints listening');
  }
  let webhook: WebhookServer | undefined;
  let webhookTimer: NodeJS.Timeout | undefined;
  if (webhookListen) {
    const wh = new WebhookServer({ host: webhookListen.host, port: webhookListen.port, certDir, logger, decide: (req) => controller.admission(req) });
    const tryStart = (): void => {
      if (!wh.hasCertificate()) {
        logger.warn({ certDir }, 'webhook: no tls.crt/tls.key yet; retrying in 10s');
        webhookTimer = setTimeout(tryStart, 10000);
        return;
      }
      wh.start().then(
        () => {
          webhook = wh;
          logger.info({ url: wh.url }, 'validating webhook listening');
        },
        (e: unknown) => logger.error({ err: (e as Error).message }, 'webhook: cannot start'),
      );
    };
    tryStart();
  }
  const done = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  logger.info({ namespace, server: client.server }, 'controller starting');
  void controller.start().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'controller failed to start'));
  await done;
  logger.info('stopping: releasing the lease');
  if (webhookTimer) clearTimeout(webhookTimer);
  await webhook?.stop();
  await controller.stop();
  await http?.close();
  return 0;
}

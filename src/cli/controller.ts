// `metallb-ts controller`: the Kubernetes controller (IP assignment). See docs/kubernetes.md.

import { hostname } from 'node:os';
import { X509Certificate, randomBytes } from 'node:crypto';
import { createLogger, isLogFormat, isLogLevel } from '../observability/logger.ts';
import { parseListenAddress, startHttpServer } from '../observability/http.ts';
import type { RunningHttpServer } from '../observability/http.ts';
import { KubeClient, kubeClientIdentity } from '../kube/client.ts';
import { Controller, DEFAULT_WORKERS } from '../kube/controller.ts';
import { createKubeMetrics } from '../kube/metrics.ts';
import { parseArgs, parseSeconds, pick, UsageError } from './args.ts';
import { WebhookServer } from '../kube/webhook.ts';
import type { AdmissionResponse } from '../kube/webhook.ts';
import { EventRecorder } from '../kube/events.ts';
import {
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_CERT_VALIDITY_MS,
  DEFAULT_RENEW_BEFORE_MS,
  DEFAULT_WEBHOOK_CONFIGURATION,
  DEFAULT_WEBHOOK_SECRET,
  DEFAULT_WEBHOOK_SERVICE,
  WebhookCerts,
} from '../kube/webhookcert/rotator.ts';
import { parseGoDuration } from '../config/duration.ts';
import { useLeanHeap } from './heap.ts';

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
  --workers N                concurrent Service reconciles (API writes in flight; default 16)
  --http-listen ADDR         /healthz /readyz /status /metrics (default 0.0.0.0:7472; "off" disables)
  --ml-secret-name NAME      Secret holding the speakers' Layer 2 gossip key; created when missing
                             (default metallb-memberlist; "off": never create it)
  --webhook-listen ADDR      serve the validating admission webhook over HTTPS (default off)
  --webhook-secret NAME      Secret with the webhook's certificate (ca.crt, ca.key, tls.crt, tls.key);
                             the leader creates and rotates it and patches the caBundle
                             (default metallb-ts-webhook-cert)
  --cert-service-name NAME   the webhook Service; the certificate is for NAME.NAMESPACE.svc
                             (default metallb-ts-webhook)
  --webhook-configuration N  ValidatingWebhookConfiguration that gets the CA as caBundle
                             (repeatable; default metallb-ts-webhook)
  --ca-validity DUR          lifetime of a new CA (default 87600h = 10 years)
  --cert-validity DUR        lifetime of a new serving certificate (default 8760h = 1 year)
  --cert-renew-before DUR    replace a certificate this long before it expires (default 2160h = 90 days)
  --disable-cert-rotation    only serve the Secret's tls.crt/tls.key (cert-manager writes it and
                             injects the caBundle)
  --webhook-cert-dir DIR     serve tls.crt + tls.key from this directory instead of a Secret,
                             re-read on change
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
  '--webhook-secret',
  '--cert-service-name',
  '--webhook-configuration',
  '--disable-cert-rotation',
  '--ca-validity',
  '--cert-validity',
  '--cert-renew-before',
  '--log-format',
  '--log-level',
);

/** /status `webhook`: whether it serves, and which certificate (fingerprint, expiry). */
function webhookStatus(w: WebhookServer): Record<string, unknown> {
  if (!w.serving) return { serving: false };
  const cert = new X509Certificate(w.certificate);
  return { serving: true, url: w.url, fingerprint: cert.fingerprint256, notAfter: new Date(cert.validTo).toISOString(), dnsNames: cert.subjectAltName ?? '' };
}

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
  const workersText = v.get('--workers') ?? String(DEFAULT_WORKERS);
  const workers = Number(workersText);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) return fail(`--workers must be an integer from 1 to 256, not "${workersText}"`);
  const listenText = v.get('--http-listen') ?? '0.0.0.0:7472';
  const listen = listenText === 'off' ? null : parseListenAddress(listenText);
  if (typeof listen === 'string') return fail(listen);

  const webhookText = v.get('--webhook-listen') ?? 'off';
  const webhookListen = webhookText === 'off' ? null : parseListenAddress(webhookText);
  if (typeof webhookListen === 'string') return fail(webhookListen);
  const certDir = v.get('--webhook-cert-dir');
  const durations = new Map<string, number>();
  for (const [flag, dflt] of [['--ca-validity', DEFAULT_CA_VALIDITY_MS], ['--cert-validity', DEFAULT_CERT_VALIDITY_MS], ['--cert-renew-before', DEFAULT_RENEW_BEFORE_MS]] as const) {
    const text = v.get(flag);
    const ms = text === undefined ? dflt : parseGoDuration(text);
    if (ms === undefined || ms <= 0) return fail(`${flag} must be a positive duration such as 2160h, not "${text}"`);
    durations.set(flag, ms);
  }
  const certValidity = durations.get('--cert-validity') ?? DEFAULT_CERT_VALIDITY_MS;
  const caValidity = durations.get('--ca-validity') ?? DEFAULT_CA_VALIDITY_MS;
  const renewBefore = durations.get('--cert-renew-before') ?? DEFAULT_RENEW_BEFORE_MS;
  if (renewBefore >= certValidity || renewBefore >= caValidity) return fail('--cert-renew-before must be shorter than --cert-validity and --ca-validity (or every check would renew)');

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
  const webhookServer: WebhookServer | undefined = webhookListen
    ? new WebhookServer({ host: webhookListen.host, port: webhookListen.port, ...(certDir !== undefined ? { certDir } : {}), logger, decide: (req): AdmissionResponse => controller.admission(req) })
    : undefined;
  // Secret mode (the default with --webhook-listen): the certificate comes from the webhook
  // Secret, kept current by the leader unless --disable-cert-rotation.
  const webhookCerts: WebhookCerts | undefined =
    webhookServer && certDir === undefined
      ? new WebhookCerts({
          client,
          namespace,
          secretName: v.get('--webhook-secret') ?? DEFAULT_WEBHOOK_SECRET,
          rotation: p.flags.has('--disable-cert-rotation')
            ? null
            : {
                serviceName: v.get('--cert-service-name') ?? DEFAULT_WEBHOOK_SERVICE,
                webhookConfigurations: p.lists.get('--webhook-configuration') ?? [DEFAULT_WEBHOOK_CONFIGURATION],
                caValidityMs: caValidity,
                certValidityMs: certValidity,
                renewBeforeMs: renewBefore,
              },
          logger,
          onCertificate: async (pair) => {
            const first = !webhookServer.serving;
            await webhookServer.load(pair);
            if (first) logger.info({ url: webhookServer.url }, 'validating webhook listening');
          },
          events: new EventRecorder(client, 'metallb-controller', identity, logger),
        })
      : undefined;
  const lbClass = v.get('--load-balancer-class');
  const mlSecret = v.get('--ml-secret-name');
  const controller: Controller = new Controller({
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
    ...(webhookCerts ? { webhookCerts } : {}),
  });
  // Ready once the configuration is loaded and, with the webhook on, its certificate is served
  // (the webhook Service then only routes to replicas that can answer).
  const ready = (): boolean => controller.ready && (webhookServer === undefined || webhookServer.serving);
  let http: RunningHttpServer | undefined;
  if (listen) {
    try {
      http = await startHttpServer(listen, { ready, status: () => ({ ...controller.status(), webhook: webhookServer ? webhookStatus(webhookServer) : null }), registry: metrics.registry, component: 'controller' });
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'cannot listen for HTTP');
      return 1;
    }
    logger.info({ url: http.url }, 'health and metrics endpoints listening');
  }
  let webhook: WebhookServer | undefined;
  let webhookTimer: NodeJS.Timeout | undefined;
  if (webhookServer && certDir !== undefined) {
    const wh = webhookServer;
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
  void controller.start().then(
    () => {
      // once the caches are filled (the big lists), the heap stays close to the live data
      // (src/cli/heap.ts): what the controller holds is small, V8's growth slack was most of its RSS
      const heapFlags = useLeanHeap();
      if (heapFlags.length > 0) logger.debug({ v8: heapFlags }, 'V8 heap grows by at most 1.3x the live data from now on');
    },
    (err: unknown) => logger.error({ err: (err as Error).message }, 'controller failed to start'),
  );
  await done;
  logger.info('stopping: releasing the lease');
  if (webhookTimer) clearTimeout(webhookTimer);
  await webhook?.stop();
  await controller.stop();
  await webhookServer?.stop();
  await http?.close();
  return 0;
}

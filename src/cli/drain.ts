// `metallb-ts drain`: asks a running `metallb-ts standalone` (through its HTTP port, loopback
// only) to drain its BGP sessions (RFC 8326), optionally stopping afterwards, or to resume.

import { request } from 'node:http';
import { parseListenAddress } from '../observability/http.ts';
import { parseGoDuration } from '../config/duration.ts';
import { UsageError, parseArgs, pick } from './args.ts';

export const DRAIN_USAGE = `usage: metallb-ts drain [--http ADDR] [--period DURATION] [--stop | --undo]

Drains a running "metallb-ts standalone" before maintenance (RFC 8326 graceful shutdown):
every route is re-advertised with the GRACEFUL_SHUTDOWN community 65535:0 (and LOCAL_PREF 0 on
iBGP sessions) so that routers move traffic to other nodes, then withdrawn when the drain
period is over. The command returns once the routes are withdrawn. The sessions stay up and
the node stays drained (Services added meanwhile are not announced) until "--undo".

options:
  --http ADDR         the standalone's --http-listen address (default 127.0.0.1:7472)
  --period DURATION   how long to announce GRACEFUL_SHUTDOWN before withdrawing (Go duration;
                      default: the standalone's --drain-period, 30s unless set)
  --stop              stop the standalone once drained (a real stop: exit 0, nothing kept at
                      the routers). Use this, not SIGTERM, to take a node out for good.
  --undo              end a drain: announce normally again
  -h, --help          this text

exit codes: 0 done, 1 the standalone could not be reached or refused, 2 usage error
`;

interface DrainArgs {
  host: string;
  port: number;
  period?: string;
  stop: boolean;
  undo: boolean;
}

export function parseDrainArgs(argv: string[]): DrainArgs | { help: true } | string {
  const p = parseArgs(argv, pick('--http', '--period', '--stop', '--undo'));
  if (p instanceof UsageError) return p.message;
  if (p.help) return { help: true };
  const http = p.values.get('--http') ?? '127.0.0.1:7472';
  const period = p.values.get('--period');
  const stop = p.flags.has('--stop');
  const undo = p.flags.has('--undo');
  if (period !== undefined && parseGoDuration(period) === undefined) return `--period: "${period}" is not a duration (e.g. 30s, 2m)`;
  if (stop && undo) return '--stop and --undo exclude each other';
  if (undo && period !== undefined) return '--period makes no sense with --undo';
  const l = parseListenAddress(http);
  if (typeof l === 'string') return `--http: ${l}`;
  const host = l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host;
  return { host, port: l.port, stop, undo, ...(period !== undefined ? { period } : {}) };
}

function post(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // no client timeout: the answer comes when the drain period is over
    const req = request({ host, port, path, method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run(argv: string[]): Promise<number> {
  const a = parseDrainArgs(argv);
  if (typeof a === 'string') {
    process.stderr.write(`metallb-ts drain: ${a}\n\n${DRAIN_USAGE}`);
    return 2;
  }
  if ('help' in a) {
    process.stdout.write(DRAIN_USAGE);
    return 0;
  }
  const q = new URLSearchParams();
  if (a.period !== undefined) q.set('period', a.period);
  if (a.stop) q.set('stop', 'true');
  const path = a.undo ? '/resume' : `/drain${q.size > 0 ? `?${q.toString()}` : ''}`;
  const where = `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  if (!a.undo) process.stderr.write(`metallb-ts drain: draining the standalone at ${where} (returns when the routes are withdrawn)\n`);
  let r: { status: number; body: string };
  try {
    r = await post(a.host, a.port, path);
  } catch (e) {
    process.stderr.write(`metallb-ts drain: cannot reach ${where}: ${(e as Error).message} (is "metallb-ts standalone" running with --http-listen ${where}?)\n`);
    return 1;
  }
  if (r.status !== 200) {
    process.stderr.write(`metallb-ts drain: ${where} answered HTTP ${r.status}: ${r.body.trim()}\n`);
    return 1;
  }
  process.stdout.write(r.body);
  return 0;
}

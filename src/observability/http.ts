// Tiny HTTP server for the health, status and metrics endpoints:
//   GET /healthz  200 "ok" while the process runs
//   GET /readyz   200 when ready() is true, else 503
//   GET /status   JSON from status(lists): long lists cut at 1000 entries unless the query asks
//                 otherwise (?routes=all|count|N&services=all|count|N, see statuslists.ts);
//                 streamed (jsonstream.ts), so a whole /status is never one string in memory
//   GET /metrics  Prometheus text from the registry
//   GET /         the live status page (src/ui) when `component` is set, built from status()
//   POST <control path>  (e.g. /drain, /resume) only from loopback clients: 403 otherwise
// Anything else is 404; other methods are 405.

import { createServer } from 'node:http';
import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { tryParseIP } from '../ip/index.ts';
import { UiHandler } from '../ui/server.ts';
import type { Component } from '../ui/viewmodel.ts';
import { sendJson } from './jsonstream.ts';
import { parseStatusQuery } from './statuslists.ts';
import type { StatusLists } from './statuslists.ts';

export interface HttpEndpoints {
  ready: () => boolean;
  /** The /status document, its long lists cut or counted as the query asks. */
  status: (lists: StatusLists) => unknown;
  registry?: Registry;
  /** Called before /metrics is rendered (to refresh gauges from live state). */
  beforeMetrics?: () => void;
  /** Which process this is: enables the status page at `/` (rendered from status()). */
  component?: Component;
  /**
   * POST endpoints that change the running process (`metallb-ts drain`). Only clients on a
   * loopback address may call them, whatever address the server listens on.
   */
  control?: Record<string, (query: URLSearchParams) => Promise<{ status: number; body: unknown }>>;
}

/** Whether a socket's remote address is loopback (127.0.0.0/8, ::1, ::ffff:127.x). */
export function isLoopbackClient(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || /^127\./.test(a);
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RunningHttpServer {
  server: Server;
  /** The address actually bound (port resolved when 0 was asked for). */
  address: ListenAddress;
  /** `http://host:port` usable by clients (IPv6 hosts bracketed). */
  url: string;
  close(): Promise<void>;
}

/**
 * Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` (all IPv4 addresses) or `PORT` (loopback).
 * Returns an error message for anything else.
 */
export function parseListenAddress(s: string): ListenAddress | string {
  const bad = `invalid listen address "${s}": want HOST:PORT, [IPv6]:PORT or PORT`;
  let host: string;
  let portStr: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (v6) {
    host = v6[1] ?? '';
    portStr = v6[2] ?? '';
    const ip = tryParseIP(host);
    if (!ip || ip.family !== 6) return bad;
  } else if (/^\d+$/.test(s)) {
    host = '127.0.0.1';
    portStr = s;
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) return bad;
    host = s.slice(0, i) || '0.0.0.0';
    portStr = s.slice(i + 1);
    if (host !== 'localhost' && !tryParseIP(host)) return bad;
    if (tryParseIP(host)?.family === 6) return bad; // IPv6 needs brackets
  }
  if (!/^\d{1,5}$/.test(portStr)) return bad;
  const port = Number(portStr);
  if (port > 65535) return bad;
  return { host, port };
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(ep: HttpEndpoints, ui: UiHandler | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const cpath = q < 0 ? url : url.slice(0, q);
  const qs = q < 0 ? '' : url.slice(q + 1);
  const control = ep.control?.[cpath];
  if (req.method === 'POST' && control) {
    if (!isLoopbackClient(req.socket.remoteAddress)) {
      send(res, 403, 'text/plain; charset=utf-8', 'control endpoints answer loopback clients only\n');
      return;
    }
    const r = await control(new URLSearchParams(qs));
    send(res, r.status, 'application/json', JSON.stringify(r.body, null, 2) + '\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  switch (cpath) {
    case '/healthz':
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    case '/readyz':
      if (ep.ready()) send(res, 200, 'text/plain; charset=utf-8', 'ready\n');
      else send(res, 503, 'text/plain; charset=utf-8', 'not ready\n');
      return;
    case '/status': {
      const lists = parseStatusQuery(new URLSearchParams(qs));
      if (typeof lists === 'string') {
        send(res, 400, 'text/plain; charset=utf-8', `/status: ${lists}\n`);
        return;
      }
      await sendJson(res, 200, ep.status(lists), req.method === 'HEAD');
      return;
    }
    case '/metrics':
      if (!ep.registry) break;
      ep.beforeMetrics?.();
      send(res, 200, ep.registry.contentType, await ep.registry.metrics());
      return;
  }
  if (ui?.handle(cpath, req, res)) return;
  send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
}

export async function startHttpServer(listen: ListenAddress, ep: HttpEndpoints): Promise<RunningHttpServer> {
  const ui = ep.component ? new UiHandler({ component: ep.component, status: ep.status }) : undefined;
  const server = createServer((req, res) => {
    handle(ep, ui, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error): void => reject(e);
    server.once('error', onErr);
    server.listen(listen.port, listen.host, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return {
    server,
    address,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        ui?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

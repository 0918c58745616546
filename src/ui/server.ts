// HTTP side of the status page: `/` (the page), `/ui/app.js`, `/ui/style.css`, `/ui/model`
// (the view model as JSON) and `/ui/events` (server-sent events: the model, pushed whenever it
// changes). The model is built from the same status() call that serves /status.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_JS, INDEX_HTML, STYLE_CSS } from './assets.ts';
import { ROUTES_SHOWN, SERVICES_SHOWN, toViewModel } from './viewmodel.ts';
import type { Component } from './viewmodel.ts';
import type { StatusLists } from '../observability/statuslists.ts';

export interface UiSource {
  component: Component;
  /** The /status document with lists cut as asked (the page asks for what it shows). */
  status: (lists: StatusLists) => unknown;
  /** How often connected pages are checked for changes (ms). Default 1000. */
  intervalMs?: number;
  /** Injected timers (tests); default setInterval/clearInterval. */
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
}

/** The page shows at most this many routes per router and Services: /status builds no more. */
const PAGE_LISTS: StatusLists = { routes: ROUTES_SHOWN, services: SERVICES_SHOWN };

const HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** Serves the page; one instance per HTTP server (it owns the event stream's ticker). */
export class UiHandler {
  private readonly clients = new Set<ServerResponse>();
  private ticker: unknown;
  private last = '';
  private quietTicks = 0;

  constructor(private readonly src: UiSource) {}

  modelJSON(): string {
    return JSON.stringify(toViewModel(this.src.component, this.src.status(PAGE_LISTS)));
  }

  /** Handles a GET for a page path; returns false when the path is not the page's. */
  handle(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    switch (path) {
      case '/':
      case '/ui':
      case '/ui/':
        res.writeHead(200, {
          ...HEADERS,
          'content-type': 'text/html; charset=utf-8',
          // everything comes from this process: no CDN, no inline script
          'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        });
        res.end(INDEX_HTML);
        return true;
      case '/ui/app.js':
        res.writeHead(200, { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' });
        res.end(APP_JS);
        return true;
      case '/ui/style.css':
        res.writeHead(200, { ...HEADERS, 'content-type': 'text/css; charset=utf-8' });
        res.end(STYLE_CSS);
        return true;
      case '/ui/model':
        res.writeHead(200, { ...HEADERS, 'content-type': 'application/json' });
        res.end(this.modelJSON());
        return true;
      case '/ui/events':
        this.subscribe(req, res);
        return true;
    }
    return false;
  }

  private subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    const json = this.modelJSON();
    res.write(`retry: 2000\nevent: model\ndata: ${json}\n\n`);
    if (this.clients.size === 0) this.last = json;
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTicker();
    };
    req.on('close', drop);
    res.on('error', drop);
    this.startTicker();
  }

  /** Pushes the model to every connected page if it changed since the last push. */
  tick(): void {
    if (this.clients.size === 0) return;
    const json = this.modelJSON();
    if (json === this.last) {
      // a comment line now and then keeps proxies from closing an idle stream
      if (++this.quietTicks >= 15) {
        this.quietTicks = 0;
        for (const c of this.clients) c.write(': keep-alive\n\n');
      }
      return;
    }
    this.quietTicks = 0;
    this.last = json;
    for (const c of this.clients) c.write(`event: model\ndata: ${json}\n\n`);
  }

  private startTicker(): void {
    if (this.ticker !== undefined) return;
    const set = this.src.setInterval ?? ((fn: () => void, ms: number) => setInterval(fn, ms).unref());
    this.ticker = set(() => this.tick(), this.src.intervalMs ?? 1000);
  }

  private stopTicker(): void {
    if (this.ticker === undefined) return;
    const clear = this.src.clearInterval ?? ((h: unknown) => clearInterval(h as NodeJS.Timeout));
    clear(this.ticker);
    this.ticker = undefined;
  }

  /** Ends every event stream (server shutdown). */
  close(): void {
    this.stopTicker();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}

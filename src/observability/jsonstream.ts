// Pretty-printed JSON (the same text as JSON.stringify(value, null, 2)) produced a chunk at a
// time, and written to an HTTP response as the client takes it. A /status of 10 sessions x 100k
// routes is ~200 MB of text: built whole it would cost that much memory (twice, as a string and
// as the socket's buffer) and block the event loop (BGP keepalives, timers) while it is made.
// Streamed, the process holds one chunk at a time and lets other work run between chunks.
//
// Small values (a route, a counter set) are still given to JSON.stringify whole; only arrays and
// objects that are long, or that hold other containers, are walked here.

import type { ServerResponse } from 'node:http';

/** Entries above which an array or object is walked instead of stringified whole. */
const WALK_ABOVE = 16;

type Frame =
  | { kind: 'array'; items: readonly unknown[]; i: number; indent: string }
  | { kind: 'object'; obj: Record<string, unknown>; keys: string[]; i: number; indent: string; wrote: boolean };

function isWalked(v: unknown): v is object {
  if (typeof v !== 'object' || v === null || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(v)) return v.length > WALK_ABOVE || v.some((x) => typeof x === 'object' && x !== null && isWalked(x));
  const values = Object.values(v);
  return values.length > WALK_ABOVE || values.some((x) => typeof x === 'object' && x !== null && (!Array.isArray(x) || x.length > WALK_ABOVE || isWalked(x)));
}

/** What JSON.stringify makes of a value with toJSON, as a property `key`. */
function jsonValue(v: unknown, key: string): unknown {
  if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON: (k: string) => unknown }).toJSON(key);
  return v;
}

/** Produces the text of `value` in chunks of about `chunkChars` characters. */
export class JsonChunker {
  private readonly stack: Frame[] = [];
  private buf = '';
  private done = false;

  constructor(
    value: unknown,
    private readonly chunkChars = 64 * 1024,
  ) {
    const text = this.open(jsonValue(value, ''), '');
    // JSON.stringify(undefined) is undefined: nothing to send but valid JSON is wanted
    if (text === undefined) this.buf = 'null';
    else this.buf = text;
  }

  /** The next chunk; undefined when the whole text was returned. */
  next(): string | undefined {
    if (this.done) return undefined;
    while (this.buf.length < this.chunkChars && this.stack.length > 0) this.step();
    if (this.stack.length === 0) this.done = true;
    const out = this.buf;
    this.buf = '';
    return out.length > 0 || !this.done ? out : undefined;
  }

  /**
   * The opening text of a value: the whole text of a small one (undefined for what JSON
   * leaves out: undefined, functions, symbols), or `[` / `{` with a frame pushed to walk it.
   */
  private open(v: unknown, indent: string): string | undefined {
    if (!isWalked(v)) {
      const t = JSON.stringify(v, null, 2) as string | undefined;
      return t === undefined || indent === '' || !t.includes('\n') ? t : t.replace(/\n/g, '\n' + indent);
    }
    if (Array.isArray(v)) {
      this.stack.push({ kind: 'array', items: v, i: 0, indent });
      return '[';
    }
    const obj = v as Record<string, unknown>;
    this.stack.push({ kind: 'object', obj, keys: Object.keys(obj), i: 0, indent, wrote: false });
    return '{';
  }

  /** Writes one entry of the innermost container (or closes it). */
  private step(): void {
    const f = this.stack[this.stack.length - 1] as Frame;
    const inner = f.indent + '  ';
    if (f.kind === 'array') {
      if (f.i >= f.items.length) {
        this.stack.pop();
        this.buf += f.items.length === 0 ? ']' : '\n' + f.indent + ']';
        return;
      }
      const i = f.i++;
      this.buf += (i > 0 ? ',' : '') + '\n' + inner;
      this.buf += this.open(jsonValue(f.items[i], String(i)), inner) ?? 'null';
      return;
    }
    while (f.i < f.keys.length) {
      const k = f.keys[f.i++] as string;
      const v = jsonValue(f.obj[k], k);
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      this.buf += (f.wrote ? ',' : '') + '\n' + inner + JSON.stringify(k) + ': ';
      f.wrote = true;
      this.buf += this.open(v, inner) ?? 'null';
      return;
    }
    this.stack.pop();
    this.buf += f.wrote ? '\n' + f.indent + '}' : '}';
  }
}

/**
 * Sends `value` as pretty JSON (and a final newline), chunk by chunk, waiting for the client
 * to take each one. Stops early when the client goes away.
 */
export async function sendJson(res: ServerResponse, code: number, value: unknown, head = false): Promise<void> {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  if (head) {
    res.end();
    return;
  }
  const chunks = new JsonChunker(value);
  for (let c = chunks.next(); c !== undefined; c = chunks.next()) {
    if (res.destroyed) return;
    if (!res.write(c)) await drained(res);
  }
  res.end('\n');
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

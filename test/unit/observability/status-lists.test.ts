// /status list limits (src/observability/statuslists.ts) and the streamed JSON
// (src/observability/jsonstream.ts): the streamed text is exactly JSON.stringify(v, null, 2),
// and the HTTP server answers the query parameters (and rejects bad ones) over a real socket.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { JsonChunker } from '../../../src/observability/jsonstream.ts';
import { DEFAULT_LIST_LIMIT, ListShaper, joinNotices, parseStatusQuery } from '../../../src/observability/statuslists.ts';
import type { StatusLists } from '../../../src/observability/statuslists.ts';
import { startHttpServer } from '../../../src/observability/http.ts';

function chunked(v: unknown, size: number): { text: string; chunks: number; longest: number } {
  const c = new JsonChunker(v, size);
  let text = '';
  let chunks = 0;
  let longest = 0;
  for (let s = c.next(); s !== undefined; s = c.next()) {
    text += s;
    chunks++;
    longest = Math.max(longest, s.length);
  }
  return { text, chunks, longest };
}

test('streamed JSON is exactly JSON.stringify(value, null, 2)', () => {
  const route = (i: number): unknown => ({ prefix: `10.0.${i >> 8}.${i & 255}/32`, nextHop: null, localPref: i % 3 ? 100 : null, communities: ['65535:65282'], largeCommunities: [], weight: i % 2 ? undefined : i });
  const values: unknown[] = [
    null,
    0,
    'x "quoted" \n newline ünïcode \u2028',
    [],
    {},
    [[], {}, [[]], { a: [] }],
    { a: undefined, b: () => 1, c: [undefined, () => 1, Symbol('s')], d: new Date(0), e: NaN, f: -0 },
    { sessions: [{ peer: 'a', routes: Array.from({ length: 300 }, (_, i) => route(i)), speaker: { counters: { x: 1 }, routes: Array.from({ length: 40 }, (_, i) => `10.0.0.${i}/32`) } }] },
    { owners: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`192.0.2.${i}`, i % 2 ? 'n1' : null])), nested: { deeper: { deepest: [1, [2, [3, { k: 'v' }]]] } } },
    Array.from({ length: 100 }, (_, i) => (i % 2 ? [i, { i }] : i)),
  ];
  for (const v of values) {
    const want = JSON.stringify(v, null, 2);
    for (const size of [1, 7, 256, 1 << 16]) assert.equal(chunked(v, size).text, want, `chunk size ${size}: ${want.slice(0, 80)}`);
  }
  // undefined at the top: valid JSON
  assert.equal(chunked(undefined, 10).text, 'null');
});

test('a big document comes in chunks of about the asked size', () => {
  const big = { routes: Array.from({ length: 20000 }, (_, i) => ({ prefix: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32`, communities: [] })) };
  const r = chunked(big, 16384);
  assert.equal(r.text, JSON.stringify(big, null, 2));
  assert.ok(r.chunks > 20, `${r.chunks} chunks`);
  assert.ok(r.longest < 16384 + 1024, `longest chunk ${r.longest}`);
});

test('query parameters: routes and services = all | count | N; anything else is an error', () => {
  const q = (s: string): StatusLists | string => parseStatusQuery(new URLSearchParams(s));
  assert.deepEqual(q(''), { routes: DEFAULT_LIST_LIMIT, services: DEFAULT_LIST_LIMIT });
  assert.deepEqual(q('routes=count'), { routes: 'count', services: DEFAULT_LIST_LIMIT });
  assert.deepEqual(q('routes=all&services=count'), { routes: 'all', services: 'count' });
  assert.deepEqual(q('routes=0&services=25'), { routes: 0, services: 25 });
  for (const bad of ['routes=', 'routes=-1', 'routes=some', 'services=1e3', 'route=all', 'announced=all']) {
    const e = q(bad);
    assert.equal(typeof e, 'string', bad);
    assert.match(e as string, /routes=all\|count\|N/, bad);
  }
});

test('ListShaper cuts, counts and says which lists it cut', () => {
  const items = Array.from({ length: 10 }, (_, i) => i);
  const built: number[] = [];
  const cut = new ListShaper({ routes: 4, services: 'all' });
  assert.deepEqual(
    cut.list('routes', 'sessions[a].routes', 10, (n) => {
      built.push(n);
      return items.slice(0, n);
    }),
    [0, 1, 2, 3],
  );
  assert.deepEqual(built, [4], 'only the shown entries are built');
  assert.equal(cut.slice('services', 'services', items), items, 'a whole list is not copied');
  assert.deepEqual(cut.slice('announced', 'announced', items)?.length, 10, 'announced follows services');
  assert.deepEqual(cut.notice(), { lists: ['sessions[a].routes'], routes: 4, services: 'all', full: '/status?routes=all&services=all' });

  const counts = new ListShaper({ routes: 'count', services: 'count', announced: 'all' });
  assert.equal(counts.slice('routes', 'r', items), undefined);
  assert.equal(counts.slice('services', 's', items), undefined);
  assert.equal(counts.slice('announced', 'announced', items)?.length, 10);
  assert.equal(counts.notice(), undefined, 'counted lists are not "cut"');
  assert.equal(new ListShaper().slice('routes', 'r', items)?.length, 10, 'default: every entry');

  assert.equal(joinNotices(undefined, undefined), undefined);
  const other = new ListShaper({ routes: 4, services: 2 });
  other.slice('services', 'services', items);
  assert.deepEqual(joinNotices(cut.notice(), other.notice())?.lists, ['sessions[a].routes', 'services']);
});

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    })
      .on('error', reject)
      .end();
  });
}

test('GET /status passes the parsed lists to status() and streams the answer; bad queries get 400', async () => {
  const asked: StatusLists[] = [];
  const doc = { sessions: [{ peer: 'a', routes: Array.from({ length: 5000 }, (_, i) => ({ prefix: `10.0.${i >> 8}.${i & 255}/32` })) }] };
  const srv = await startHttpServer({ host: '127.0.0.1', port: 0 }, { ready: () => true, status: (l) => (asked.push(l), doc) });
  try {
    const r = await get(srv.url + '/status?routes=all&services=7');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.equal(r.body, JSON.stringify(doc, null, 2) + '\n');
    assert.deepEqual(asked.at(-1), { routes: 'all', services: 7 });
    await get(srv.url + '/status');
    assert.deepEqual(asked.at(-1), { routes: DEFAULT_LIST_LIMIT, services: DEFAULT_LIST_LIMIT });
    const bad = await get(srv.url + '/status?routes=everything');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /routes: "everything" is not all, count or a number/);
    assert.equal(asked.length, 2, 'a bad query does not build the status');
  } finally {
    await srv.close();
  }
});

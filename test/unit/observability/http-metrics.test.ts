import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parseListenAddress, startHttpServer } from '../../../src/observability/http.ts';
import { createMetrics, recordPools, recordSessions } from '../../../src/observability/metrics.ts';
import { createLogger } from '../../../src/observability/logger.ts';

test('parseListenAddress', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:7472'), { host: '127.0.0.1', port: 7472 });
  assert.deepEqual(parseListenAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListenAddress(':9000'), { host: '0.0.0.0', port: 9000 });
  assert.deepEqual(parseListenAddress('7472'), { host: '127.0.0.1', port: 7472 });
  for (const bad of ['', 'x:1', '1.2.3.4', '1.2.3.4:70000', '::1:80', '[1.2.3.4]:80', 'host:port']) {
    assert.equal(typeof parseListenAddress(bad), 'string', bad);
  }
});

test('health, readiness, status and metrics endpoints', async () => {
  const m = createMetrics({ processMetrics: false });
  let ready = false;
  let scrapes = 0;
  const srv = await startHttpServer(
    { host: '127.0.0.1', port: 0 },
    {
      ready: () => ready,
      status: () => ({ hello: 'world' }),
      registry: m.registry,
      beforeMetrics: () => {
        scrapes++;
        recordSessions(m, [{ peer: 'p1', established: true, announced: 3, pending: 0, updatesSent: 4 }]);
        recordPools(m, [{ pool: 'a', inUse: 1, total: 256 }]);
      },
    },
  );
  try {
    assert.equal((await fetch(srv.url + '/healthz')).status, 200);
    assert.equal((await fetch(srv.url + '/readyz')).status, 503);
    ready = true;
    assert.equal((await fetch(srv.url + '/readyz')).status, 200);
    assert.deepEqual(await (await fetch(srv.url + '/status')).json(), { hello: 'world' });
    assert.equal((await fetch(srv.url + '/nope')).status, 404);
    assert.equal((await fetch(srv.url + '/status', { method: 'POST' })).status, 405);
    const text = await (await fetch(srv.url + '/metrics')).text();
    assert.equal(scrapes, 1);
    assert.match(text, /^metallb_bgp_session_up\{peer="p1"\} 1$/m);
    assert.match(text, /^metallb_bgp_announced_prefixes_total\{peer="p1"\} 3$/m);
    assert.match(text, /^metallb_bgp_updates_total\{peer="p1"\} 4$/m);
    assert.match(text, /^metallb_allocator_addresses_in_use_total\{pool="a"\} 1$/m);
    assert.match(text, /^metallb_allocator_addresses_total\{pool="a"\} 256$/m);
    assert.match(text, /^# TYPE metallb_bgp_pending_prefixes_total gauge$/m);
  } finally {
    await srv.close();
  }
});

test('recordSessions: counters follow absolute totals; vanished peers go down', async () => {
  const m = createMetrics({ processMetrics: false });
  let known = recordSessions(m, [{ peer: 'p', established: true, updatesSent: 5, announced: 2 }]);
  known = recordSessions(m, [{ peer: 'p', established: true, updatesSent: 7, announced: 2 }], known);
  const v1 = await m.bgpUpdatesTotal.get();
  assert.equal(v1.values[0]?.value, 7);
  recordSessions(m, [], known);
  assert.equal((await m.bgpSessionUp.get()).values[0]?.value, 0);
  assert.equal((await m.bgpAnnouncedPrefixes.get()).values[0]?.value, 0);
});

test('logger: JSON lines by default, text with --log-format text', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  createLogger({ destination: sink, base: { node: 'n1' } }).info({ peer: 'x' }, 'hello');
  const obj = JSON.parse(lines.join('')) as Record<string, unknown>;
  assert.equal(obj.msg, 'hello');
  assert.equal(obj.peer, 'x');
  assert.equal(obj.node, 'n1');
  assert.equal(obj.level, 30);
  lines.length = 0;
  createLogger({ format: 'text', destination: sink }).warn({ peer: 'y' }, 'careful');
  const text = lines.join('');
  assert.match(text, /WARN.*careful/);
  assert.match(text, /peer: "y"/);
  assert.throws(() => JSON.parse(text));
});

// TCP-MD5 (RFC 2385) and TTL over real loopback sockets, through the native addon.
// Only 127.0.0.1 / ::1 are used. setsockopt(TCP_MD5SIG) needs no privileges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { listenMd5, tcpConnect, isLocalAddress } from '../../../src/bgp/transport/index.ts';
import { tryLoadTcpAddon, NativeAddonError } from '../../../src/native/tcp.ts';

const addon = tryLoadTcpAddon();
const skipReason = addon instanceof NativeAddonError ? addon.message : undefined;

function prereq(t: { skip: (r: string) => void }): boolean {
  if (skipReason === undefined) return true;
  if (process.env.CI === 'true') assert.fail(`native addon required under CI: ${skipReason}`);
  t.skip(skipReason);
  return false;
}

async function withServer(
  host: string,
  family: 4 | 6,
  key: string,
  fn: (port: number, accepted: net.Socket[]) => Promise<void>,
): Promise<void> {
  const accepted: net.Socket[] = [];
  const srv = await listenMd5({ host, port: 0, family, keys: [{ address: host, key }] }, (s) => {
    accepted.push(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
  });
  try {
    const addr = srv.address();
    assert.ok(addr && typeof addr === 'object');
    await fn(addr.port, accepted);
  } finally {
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

async function echo(sock: net.Socket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    sock.once('data', (d) => resolve(d.toString()));
    sock.once('error', reject);
    sock.write(msg);
  });
}

test('TCP-MD5 over IPv4 loopback: right key connects, wrong/missing key never reaches the listener', async (t) => {
  if (!prereq(t)) return;
  await withServer('127.0.0.1', 4, 'correct-horse', async (port, accepted) => {
    const ok = await tcpConnect({ host: '127.0.0.1', port, family: 4, password: 'correct-horse', ttl: 255, timeoutMs: 3000 });
    try {
      assert.equal(await echo(ok, 'hello'), 'hello');
      assert.equal(accepted.length, 1);
    } finally {
      ok.destroy();
    }
    await assert.rejects(
      tcpConnect({ host: '127.0.0.1', port, family: 4, password: 'wrong-key', timeoutMs: 1500 }),
      (e: Error & { code?: string }) => e.code === 'ETIMEDOUT' && /timed out after 1500 ms/.test(e.message),
    );
    await assert.rejects(tcpConnect({ host: '127.0.0.1', port, family: 4, timeoutMs: 1500 }), /timed out/);
    assert.equal(accepted.length, 1, 'the listener never saw the unsigned / wrongly signed connections');
  });
});

test('TCP-MD5 over IPv6 loopback with a bound source address and TTL 1', async (t) => {
  if (!prereq(t)) return;
  if (!isLocalAddress('::1')) {
    if (process.env.CI === 'true') assert.fail('::1 is not configured');
    t.skip('::1 not configured on this host');
    return;
  }
  await withServer('::1', 6, 'v6key', async (port, accepted) => {
    const s = await tcpConnect({ host: '::1', port, family: 6, password: 'v6key', ttl: 1, localAddress: '::1', timeoutMs: 3000 });
    try {
      assert.equal(await echo(s, 'six'), 'six');
      assert.equal(s.localAddress, '::1');
      assert.equal(accepted.length, 1);
    } finally {
      s.destroy();
    }
  });
});

test('plain connect: refused port gives ECONNREFUSED; non-local source address is ignored with a warning', async () => {
  const net = await import('node:net');
  const srv = net.createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const addr = srv.address();
  assert.ok(addr && typeof addr === 'object');
  const port = addr.port;
  try {
    const warnings: string[] = [];
    const s = await tcpConnect({ host: '127.0.0.1', port, family: 4, localAddress: '192.0.2.77', timeoutMs: 3000, warn: (m) => warnings.push(m) });
    s.destroy();
    assert.match(warnings.join('\n'), /192\.0\.2\.77 is not configured/);
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
  await assert.rejects(tcpConnect({ host: '127.0.0.1', port, family: 4, timeoutMs: 3000 }), (e: Error & { code?: string }) => e.code === 'ECONNREFUSED');
  await assert.rejects(tcpConnect({ host: 'not-an-ip', port, family: 4, timeoutMs: 3000 }), /not an IP address/);
});

test('addon argument errors are exceptions, not crashes', (t) => {
  if (!prereq(t) || addon instanceof NativeAddonError) return;
  assert.throws(() => addon.socket(5 as 4), TypeError);
  const fd = addon.socket(4);
  try {
    assert.throws(() => addon.setMd5(fd, 'nope', 'k'), /not an IP address/);
    assert.throws(() => addon.setMd5(fd, '127.0.0.1', 'x'.repeat(81)), /longer than 80/);
    assert.throws(() => addon.setTtl(fd, 4, 0), TypeError);
    assert.throws(() => addon.bind(fd, '192.0.2.1', 0), (e: Error & { code?: string }) => e.code === 'EADDRNOTAVAIL');
  } finally {
    addon.close(fd);
  }
  assert.throws(() => addon.close(fd), (e: Error & { code?: string }) => e.code === 'EBADF');
});

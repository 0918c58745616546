// InputCache: readInputs with a memory of the files already parsed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputCache, readInputs, type InputSet } from '../../../src/config/load.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

/** The InputSet without functions (lineOf), with each object's lines at a few paths. */
function comparable(set: InputSet): unknown {
  return JSON.parse(
    JSON.stringify(
      {
        ...set,
        objects: set.objects.map((o) => ({
          object: o.object,
          source: o.source,
          lines: [o.lineOf([]), o.lineOf(['metadata', 'name']), o.lineOf(['spec']), o.lineOf(['spec', 'addresses', 0])],
        })),
      },
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v),
    ),
  );
}

const POOL = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec:
  addresses: [192.0.2.0/28]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2, namespace: metallb-system }
`;

function service(name: string, extra = ''): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  ports: [{ port: 80 }]${extra}
`;
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mlbts-inputcache-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes atomically (temp name + rename), as standalone users are told to. */
function put(dir: string, name: string, text: string): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, name));
}

test('InputCache gives the same InputSet as readInputs on every fixture folder and seed', () => {
  const paths: string[][] = [[join(FIXTURES, 'seeds')]];
  for (const f of readdirSync(join(FIXTURES, 'seeds')).filter((n) => n.endsWith('.yaml'))) paths.push([join(FIXTURES, 'seeds', f)]);
  for (const d of readdirSync(join(FIXTURES, 'plan'))) paths.push([join(FIXTURES, 'plan', d)]);
  paths.push([join(FIXTURES, 'plan', 'seed001'), join(FIXTURES, 'plan', 'cluster'), join(FIXTURES, 'does-not-exist')]);
  for (const p of paths) {
    const cache = new InputCache();
    const first = cache.read(p);
    const again = cache.read(p);
    const plain = readInputs(p);
    assert.deepEqual(comparable(first), comparable(plain), p.join(','));
    assert.deepEqual(comparable(again), comparable(plain), p.join(','));
    assert.deepEqual(cache.lastParsed, [], `second read of ${p.join(',')} parses nothing`);
  }
});

test('a changed or new file is parsed again, unchanged ones are not, deleted ones are dropped', () => {
  withDir((dir) => {
    put(dir, 'config.yaml', POOL);
    put(dir, 'a.yaml', service('a'));
    put(dir, 'b.yaml', service('b'));
    const cache = new InputCache();
    let set = cache.read([dir]);
    assert.deepEqual(cache.lastParsed.sort(), ['a.yaml', 'b.yaml', 'config.yaml'].map((n) => join(dir, n)));
    assert.deepEqual(set.services.map((s) => s.metadata.name), ['a', 'b']);
    assert.equal(cache.size, 3);

    // change b, add c
    put(dir, 'b.yaml', service('b', '\n  loadBalancerIP: 192.0.2.5'));
    put(dir, 'c.yaml', service('c'));
    set = cache.read([dir]);
    assert.deepEqual(cache.lastParsed.sort(), [join(dir, 'b.yaml'), join(dir, 'c.yaml')]);
    assert.deepEqual(set.services.map((s) => s.metadata.name), ['a', 'b', 'c']);
    assert.equal(set.services[1]?.spec?.loadBalancerIP, '192.0.2.5');
    assert.deepEqual(comparable(set), comparable(readInputs([dir])));

    // delete a
    unlinkSync(join(dir, 'a.yaml'));
    set = cache.read([dir]);
    assert.deepEqual(cache.lastParsed, []);
    assert.deepEqual(set.services.map((s) => s.metadata.name), ['b', 'c']);
    assert.equal(cache.size, 3);
    assert.deepEqual(comparable(set), comparable(readInputs([dir])));
  });
});

test('errors keep their file:line from cached files, and go away when the file is fixed', () => {
  withDir((dir) => {
    put(dir, 'config.yaml', POOL);
    put(dir, 'bad.yaml', service('bad', '\n  ports: [{ port: 0 }]').replace('  ports: [{ port: 80 }]\n', ''));
    put(dir, 'broken.yaml', 'kind: [unclosed\n');
    const cache = new InputCache();
    const first = cache.read([dir]);
    assert.equal(first.config, undefined);
    const msgs = first.errors.map((e) => `${e.file.slice(dir.length + 1)}:${e.line}:${e.field}`);
    assert.deepEqual(msgs, ['bad.yaml:6:spec.ports[0].port', 'broken.yaml:2:']);
    // cached: same errors, nothing parsed
    const again = cache.read([dir]);
    assert.deepEqual(cache.lastParsed, []);
    assert.deepEqual(again.errors, first.errors);
    assert.deepEqual(comparable(again), comparable(readInputs([dir])));
    // fixed
    put(dir, 'bad.yaml', service('bad'));
    unlinkSync(join(dir, 'broken.yaml'));
    const fixed = cache.read([dir]);
    assert.deepEqual(fixed.errors, []);
    assert.ok(fixed.config);
    assert.deepEqual(fixed.services.map((s) => s.metadata.name), ['bad']);
  });
});

test('an in-place rewrite of the same size is seen (mtime/ctime)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlbts-inputcache-'));
  try {
    put(dir, 'config.yaml', POOL);
    writeFileSync(join(dir, 's.yaml'), service('aa'));
    const cache = new InputCache();
    assert.deepEqual(cache.read([dir]).services.map((s) => s.metadata.name), ['aa']);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dir, 's.yaml'), service('bb'));
    assert.deepEqual(cache.read([dir]).services.map((s) => s.metadata.name), ['bb']);
    assert.deepEqual(cache.lastParsed, [join(dir, 's.yaml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retainObjects: false keeps only the configuration documents in objects, same everything else', () => {
  for (const p of [[join(FIXTURES, 'seeds')], [join(FIXTURES, 'plan', 'seed001')], [join(FIXTURES, 'plan', 'invalid')]]) {
    const lean = new InputCache({ retainObjects: false });
    const a = lean.read(p);
    const full = readInputs(p);
    const strip = (s: InputSet): unknown => comparable({ ...s, objects: [] });
    assert.deepEqual(strip(a), strip(full));
    assert.deepEqual(
      a.objects.map((o) => o.source),
      full.objects.filter((o) => !['Service', 'Node', 'EndpointSlice', 'Namespace', 'Secret'].includes(o.source.kind)).map((o) => o.source),
    );
    assert.deepEqual(strip(lean.read(p)), strip(full));
  }
});

test('an unreadable path is reported like readInputs does, and recovers', () => {
  withDir((dir) => {
    const missing = join(dir, 'nope');
    const cache = new InputCache();
    const set = cache.read([missing]);
    assert.deepEqual(set.errors, readInputs([missing]).errors);
    assert.match(set.errors[0]?.message ?? '', /cannot read: no such file or directory/);
    put(dir, 'nope', POOL);
    assert.ok(cache.read([missing]).config);
  });
});

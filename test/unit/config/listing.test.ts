// InputCache.read with the changed files named (what the standalone folder watcher passes):
// on random sequences of file and folder changes it gives exactly what a fresh full read gives.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { InputCache, readInputs, type InputSet } from '../../../src/config/load.ts';
import { compareReadingOrder } from '../../../src/config/listing.ts';
import { mulberry32 } from '../helpers/random.ts';

const POOL = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool, namespace: metallb-system }
spec:
  addresses: [192.0.2.0/24]
`;

function service(name: string, ip: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec:
  type: LoadBalancer
  loadBalancerIP: 192.0.2.${ip}
  ports: [{ port: 80 }]
`;
}

function comparable(set: InputSet): unknown {
  return JSON.parse(JSON.stringify({ ...set, objects: set.objects.map((o) => ({ object: o.object, source: o.source })) }, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
}

function dirsOf(root: string): string[] {
  const out = [root];
  for (const n of readdirSync(root)) {
    const p = join(root, n);
    if (statSync(p).isDirectory()) out.push(...dirsOf(p));
  }
  return out;
}

// names chosen so that folder and file names sort around each other ('b' < 'b-1' < 'b.yaml' < 'bb')
const NAMES = ['a', 'b', 'b-1', 'b.yaml', 'bb', 'B', 'c.yml', 'd.json', 'z.yaml.tmp', 'svc.yaml'];

test('reading only the changed files gives what a full read gives (random changes, several seeds)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rand = mulberry32(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const base = mkdtempSync(join(tmpdir(), 'mlbts-listing-'));
    try {
      const root = join(base, 'm');
      mkdirSync(root);
      writeFileSync(join(root, 'config.yaml'), POOL);
      // a relative root and an overlapping second root exercise the path mapping
      const roots = seed % 3 === 0 ? [relative(process.cwd(), root)] : seed % 3 === 1 ? [root] : [root, join(root, 'a')];
      const retain = seed % 2 === 0;
      const cache = new InputCache({ retainObjects: retain });
      cache.read(roots);
      for (let step = 0; step < 60; step++) {
        const dir = pick(dirsOf(root));
        const p = join(dir, pick(NAMES));
        let exists = true;
        try {
          statSync(p);
        } catch {
          exists = false;
        }
        const isDir = exists && statSync(p).isDirectory();
        const r = rand();
        const changed: string[] = [];
        if (isDir) {
          if (r < 0.3) rmSync(p, { recursive: true });
          else writeFileSync(join(p, 'inner.yaml'), service(`in${step}`, step % 250));
          changed.push(r < 0.3 ? p : join(p, 'inner.yaml'));
        } else if (!exists && r < 0.15) {
          mkdirSync(p);
          writeFileSync(join(p, 'x.yaml'), service(`x${step}`, step % 250)); // a folder with a file already in it
          changed.push(p);
        } else if (exists && r < 0.4) {
          unlinkSync(p);
          changed.push(p);
        } else if (r < 0.5) {
          writeFileSync(p, 'kind: [unclosed\n'); // broken YAML
          changed.push(p);
        } else {
          writeFileSync(`${p}.new`, service(`s${step}`, step % 250));
          renameSync(`${p}.new`, p);
          changed.push(p);
        }
        const got = cache.read(roots, changed.map((c) => resolve(c)));
        const want = new InputCache({ retainObjects: retain }).read(roots);
        assert.deepEqual(comparable(got), comparable(want), `seed ${seed} step ${step}: ${changed.join(', ')}`);
        if (retain) assert.deepEqual(comparable(got), comparable(readInputs(roots)));
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  }
});

test('files not named as changed are not looked at', () => {
  const base = mkdtempSync(join(tmpdir(), 'mlbts-listing-'));
  try {
    writeFileSync(join(base, 'config.yaml'), POOL);
    writeFileSync(join(base, 'a.yaml'), service('a', 1));
    const cache = new InputCache();
    cache.read([base]);
    writeFileSync(join(base, 'a.yaml'), service('a', 2));
    writeFileSync(join(base, 'b.yaml'), service('b', 3));
    const only = cache.read([base], [join(base, 'b.yaml')]);
    assert.deepEqual(cache.lastParsed, [join(base, 'b.yaml')]);
    assert.deepEqual(only.services.map((s) => s.spec?.loadBalancerIP), ['192.0.2.1', '192.0.2.3'], 'a.yaml is taken as it was');
    const full = cache.read([base]);
    assert.deepEqual(full.services.map((s) => s.spec?.loadBalancerIP), ['192.0.2.2', '192.0.2.3']);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('reading order: name by name along the path, as a folder walk sorts', () => {
  const files = ['m/b.yaml', 'm/b/x.yaml', 'm/b-1/y.yaml', 'm/bb.yaml', 'm/B.yaml', 'm/a.yaml'];
  assert.deepEqual([...files].sort(compareReadingOrder), ['m/B.yaml', 'm/a.yaml', 'm/b/x.yaml', 'm/b-1/y.yaml', 'm/b.yaml', 'm/bb.yaml']);
});

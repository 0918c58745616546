// Benchmark (not a test): generates a folder of 10,000 objects (100 files x 100 documents) in a
// temp dir and times `metallb-ts validate` (readInputs: read + parse + build) on it.
// Target: < 2 s.   Run: node --import tsx bench/validate.ts

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputs } from '../src/config/load.ts';

const TOTAL = 10_000;
const PER_FILE = 100;

function object(i: number): string {
  const kind = i % 10;
  const n = Math.floor(i / 10);
  const a = (n >> 8) & 255;
  const b = n & 255;
  switch (kind) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const p = n * 4 + kind;
      return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: pool-${p}
  namespace: metallb-system
  labels:
    tier: t${p % 7}
spec:
  addresses:
  - 10.${(p >> 8) & 255}.${p & 255}.0/28
  - fd00:${p.toString(16)}::/124
  autoAssign: ${p % 2 === 0}
`;
    }
    case 4:
    case 5:
      return `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata:
  name: bgp-${n}-${kind}
spec:
  ipAddressPools:
  - pool-${n * 4}
  aggregationLength: 28
  communities:
  - 65000:${n % 65535}
  nodeSelectors:
  - matchLabels:
      rack: r${n % 10}
`;
    case 6:
      return `apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: l2-${n}
spec:
  ipAddressPoolSelectors:
  - matchLabels:
      tier: t${n % 7}
  interfaces:
  - eth0
`;
    case 7:
      return `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata:
  name: peer-${n}
spec:
  myASN: 64512
  peerASN: ${64513 + (n % 100)}
  peerAddress: 172.${16 + (a & 15)}.${b}.1
  holdTime: 90s
  nodeSelectors:
  - matchLabels:
      rack: r${n}
`;
    case 8:
      return `apiVersion: v1
kind: Service
metadata:
  name: svc-${n}
  namespace: default
spec:
  type: LoadBalancer
  ports:
  - port: 80
`;
    default:
      return `apiVersion: v1
kind: Node
metadata:
  name: node-${n}
  labels:
    rack: r${n % 10}
`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'metallb-ts-bench-'));
try {
  for (let f = 0; f < TOTAL / PER_FILE; f++) {
    const docs: string[] = [];
    for (let j = 0; j < PER_FILE; j++) docs.push(object(f * PER_FILE + j));
    writeFileSync(join(dir, `objects-${String(f).padStart(3, '0')}.yaml`), docs.join('---\n'));
  }
  const t0 = process.hrtime.bigint();
  const set = readInputs([dir]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`validate: ${set.objects.length} objects in ${ms.toFixed(0)} ms (target < 2000 ms); ` +
    `${set.errors.length} errors, ${set.warnings.length} warnings`);
  for (const e of set.errors.slice(0, 5)) console.log(`  ${e.file}:${e.line}: ${e.kind}/${e.name}: ${e.field}: ${e.message}`);
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); else console.log(dir);
}

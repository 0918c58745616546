// The fast YAML reader (src/config/fastyaml.ts) against the `yaml` library itself: whenever it
// answers, it must give exactly the library's values (and the library must see no error); it
// must answer for the plain documents folders of Services are made of.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { fastParseDocuments } from '../../../src/config/fastyaml.ts';

function library(text: string): { values: unknown[]; errors: number } {
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  let errors = 0;
  const values: unknown[] = [];
  for (const d of list) {
    errors += d.errors.length;
    // documents with nothing (or only a comment) are skipped, as src/config/load.ts does
    const v: unknown = d.contents === null ? null : d.toJS({ maxAliasCount: 1000 });
    if (v !== null && v !== undefined) values.push(v);
  }
  return { values, errors };
}

function fast(text: string): unknown[] | undefined {
  return fastParseDocuments(Buffer.from(text, 'utf8'))?.map((d) => d.value);
}

/** When the fast reader answers, it agrees with the library (and the library found no error). */
function agrees(text: string): boolean {
  const f = fast(text);
  if (f === undefined) return false;
  const lib = library(text);
  assert.equal(lib.errors, 0, `fast reader accepted what the library rejects:\n${text}`);
  assert.deepEqual(f, lib.values, text);
  return true;
}

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: svc-1
  namespace: bench   # a comment
  annotations:
    metallb.io/loadBalancerIPs: 198.18.0.1
    metallb.io/address-pool: 'pool-a'
  labels:
    app.kubernetes.io/name: "web"
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  ipFamilies:
  - IPv4
  ports:
  - port: 80
    protocol: TCP
    name: http
  -   port: 443
      targetPort: 8443
  selector: {}
`;

test('a Service folder document: the fast reader answers, with the library values', () => {
  // flow collections ({}) are outside the subset: the whole text falls back
  assert.equal(fast(SERVICE), undefined);
  const plain = SERVICE.replace('  selector: {}\n', '  selector:\n    app: web\n');
  assert.ok(agrees(plain));
  const many = Array.from({ length: 50 }, (_, i) => plain.replace('svc-1', `svc-${i}`)).join('---\n');
  assert.ok(agrees(many));
  assert.ok(agrees('---\n' + many + '---\n# trailing comment\n'));
  const docs = fastParseDocuments(Buffer.from('# head\n---\na: 1\n---\n\n  # c\nb: x\n'));
  assert.deepEqual(docs?.map((d) => [d.line, d.contentLine]), [[3, 3], [5, 7]]);
});

test('scalars resolve as the YAML 1.2 core schema does, or the reader declines', () => {
  const values = ['abc', '0123', '42', 'true', 'False', 'NULL', '~', '', "'x'", "'it''s'", '"q"', '""', "''", 'yes', 'no', 'on',
    '1.5', '1e3', '0x1F', '0o17', '.inf', '-.Inf', '.nan', '-1', '+1', '-foo', '198.18.0.1', '12:30', 'a#b', 'a #b', 'http://x/y',
    '2001:db8::1', '::1', 'a: b', '[1]', '{a: 1}', '&x a', '*x', '!tag a', '|', '>', '@x', '`x', '%x', '? x', '"a\\nb"', '1234567890123456789',
    'a  b', "'a' b", '"a" #c'];
  let answered = 0;
  for (const v of values) {
    for (const text of [`k: ${v}\n`, `k:\n- ${v}\n`, `k:\n  - ${v}\n  - z\n`]) if (agrees(text)) answered++;
  }
  assert.ok(answered > 40, `answered ${answered}`);
});

test('structures: indentation, sequences at the key column, nested sequences of mappings', () => {
  for (const t of [
    'a:\n  b:\n    c: 1\n  d: 2\ne: 3\n',
    'a:\n- 1\n- 2\nb: x\n',
    'a:\n    - x: 1\n      y: 2\n    - z\nb:\n',
    'a:\n  -\n    x: 1\n  - \n',
    'a: 1\n  b: 2\n',
    'a:\n    b: 1\n  c: 2\n',
    'a: 1\na: 2\n',
    '- a\n- b\n',
    'a: b\n c\n',
    'a:\n- - 1\n',
    '__proto__: 1\n',
    'a:\tb\n',
    'a: b\r\n',
    'a: é\n',
    '%YAML 1.1\n---\na: yes\n',
    'a: 1\n...\n',
    '--- a\n',
    '---\n---\na: 1\n--- # c\nb: 2\n',
  ]) {
    agrees(t);
  }
  assert.ok(agrees('a:\n- 1\n- 2\nb: x\n'));
  assert.ok(agrees('a:\n    - x: 1\n      y: 2\n    - z\nb:\n'));
});

// Random documents built from YAML's significant pieces: whatever the reader accepts must be
// exactly what the library reads.
const keyArb = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'name', 'port', 'app.kubernetes.io/x', 'k_1', 'metallb.io/ip'), weight: 12 },
  { arbitrary: fc.constantFrom('true', 'null', '1', 'a b', '"q"', "'s'", '-x', '__proto__', 'a:b'), weight: 1 },
);
const scalarArb = fc.oneof(
  { arbitrary: fc.constantFrom('x', 'svc-1', '80', '007', 'true', 'Null', '~', '', "'it''s'", '"dq"', 'a#c', '198.18.0.1', 'x  ', 'a #c', '-z', 'TCP'), weight: 8 },
  { arbitrary: fc.constantFrom('1.0', '0x10', '-1', 'a: b', '[x]', '{}', '&a', '*a', '!t x', '| x', "'a' b", '"a\\"b"'), weight: 1 },
);
const indentArb = fc.constantFrom(1, 2, 3, 4);

type Tree = string | { seq: Tree[] } | { map: [string, Tree][] };
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarArb,
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((seq) => ({ seq })),
    fc.array(fc.tuple(keyArb, tie('node')), { minLength: 1, maxLength: 3 }).map((map) => ({ map })),
  ),
})).node;

function render(t: Tree, indent: number, step: number, sameColumnSeq: boolean, out: string[], pad: string): void {
  const sp = ' '.repeat(indent);
  if (typeof t === 'string') {
    out.push(`${sp}${t}`);
    return;
  }
  if ('map' in t) {
    for (const [k, v] of t.map) {
      if (typeof v === 'string') out.push(`${sp}${k}: ${v}`);
      else {
        out.push(`${sp}${k}:${pad}`);
        render(v, 'seq' in v && sameColumnSeq ? indent : indent + step, step, sameColumnSeq, out, pad);
      }
    }
    return;
  }
  for (const item of t.seq) {
    if (typeof item === 'string') out.push(`${sp}- ${item}`);
    else if ('map' in item) {
      const inner: string[] = [];
      render(item, indent + 2, step, sameColumnSeq, inner, pad);
      out.push(`${sp}- ${(inner[0] ?? '').trimStart()}`, ...inner.slice(1));
    } else {
      out.push(`${sp}-`);
      render(item, indent + step, step, sameColumnSeq, out, pad);
    }
  }
}

test('random documents: the fast reader is exact or declines', () => {
  let answered = 0;
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.tuple(keyArb, treeArb), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      indentArb,
      fc.boolean(),
      fc.constantFrom('', ' ', '  # c'),
      fc.constantFrom('', '\n', '# note\n'),
      (docs, step, same, pad, between) => {
        const text = docs
          .map((pairs) => {
            const out: string[] = [];
            render({ map: pairs }, 0, step, same, out, pad);
            return out.join('\n') + '\n';
          })
          .join(`---\n${between}`);
        if (agrees(text)) answered++;
      },
    ),
    { numRuns: 1500 },
  );
  assert.ok(answered > 80, `the reader answered ${answered} of 1500`);
});

test('random text from YAML-significant characters: exact or declines', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', 'b', '1', ' ', '  ', ':', ': ', '- ', '-', '#', ' #', '\n', '\n  ', "'", '"', '---\n', '.', 'x: ', 'true', '~'), { maxLength: 40 }), (parts) => {
      agrees(parts.join(''));
    }),
    { numRuns: 3000 },
  );
});

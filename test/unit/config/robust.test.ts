// Bad input never throws: arbitrary text and arbitrary values in every field give diagnostics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseInputs } from '../../../src/config/load.ts';

const KINDS = ['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'L2Advertisement', 'Community', 'BFDProfile', 'ConfigMap', 'Service', 'Node', 'EndpointSlice', 'Secret', 'Namespace'];

test('arbitrary text never throws', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    const set = parseInputs([{ file: 'x.yaml', text }]);
    if (set.errors.length > 0) assert.equal(set.config, undefined);
  }), { numRuns: 300 });
});

test('arbitrary specs for every kind never throw and always point at a field or the object', () => {
  const value = fc.anything({ maxDepth: 3, withNullPrototype: false, withBigInt: false, withDate: false, withMap: false, withSet: false, withTypedArray: false, withSparseArray: false, withBoxedValues: false });
  fc.assert(fc.property(fc.constantFrom(...KINDS), fc.constantFrom('metallb.io/v1beta1', 'metallb.io/v1beta2', 'v1'), value, value, (kind, apiVersion, spec, data) => {
    const o = { apiVersion, kind, metadata: { name: 'x' }, spec, data: kind === 'ConfigMap' ? { config: typeof data === 'string' ? data : stringify(data) } : data };
    let text: string;
    try {
      text = stringify(o);
    } catch {
      return;
    }
    const set = parseInputs([{ file: 'x.yaml', text }]);
    for (const e of set.errors) {
      assert.equal(e.file, 'x.yaml');
      assert.ok(e.line >= 1, JSON.stringify(e));
      assert.ok(e.message.length > 0);
    }
  }), { numRuns: 400 });
});

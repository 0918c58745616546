import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodeFile, servicesFromFile } from '../../../src/layer2/main.ts';

const good = {
  node: 'n1',
  secret: '0123456789abcdef',
  members: [
    { name: 'n1', address: '10.0.0.1', labels: { zone: 'a' } },
    { name: 'n2', address: '10.0.0.2', port: 7000 },
  ],
  services: [
    { ip: '10.1.0.1' },
    { ip: '10.1.0.2', interfaces: ['eth1'], nodes: ['n2'], preferred: [{ weight: 10, selector: { matchLabels: { zone: 'a' } } }] },
  ],
};

test('a valid node file gives services with candidates from the members', () => {
  const f = parseNodeFile(JSON.stringify(good), 'n1.json');
  const s = servicesFromFile(f);
  assert.deepEqual(s[0], { ip: '10.1.0.1', interfaces: [], candidates: [{ name: 'n1', labels: { zone: 'a' } }, { name: 'n2', labels: {} }] });
  assert.deepEqual(s[1]?.candidates, [{ name: 'n2', labels: {} }]);
  assert.deepEqual(s[1]?.interfaces, ['eth1']);
  assert.equal(s[1]?.preferred?.[0]?.weight, 10);
  assert.equal(f.logLevel, 'info');
});

test('bad node files get a precise error naming the file and field', () => {
  assert.throws(() => parseNodeFile('{', 'x.json'), /^Error: x\.json: not JSON/);
  assert.throws(() => parseNodeFile(JSON.stringify({ ...good, secret: 'short' }), 'x.json'), /x\.json: secret: /);
  assert.throws(() => parseNodeFile(JSON.stringify({ ...good, node: '' }), 'x.json'), /x\.json: node: /);
  assert.throws(() => parseNodeFile(JSON.stringify({ ...good, services: [{ ip: '10.1.0.1', preferred: [{ weight: 0, selector: {} }] }] }), 'x.json'), /services\.0\.preferred\.0\.weight/);
  assert.throws(() => parseNodeFile(JSON.stringify({ ...good, members: [{ name: 'n2', address: '10.0.0.2', port: 70000 }] }), 'x.json'), /members\.0\.port/);
});

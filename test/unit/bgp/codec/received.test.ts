// The received-route checks that depend on the session (eBGP or not) and the Partial-bit rule
// (RFC 4271 §4.3): through decodeMessage and through the pure checkReceivedAttributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReceivedAttributes, decodeMessage } from '../../../../src/bgp/codec/index.ts';
import type { CodecOptions, DecodeResult } from '../../../../src/bgp/codec/index.ts';
import { AS_PATH_65001, MANDATORY, NEXT_HOP_192_0_2_1, NLRI_ONE, ORIGIN_IGP, attr, concat, hex, updateBody } from './helpers.ts';

const upd = (attrs: Uint8Array, opts: CodecOptions): DecodeResult => decodeMessage(2, updateBody(new Uint8Array(0), attrs, NLRI_ONE), opts);
const why = (r: DecodeResult): string => ('reason' in r ? r.reason : '');

// AS_PATH: AS_CONFED_SEQUENCE (3) [65010] then AS_SEQUENCE [65001], 4-octet ASNs.
const CONFED_SEQ = hex('40 02 0c 03 01 0000fdf2 02 01 0000fde9');
const CONFED_SET = hex('40 02 0c 04 01 0000fdf2 02 01 0000fde9');

test('confederation segments from an eBGP peer: treat-as-withdraw 3/11; from iBGP or an unknown session: accepted', () => {
  for (const path of [CONFED_SEQ, CONFED_SET]) {
    const attrs = concat(ORIGIN_IGP, path, NEXT_HOP_192_0_2_1);
    const e = upd(attrs, { fourOctetAS: true, ebgp: true });
    assert.equal(e.kind, 'treat-as-withdraw', why(e));
    assert.match(why(e), /AS_CONFED_(SEQUENCE|SET) from an external peer .*\(3\/11\)/);
    // the routes are still located, so the receive path can withdraw them
    if (e.kind === 'treat-as-withdraw') assert.equal(e.message.nlri.length, 1);
    assert.equal(upd(attrs, { fourOctetAS: true, ebgp: false }).kind, 'ok');
    assert.equal(upd(attrs, { fourOctetAS: true }).kind, 'ok');
  }
  assert.equal(upd(MANDATORY, { fourOctetAS: true, ebgp: true }).kind, 'ok');
});

test('checkReceivedAttributes is the same rule on decoded attributes', () => {
  const confed = { asPath: [{ type: 3 as const, asns: [65010] }, { type: 2 as const, asns: [65001] }] };
  assert.match(checkReceivedAttributes(confed, { ebgp: true }) ?? '', /AS_CONFED_SEQUENCE/);
  assert.equal(checkReceivedAttributes(confed, { ebgp: false }), undefined);
  assert.equal(checkReceivedAttributes({ asPath: [{ type: 2, asns: [65001, 65002] }] }, { ebgp: true }), undefined);
  assert.equal(checkReceivedAttributes({}, { ebgp: true }), undefined);
});

test('Partial bit on well-known and optional non-transitive attributes: the attribute\'s flags-error outcome (3/4)', () => {
  const origin = hex('60 01 01 00'); // well-known transitive + Partial
  const aspath = hex('60 02 06 02 01 0000fde9');
  const med = hex('a0 04 04 00000064'); // optional non-transitive + Partial
  for (const [name, attrs] of [
    ['ORIGIN', concat(origin, AS_PATH_65001, NEXT_HOP_192_0_2_1)],
    ['AS_PATH', concat(ORIGIN_IGP, aspath, NEXT_HOP_192_0_2_1)],
    ['MED', concat(MANDATORY, med)],
  ] as const) {
    for (const ebgp of [true, false]) {
      const r = upd(attrs, { fourOctetAS: true, ebgp });
      assert.equal(r.kind, 'treat-as-withdraw', `${name}: ${why(r)}`);
      assert.match(why(r), /Partial bit on a (well-known|optional non-transitive) attribute \(3\/4\)/);
    }
  }
  // ATOMIC_AGGREGATE with Partial: its malformation is attribute discard (RFC 7606 §7.6)
  const aa = upd(concat(MANDATORY, hex('60 06 00')), { fourOctetAS: true });
  assert.equal(aa.kind, 'ok');
  if (aa.kind === 'ok') assert.deepEqual(aa.discarded, [6]);
  // optional transitive attributes may carry it (COMMUNITIES, an unknown one)
  const ok = upd(concat(MANDATORY, attr(0xe0, 8, hex('fde90064')), attr(0xe0, 99, hex('01'))), { fourOctetAS: true });
  assert.equal(ok.kind, 'ok', why(ok));
  if (ok.kind === 'ok' && ok.message.type === 2) {
    assert.deepEqual(ok.message.attributes.communities, [0xfde90064]);
    assert.equal(ok.message.attributes.unknown?.[0]?.flags, 0xe0);
  }
});

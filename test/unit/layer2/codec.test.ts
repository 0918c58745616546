// ARP / NDP codecs against frames captured with tcpdump from Linux's own ARP and ND code
// (ndisc6 + arping between two namespaces, kernel replies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIP, formatIP } from '../../../src/ip/index.ts';
import { parseEthernet, buildEthernet, formatMAC, parseMAC, FrameError, ETHERTYPE_ARP } from '../../../src/layer2/ethernet.ts';
import { parseARPFrame, buildARPReply, buildGratuitousARP, buildARPRequest, ARP_REQUEST, ARP_REPLY } from '../../../src/layer2/arp.ts';
import {
  parseNeighborSolicitationFrame,
  parseNeighborAdvertisementFrame,
  buildNAReplyFrame,
  buildUnsolicitedNAFrame,
  buildNeighborSolicitationFrame,
  solicitedNodeAddress,
  multicastMAC,
  icmpv6Checksum,
  NA_FLAG_OVERRIDE,
  NA_FLAG_SOLICITED,
} from '../../../src/layer2/ndp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// arping -I eth0 10.0.0.11 from 02:00:00:00:00:0a / 10.0.0.10 (tcpdump -xx, 60 bytes with padding).
const ARP_REQ = hex(`ffff ffff ffff 0200 0000 000a 0806 0001
  0800 0604 0001 0200 0000 000a 0a00 000a
  0000 0000 0000 0a00 000b 0000 0000 0000
  0000 0000 0000 0000 0000 0000`);
// The kernel's reply from 02:00:00:00:00:0b.
const ARP_REP = hex(`0200 0000 000a 0200 0000 000b 0806 0001
  0800 0604 0002 0200 0000 000b 0a00 000b
  0200 0000 000a 0a00 000a`);
// ndisc6 2001:db8::b from fe80::ff:fe00:a.
const NS = hex(`3333 ff00 000b 0200 0000 000a 86dd 600d
  65df 0020 3aff fe80 0000 0000 0000 0000
  00ff fe00 000a ff02 0000 0000 0000 0000
  0001 ff00 000b 8700 4c3b 0000 0000 2001
  0db8 0000 0000 0000 0000 0000 000b 0101
  0200 0000 000a`);
// The kernel's NA: source = target, flags S|O, target link-layer option.
const NA = hex(`0200 0000 000a 0200 0000 000b 86dd 6000
  0000 0020 3aff 2001 0db8 0000 0000 0000
  0000 0000 000b fe80 0000 0000 0000 0000
  00ff fe00 000a 8800 ba85 6000 0000 2001
  0db8 0000 0000 0000 0000 0000 000b 0201
  0200 0000 000b`);

test('captured frames have the expected lengths', () => {
  assert.equal(ARP_REQ.length, 60);
  assert.equal(ARP_REP.length, 42);
  assert.equal(NS.length, 86);
  assert.equal(NA.length, 86);
});

test('ARP request parses', () => {
  const a = parseARPFrame(ARP_REQ);
  assert.equal(a.op, ARP_REQUEST);
  assert.equal(formatMAC(a.senderMAC), '02:00:00:00:00:0a');
  assert.equal(formatIP(a.senderIP), '10.0.0.10');
  assert.equal(formatIP(a.targetIP), '10.0.0.11');
  assert.equal(formatMAC(a.ethDst), 'ff:ff:ff:ff:ff:ff');
});

test('ARP reply built for the request equals the kernel reply (modulo padding)', () => {
  const req = parseARPFrame(ARP_REQ);
  const rep = buildARPReply(req, parseMAC('02:00:00:00:00:0b'));
  assert.equal(rep.length, 60);
  assert.deepEqual(rep.subarray(0, 42), ARP_REP);
  assert.ok(rep.subarray(42).every((b) => b === 0));
  const back = parseARPFrame(rep);
  assert.equal(back.op, ARP_REPLY);
  assert.equal(formatIP(back.senderIP), '10.0.0.11');
});

test('gratuitous ARP: broadcast request with sender = target = the IP', () => {
  const g = buildGratuitousARP(parseIP('192.168.0.50'), parseMAC('02:aa:bb:cc:dd:ee'));
  const a = parseARPFrame(g);
  assert.equal(formatMAC(a.ethDst), 'ff:ff:ff:ff:ff:ff');
  assert.equal(formatMAC(a.ethSrc), '02:aa:bb:cc:dd:ee');
  assert.equal(a.op, ARP_REQUEST);
  assert.equal(formatIP(a.senderIP), '192.168.0.50');
  assert.equal(formatIP(a.targetIP), '192.168.0.50');
  assert.equal(formatMAC(a.targetMAC), '00:00:00:00:00:00');
});

test('ARP request builder round-trips', () => {
  const f = buildARPRequest(parseMAC('02:00:00:00:00:0a'), parseIP('10.0.0.10'), parseIP('10.0.0.11'));
  assert.deepEqual(f, ARP_REQ.subarray(0, 60).map((b, i) => (i >= 42 ? 0 : b)));
});

test('ARP parser rejects bad input with FrameError', () => {
  assert.throws(() => parseARPFrame(Buffer.alloc(10)), FrameError);
  const bad = Buffer.from(ARP_REQ);
  bad.writeUInt16BE(6, 14); // htype 6
  assert.throws(() => parseARPFrame(bad), /not Ethernet\/IPv4 ARP/);
  const op = Buffer.from(ARP_REQ);
  op.writeUInt16BE(9, 20);
  assert.throws(() => parseARPFrame(op), /unknown ARP operation 9/);
  const v6 = Buffer.from(ARP_REQ);
  v6.writeUInt16BE(0x86dd, 12);
  assert.throws(() => parseARPFrame(v6), /not an ARP frame/);
});

test('solicited-node group and its MAC', () => {
  const g = solicitedNodeAddress(parseIP('2001:db8::b'));
  assert.equal(formatIP(g), 'ff02::1:ff00:b');
  assert.equal(formatMAC(multicastMAC(g)), '33:33:ff:00:00:0b');
  assert.equal(formatIP(solicitedNodeAddress(parseIP('2001:db8::1234:5678'))), 'ff02::1:ff34:5678');
});

test('NS from ndisc6 parses and its checksum verifies', () => {
  const ns = parseNeighborSolicitationFrame(NS);
  assert.ok(ns);
  assert.equal(formatIP(ns.src), 'fe80::ff:fe00:a');
  assert.equal(formatIP(ns.dst), 'ff02::1:ff00:b');
  assert.equal(formatIP(ns.target), '2001:db8::b');
  assert.equal(ns.sourceMAC && formatMAC(ns.sourceMAC), '02:00:00:00:00:0a');
});

test('NA reply built for the NS equals the kernel NA byte for byte', () => {
  const ns = parseNeighborSolicitationFrame(NS);
  assert.ok(ns);
  const mac = parseMAC('02:00:00:00:00:0b');
  const na = buildNAReplyFrame(ns, mac, ns.target, parseEthernet(NS).src);
  assert.deepEqual(na, NA);
  const back = parseNeighborAdvertisementFrame(na);
  assert.ok(back);
  assert.equal(back.flags, NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE);
});

test('NS builder reproduces the ndisc6 frame (apart from the flow label)', () => {
  const f = buildNeighborSolicitationFrame(parseIP('fe80::ff:fe00:a'), parseMAC('02:00:00:00:00:0a'), parseIP('2001:db8::b'));
  const want = Buffer.from(NS);
  want.writeUInt32BE(0x60000000, 14);
  assert.deepEqual(f, want);
});

test('unsolicited NA: all-nodes, Override only, target link-layer option, valid checksum', () => {
  const ip = parseIP('2001:db8::50');
  const f = buildUnsolicitedNAFrame(ip, parseMAC('02:aa:bb:cc:dd:ee'), ip);
  const eth = parseEthernet(f);
  assert.equal(formatMAC(eth.dst), '33:33:00:00:00:01');
  const na = parseNeighborAdvertisementFrame(f);
  assert.ok(na);
  assert.equal(formatIP(na.dst), 'ff02::1');
  assert.equal(na.flags, NA_FLAG_OVERRIDE);
  assert.equal(na.targetMAC && formatMAC(na.targetMAC), '02:aa:bb:cc:dd:ee');
  assert.equal(f[21], 255); // hop limit
});

test('DAD NS (source ::) is answered to all-nodes without the Solicited flag', () => {
  const target = parseIP('2001:db8::77');
  const f = buildNeighborSolicitationFrame(parseIP('::'), parseMAC('02:00:00:00:00:0a'), target);
  const ns = parseNeighborSolicitationFrame(f);
  assert.ok(ns);
  assert.equal(ns.sourceMAC, undefined);
  const na = parseNeighborAdvertisementFrame(buildNAReplyFrame(ns, parseMAC('02:00:00:00:00:0b'), target, ZERO()));
  assert.ok(na);
  assert.equal(formatIP(na.dst), 'ff02::1');
  assert.equal(na.flags, NA_FLAG_OVERRIDE);
});
function ZERO(): Buffer {
  return Buffer.alloc(6);
}

test('NS validation: checksum, hop limit, code, multicast target, non-NS', () => {
  const badSum = Buffer.from(NS);
  badSum[0x38] = 0x00;
  assert.throws(() => parseNeighborSolicitationFrame(badSum), /checksum/);
  const hop = Buffer.from(NS);
  hop[21] = 64;
  assert.throws(() => parseNeighborSolicitationFrame(hop), /hop limit 64/);
  const code = Buffer.from(NS);
  code[0x37] = 1;
  assert.throws(() => parseNeighborSolicitationFrame(code), /code 1|checksum/);
  const mc = buildNeighborSolicitationFrame(parseIP('fe80::1'), parseMAC('02:00:00:00:00:01'), parseIP('ff02::5'));
  assert.throws(() => parseNeighborSolicitationFrame(mc), /multicast/);
  assert.equal(parseNeighborSolicitationFrame(NA), null);
  assert.equal(parseNeighborSolicitationFrame(ARP_REQ), null);
  assert.throws(() => parseNeighborSolicitationFrame(NS.subarray(0, 50)), FrameError);
  const zeroOpt = Buffer.from(NS);
  zeroOpt[0x4f] = 0; // option length 0
  assert.throws(() => parseNeighborSolicitationFrame(zeroOpt), FrameError);
});

test('checksum of a message including its checksum folds to zero', () => {
  const ip6 = parseEthernet(NS).payload;
  const src = parseIP('fe80::ff:fe00:a');
  const dst = parseIP('ff02::1:ff00:b');
  assert.equal(icmpv6Checksum(src, dst, ip6.subarray(40)), 0x4c3b);
});

test('Ethernet builder pads and validates', () => {
  const f = buildEthernet(parseMAC('ff:ff:ff:ff:ff:ff'), parseMAC('02:00:00:00:00:01'), ETHERTYPE_ARP, Buffer.from([1, 2]));
  assert.equal(f.length, 60);
  assert.throws(() => buildEthernet(Buffer.alloc(5), Buffer.alloc(6), 1, Buffer.alloc(0)), FrameError);
  assert.throws(() => parseMAC('02:00:00:00:00'), FrameError);
  assert.throws(() => parseEthernet(Buffer.alloc(13)), FrameError);
});

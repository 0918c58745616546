// Benchmark child process: the metallb-ts BGP speaker alone (no config loader, allocator or
// planner), given a SessionPlan of N /32 routes per peer, so that the speaker's own cost can be
// told apart from standalone mode's. Serves /healthz and a small /status on 127.0.0.1:PORT
// (same shape as standalone's /status, with `routeCount` instead of the route list).
//
// usage: node speaker-child.mjs MODULE_ROOT N PORT NODE_ADDR MY_ASN PEER_ASN HOLD KEEPALIVE PEER_ADDR...
//   MODULE_ROOT: a directory holding ip/index.(js|ts) and bgp/speaker/index.(js|ts)
//   (the tsc build, or src/ when run through tsx). HOLD/KEEPALIVE: seconds, or "-" for defaults.

import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';

const [root, nArg, portArg, nodeAddr, myAsnArg, peerAsnArg, holdArg, kaArg, ...peerAddrs] = process.argv.slice(2);
if (!root || !nArg || !portArg || !nodeAddr || !myAsnArg || !peerAsnArg || !holdArg || !kaArg || peerAddrs.length === 0) {
  process.stderr.write('usage: speaker-child.mjs MODULE_ROOT N PORT NODE_ADDR MY_ASN PEER_ASN HOLD KEEPALIVE PEER_ADDR...\n');
  process.exit(2);
}
const mod = (p) => {
  const js = join(root, `${p}.js`);
  return pathToFileURL(existsSync(js) ? js : join(root, `${p}.ts`)).href;
};
const ip = await import(mod('ip/index'));
const { BGPSpeaker } = await import(mod('bgp/speaker/index'));

const n = Number(nArg);
const base = ip.parseIP('198.18.0.0').value;
const routes = [];
for (let i = 0; i < n; i++) routes.push({ prefix: ip.makePrefix(4, base + BigInt(i), 32), communities: [], largeCommunities: [] });

const plans = peerAddrs.map((addr, i) => {
  const name = `rx${i}`;
  const config = {
    name,
    myASN: Number(myAsnArg),
    peerASN: Number(peerAsnArg),
    address: ip.parseIP(addr),
    port: 179,
    connectTime: 1000,
    ebgpMultiHop: false,
    nodeSelectors: [],
    vrf: '',
    enableGracefulRestart: false,
    disableMP: false,
    dualStackAddressFamily: false,
    source: { file: 'bench', line: 0, kind: 'BGPPeer', name },
  };
  if (holdArg !== '-') config.holdTime = Number(holdArg);
  if (kaArg !== '-') config.keepaliveTime = Number(kaArg);
  return { node: 'bench-node', peer: name, config, ebgp: true, routes };
});

const logger = pino({ level: 'warn' });
const speaker = new BGPSpeaker({ nodeName: 'bench-node', routerId: nodeAddr, logger });
speaker.setPlan(plans);

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.end('ok\n');
    return;
  }
  if (req.url === '/status') {
    const sessions = speaker.status().map((s) => ({ peer: s.peer, speaker: { state: s.state }, routeCount: s.routes.length }));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ready: true, services: [], sessions }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(Number(portArg), '127.0.0.1');

const shutdown = () => {
  server.close();
  void speaker.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

import { pino } from 'pino';
import { BGPSpeaker } from './src/bgp/speaker/index.ts';
import { parseIP, parsePrefix } from './src/ip/index.ts';
const logger = pino({ level: process.env.LVL ?? 'info' });
const sp = new BGPSpeaker({ nodeName: 'n1', logger });
const ibgp = process.env.IBGP === '1';
const config = { name: 'p', myASN: ibgp ? 1234 : 2345, peerASN: 1234, address: parseIP('127.0.0.1'), port: 179, routerID: parseIP('127.0.0.1'), ebgpMultiHop: false, nodeSelectors: [], vrf: '', enableGracefulRestart: false, disableMP: false, dualStackAddressFamily: false, source: { file: 'x', line: 1, kind: 'BGPPeer', name: 'p' } };
sp.setPlan([{ node: 'n1', peer: 'p', config, ebgp: !ibgp, routes: [
  { prefix: parsePrefix('198.51.100.10/32'), localPref: ibgp ? 100 : undefined, communities: [0xffffff02], largeCommunities: [[1234, 5, 6]] },
  { prefix: parsePrefix('198.51.100.0/24'), communities: [], largeCommunities: [] } ] }]);
setTimeout(() => { sp.setPlan([{ node: 'n1', peer: 'p', config, ebgp: !ibgp, routes: [{ prefix: parsePrefix('198.51.100.0/24'), communities: [], largeCommunities: [] }] }]); }, 3000);
setTimeout(async () => { console.log(JSON.stringify(sp.status())); await sp.stop(); }, 5000);

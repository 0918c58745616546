import { pino } from 'pino';
import { BGPSpeaker } from './src/bgp/speaker/index.ts';
import { parseIP, parsePrefix } from './src/ip/index.ts';
const logger = pino({ level: process.env.LVL ?? 'warn' });
const sp = new BGPSpeaker({ nodeName: 'n1', logger });
const base = { myASN: 64512, peerASN: 64512, port: 179, ebgpMultiHop: false, nodeSelectors: [], vrf: '', enableGracefulRestart: true, disableMP: false, dualStackAddressFamily: false };
const c4 = { ...base, name: 'f4', address: parseIP('10.77.0.1'), holdTime: 9, source: { file: 'x', line: 1, kind: 'BGPPeer', name: 'f4' } };
const c6 = { ...base, name: 'f6', address: parseIP('2001:db8:77::1'), source: { file: 'x', line: 1, kind: 'BGPPeer', name: 'f6' } };
const r = (p: string, lp?: number, communities: number[] = []) => ({ prefix: parsePrefix(p), ...(lp !== undefined ? { localPref: lp } : {}), communities, largeCommunities: [[64512, 1, 1]] as [number, number, number][] });
sp.setPlan([
  { node: 'n1', peer: 'f4', config: c4, ebgp: false, routes: [r('192.168.10.1/32', 100, [0xffffff02]), r('192.168.10.0/24')] },
  { node: 'n1', peer: 'f6', config: c6, ebgp: false, routes: [r('2001:db8:aa::1/128', 200)] },
]);
setTimeout(async () => { console.log(JSON.stringify(sp.status().map((s) => [s.peer, s.state, s.holdTime, s.lastError, s.routes]))); await sp.stop({ withdraw: process.env.WD !== '0' }); }, Number(process.env.T ?? 4000));

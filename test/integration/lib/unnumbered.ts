// The lab of the unnumbered tests: a router and a node joined by a veth that carries only IPv6
// link-local addresses, the node's own address on its loopback (router ID, --node-address), and
// the link-local address of each side of the link.

import { Lab } from './netns.ts';
import { must } from './proc.ts';

/** The link-local address of `ifname` in namespace `ns`. */
export function linkLocal(ns: string, ifname: string): string {
  const out = must('ip', ['-n', ns, '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'link']);
  const m = /inet6 (fe80:[0-9a-f:]+)\//.exec(out);
  if (!m?.[1]) throw new Error(`no link-local address on ${ns}/${ifname}: ${out}`);
  return m[1];
}

export interface UnnumberedLab {
  lab: Lab;
  /** The node's link-local address on eth0. */
  nodeLL: string;
  /** The router's link-local address on eth0. */
  routerLL: string;
}

/** A link-local-only lab (see Lab `linkLocalOnly`) with `nodeAddress`/32 on the node's loopback. */
export function unnumberedLab(label: string, nodeAddress: string): UnnumberedLab {
  const lab = new Lab(label, { linkLocalOnly: true }).setup();
  lab.exec(lab.nsDut, 'ip', ['addr', 'add', `${nodeAddress}/32`, 'dev', 'lo']);
  return { lab, nodeLL: linkLocal(lab.nsDut, 'eth0'), routerLL: linkLocal(lab.nsRtr, 'eth0') };
}

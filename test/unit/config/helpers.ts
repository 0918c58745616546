// Shared helpers for config tests: build YAML documents and load them from text.
import { stringify } from 'yaml';
import { parseInputs, type InputSet } from '../../../src/config/load.ts';

export function doc(kind: string, name: string | undefined, spec: unknown, apiVersion = 'metallb.io/v1beta1', extraMeta: Record<string, unknown> = {}): string {
  const metadata: Record<string, unknown> = { ...extraMeta };
  if (name !== undefined) metadata['name'] = name;
  const o: Record<string, unknown> = { apiVersion, kind, metadata };
  if (spec !== undefined) o['spec'] = spec;
  return stringify(o);
}

export const pool = (name: string, addresses: unknown[], more: Record<string, unknown> = {}, labels?: Record<string, string>): string =>
  doc('IPAddressPool', name, { addresses, ...more }, 'metallb.io/v1beta1', labels ? { labels } : {});
export const peer = (name: string, spec: Record<string, unknown>, apiVersion = 'metallb.io/v1beta2'): string =>
  doc('BGPPeer', name, spec, apiVersion);
export const bgpAdv = (name: string, spec: Record<string, unknown>): string => doc('BGPAdvertisement', name, spec);
export const l2Adv = (name: string, spec: Record<string, unknown>): string => doc('L2Advertisement', name, spec);
export const bfd = (name: string, spec: Record<string, unknown>): string => doc('BFDProfile', name, spec);
export const community = (name: string, communities: unknown[]): string => doc('Community', name, { communities });
export const configMap = (config: string, name = 'config'): string =>
  stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'metallb-system' }, data: { config } });

export function load(...docs: string[]): InputSet {
  return parseInputs([{ file: 't.yaml', text: docs.join('---\n') }]);
}

export const ebgpPeer = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  myASN: 64512,
  peerASN: 64513,
  peerAddress: '192.0.2.1',
  ...extra,
});

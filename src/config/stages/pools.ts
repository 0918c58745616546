// Stage "pools": IPAddressPools (addresses parsed, overlaps found) and the pools an
// advertisement names or selects.

import { parseRangeOrCIDR, rangeToPrefixes, type IPRange, type Prefix } from '../../ip/index.ts';
import type { IPAddressPoolSpec, LabelSelectorInput } from '../schema.ts';
import type { Pool } from '../types.ts';
import { didYouMean, type Diags, type Item, type LabelIndex } from './item.ts';
import { checkSelectors, checkStringList } from './selectors.ts';

export interface PoolWork {
  item: Item<IPAddressPoolSpec>;
  pool: Pool;
  seq: number;
}

export function buildPools(d: Diags, items: Item<IPAddressPoolSpec>[]): Map<string, PoolWork> {
  const pools = new Map<string, PoolWork>();
  const entries: { range: IPRange; text: string; work: PoolWork; index: number }[] = [];
  for (const item of items) {
    const s = item.spec;
    const ranges: IPRange[] = [];
    const cidrs: Prefix[] = [];
    if (s.addresses.length === 0) d.at(item, ['spec', 'addresses'], 'at least one address (CIDR or range) is required');
    const pool: Pool = {
      name: item.name,
      ranges,
      cidrs,
      autoAssign: s.autoAssign ?? true,
      avoidBuggyIPs: s.avoidBuggyIPs ?? false,
      labels: { ...item.labels },
      source: item.source,
    };
    const work: PoolWork = { item, pool, seq: pools.size };
    s.addresses.forEach((a, i) => {
      const r = parseRangeOrCIDR(a);
      if (typeof r === 'string') {
        d.at(item, ['spec', 'addresses', i], r);
        return;
      }
      ranges.push(r);
      cidrs.push(...rangeToPrefixes(r));
      entries.push({ range: r, text: a, work, index: i });
    });
    if (s.serviceAllocation) {
      const sa = s.serviceAllocation;
      const alloc: Pool['serviceAllocation'] = {
        namespaces: checkStringList(d, item, ['spec', 'serviceAllocation', 'namespaces'], sa.namespaces, 'namespace'),
        namespaceSelectors: checkSelectors(d, item, ['spec', 'serviceAllocation', 'namespaceSelectors'], sa.namespaceSelectors),
        serviceSelectors: checkSelectors(d, item, ['spec', 'serviceAllocation', 'serviceSelectors'], sa.serviceSelectors),
      };
      if (sa.priority !== undefined) alloc.priority = sa.priority;
      pool.serviceAllocation = alloc;
    }
    pools.set(item.name, work);
  }
  // Overlaps (within a pool and across pools): sweep in address order.
  entries.sort((a, b) => a.range.family - b.range.family || (a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : 0));
  let prev: (typeof entries)[number] | undefined;
  for (const e of entries) {
    if (prev && prev.range.family === e.range.family && e.range.first <= prev.range.last) {
      // report on the later object in file order, pointing to the other one
      const [a, b] = [prev, e];
      const later = a.work.seq > b.work.seq || (a.work === b.work && a.index > b.index) ? a : b;
      const other = later === a ? b : a;
      const where =
        other.work === later.work
          ? `spec.addresses[${other.index}]`
          : `${other.work.item.kind}/${other.work.item.name} (${other.work.item.lo.source.file}:${other.work.item.lineOf(other.work.item.map(['spec', 'addresses', other.index]))})`;
      d.at(later.work.item, ['spec', 'addresses', later.index], `"${later.text}" overlaps "${other.text}" of ${where}`);
    }
    if (!prev || prev.range.family !== e.range.family || e.range.last > prev.range.last) prev = e;
  }
  return pools;
}

export function resolvePools<S extends { ipAddressPools?: string[] | undefined; ipAddressPoolSelectors?: LabelSelectorInput[] | undefined }>(
  d: Diags,
  item: Item<S>,
  pools: Map<string, PoolWork>,
  index: LabelIndex<PoolWork>,
  broken: Set<string> | undefined,
): string[] {
  // with its pool list damaged (already reported), the advertisement selects no pool rather than all
  if (item.damaged && (item.damaged.has('ipAddressPools') || item.damaged.has('ipAddressPoolSelectors'))) return [];
  const names = checkStringList(d, item, ['spec', 'ipAddressPools'], item.spec.ipAddressPools, 'pool name');
  const selectors = checkSelectors(d, item, ['spec', 'ipAddressPoolSelectors'], item.spec.ipAddressPoolSelectors);
  const out = new Set<string>();
  (item.spec.ipAddressPools ?? []).forEach((n, i) => {
    // Like MetalLB: a name that matches no pool is no error (GitOps tools apply and delete in
    // any order); the advertisement announces nothing for it. Said as a warning.
    if (n !== '' && !pools.has(n) && !broken?.has(n)) {
      d.warn(item, ['spec', 'ipAddressPools', i], `unknown IPAddressPool "${n}"${didYouMean(n, [...pools.keys()])} (matches nothing, as in MetalLB)`, 'missing-reference');
    }
  });
  for (const n of names) if (pools.has(n)) out.add(n);
  selectors.forEach((sel, i) => {
    const matched = index.match(sel);
    for (const w of matched) out.add(w.pool.name);
    if (matched.length === 0) d.warn(item, ['spec', 'ipAddressPoolSelectors', i], 'selects no IPAddressPool');
  });
  if (names.length === 0 && selectors.length === 0) for (const n of pools.keys()) out.add(n);
  return [...out].sort();
}

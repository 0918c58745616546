// Stage "selectors": label selectors and string lists checked the way the API server and MetalLB
// check them, and the index that finds what a selector matches.

import type { Node } from '../../model/objects.ts';
import type { LabelSelector, LabelSelectorRequirement } from '../../model/selector.ts';
import { formatPath, type FieldPath } from '../path.ts';
import type { LabelSelectorInput } from '../schema.ts';
import { canonicalJSON, type Diags, type Item, type LabelIndex } from './item.ts';

export const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `invalid label key "${key}": prefix must be a DNS subdomain`;
    }
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `invalid label key "${key}": name must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

export function labelValueError(v: string): string | undefined {
  if (v.length > 63 || !LABEL_NAME.test(v)) {
    return `invalid label value "${v}": must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric`;
  }
  return undefined;
}

export function checkSelectors<S>(d: Diags, item: Item<S>, path: FieldPath, sels: LabelSelectorInput[] | undefined): LabelSelector[] {
  const out: LabelSelector[] = [];
  const seen = new Map<string, number>();
  (sels ?? []).forEach((sel, i) => {
    const key = canonicalJSON(sel);
    const prev = seen.get(key);
    if (prev !== undefined) d.at(item, [...path, i], `duplicate selector (same as ${formatPath(item.map([...path, prev]))})`);
    else seen.set(key, i);
    out.push(checkSelector(d, item, [...path, i], sel));
  });
  return out;
}

export function checkSelector<S>(d: Diags, item: Item<S>, p: FieldPath, sel: LabelSelectorInput): LabelSelector {
  const res: LabelSelector = {};
  if (sel.matchLabels) {
    for (const [k, v] of Object.entries(sel.matchLabels)) {
      const ke = labelKeyError(k);
      if (ke) d.at(item, [...p, 'matchLabels', k], ke);
      const ve = labelValueError(v);
      if (ve) d.at(item, [...p, 'matchLabels', k], ve);
    }
    res.matchLabels = { ...sel.matchLabels };
  }
  if (sel.matchExpressions) {
    const seenExpr = new Map<string, number>();
    const exprs: LabelSelectorRequirement[] = [];
    sel.matchExpressions.forEach((e, j) => {
      const ep = [...p, 'matchExpressions', j];
      const ekey = canonicalJSON({ key: e.key, operator: e.operator, values: [...(e.values ?? [])].sort() });
      const eprev = seenExpr.get(ekey);
      if (eprev !== undefined) d.at(item, ep, `duplicate expression (same as matchExpressions[${eprev}])`);
      else seenExpr.set(ekey, j);
      const ke = labelKeyError(e.key);
      if (ke) d.at(item, [...ep, 'key'], ke);
      const values = e.values ?? [];
      if (e.operator === 'In' || e.operator === 'NotIn') {
        if (values.length === 0) d.at(item, [...ep, 'values'], `operator ${e.operator} requires at least one value`);
      } else if (values.length > 0) {
        d.at(item, [...ep, 'values'], `operator ${e.operator} takes no values`);
      }
      const vs = new Set<string>();
      values.forEach((v, k) => {
        if (vs.has(v)) d.at(item, [...ep, 'values', k], `duplicate value "${v}"`);
        vs.add(v);
        const ve = labelValueError(v);
        if (ve) d.at(item, [...ep, 'values', k], ve);
      });
      const req: LabelSelectorRequirement = { key: e.key, operator: e.operator };
      if (e.values !== undefined) req.values = [...e.values];
      exprs.push(req);
    });
    res.matchExpressions = exprs;
  }
  return res;
}

export function checkStringList<S>(d: Diags, item: Item<S>, path: FieldPath, list: string[] | undefined, what: string): string[] {
  const seen = new Map<string, number>();
  (list ?? []).forEach((s, i) => {
    if (s === '') d.at(item, [...path, i], `${what} must not be empty`);
    const prev = seen.get(s);
    if (prev !== undefined) d.at(item, [...path, i], `duplicate entry "${s}" (same as [${prev}])`);
    else seen.set(s, i);
  });
  return [...new Set(list ?? [])];
}


export function nodesWarning<S>(d: Diags, item: Item<S>, path: FieldPath, sels: LabelSelector[], nodes: LabelIndex<Node> | undefined): void {
  if (!nodes) return;
  sels.forEach((sel, i) => {
    if (nodes.match(sel).length === 0) d.warn(item, [...path, i], 'selects no Node');
  });
}

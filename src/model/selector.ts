// Kubernetes label selectors, with the API server's exact semantics:
// within one selector every matchLabels entry and every matchExpression must hold (AND);
// a list of selectors matches when any one does (OR). An empty selector matches everything.

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>> | undefined;

export function requirementMatches(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'In':
      return has && (req.values ?? []).includes(value as string);
    case 'NotIn':
      // NotIn matches objects without the key too (Kubernetes semantics).
      return !has || !(req.values ?? []).includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels === undefined || labels[k] !== v) return false;
  }
  for (const req of sel.matchExpressions ?? []) {
    if (!requirementMatches(req, labels)) return false;
  }
  return true;
}

/**
 * OR across a list of selectors. An empty (or absent) list matches everything: that is how
 * MetalLB treats `nodeSelectors`, `serviceSelectors` and pool selectors that are not set.
 */
export function anySelectorMatches(sels: readonly LabelSelector[] | undefined, labels: Labels): boolean {
  if (!sels || sels.length === 0) return true;
  return sels.some((s) => selectorMatches(s, labels));
}

export function selectorIsEmpty(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

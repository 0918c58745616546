// How long the lists in a /status answer are: the lists that grow with the number of routes or
// Services (a session's planned routes and Adj-RIB-Out, received routes; Services and their
// announcements) are cut to a limit, counted only, or given whole. With 10 sessions x 100k
// routes the whole document is ~200 MB of JSON; an operator or a tool polling it should not make
// the process build and send that every time.
//
//   GET /status                       every list cut at DEFAULT_LIST_LIMIT entries
//   GET /status?routes=count          route lists left out: only their counts (routeCount)
//   GET /status?routes=all            every route
//   GET /status?routes=50&services=count
//
// Every list that can be cut has a count next to it (routes -> routeCount, services ->
// serviceCount, announced -> announcedCount). When a list was cut, the answer's top-level
// `truncated` says which lists and how to get them whole. Pure: no I/O.

/** Entries of a list: at most N, none (`count`: the count only) or every one. */
export type ListLimit = number | 'all' | 'count';

export interface StatusLists {
  /** Route lists: each session's planned routes and Adj-RIB-Out, received (kernel) routes. */
  routes: ListLimit;
  /** Service lists: standalone's `services`, and `announced` unless `announced` is given. */
  services: ListLimit;
  /** `announced` (default: as services). Not a query parameter: /metrics needs it whole. */
  announced?: ListLimit;
}

/** The default of /status: lists cut at this many entries each. */
export const DEFAULT_LIST_LIMIT = 1000;

const DEFAULT_STATUS_LISTS: StatusLists = { routes: DEFAULT_LIST_LIMIT, services: DEFAULT_LIST_LIMIT };
/** Every entry of every list (what status() without arguments returns). */
export const FULL_STATUS_LISTS: StatusLists = { routes: 'all', services: 'all' };
/** Counts only (e.g. the sessions' phases after `drain`). */
export const COUNT_STATUS_LISTS: StatusLists = { routes: 'count', services: 'count' };
/** What /metrics reads: counts, and every announcement (metallb_speaker_announced). */
export const METRICS_STATUS_LISTS: StatusLists = { routes: 'count', services: 'count', announced: 'all' };

/** Which kind of list: the query parameter that sets its limit. */
type ListKind = 'routes' | 'services' | 'announced';

/** The top-level `truncated` of a /status answer whose lists were cut. */
export interface TruncatedNotice {
  /** The lists that hold fewer entries than their count, as paths (e.g. `sessions[rtr-a].routes`). */
  lists: string[];
  /** The limits in force. */
  routes: ListLimit;
  services: ListLimit;
  /** How to get every entry. */
  full: string;
}

const STATUS_QUERY_HELP = 'routes=all|count|N, services=all|count|N (N: at most N entries per list)';

function parseLimit(name: string, v: string): { limit: ListLimit } | { error: string } {
  if (v === 'all' || v === 'count') return { limit: v };
  if (/^\d{1,9}$/.test(v)) return { limit: Number(v) };
  return { error: `${name}: "${v}" is not all, count or a number of entries` };
}

/** The lists asked for by a /status query string; an error message for anything else. */
export function parseStatusQuery(q: URLSearchParams): StatusLists | string {
  const out: StatusLists = { ...DEFAULT_STATUS_LISTS };
  for (const [k, v] of q) {
    if (k !== 'routes' && k !== 'services') return `unknown parameter "${k}" (want ${STATUS_QUERY_HELP})`;
    const l = parseLimit(k, v);
    if ('error' in l) return `${l.error} (want ${STATUS_QUERY_HELP})`;
    out[k] = l.limit;
  }
  return out;
}

/** Builds the lists of one status answer as asked, and records which were cut. */
export class ListShaper {
  private readonly cut: string[] = [];

  constructor(readonly lists: StatusLists = FULL_STATUS_LISTS) {}

  limit(kind: ListKind): ListLimit {
    return kind === 'announced' ? (this.lists.announced ?? this.lists.services) : this.lists[kind];
  }

  /**
   * The list at `path` of `total` entries: `first(n)` makes its first n entries (called only
   * when the list is shown). Undefined when only the count is asked for.
   */
  list<T>(kind: ListKind, path: string, total: number, first: (n: number) => T[]): T[] | undefined {
    const l = this.limit(kind);
    if (l === 'count') return undefined;
    const n = l === 'all' ? total : Math.min(l, total);
    if (n < total) this.cut.push(path);
    return first(n);
  }

  /** An existing array cut as asked (no copy when it is shown whole). */
  slice<T>(kind: ListKind, path: string, all: readonly T[]): T[] | undefined {
    return this.list(kind, path, all.length, (n) => (n === all.length ? (all as T[]) : all.slice(0, n)));
  }

  /** The `truncated` notice when a list was cut, else undefined. */
  notice(): TruncatedNotice | undefined {
    if (this.cut.length === 0) return undefined;
    return { lists: [...this.cut], routes: this.lists.routes, services: this.lists.services, full: '/status?routes=all&services=all' };
  }
}

/** One notice for the lists cut by several shapers (e.g. the node's and standalone's own). */
export function joinNotices(...notices: (TruncatedNotice | undefined)[]): TruncatedNotice | undefined {
  const some = notices.filter((n): n is TruncatedNotice => n !== undefined);
  const first = some[0];
  return first ? { ...first, lists: some.flatMap((n) => n.lists) } : undefined;
}

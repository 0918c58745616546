// The routes of protocol bgp (186) in a namespace's table, as `ip -o route` lines normalized
// (one space, no line-continuation backslashes, no IPv6 `pref medium`), sorted: what the
// routes-in tests compare the node's kernel table against.

import { run } from './proc.ts';

export function bgpRouteLines(ns: string, opts: { families?: (4 | 6)[]; table?: string } = {}): string[] {
  const out: string[] = [];
  for (const f of opts.families ?? [4]) {
    const r = run('ip', ['-n', ns, `-${f}`, '-o', 'route', 'show', 'table', opts.table ?? 'main']);
    for (const line of r.stdout.split('\n')) {
      if (!/ proto bgp /.test(line)) continue;
      out.push(line.replace(/\\\s+/g, ' ').replace(/\s+/g, ' ').replace(/ pref medium/, '').trim());
    }
  }
  return out.sort();
}

/** Just the destinations of bgpRouteLines (IPv4 unless told). */
export function bgpPrefixes(ns: string, opts: { families?: (4 | 6)[]; table?: string } = {}): string[] {
  return bgpRouteLines(ns, opts).map((l) => l.split(' ')[0] ?? '').sort();
}

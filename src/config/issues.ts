// Turns zod issues into precise, user-facing (path, message) pairs. With the schema at hand, an
// unknown field gets the closest known field name as a suggestion ("did you mean ...?"), and a
// required field reported missing because of that typo is not reported a second time.

import type { z } from 'zod';
import { getAt, typeName, type FieldPath } from './path.ts';

export interface PathMessage {
  path: FieldPath;
  message: string;
}

const EXPECTED: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

function toPath(p: readonly PropertyKey[]): FieldPath {
  return p.map((s) => (typeof s === 'number' ? s : String(s)));
}

/** Fields whose value is a Go duration string ("90s"): a bare number there gets a hint. */
const DURATION_FIELDS = new Set(['holdTime', 'keepaliveTime', 'connectTime', 'hold-time', 'keepalive-time']);

/** Fields (or lists) of IP addresses / CIDRs: a bare number there is an address written short. */
const ADDRESS_FIELDS = new Set(['addresses', 'peerAddress', 'sourceAddress', 'routerID', 'peer-address', 'source-address', 'router-id', 'address', 'sourceaddress', 'prefix', 'id']);

/** Edit distance counting insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row.push(v);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The known name closest to `word` (same letters ignoring case/dashes, or a small edit distance). */
export function closest(word: string, known: readonly string[]): string | undefined {
  const n = norm(word);
  const same = known.find((k) => norm(k) === n);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  return bestD <= limit ? best : undefined;
}

interface Def {
  type?: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
}

function defOf(s: z.ZodType | undefined): Def | undefined {
  return (s as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** The object schema at `path` inside `schema`, if any. */
function objectAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]): Def | undefined {
  const d = defAt(schema, path);
  return d?.type === 'object' ? d : undefined;
}

/** The schema definition at `path` (through optional/nullable/array/record wrappers). */
function defAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]): Def | undefined {
  let cur = schema;
  const unwrap = (): void => {
    for (let d = defOf(cur); d && d.innerType && (d.type === 'optional' || d.type === 'nullable' || d.type === 'default'); d = defOf(cur)) cur = d.innerType;
  };
  unwrap();
  for (const seg of path) {
    const d = defOf(cur);
    if (!d) return undefined;
    if (d.type === 'object' && typeof seg === 'string') cur = d.shape?.[seg];
    else if (d.type === 'array' && typeof seg === 'number') cur = d.element;
    else if (d.type === 'record') cur = d.valueType;
    else return undefined;
    unwrap();
  }
  return defOf(cur);
}

/** Whether the schema at `path` is a list of strings. */
function isStringList(schema: z.ZodType | undefined, path: readonly PropertyKey[]): boolean {
  const d = defAt(schema, path);
  return d?.type === 'array' && defOf(d.element)?.type === 'string';
}

/** Known field names of the object at `path` in `schema` (empty when unknown). */
export function knownFields(schema: z.ZodType | undefined, path: readonly PropertyKey[]): string[] {
  return Object.keys(objectAt(schema, path)?.shape ?? {});
}

export function zodIssues(issues: readonly z.core.$ZodIssue[], data: unknown, base: FieldPath = [], schema?: z.ZodType): PathMessage[] {
  const out: PathMessage[] = [];
  // "parent path \0 missing field" for required fields that an unknown sibling is a typo of
  const typoOf = new Set<string>();
  for (const issue of issues) {
    const path = [...base, ...toPath(issue.path)];
    const value = getAt(data, toPath(issue.path));
    switch (issue.code) {
      case 'invalid_type': {
        if (value === undefined) out.push({ path, message: 'required field is missing' });
        else {
          const last = issue.path[issue.path.length - 1];
          const got = typeName(value);
          const field = typeof last === 'number' ? issue.path[issue.path.length - 2] : last;
          if (issue.expected === 'string' && typeof value === 'number' && typeof field === 'string' && ADDRESS_FIELDS.has(field)) {
            // `10.1` unquoted is a YAML number: say what it is not, not what type it has
            const hint = field === 'addresses' || field === 'prefix' ? '; write a CIDR such as "10.1.0.0/16"' : '';
            out.push({ path, message: `${value} is not an IP address (YAML read it as a number)${hint}` });
            break;
          }
          if (issue.expected === 'string' && typeof value === 'number' && typeof last === 'string' && DURATION_FIELDS.has(last)) {
            out.push({ path, message: `must be a duration string such as "${value}s" or "1m30s", got ${got} ${value}` });
            break;
          }
          if ((issue.expected === 'number' || issue.expected === 'int') && typeof value === 'string' && /^-?[0-9]+$/.test(value.trim())) {
            out.push({ path, message: `must be an integer, got string "${value}" (remove the quotes)` });
            break;
          }
          if (issue.expected === 'boolean' && typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
            out.push({ path, message: `must be a boolean, got string "${value}" (write ${value.trim().toLowerCase()} without quotes)` });
            break;
          }
          if (issue.expected === 'array' && typeof value === 'string' && isStringList(schema, issue.path)) {
            out.push({ path, message: `must be a list, got ${got} ${JSON.stringify(value)} (write it as a list: [${JSON.stringify(value)}])` });
            break;
          }
          if (issue.expected === 'array' && typeName(value) === 'object') {
            out.push({ path, message: 'must be a list, got object (start each entry with "- ")' });
            break;
          }
          const want = EXPECTED[issue.expected] ?? issue.expected;
          const extra = issue.expected === 'int' && typeof value === 'number' ? ` (${value})` : '';
          const shown = typeof value === 'string' ? ` "${value.length > 40 ? `${value.slice(0, 40)}...` : value}"` : '';
          out.push({ path, message: `must be ${want}, got ${got}${shown}${extra}` });
        }
        break;
      }
      case 'too_big':
        if (issue.origin === 'array') out.push({ path, message: `must have at most ${String(issue.maximum)} entries` });
        else if (issue.origin === 'string') out.push({ path, message: `must be at most ${String(issue.maximum)} characters` });
        else out.push({ path, message: `must be <= ${String(issue.maximum)}, got ${String(value)}` });
        break;
      case 'too_small':
        if (issue.origin === 'array') out.push({ path, message: `must have at least ${String(issue.minimum)} entries` });
        else if (issue.origin === 'string') out.push({ path, message: 'must not be empty' });
        else out.push({ path, message: `must be >= ${String(issue.minimum)}, got ${String(value)}` });
        break;
      case 'invalid_value':
        if (value === undefined) {
          out.push({ path, message: `required field is missing (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})` });
          break;
        }
        out.push({
          path,
          message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value) ?? 'nothing'}`,
        });
        break;
      case 'unrecognized_keys': {
        const known = knownFields(schema, issue.path);
        const present = getAt(data, toPath(issue.path));
        for (const k of issue.keys) {
          const guess = closest(k, known);
          if (guess !== undefined) {
            const missing = present !== null && typeof present === 'object' && !(guess in present);
            if (missing) typoOf.add(`${formatKey(path)}\0${guess}`);
            out.push({ path: [...path, k], message: `unknown field; did you mean "${guess}"?` });
          } else if (known.length > 0 && known.length <= 14) {
            out.push({ path: [...path, k], message: `unknown field (known fields: ${known.join(', ')})` });
          } else out.push({ path: [...path, k], message: 'unknown field' });
        }
        break;
      }
      default:
        out.push({ path, message: issue.message });
    }
  }
  if (typoOf.size === 0) return out;
  // A required field is "missing" only because its name was misspelt: the typo line says it all.
  return out.filter((pm) => {
    if (pm.message !== 'required field is missing' || pm.path.length === 0) return true;
    const last = pm.path[pm.path.length - 1];
    return !(typeof last === 'string' && typoOf.has(`${formatKey(pm.path.slice(0, -1))}\0${last}`));
  });
}

function formatKey(p: FieldPath): string {
  return JSON.stringify(p);
}

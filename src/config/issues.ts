// Turns zod issues into precise, user-facing (path, message) pairs.

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

export function zodIssues(issues: readonly z.core.$ZodIssue[], data: unknown, base: FieldPath = []): PathMessage[] {
  const out: PathMessage[] = [];
  for (const issue of issues) {
    const path = [...base, ...toPath(issue.path)];
    const value = getAt(data, toPath(issue.path));
    switch (issue.code) {
      case 'invalid_type': {
        if (value === undefined) out.push({ path, message: 'required field is missing' });
        else {
          const want = EXPECTED[issue.expected] ?? issue.expected;
          const got = typeName(value);
          const extra = issue.expected === 'int' && typeof value === 'number' ? ` (${value})` : '';
          out.push({ path, message: `must be ${want}, got ${got}${extra}` });
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
        out.push({
          path,
          message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value) ?? 'nothing'}`,
        });
        break;
      case 'unrecognized_keys':
        for (const k of issue.keys) out.push({ path: [...path, k], message: 'unknown field' });
        break;
      default:
        out.push({ path, message: issue.message });
    }
  }
  return out;
}

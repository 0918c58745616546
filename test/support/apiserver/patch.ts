// Patch application for the fake API server: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902) and strategic merge patch for the simple cases (maps merge, lists replace,
// `$patch: delete` / `$patch: replace` directives on maps).

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class PatchError extends Error {
  constructor(
    message: string,
    readonly code: number = 422,
  ) {
    super(message);
  }
}

function isObj(v: unknown): v is { [k: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const out: { [k: string]: Json } = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return patch;
  const directive = patch['$patch'];
  if (directive === 'delete') return null;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest['$patch'];
    return rest;
  }
  const out: { [k: string]: Json } = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(out[k] ?? null, v);
      if (merged === null) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function unescape(tok: string): string {
  return tok.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(ptr: string): string[] {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw new PatchError(`invalid JSON pointer "${ptr}"`);
  return ptr.slice(1).split('/').map(unescape);
}

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v)) as Json;
}

function getAt(doc: Json, path: string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const p of path) {
    if (Array.isArray(cur)) {
      const i = Number(p);
      if (!/^\d+$/.test(p) || i >= cur.length) return undefined;
      cur = cur[i];
    } else if (isObj(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, p)) return undefined;
      cur = cur[p];
    } else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, path: string[], op: string): { parent: Json; key: string } {
  if (path.length === 0) throw new PatchError(`${op}: cannot operate on the document root`);
  const parent = getAt(doc, path.slice(0, -1));
  if (parent === undefined || (parent !== null && typeof parent !== 'object')) {
    throw new PatchError(`${op}: missing path "/${path.slice(0, -1).join('/')}"`);
  }
  return { parent, key: path[path.length - 1] ?? '' };
}

function addAt(doc: Json, path: string[], value: Json): Json {
  if (path.length === 0) return value;
  const { parent, key } = parentOf(doc, path, 'add');
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!(key === '-' || /^\d+$/.test(key)) || i > parent.length) throw new PatchError(`add: index out of range "${key}"`);
    parent.splice(i, 0, value);
  } else if (isObj(parent)) parent[key] = value;
  else throw new PatchError('add: parent is not a container');
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const { parent, key } = parentOf(doc, path, 'remove');
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length) throw new PatchError(`remove: index out of range "${key}"`);
    parent.splice(i, 1);
  } else if (isObj(parent)) {
    if (!Object.prototype.hasOwnProperty.call(parent, key)) throw new PatchError(`remove: missing path "/${path.join('/')}"`);
    delete parent[key];
  }
  return doc;
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations', 400);
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw new PatchError('json patch operation needs "op" and "path"', 400);
    }
    const op = raw['op'];
    const path = parsePointer(raw['path']);
    switch (op) {
      case 'add':
        doc = addAt(doc, path, clone(raw['value'] ?? null));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        if (getAt(doc, path) === undefined) throw new PatchError(`replace: missing path "${raw['path']}"`);
        if (path.length === 0) doc = clone(raw['value'] ?? null);
        else {
          doc = removeAt(doc, path);
          doc = addAt(doc, path, clone(raw['value'] ?? null));
        }
        break;
      case 'test':
        if (!deepEqual(getAt(doc, path), raw['value'] ?? null)) throw new PatchError(`test failed at "${raw['path']}"`);
        break;
      case 'move':
      case 'copy': {
        if (typeof raw['from'] !== 'string') throw new PatchError(`${op}: needs "from"`, 400);
        const from = parsePointer(raw['from']);
        const v = getAt(doc, from);
        if (v === undefined) throw new PatchError(`${op}: missing path "${raw['from']}"`);
        const val = clone(v);
        if (op === 'move') doc = removeAt(doc, from);
        doc = addAt(doc, path, val);
        break;
      }
      default:
        throw new PatchError(`unknown json patch operation "${op}"`, 400);
    }
  }
  return doc;
}

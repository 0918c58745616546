// A fast reader for the plain YAML that folders of many Services are made of: block mappings
// and sequences, plain / single-quoted / simple double-quoted scalars, comments, `---`
// separators. It builds the same JavaScript values the `yaml` library's toJS gives (YAML 1.2
// core schema) with next to no garbage (the library allocates ~170 KB per small Service
// document) and with repeated strings shared.
//
// It never guesses: anything outside that subset — tabs, CR, non-ASCII bytes, directives,
// anchors, aliases, tags, flow collections, block scalars, multi-line scalars, escapes, complex
// or duplicate keys, scalars the core schema resolves to anything but a string, a decimal
// integer, a boolean or null — makes it return undefined, and the caller parses the file with
// the `yaml` library as before (same values, same errors). Pure.

/** One document of the stream: its value and where its text is (for a full re-parse). */
export interface FastDocument {
  value: unknown;
  /** 1-based line of the document's first line (after its `---`, if any). */
  line: number;
  /** 1-based line of its first key (where the `yaml` library's node range starts). */
  contentLine: number;
  /** Byte offsets of the document's text in the input (ASCII: equal to character offsets). */
  start: number;
  end: number;
}

const SP = 0x20;
const NL = 0x0a;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const SQ = 0x27;
const DQ = 0x22;

class Bail extends Error {}
const BAIL = new Bail('outside the fast subset');

/** Plain scalars the core schema resolves to something else than a string (beyond what we handle). */
const OTHER_TYPES = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const NULL = /^(?:~|[Nn]ull|NULL)$/;
const INDICATOR = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));
const KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

interface Line {
  /** Byte offset of the first content character, and of the end of the line (without comment). */
  at: number;
  end: number;
  indent: number;
  /** 1-based line number. */
  no: number;
}

class Reader {
  private readonly lines: Line[] = [];
  private i = 0;

  constructor(
    private readonly intern: Map<string, string>,
    private readonly buf: Uint8Array,
    private readonly text: (start: number, end: number) => string,
    from: number,
    to: number,
    firstLine: number,
  ) {
    let pos = from;
    let no = firstLine;
    while (pos < to) {
      let eol = buf.indexOf(NL, pos);
      if (eol < 0 || eol > to) eol = to;
      let at = pos;
      while (at < eol && buf[at] === SP) at++;
      if (at < eol && buf[at] !== HASH) this.lines.push({ at, end: eol, indent: at - pos, no });
      pos = eol + 1;
      no++;
    }
  }

  get firstLine(): number {
    return this.lines[0]?.no ?? 0;
  }

  str(start: number, end: number): string {
    const s = this.text(start, end);
    const hit = this.intern.get(s);
    if (hit !== undefined) return hit;
    this.intern.set(s, s);
    return s;
  }

  document(): unknown {
    if (this.lines.length === 0) return null;
    const first = this.lines[0] as Line;
    if (first.indent !== 0 || this.buf[first.at] === DASH) throw BAIL; // only mappings at the top
    const v = this.mapping(0);
    if (this.i !== this.lines.length) throw BAIL;
    return v;
  }

  private peek(): Line | undefined {
    return this.lines[this.i];
  }

  /** A block mapping whose keys are at column `indent`; the first key line is the current line. */
  private mapping(indent: number, firstAt?: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let at = firstAt;
    for (;;) {
      const l = this.peek();
      if (!l) break;
      if (at === undefined) {
        if (l.indent < indent) break;
        if (l.indent > indent) throw BAIL;
        at = l.at;
      }
      const { key, rest } = this.keyOf(at, l.end);
      if (Object.prototype.hasOwnProperty.call(out, key)) throw BAIL; // duplicate key: the library reports it
      this.i++;
      out[key] = rest < l.end ? this.inlineValue(rest, l.end, indent) : this.nestedValue(indent, true);
      at = undefined;
    }
    return out;
  }

  /** `key:` at `at`; returns the key and where the value starts (== end when none). */
  private keyOf(at: number, end: number): { key: string; rest: number } {
    let c = at;
    while (c < end && !(this.buf[c] === COLON && (c + 1 === end || this.buf[c + 1] === SP))) c++;
    if (c >= end) throw BAIL;
    const key = this.str(at, c);
    if (!KEY.test(key) || key === '__proto__' || NULL.test(key) || /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(key)) throw BAIL;
    let v = c + 1;
    while (v < end && this.buf[v] === SP) v++;
    return { key, rest: v };
  }

  /** The value after `key:` / `- ` on the same line; nothing more indented may follow. */
  private inlineValue(at: number, end: number, indent: number): unknown {
    const next = this.peek();
    if (next && next.indent > indent) throw BAIL; // a multi-line scalar or a nested block after a value
    return this.scalar(at, end);
  }

  /** The value of `key:` (mapping) or `-` (sequence) with nothing after it on its line. */
  private nestedValue(indent: number, inMapping: boolean): unknown {
    const next = this.peek();
    if (!next) return null;
    if (next.indent > indent) return this.buf[next.at] === DASH ? this.sequence(next.indent) : this.mapping(next.indent);
    // a sequence may sit at the key's own column ("key:\n- a")
    if (inMapping && next.indent === indent && this.buf[next.at] === DASH) return this.sequence(indent);
    return null;
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const l = this.peek();
      if (!l || l.indent !== indent || this.buf[l.at] !== DASH) {
        if (l && l.indent > indent) throw BAIL;
        break;
      }
      const after = l.at + 1;
      if (after < l.end && this.buf[after] !== SP) throw BAIL; // "-foo" is a scalar, not an entry
      let v = after;
      while (v < l.end && this.buf[v] === SP) v++;
      if (v >= l.end) {
        this.i++;
        out.push(this.nestedValue(indent, false));
        continue;
      }
      const col = indent + (v - l.at);
      if (this.isPair(v, l.end)) {
        // "- key: value": a mapping whose keys are at this column
        out.push(this.mapping(col, v));
        continue;
      }
      this.i++;
      out.push(this.inlineValue(v, l.end, indent));
    }
    // push() leaves room for 16 more elements: keep an exact-size copy (kept for long)
    return out.slice();
  }

  private isPair(at: number, end: number): boolean {
    const b = this.buf[at] as number;
    if (b === SQ || b === DQ || INDICATOR.has(b)) return false;
    for (let c = at; c < end; c++) if (this.buf[c] === COLON && (c + 1 === end || this.buf[c + 1] === SP)) return true;
    return false;
  }

  private scalar(at: number, end: number): unknown {
    const b = this.buf[at] as number;
    if (b === SQ || b === DQ) return this.quoted(at, end, b);
    if (INDICATOR.has(b) && !(b === DASH && at + 1 < end && this.buf[at + 1] !== SP)) throw BAIL;
    // a comment starts at " #"
    let e = at;
    for (let c = at; c < end; c++) {
      const x = this.buf[c];
      if (x === HASH && this.buf[c - 1] === SP) break;
      if (x === COLON && (c + 1 === end || this.buf[c + 1] === SP)) throw BAIL; // "a: b: c"
      if (x !== SP) e = c + 1;
    }
    const s = this.str(at, e);
    if (/^[0-9]{1,15}$/.test(s)) return parseInt(s, 10);
    if (NULL.test(s)) return null;
    if (s === 'true' || s === 'True' || s === 'TRUE') return true;
    if (s === 'false' || s === 'False' || s === 'FALSE') return false;
    if (OTHER_TYPES.test(s)) throw BAIL;
    return s;
  }

  private quoted(at: number, end: number, q: number): string {
    let c = at + 1;
    let doubled = false;
    for (;;) {
      if (c >= end) throw BAIL; // multi-line quoted scalar
      const x = this.buf[c];
      if (q === DQ && x === 0x5c) throw BAIL; // escapes
      if (x === q) {
        if (q === SQ && this.buf[c + 1] === SQ) {
          doubled = true;
          c += 2;
          continue;
        }
        break;
      }
      c++;
    }
    // only spaces or a comment may follow
    for (let t = c + 1; t < end; t++) {
      const x = this.buf[t];
      if (x === HASH && this.buf[t - 1] === SP) break;
      if (x !== SP) throw BAIL;
    }
    const s = this.str(at + 1, c);
    return doubled ? s.replaceAll("''", "'") : s;
  }
}

/** Whether the bytes are all ones this reader accepts (printable ASCII, space, newline). */
function plainAscii(buf: Uint8Array): boolean {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (b >= 0x7f || (b < SP && b !== NL)) return false;
  }
  return true;
}

/**
 * The documents of a YAML stream, or undefined when the text is outside the fast subset (then
 * parse it with the `yaml` library). Empty documents are left out (the library's `contents`
 * null).
 */
export function fastParseDocuments(buf: Uint8Array): FastDocument[] | undefined {
  if (!plainAscii(buf)) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = (s: number, e: number): string => b.toString('latin1', s, e);
  const docs: FastDocument[] = [];
  // one copy of every distinct string of the file ("LoadBalancer", "TCP", the namespace...)
  const intern = new Map<string, string>();
  let start = 0;
  let line = 1;
  let pos = 0;
  let no = 1;
  const flush = (end: number): boolean => {
    const r = new Reader(intern, buf, text, start, end, line);
    try {
      const value = r.document();
      if (value !== null) docs.push({ value, line, contentLine: r.firstLine, start, end });
      return true;
    } catch (e) {
      if (e instanceof Bail) return false;
      throw e;
    }
  };
  while (pos < buf.length) {
    let eol = buf.indexOf(NL, pos);
    if (eol < 0) eol = buf.length;
    const c0 = buf[pos];
    if (c0 === 0x25 /* % directive */) return undefined;
    if ((c0 === DASH || c0 === 0x2e) && eol - pos >= 3 && buf[pos + 1] === c0 && buf[pos + 2] === c0) {
      // "---" / "..." at column 0 (alone on their line, or followed by a comment)
      let rest = pos + 3;
      while (rest < eol && buf[rest] === SP) rest++;
      if (rest < eol && !(buf[rest] === HASH && rest > pos + 3)) return undefined;
      if (eol - pos > 3 && buf[pos + 3] !== SP) return undefined;
      if (c0 === 0x2e) return undefined;
      if (!flush(pos)) return undefined;
      start = eol + 1;
      line = no + 1;
    }
    pos = eol + 1;
    no++;
  }
  if (!flush(buf.length)) return undefined;
  return docs;
}

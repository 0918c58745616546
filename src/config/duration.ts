// Go `time.ParseDuration` syntax ("90s", "1m30s", "500ms", "1.5h"), returning milliseconds.

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds, or undefined when `s` is not a Go duration. Negative durations are rejected. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  let t = s;
  if (t.startsWith('+')) t = t.slice(1);
  if (t === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < t.length) {
    PART.lastIndex = pos;
    const m = PART.exec(t);
    if (!m || m.index !== pos) return undefined;
    const num = m[1] ?? '';
    if (num === '' || num === '.') return undefined;
    const unit = UNITS[m[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(num) * unit;
    pos = PART.lastIndex;
  }
  return total;
}

/** Formats milliseconds as a Go duration ("1m30s", "500ms", "0s"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  let out = '';
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  rest -= s * 1000;
  if (h) out += `${h}h`;
  if (m) out += `${m}m`;
  if (s) out += `${s}s`;
  if (rest) out += `${rest}ms`;
  return out;
}

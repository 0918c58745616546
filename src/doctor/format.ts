// Text and JSON output of doctor findings.

import type { Finding, Severity } from './types.ts';

const LABEL: Record<Severity, string> = { error: 'ERROR', warning: 'WARNING', info: 'INFO' };

/** Wraps `text` at `width` columns, each line prefixed with `indent`. */
function wrap(text: string, indent: string, width = 100): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (cur && indent.length + cur.length + 1 + word.length > width) {
      lines.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(indent + cur);
  return lines.join('\n');
}

export function formatFindings(findings: readonly Finding[], sources: string): string {
  if (findings.length === 0) return `doctor: no findings (${sources})\n`;
  const out: string[] = [];
  for (const f of findings) {
    out.push(`${LABEL[f.severity]} [${f.code}] ${f.subject}`);
    out.push(wrap(f.message, '  '));
    out.push(wrap(`fix: ${f.fix}`, '  '));
    out.push('');
  }
  const n = (s: Severity): number => findings.filter((f) => f.severity === s).length;
  out.push(`doctor: ${n('error')} error(s), ${n('warning')} warning(s), ${n('info')} info (${sources})`);
  return out.join('\n') + '\n';
}

export function findingsToJSON(findings: readonly Finding[]): unknown {
  return { findings };
}

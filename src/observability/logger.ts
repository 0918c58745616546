// Logger factory shared by every long-running command. Structured JSON lines (pino) by default;
// `--log-format text` gives human-readable lines through pino-pretty (synchronous, no worker).

import { pino } from 'pino';
import type { Logger, DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'text';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  format?: LogFormat;
  level?: LogLevel;
  /** Where lines go; default stderr (fd 2) so that stdout stays free for command output. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Static fields added to every line (e.g. { component: 'standalone', node }). */
  base?: Record<string, unknown>;
}

export function isLogFormat(s: string): s is LogFormat {
  return s === 'json' || s === 'text';
}

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/**
 * One JSON object per line with every key once: pino appends a child's bindings and a call's
 * fields after the base fields without merging, so `component` bound at the top and again by a
 * sub-system (or `node`, `peer` given twice) would appear twice in one line, which many log
 * pipelines reject or resolve arbitrarily. The later value (the more specific one) wins, as it
 * does for JSON.parse. Lines without a repeated key are passed through untouched.
 */
export function dedupeLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
  const again = JSON.stringify(parsed);
  // Same length (minus the newline) means no key was dropped: keep the original bytes.
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (again.length === body.length) return line;
  return again + (line.endsWith('\n') ? '\n' : '');
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const base = opts.base ?? {};
  if ((opts.format ?? 'json') === 'text') {
    const stream = pretty({
      sync: true,
      colorize: false,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: opts.destination ?? 2,
    });
    return pino({ level, base }, stream);
  }
  const dest = opts.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime, hooks: { streamWrite: dedupeLine } }, dest);
}

export type { Logger };

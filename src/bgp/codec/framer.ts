// Splits a TCP byte stream into BGP messages (RFC 4271 §4.1 header, §6.1 header checks).
// No sockets: the transport pushes whatever chunks it receives and pulls frames out.

import { HEADER_LENGTH, MAX_MESSAGE_SIZE, notification, u16Bytes } from './common.ts';
import { ErrorCode, HeaderSubcode, MessageType } from './messages.ts';
import type { NotificationMessage } from './messages.ts';

export type FrameResult =
  | { kind: 'frame'; type: number; body: Uint8Array; raw: Uint8Array }
  | { kind: 'error'; notification: NotificationMessage; reason: string };

/** Smallest valid total length per message type (RFC 4271 §4.2–4.5, RFC 2918). */
const MIN_LENGTH: Record<number, number> = {
  [MessageType.OPEN]: 29,
  [MessageType.UPDATE]: 23,
  [MessageType.NOTIFICATION]: 21,
  [MessageType.KEEPALIVE]: 19,
  [MessageType.ROUTE_REFRESH]: 23,
};

function clampSize(n: number | undefined): number {
  return Math.min(Math.max(n ?? MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE), 65535);
}

export interface FramerOptions {
  /** Largest accepted message (4096, or up to 65535 after RFC 8654 extended messages). */
  maxMessageSize?: number;
}

/**
 * Incremental BGP message framer. `push` appends received bytes; `next` returns the next
 * complete message, `undefined` when more bytes are needed, or an error carrying the
 * NOTIFICATION to send (bad marker 1/1, bad length 1/2 with the length as data, bad type 1/3
 * with the type as data). After an error the stream cannot be resynchronised: the framer
 * reports the error once and then stays empty (`failed` is true).
 */
export class MessageFramer {
  private buf: Uint8Array = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private error: FrameResult | undefined;
  private errored = false;
  private maxSize: number;

  constructor(opts: FramerOptions = {}) {
    this.maxSize = clampSize(opts.maxMessageSize);
  }

  /** Changes the largest accepted message, e.g. after RFC 8654 extended messages are negotiated. */
  setMaxMessageSize(n: number): void {
    this.maxSize = clampSize(n);
  }

  /** True once a framing error has been reported. */
  get failed(): boolean {
    return this.errored;
  }

  /** Number of buffered bytes not yet returned as frames. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (this.errored || chunk.length === 0) return;
    const have = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      if (have + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length * 2;
        while (size < have + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = have;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  next(): FrameResult | undefined {
    if (this.errored) {
      const e = this.error;
      this.error = undefined;
      return e;
    }
    const have = this.end - this.start;
    if (have < HEADER_LENGTH) return undefined;
    const b = this.buf;
    const s = this.start;
    for (let i = 0; i < 16; i++) {
      if (b[s + i] !== 0xff) return this.fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, undefined, 'marker is not all ones');
    }
    const length = ((b[s + 16] ?? 0) << 8) | (b[s + 17] ?? 0);
    const type = b[s + 18] ?? 0;
    if (length < HEADER_LENGTH || length > this.maxSize) {
      return this.fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, u16Bytes(length), `message length ${length} outside ${HEADER_LENGTH}..${this.maxSize}`);
    }
    const min = MIN_LENGTH[type];
    if (min === undefined) {
      return this.fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_TYPE, Uint8Array.of(type), `unknown message type ${type}`);
    }
    if (length < min || (type === MessageType.KEEPALIVE && length !== HEADER_LENGTH)) {
      return this.fail(ErrorCode.MESSAGE_HEADER, HeaderSubcode.BAD_MESSAGE_LENGTH, u16Bytes(length), `bad length ${length} for message type ${type}`);
    }
    if (have < length) return undefined;
    const raw = b.slice(s, s + length);
    this.start += length;
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    return { kind: 'frame', type, body: raw.subarray(HEADER_LENGTH), raw };
  }

  private fail(code: number, subcode: number, data: Uint8Array | undefined, reason: string): FrameResult {
    this.errored = true;
    this.start = 0;
    this.end = 0;
    this.buf = new Uint8Array(0);
    return { kind: 'error', notification: notification(code, subcode, data), reason };
  }
}

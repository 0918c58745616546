// BFD Control packet codec (RFC 5880 §4.1, §4.2-4.4 authentication sections). Pure.
//
// decodeControl checks everything RFC 5880 §6.8.6 lets a receiver check from the packet alone
// (version, lengths, detect multiplier, multipoint bit, my discriminator, your discriminator
// zero outside Down/AdminDown, auth section shape) and throws a BfdDecodeError whose `reason`
// is a stable counter key. Session-dependent rules (unknown your-discriminator, TTL, auth
// required or not) are checked by the demultiplexer (mux.ts).

export const BFD_VERSION = 1;
export const CONTROL_LEN = 24;

export enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

export const STATE_NAMES: Record<BfdState, 'AdminDown' | 'Down' | 'Init' | 'Up'> = {
  [BfdState.AdminDown]: 'AdminDown',
  [BfdState.Down]: 'Down',
  [BfdState.Init]: 'Init',
  [BfdState.Up]: 'Up',
};

/** RFC 5880 §4.1 diagnostic codes. */
export enum BfdDiag {
  None = 0,
  ControlDetectionExpired = 1,
  EchoFailed = 2,
  NeighborSignaledDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

export const DIAG_NAMES: Record<number, string> = {
  0: 'none',
  1: 'control detection time expired',
  2: 'echo function failed',
  3: 'neighbor signaled session down',
  4: 'forwarding plane reset',
  5: 'path down',
  6: 'concatenated path down',
  7: 'administratively down',
  8: 'reverse concatenated path down',
};

export enum AuthType {
  SimplePassword = 1,
  KeyedMD5 = 2,
  MeticulousKeyedMD5 = 3,
  KeyedSHA1 = 4,
  MeticulousKeyedSHA1 = 5,
}

export type BfdAuth =
  | { type: AuthType.SimplePassword; keyId: number; password: Buffer }
  | { type: AuthType.KeyedMD5 | AuthType.MeticulousKeyedMD5 | AuthType.KeyedSHA1 | AuthType.MeticulousKeyedSHA1; keyId: number; sequence: number; digest: Buffer };

export interface ControlPacket {
  diag: BfdDiag;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent. */
  cpi: boolean;
  demand: boolean;
  detectMult: number;
  myDiscr: number;
  yourDiscr: number;
  /** Microseconds. */
  desiredMinTx: number;
  /** Microseconds. */
  requiredMinRx: number;
  /** Microseconds; 0 = no echo. */
  requiredMinEchoRx: number;
  auth?: BfdAuth;
}

export type DecodeReason =
  | 'short'
  | 'version'
  | 'length'
  | 'detect-mult-zero'
  | 'multipoint'
  | 'my-discriminator-zero'
  | 'your-discriminator-zero'
  | 'auth-section';

export class BfdDecodeError extends Error {
  constructor(
    readonly reason: DecodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'BfdDecodeError';
  }
}

const AUTH_LEN: Record<number, number> = { 2: 24, 3: 24, 4: 28, 5: 28 };

function decodeAuth(b: Buffer): BfdAuth {
  if (b.length < 3) throw new BfdDecodeError('auth-section', `authentication section of ${b.length} bytes`);
  const type = b[0]!;
  const len = b[1]!;
  if (len > b.length) throw new BfdDecodeError('auth-section', `auth length ${len} exceeds the ${b.length} bytes present`);
  const keyId = b[2]!;
  if (type === AuthType.SimplePassword) {
    if (len < 4 || len > 19) throw new BfdDecodeError('auth-section', `simple password auth length ${len} (must be 4..19)`);
    return { type, keyId, password: Buffer.from(b.subarray(3, len)) };
  }
  const want = AUTH_LEN[type];
  if (want === undefined) throw new BfdDecodeError('auth-section', `unknown auth type ${type}`);
  if (len !== want) throw new BfdDecodeError('auth-section', `auth type ${type} length ${len} (must be ${want})`);
  return { type: type as AuthType.KeyedSHA1, keyId, sequence: b.readUInt32BE(4), digest: Buffer.from(b.subarray(8, len)) };
}

/** Decodes one BFD Control packet (the UDP payload). Throws BfdDecodeError. */
export function decodeControl(b: Buffer): ControlPacket {
  if (b.length < CONTROL_LEN) throw new BfdDecodeError('short', `packet of ${b.length} bytes (minimum ${CONTROL_LEN})`);
  const version = b[0]! >> 5;
  if (version !== BFD_VERSION) throw new BfdDecodeError('version', `version ${version} (expected ${BFD_VERSION})`);
  const flags = b[1]!;
  const authPresent = (flags & 0x04) !== 0;
  const length = b[3]!;
  if (length < (authPresent ? CONTROL_LEN + 2 : CONTROL_LEN)) throw new BfdDecodeError('length', `length field ${length} too small`);
  if (length > b.length) throw new BfdDecodeError('length', `length field ${length} exceeds the ${b.length}-byte payload`);
  const detectMult = b[2]!;
  if (detectMult === 0) throw new BfdDecodeError('detect-mult-zero', 'detect multiplier 0');
  if ((flags & 0x01) !== 0) throw new BfdDecodeError('multipoint', 'multipoint (M) bit set');
  const state = (flags >> 6) as BfdState;
  const myDiscr = b.readUInt32BE(4);
  const yourDiscr = b.readUInt32BE(8);
  if (myDiscr === 0) throw new BfdDecodeError('my-discriminator-zero', 'my discriminator 0');
  if (yourDiscr === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) {
    throw new BfdDecodeError('your-discriminator-zero', `your discriminator 0 in state ${STATE_NAMES[state]}`);
  }
  const p: ControlPacket = {
    diag: (b[0]! & 0x1f) as BfdDiag,
    state,
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    cpi: (flags & 0x08) !== 0,
    demand: (flags & 0x02) !== 0,
    detectMult,
    myDiscr,
    yourDiscr,
    desiredMinTx: b.readUInt32BE(12),
    requiredMinRx: b.readUInt32BE(16),
    requiredMinEchoRx: b.readUInt32BE(20),
  };
  if (authPresent) p.auth = decodeAuth(b.subarray(CONTROL_LEN, length));
  return p;
}

function encodeAuth(a: BfdAuth): Buffer {
  if (a.type === AuthType.SimplePassword) {
    if (a.password.length < 1 || a.password.length > 16) throw new RangeError('simple password must be 1..16 bytes');
    return Buffer.concat([Buffer.from([a.type, 3 + a.password.length, a.keyId]), a.password]);
  }
  const len = AUTH_LEN[a.type]!;
  const out = Buffer.alloc(len);
  out[0] = a.type;
  out[1] = len;
  out[2] = a.keyId;
  out.writeUInt32BE(a.sequence >>> 0, 4);
  a.digest.copy(out, 8, 0, len - 8);
  return out;
}

/** Encodes a Control packet. Throws RangeError for values that do not fit the wire format. */
export function encodeControl(p: ControlPacket): Buffer {
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 255) throw new RangeError(`detect multiplier ${p.detectMult}`);
  const auth = p.auth ? encodeAuth(p.auth) : undefined;
  const b = Buffer.alloc(CONTROL_LEN + (auth?.length ?? 0));
  b[0] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  b[1] = (p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0) | (p.cpi ? 0x08 : 0) | (auth ? 0x04 : 0) | (p.demand ? 0x02 : 0);
  b[2] = p.detectMult;
  b[3] = b.length;
  b.writeUInt32BE(p.myDiscr >>> 0, 4);
  b.writeUInt32BE(p.yourDiscr >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRx >>> 0, 20);
  auth?.copy(b, CONTROL_LEN);
  return b;
}

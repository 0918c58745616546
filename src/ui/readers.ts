// Narrow readers over unknown JSON (a /status document): each gives the value when it has the
// expected type, else an empty/null stand-in. Shared by viewmodel.ts and nodeviews.ts.

export type Rec = Record<string, unknown>;
export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
export const rec = (v: unknown): Rec => (isRec(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
export const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

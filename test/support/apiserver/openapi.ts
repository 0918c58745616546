// Structural OpenAPI v3 schema validation as kube-apiserver applies it to custom resources:
// type, properties, required, enum, items, additionalProperties, minimum/maximum,
// minLength/maxLength, minItems/maxItems, pattern, x-kubernetes-int-or-string,
// x-kubernetes-preserve-unknown-fields. Unknown fields are pruned, or reported as errors when
// `strict` is set (kubectl --validate=strict / fieldValidation=Strict).

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [k: string]: unknown;
}

export interface FieldError {
  field: string;
  message: string;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

/** Validates `value` against `schema`; returns the pruned value and the errors found. */
export function validate(schema: Schema, value: unknown, opts: { strict?: boolean } = {}, path = ''): { value: unknown; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (message: string, at = path): void => {
    errors.push({ field: at, message });
  };
  if (value === null) {
    if (schema.nullable) return { value, errors };
    if (schema.type !== undefined) err(`Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"`);
    return { value, errors };
  }
  const t = typeOf(value);
  if (schema['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') err(`Invalid value: "${t}": ${path} in body must be of type integer or string`);
    return { value, errors };
  }
  if (schema.type) {
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) {
      err(`Invalid value: "${t}": ${path} in body must be of type ${schema.type}: "${t}"`);
      return { value, errors };
    }
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    err(`Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) err(`Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) err(`Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) err(`Invalid value: ${value}: ${path} in body should be greater than ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) err(`Invalid value: ${value}: ${path} in body should be less than ${schema.exclusiveMaximum}`);
    if (schema.format === 'int32' && (value < -2147483648 || value > 2147483647)) err(`Invalid value: ${value}: ${path} in body must be of type int32`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) err(`Invalid value: "${value}": ${path} in body should be at least ${schema.minLength} chars long`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) err(`Too long: may not be longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) err(`Invalid value: "${value}": ${path} in body should match '${schema.pattern}'`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) err(`Invalid value: ${value.length}: ${path} in body should have at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) err(`Too many: ${value.length}: must have at most ${schema.maxItems} items`);
    const out: unknown[] = [];
    value.forEach((item, i) => {
      if (schema.items) {
        const r = validate(schema.items, item, opts, join(path, i));
        errors.push(...r.errors);
        out.push(r.value);
      } else out.push(item);
    });
    return { value: out, errors };
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const req of schema.required ?? []) if (!(req in obj)) err('Required value', join(path, req));
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    for (const [k, v] of Object.entries(obj)) {
      const ps = schema.properties?.[k];
      if (ps) {
        const r = validate(ps, v, opts, join(path, k));
        errors.push(...r.errors);
        out[k] = r.value;
      } else if (typeof schema.additionalProperties === 'object') {
        const r = validate(schema.additionalProperties, v, opts, join(path, k));
        errors.push(...r.errors);
        out[k] = r.value;
      } else if (preserve || schema.additionalProperties === true || (schema.properties === undefined && schema.type === undefined)) {
        out[k] = v;
      } else if (opts.strict) {
        err(`unknown field "${join(path, k)}"`, join(path, k));
      }
      // else: pruned
    }
    return { value: out, errors };
  }
  return { value, errors };
}

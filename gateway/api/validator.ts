/** One JSON Schema validator for config and operations, with defaults filled in and errors as paths. */
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true });
const compiled = new WeakMap<TSchema, ValidateFunction>();

export interface SchemaProblem {
  /** JSON Pointer of the bad value, e.g. /sources/0/settings/port. */
  pointer: string;
  message: string;
}

function describe(error: ErrorObject): SchemaProblem {
  const pointer = error.instancePath;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      return { pointer: `${pointer}/${key}`, message: `unknown key "${key}"` };
    }
    case 'required': {
      const key = (error.params as { missingProperty: string }).missingProperty;
      return { pointer: `${pointer}/${key}`, message: 'is required' };
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return { pointer, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
    }
    case 'pattern': {
      return {
        pointer,
        message: `does not match the pattern ${(error.params as { pattern: string }).pattern}`,
      };
    }
    default:
      return { pointer, message: error.message ?? 'is not valid' };
  }
}

/**
 * Validates `value` in place (defaults are filled in) and returns its problems, empty when it is valid.
 * Schemas are compiled once and cached.
 */
export function validate(schema: TSchema, value: unknown): SchemaProblem[] {
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    compiled.set(schema, check);
  }
  if (check(value)) return [];
  const seen = new Set<string>();
  return (check.errors ?? []).map(describe).filter((p) => {
    const key = `${p.pointer} ${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `/sources/0/settings/port` → `sources[0].settings.port`. */
export function readablePath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

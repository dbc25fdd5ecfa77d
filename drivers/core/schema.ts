/** Schema helpers shared by drivers and the gateway (TypeBox, emitting plain JSON Schema). */
import { type TSchema, type TUnsafe, Type } from '@sinclair/typebox';

/**
 * One of a fixed set of strings or numbers, as a JSON Schema `enum`: validators then report one clear
 * "must be one of" instead of one error per alternative of an `anyOf`.
 */
export function OneOf<const T extends readonly (string | number)[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
): TUnsafe<T[number]> {
  const types = [...new Set(values.map((v) => (typeof v === 'string' ? 'string' : 'integer')))];
  return Type.Unsafe<T[number]>({
    type: types.length === 1 ? types[0] : types,
    enum: [...values],
    ...options,
  });
}

export type { TSchema };

/** A JSON request body of known fields: each present one of its type and 1 to 256 characters; no others. */
import { gatewayError } from '../gateway/api/index.ts';

export function body<T>(
  value: unknown,
  fields: Record<keyof T, 'string' | 'boolean' | 'string?' | 'boolean?'>,
): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw gatewayError('PG_ERR_BAD_REQUEST', 'the body must be a JSON object');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in fields)) throw gatewayError('PG_ERR_BAD_REQUEST', `unknown field "${key}"`);
  }
  for (const [key, type] of Object.entries(fields) as [string, string][]) {
    const optional = type.endsWith('?');
    const present = record[key] !== undefined;
    if (!present && !optional) throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" is required`);
    if (present && typeof record[key] !== type.replace('?', ''))
      throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" must be a ${type.replace('?', '')}`);
    if (
      typeof record[key] === 'string' &&
      ((record[key] as string).length === 0 || (record[key] as string).length > 256)
    )
      throw gatewayError('PG_ERR_BAD_REQUEST', `field "${key}" must be 1 to 256 characters`);
  }
  return record as T;
}

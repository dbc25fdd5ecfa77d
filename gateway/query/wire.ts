/** Conversions between the core's values (times in ms) and the wire's (ISO 8601 strings). */
import type { Value } from '../../drivers/core/index.ts';
import type { WireValue } from '../api/operations.ts';

export function toWire(value: Value): WireValue {
  const wire: WireValue = {
    time: new Date(value.time).toISOString(),
    value: value.value,
    status: value.status,
  };
  if (value.statusCode !== undefined) wire.statusCode = value.statusCode;
  if (value.error !== undefined) wire.error = value.error;
  return wire;
}

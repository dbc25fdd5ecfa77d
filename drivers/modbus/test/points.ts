/** A resolved point from a few tag fields, the rest at their schema defaults (unit 1, zero-based). */
import { type ModbusPoint, resolvePoint } from '../address.ts';
import type { ModbusTagConfig } from '../settings.ts';

export function tagConfig(extra: Partial<ModbusTagConfig>): ModbusTagConfig {
  return {
    name: 't',
    address: 'holding:0',
    description: '',
    wordOrder: 'ABCD',
    count: 1,
    scale: 1,
    offset: 0,
    units: '',
    writable: false,
    labels: [],
    ...extra,
  };
}

export const point = (extra: Partial<ModbusTagConfig>): ModbusPoint =>
  resolvePoint(tagConfig(extra), { unitId: 1, addressBase: 0 });

/** Tag addresses: `holding:100`, `coil:3`, `holding:10.3` (bit 3 of register 10). */
import type { ModbusTagConfig, ModbusType, WordOrder } from './settings.ts';

export type Table = 'coil' | 'discrete' | 'input' | 'holding';

export interface ModbusAddress {
  table: Table;
  /** Protocol address (zero-based, as on the wire). */
  address: number;
  /** Bit 0-15 of a register, for `table:address.bit`. */
  bit?: number;
}

/** A tag resolved to what the planner and codec need. */
export interface ModbusPoint extends ModbusAddress {
  unitId: number;
  type: ModbusType;
  wordOrder: WordOrder;
  /** Elements (1 for a scalar). */
  count: number;
  /** Registers (or bits) one element takes. */
  width: number;
  scale: number;
  offset: number;
}

export const isBitTable = (table: Table): boolean => table === 'coil' || table === 'discrete';

export function parseAddress(text: string, addressBase: 0 | 1): ModbusAddress {
  const match = /^(coil|discrete|input|holding):(\d{1,5})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new Error(`"${text}" is not table:address or table:address.bit`);
  const table = match[1] as Table;
  const written = Number(match[2]);
  const address = written - addressBase;
  if (address < 0 || address > 65535) {
    throw new Error(
      `address ${written} is outside ${addressBase}..${65535 + addressBase} (addressBase ${addressBase})`,
    );
  }
  if (match[3] === undefined) return { table, address };
  const bit = Number(match[3]);
  if (isBitTable(table)) throw new Error(`a bit index applies to registers, not to ${table}`);
  if (bit > 15) throw new Error(`bit ${bit} is outside 0..15`);
  return { table, address, bit };
}

const REGISTER_WIDTH: Record<Exclude<ModbusType, 'string'>, number> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** Resolves a configured tag; throws a message naming what is wrong with it. */
export function resolvePoint(
  tag: ModbusTagConfig,
  defaults: { unitId: number; addressBase: 0 | 1 },
): ModbusPoint {
  const parsed = parseAddress(tag.address, defaults.addressBase);
  const bitTable = isBitTable(parsed.table);
  const type: ModbusType = tag.type ?? (bitTable || parsed.bit !== undefined ? 'bool' : 'uint16');
  if (bitTable && type !== 'bool')
    throw new Error(`${parsed.table} holds bits: type must be bool, not ${type}`);
  if (parsed.bit !== undefined && type !== 'bool') throw new Error(`a register bit is a bool, not ${type}`);
  if (parsed.bit !== undefined && tag.count !== 1) throw new Error('a register bit cannot be an array');
  if (parsed.bit !== undefined && tag.writable) {
    throw new Error('a register bit cannot be writable: writing it would overwrite the other 15 bits');
  }
  if (type === 'string' && tag.length === undefined) throw new Error('a string tag needs length (registers)');
  if (type !== 'string' && tag.length !== undefined) throw new Error('length applies to string tags only');
  const width = type === 'string' ? (tag.length as number) : bitTable ? 1 : REGISTER_WIDTH[type];
  const count = tag.count;
  const span = width * count;
  if (parsed.address + span - 1 > 65535) throw new Error(`the tag runs past address 65535`);
  const point: ModbusPoint = {
    ...parsed,
    unitId: tag.unitId ?? defaults.unitId,
    type,
    wordOrder: tag.wordOrder,
    count,
    width,
    scale: tag.scale,
    offset: tag.offset,
  };
  return point;
}

/** Registers or bits the point spans on the wire. */
export const pointSpan = (point: ModbusPoint): number => point.width * point.count;

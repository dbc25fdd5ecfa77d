/**
 * Register ↔ value conversion. Modbus itself defines only 16-bit registers, sent high byte first
 * (MODBUS Application Protocol §4.2); wider types are device conventions, named here by the order of
 * bytes A (most significant) to D as they arrive: ABCD big-endian, CDAB word-swapped, BADC byte-swapped,
 * DCBA little-endian.
 */
import type { ScalarValue, TagValueData } from '../core/index.ts';
import type { ModbusPoint } from './address.ts';
import type { WordOrder } from './settings.ts';

/** Scratch space for values of up to four registers: decoding allocates nothing per value. */
const scratch = Buffer.alloc(8);

/** Puts `count` registers from `offset` into big-endian byte order. */
function toBigEndian(registers: readonly number[], offset: number, count: number, order: WordOrder): Buffer {
  const buffer = count <= 4 ? scratch : Buffer.allocUnsafe(count * 2);
  const reverse = order === 'CDAB' || order === 'DCBA';
  const swapBytes = order === 'BADC' || order === 'DCBA';
  for (let i = 0; i < count; i++) {
    const word = registers[offset + (reverse ? count - 1 - i : i)] ?? 0;
    buffer.writeUInt16BE(swapBytes ? ((word & 0xff) << 8) | (word >> 8) : word, i * 2);
  }
  return buffer;
}

/** The inverse of toBigEndian: device registers from big-endian bytes. */
function fromBigEndian(buffer: Buffer, order: WordOrder): number[] {
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const words: number[] = [];
  for (let i = 0; i < buffer.length; i += 2) {
    const word = buffer.readUInt16BE(i);
    words.push(swapBytes ? ((word & 0xff) << 8) | (word >> 8) : word);
  }
  return order === 'CDAB' || order === 'DCBA' ? words.reverse() : words;
}

const identityScaling = (point: ModbusPoint) => point.scale === 1 && point.offset === 0;

function scaled(point: ModbusPoint, raw: number): number {
  // 15 significant digits drop the binary noise of the multiplication (105 × 0.1 reads 10.5, not
  // 10.500000000000002) and keep every digit a 16-bit or 32-bit register can carry.
  return identityScaling(point) ? raw : Number((raw * point.scale + point.offset).toPrecision(15));
}

function decodeElement(point: ModbusPoint, registers: readonly number[], offset: number): ScalarValue {
  if (point.type === 'bool') {
    const word = registers[offset] ?? 0;
    return point.bit === undefined ? word !== 0 : ((word >> point.bit) & 1) === 1;
  }
  const bytes = toBigEndian(registers, offset, point.width, point.wordOrder);
  switch (point.type) {
    case 'int16':
      return scaled(point, bytes.readInt16BE(0));
    case 'uint16':
      return scaled(point, bytes.readUInt16BE(0));
    case 'int32':
      return scaled(point, bytes.readInt32BE(0));
    case 'uint32':
      return scaled(point, bytes.readUInt32BE(0));
    case 'float32':
      return scaled(point, bytes.readFloatBE(0));
    case 'float64':
      return scaled(point, bytes.readDoubleBE(0));
    case 'int64':
    case 'uint64': {
      const raw = point.type === 'int64' ? bytes.readBigInt64BE(0) : bytes.readBigUInt64BE(0);
      return identityScaling(point) ? raw.toString() : scaled(point, Number(raw));
    }
    case 'string': {
      // The scratch buffer may be longer than the string: stop at its size or the first NUL.
      const size = point.width * 2;
      const nul = bytes.indexOf(0);
      return bytes.toString('latin1', 0, nul === -1 || nul > size ? size : nul).trimEnd();
    }
  }
}

/** Decodes a point from a read's registers, its span starting at `offset`. */
export function decodeRegisters(point: ModbusPoint, registers: readonly number[], offset = 0): TagValueData {
  if (point.count === 1) return decodeElement(point, registers, offset);
  const values: ScalarValue[] = [];
  for (let i = 0; i < point.count; i++)
    values.push(decodeElement(point, registers, offset + i * point.width));
  return values;
}

export function decodeBits(point: ModbusPoint, bits: readonly boolean[], offset = 0): TagValueData {
  return point.count === 1 ? (bits[offset] ?? false) : bits.slice(offset, offset + point.count);
}

const INTEGER_RANGE = {
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const;

export class EncodeError extends Error {}

function toRawInteger(point: ModbusPoint, value: ScalarValue): bigint {
  let raw: bigint;
  if (identityScaling(point) && typeof value === 'string' && /^-?\d+$/.test(value)) {
    raw = BigInt(value);
  } else if (typeof value === 'number' && Number.isFinite(value)) {
    raw = BigInt(Math.round(identityScaling(point) ? value : (value - point.offset) / point.scale));
  } else {
    throw new EncodeError(`${point.type} needs a number, got ${JSON.stringify(value)}`);
  }
  const [min, max] = INTEGER_RANGE[point.type as keyof typeof INTEGER_RANGE];
  if (raw < min || raw > max) throw new EncodeError(`${value} is outside the range of ${point.type}`);
  return raw;
}

function encodeElement(point: ModbusPoint, value: ScalarValue): number[] {
  const bytes = Buffer.alloc(point.width * 2);
  switch (point.type) {
    case 'bool':
      if (typeof value !== 'boolean')
        throw new EncodeError(`bool needs true or false, got ${JSON.stringify(value)}`);
      return [value ? 1 : 0];
    case 'int16':
      bytes.writeInt16BE(Number(toRawInteger(point, value)));
      break;
    case 'uint16':
      bytes.writeUInt16BE(Number(toRawInteger(point, value)));
      break;
    case 'int32':
      bytes.writeInt32BE(Number(toRawInteger(point, value)));
      break;
    case 'uint32':
      bytes.writeUInt32BE(Number(toRawInteger(point, value)));
      break;
    case 'int64':
      bytes.writeBigInt64BE(toRawInteger(point, value));
      break;
    case 'uint64':
      bytes.writeBigUInt64BE(toRawInteger(point, value));
      break;
    case 'float32':
    case 'float64': {
      if (typeof value !== 'number' || Number.isNaN(value)) {
        throw new EncodeError(`${point.type} needs a number, got ${JSON.stringify(value)}`);
      }
      const raw = identityScaling(point) ? value : (value - point.offset) / point.scale;
      if (point.type === 'float32') bytes.writeFloatBE(raw);
      else bytes.writeDoubleBE(raw);
      break;
    }
    case 'string': {
      if (typeof value !== 'string') throw new EncodeError(`string needs text, got ${JSON.stringify(value)}`);
      const text = Buffer.from(value, 'latin1');
      if (text.length > bytes.length) {
        throw new EncodeError(
          `"${value}" is longer than ${bytes.length} characters (${point.width} registers)`,
        );
      }
      text.copy(bytes);
      break;
    }
  }
  return fromBigEndian(bytes, point.wordOrder);
}

/** Registers (or bits, for coils) to write for a value; throws EncodeError naming what is wrong. */
export function encodeValue(point: ModbusPoint, value: TagValueData): number[] | boolean[] {
  const elements = point.count === 1 ? [value] : value;
  if (!Array.isArray(elements) || (point.count > 1 && elements.length !== point.count)) {
    throw new EncodeError(`the tag is an array of ${point.count}; send an array of that length`);
  }
  if (point.table === 'coil') {
    return elements.map((v) => {
      if (typeof v !== 'boolean')
        throw new EncodeError(`a coil needs true or false, got ${JSON.stringify(v)}`);
      return v;
    });
  }
  return (elements as ScalarValue[]).flatMap((v) => encodeElement(point, v));
}

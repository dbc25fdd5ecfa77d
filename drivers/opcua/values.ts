/**
 * OPC UA values and the tag model: built-in data types to plantgate types, DataValues to values (the
 * status code kept on every one), and written values coerced to the node's own type.
 */
import { DataType, type DataValue, type StatusCode, Variant, VariantArrayType } from 'node-opcua-client';
import type {
  ScalarType,
  ScalarValue,
  Status,
  DataType as TagDataType,
  TagValueData,
  Value,
} from '../core/index.ts';

const TYPE_OF: Partial<Record<DataType, ScalarType>> = {
  [DataType.Boolean]: 'bool',
  [DataType.SByte]: 'int16',
  [DataType.Byte]: 'uint16',
  [DataType.Int16]: 'int16',
  [DataType.UInt16]: 'uint16',
  [DataType.Int32]: 'int32',
  [DataType.UInt32]: 'uint32',
  [DataType.Int64]: 'int64',
  [DataType.UInt64]: 'uint64',
  [DataType.Float]: 'float32',
  [DataType.Double]: 'float64',
  [DataType.DateTime]: 'datetime',
  [DataType.StatusCode]: 'uint32',
};

/** The tag type of a node with this built-in type and value rank; the rest read as text. */
export function tagDataType(builtIn: DataType, valueRank: number): TagDataType {
  const scalar = TYPE_OF[builtIn] ?? 'string';
  return valueRank >= 1 || valueRank === 0 ? `${scalar}[]` : scalar;
}

/** Whether values of this type can be written back (text-shaped structures cannot). */
export function writableType(builtIn: DataType): boolean {
  return TYPE_OF[builtIn] !== undefined || builtIn === DataType.String || builtIn === DataType.LocalizedText;
}

/** OPC 10000-4 §7.39: the two top bits of a status code say good (00), uncertain (01) or bad (10/11). */
export function statusOf(code: number): Status {
  const severity = code >>> 30;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

function scalarOf(dataType: DataType, value: unknown): ScalarValue {
  if (value === null || value === undefined) return null;
  switch (dataType) {
    case DataType.Int64:
    case DataType.UInt64: {
      // node-opcua carries 64-bit integers as [high, low] 32-bit words.
      const [high, low] = value as [number, number];
      const big = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
      return (dataType === DataType.Int64 ? BigInt.asIntN(64, big) : big).toString();
    }
    case DataType.DateTime:
      return (value as Date).toISOString();
    case DataType.Boolean:
      return value === true;
    case DataType.StatusCode:
      return (value as StatusCode).value;
    case DataType.LocalizedText:
      return (value as { text?: string | null }).text ?? '';
    case DataType.ByteString:
      return (value as Buffer).toString('base64');
    default:
      if (typeof value === 'number' || typeof value === 'string') return value;
      return typeof (value as { toString?: () => string }).toString === 'function'
        ? String(value)
        : JSON.stringify(value);
  }
}

export function variantValue(variant: Variant): TagValueData {
  if (variant.arrayType === VariantArrayType.Scalar) return scalarOf(variant.dataType, variant.value);
  return Array.from(variant.value as ArrayLike<unknown>, (v) => scalarOf(variant.dataType, v));
}

/** A DataValue as a plantgate value: the source timestamp where the server gives one. */
export function toValue(dataValue: DataValue, now = Date.now()): Value {
  const code = dataValue.statusCode.value;
  const time = (dataValue.sourceTimestamp ?? dataValue.serverTimestamp)?.getTime() ?? now;
  const status = statusOf(code);
  if (status === 'bad')
    return { time, value: null, status, statusCode: code, error: dataValue.statusCode.name };
  const value: Value = { time, value: variantValue(dataValue.value), status };
  if (code !== 0) value.statusCode = code;
  return value;
}

export class CoercionError extends Error {}

const INTEGER_RANGE: Partial<Record<DataType, [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
};

function coerceScalar(dataType: DataType, value: TagValueData): unknown {
  if (Array.isArray(value)) throw new CoercionError('expected one value, not an array');
  const range = INTEGER_RANGE[dataType];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value))
      throw new CoercionError(`expected an integer, got ${JSON.stringify(value)}`);
    if (value < range[0] || value > range[1])
      throw new CoercionError(`${value} is outside ${range[0]}..${range[1]} (${DataType[dataType]})`);
    return value;
  }
  switch (dataType) {
    case DataType.Float:
    case DataType.Double:
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new CoercionError(`expected a finite number, got ${JSON.stringify(value)}`);
      if (dataType === DataType.Float && Math.abs(value) > 3.4028234663852886e38)
        throw new CoercionError(`${value} does not fit a 32-bit float`);
      return value;
    case DataType.Boolean:
      if (typeof value !== 'boolean')
        throw new CoercionError(`expected true or false, got ${JSON.stringify(value)}`);
      return value;
    case DataType.Int64:
    case DataType.UInt64: {
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== 'string' || !/^-?\d+$/.test(text))
        throw new CoercionError(
          `expected an integer (64-bit integers as decimal strings), got ${JSON.stringify(value)}`,
        );
      const big = BigInt(text);
      const signed = dataType === DataType.Int64;
      if (signed ? BigInt.asIntN(64, big) !== big : BigInt.asUintN(64, big) !== big)
        throw new CoercionError(`${text} does not fit ${DataType[dataType]}`);
      const bits = BigInt.asUintN(64, big);
      return [Number(bits >> 32n), Number(bits & 0xffffffffn)];
    }
    case DataType.DateTime: {
      const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(time))
        throw new CoercionError(`expected an ISO 8601 time, got ${JSON.stringify(value)}`);
      return new Date(time);
    }
    case DataType.String:
      if (typeof value !== 'string') throw new CoercionError(`expected text, got ${JSON.stringify(value)}`);
      return value;
    case DataType.LocalizedText:
      if (typeof value !== 'string') throw new CoercionError(`expected text, got ${JSON.stringify(value)}`);
      return { text: value };
    default:
      throw new CoercionError(`values of OPC UA type ${DataType[dataType]} cannot be written`);
  }
}

/** A written value as a Variant of the node's type and rank; refuses what the type cannot hold. */
export function toVariant(dataType: DataType, isArray: boolean, value: TagValueData): Variant {
  if (!isArray)
    return new Variant({
      dataType,
      arrayType: VariantArrayType.Scalar,
      value: coerceScalar(dataType, value),
    });
  if (!Array.isArray(value)) throw new CoercionError('expected an array');
  return new Variant({
    dataType,
    arrayType: VariantArrayType.Array,
    value: value.map((v, i) => {
      try {
        return coerceScalar(dataType, v);
      } catch (error) {
        throw new CoercionError(`[${i}]: ${(error as Error).message}`);
      }
    }),
  });
}

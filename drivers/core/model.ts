/** The tag and value model every driver speaks (DESIGN.md, "Data model"). */

export const SCALAR_TYPES = [
  'float64',
  'float32',
  'int64',
  'int32',
  'int16',
  'uint64',
  'uint32',
  'uint16',
  'bool',
  'string',
  'datetime',
] as const;

export type ScalarType = (typeof SCALAR_TYPES)[number];
/** A scalar type, or an array of one written `float32[]`. */
export type DataType = ScalarType | `${ScalarType}[]`;

export interface DigitalState {
  value: number;
  name: string;
}

export interface Tag {
  /** Stable and unique within its source. */
  id: string;
  name: string;
  description: string;
  units: string;
  dataType: DataType;
  /** Digital state names for integer tags. */
  states?: DigitalState[];
  labels: string[];
  properties: Record<string, string | number | boolean>;
  /** Whether values.write may change it (driver permitting). */
  writable: boolean;
  /** Step interpolation between samples (true for booleans, strings and digital states). */
  stepped: boolean;
}

export type Status = 'good' | 'uncertain' | 'bad';

/**
 * A JSON value of a tag. 64-bit integers travel as decimal strings, as in the protobuf JSON mapping,
 * because a JSON number cannot carry them exactly.
 */
export type ScalarValue = number | boolean | string | null;
export type TagValueData = ScalarValue | ScalarValue[];

export interface Value {
  /** UTC, milliseconds since the epoch inside the gateway; ISO 8601 on the wire. */
  time: number;
  value: TagValueData;
  status: Status;
  /** The protocol's own code: a Modbus exception code (1-11) or an OPC UA status code. */
  statusCode?: number;
  units?: string;
  error?: string;
}

/** A note people keep against a source's data (DESIGN.md, annotations). Times in milliseconds. */
export interface Annotation {
  id: string;
  source: string;
  start: number;
  /** Absent for an instant. */
  end?: number;
  text: string;
  /** Tag names it is about; empty: the source as a whole. */
  tags: string[];
  author: string;
  createdAt: number;
  modifiedBy: string;
  modifiedAt: number;
}

/** A value reported for one tag of a source. */
export interface TagValue extends Value {
  tag: string;
}

/**
 * OPC-UA-style codes (OPC 10000-4 §7.39) that plantgate uses where the protocol itself has none:
 * they survive unchanged when a source is OPC UA, and read the same way for every other driver.
 */
export const StatusCodes = {
  BadCommunicationError: 0x80050000,
  BadTimeout: 0x800a0000,
  BadNotConnected: 0x808a0000,
  BadWaitingForInitialData: 0x80320000,
  BadNodeIdUnknown: 0x80340000,
  BadOutOfService: 0x808d0000,
  BadTypeMismatch: 0x80740000,
  BadOutOfRange: 0x803c0000,
  BadNotWritable: 0x803b0000,
  BadDecodingError: 0x80070000,
  BadNoData: 0x809b0000,
} as const;

export function badValue(time: number, statusCode: number, error: string): Value {
  return { time, value: null, status: 'bad', statusCode, error };
}

export function isNumericType(type: DataType): boolean {
  return !type.endsWith('[]') && type !== 'bool' && type !== 'string' && type !== 'datetime';
}

/** Reads a sample as a number for aggregation; null where it has none. */
export function numericValue(value: TagValueData): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return null;
}

/** The Modbus source's config: settings, tags and poll groups. Every option's doc line lands in the schema. */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf, type SCALAR_TYPES } from '../core/index.ts';

const doc = (description: string) => ({ description });

export const ModbusSerialSettings = Type.Object(
  {
    path: Type.String({ minLength: 1, ...doc('Serial device, e.g. /dev/ttyUSB0 or COM3.') }),
    baudRate: Type.Integer({ minimum: 300, maximum: 921600, default: 9600, ...doc('Line speed in bit/s.') }),
    parity: OneOf(['none', 'even', 'odd'], { default: 'none', ...doc('Parity bit.') }),
    dataBits: OneOf([7, 8], { default: 8, ...doc('Data bits per character.') }),
    stopBits: OneOf([1, 2], { default: 1, ...doc('Stop bits per character.') }),
  },
  { additionalProperties: false, ...doc('Serial line settings for transport rtu.') },
);

export const ModbusSettings = Type.Object(
  {
    transport: OneOf(['tcp', 'rtu', 'rtuOverTcp'], {
      default: 'tcp',
      ...doc('tcp: Modbus TCP; rtu: RTU on a serial port; rtuOverTcp: RTU frames through a TCP gateway.'),
    }),
    host: Type.Optional(
      Type.String({ minLength: 1, ...doc('Device or serial-gateway address (tcp, rtuOverTcp).') }),
    ),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502, ...doc('TCP port (tcp, rtuOverTcp).') }),
    serial: Type.Optional(ModbusSerialSettings),
    unitId: Type.Integer({
      minimum: 0,
      maximum: 255,
      default: 1,
      ...doc('Default unit (slave) id of the tags.'),
    }),
    addressBase: OneOf([0, 1], {
      default: 0,
      ...doc('0: tag addresses are protocol addresses; 1: the device manual counts from 1.'),
    }),
    timeoutMs: Type.Integer({
      minimum: 10,
      maximum: 60000,
      default: 1000,
      ...doc('Time to wait for an answer.'),
    }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 1,
      ...doc('Extra tries of a request that timed out.'),
    }),
    interRequestDelayMs: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 0,
      ...doc('Pause between two requests, for slow devices and serial gateways.'),
    }),
    maxRegistersPerRead: Type.Integer({
      minimum: 1,
      maximum: 125,
      default: 125,
      ...doc(
        'Largest register read the device accepts (Modbus allows 125, MODBUS Application Protocol §6.3).',
      ),
    }),
    maxBitsPerRead: Type.Integer({
      minimum: 1,
      maximum: 2000,
      default: 2000,
      ...doc('Largest coil or discrete-input read the device accepts (Modbus allows 2000, §6.1).'),
    }),
    maxRegisterGap: Type.Integer({
      minimum: 0,
      maximum: 124,
      default: 16,
      ...doc('Unused registers the read planner may read through to merge two reads into one.'),
    }),
    maxBitGap: Type.Integer({
      minimum: 0,
      maximum: 1999,
      default: 64,
      ...doc('Unused coils or inputs the read planner may read through to merge two reads into one.'),
    }),
    demoteAfterFailures: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      ...doc('Failed poll cycles in a row after which a unit is set aside, so the others keep polling.'),
    }),
    demoteForMs: Type.Integer({
      minimum: 1000,
      maximum: 3600000,
      default: 30000,
      ...doc('How long a set-aside unit is skipped before it is tried again.'),
    }),
    reconnectMinMs: Type.Integer({
      minimum: 50,
      maximum: 60000,
      default: 500,
      ...doc('First reconnect delay.'),
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 100,
      maximum: 600000,
      default: 30000,
      ...doc('Longest reconnect delay.'),
    }),
    recordHistory: Type.Boolean({
      default: true,
      ...doc('Keep polled values in the local history store, so history reads work for this source.'),
    }),
  },
  { additionalProperties: false },
);
export type ModbusSettings = Static<typeof ModbusSettings>;

export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const MODBUS_TYPES = [
  'bool',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
] as const satisfies readonly (typeof SCALAR_TYPES)[number][];
export type ModbusType = (typeof MODBUS_TYPES)[number];

export const ADDRESS_PATTERN = '^(coil|discrete|input|holding):[0-9]{1,5}(\\.[0-9]{1,2})?$';

export const ModbusTagConfig = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, ...doc('Tag name, unique in the source.') }),
    id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, ...doc('Stable id; defaults to the name.') }),
    ),
    description: Type.String({ default: '', maxLength: 1024, ...doc('What the tag measures.') }),
    address: Type.String({
      pattern: ADDRESS_PATTERN,
      ...doc(
        'table:address, or table:address.bit for one bit of a register (tables coil, discrete, input, holding).',
      ),
    }),
    type: Type.Optional(
      OneOf(
        MODBUS_TYPES,
        doc('Data type; bool for coils and discrete inputs and bits, uint16 for registers by default.'),
      ),
    ),
    wordOrder: OneOf(WORD_ORDERS, {
      default: 'ABCD',
      ...doc(
        'Byte order of multi-register values: ABCD big-endian, CDAB word-swapped, BADC byte-swapped, DCBA little-endian.',
      ),
    }),
    length: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 125, ...doc('Registers of a string tag (two characters each).') }),
    ),
    count: Type.Integer({
      minimum: 1,
      maximum: 2000,
      default: 1,
      ...doc('Array length; above 1 the tag is an array.'),
    }),
    scale: Type.Number({ default: 1, ...doc('Engineering value = raw × scale + offset.') }),
    offset: Type.Number({ default: 0, ...doc('Added after scaling.') }),
    units: Type.String({ default: '', maxLength: 64, ...doc('Engineering units.') }),
    writable: Type.Boolean({ default: false, ...doc('Allow values.write to this tag (FC05/06/15/16).') }),
    unitId: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 255, ...doc('Unit id, if not the source default.') }),
    ),
    group: Type.Optional(
      Type.String({ minLength: 1, ...doc('Poll group (see poll.groups); default group otherwise.') }),
    ),
    states: Type.Optional(
      Type.Array(
        Type.Object(
          { value: Type.Integer(), name: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
        {
          ...doc('Digital state names of an integer tag.'),
        },
      ),
    ),
    labels: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: [],
      ...doc('Free labels for search.'),
    }),
    stepped: Type.Optional(Type.Boolean(doc('Hold each value until the next (no linear interpolation).'))),
  },
  { additionalProperties: false },
);
export type ModbusTagConfig = Static<typeof ModbusTagConfig>;

export const ModbusPoll = Type.Object(
  {
    intervalMs: Type.Integer({
      minimum: 50,
      maximum: 86400000,
      default: 1000,
      ...doc('Default poll interval.'),
    }),
    groups: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
      Type.Object(
        {
          intervalMs: Type.Integer({ minimum: 50, maximum: 86400000, ...doc('Poll interval of the group.') }),
        },
        { additionalProperties: false },
      ),
      { default: {}, ...doc('Named poll groups with their own intervals; tags join one with `group`.') },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type ModbusPoll = Static<typeof ModbusPoll>;

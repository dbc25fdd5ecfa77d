import { describe, expect, it } from 'vitest';
import { parseAddress } from '../address.ts';
import { decodeRegisters, EncodeError, encodeValue } from '../codec.ts';
import { point } from './points.ts';

describe('Modbus addresses', () => {
  it('given table:address, when parsed zero-based, then the protocol address is the number', () => {
    expect(parseAddress('holding:100', 0)).toEqual({ table: 'holding', address: 100 });
    expect(parseAddress('holding:10.3', 0)).toEqual({ table: 'holding', address: 10, bit: 3 });
  });

  it('given one-based addressing, when parsed, then the protocol address is one less', () => {
    expect(parseAddress('coil:1', 1)).toEqual({ table: 'coil', address: 0 });
    expect(() => parseAddress('coil:0', 1)).toThrow(/outside 1\.\.65536/);
  });

  it('given nonsense, when parsed, then the error names what is wrong', () => {
    expect(() => parseAddress('holding:70000', 0)).toThrow(/outside 0\.\.65535/);
    expect(() => parseAddress('coil:3.1', 0)).toThrow(/bit index applies to registers/);
    expect(() => parseAddress('holding:3.16', 0)).toThrow(/bit 16 is outside 0\.\.15/);
    expect(() => parseAddress('hr:3', 0)).toThrow(/not table:address/);
  });

  it('given mismatched types, when resolved, then each is refused with its reason', () => {
    expect(() => point({ address: 'coil:1', type: 'int16' })).toThrow(/coil holds bits/);
    expect(() => point({ address: 'holding:1', type: 'string' })).toThrow(/needs length/);
    expect(() => point({ address: 'holding:1.2', writable: true })).toThrow(/cannot be writable/);
    expect(() => point({ address: 'holding:65534', type: 'float32', count: 2 })).toThrow(
      /past address 65535/,
    );
  });
});

describe('Modbus register codec', () => {
  // 123456.789f as float32 is 0x47F1_2065: bytes A=47 B=F1 C=20 D=65.
  const orders = {
    ABCD: [0x47f1, 0x2065],
    CDAB: [0x2065, 0x47f1],
    BADC: [0xf147, 0x6520],
    DCBA: [0x6520, 0xf147],
  } as const;
  for (const [order, registers] of Object.entries(orders)) {
    it(`given float32 registers in ${order}, when decoded and encoded, then value and registers round-trip`, () => {
      const p = point({ type: 'float32', wordOrder: order as keyof typeof orders });
      expect(decodeRegisters(p, registers)).toBeCloseTo(123456.789, 2);
      expect(encodeValue(p, decodeRegisters(p, registers))).toEqual(registers);
    });
  }

  it('given 64-bit integers beyond 2^53, when decoded, then they travel as exact decimal strings', () => {
    const p = point({ type: 'uint64' });
    expect(decodeRegisters(p, [0xffff, 0xffff, 0xffff, 0xfffe])).toBe('18446744073709551614');
    expect(encodeValue(p, '18446744073709551614')).toEqual([0xffff, 0xffff, 0xffff, 0xfffe]);
    const s = point({ type: 'int64', wordOrder: 'DCBA' });
    expect(decodeRegisters(s, encodeValue(s, '-9007199254740993') as number[])).toBe('-9007199254740993');
  });

  it('given scale and offset, when decoded, then the engineering value has no binary noise, and writes invert it', () => {
    const p = point({ type: 'int16', scale: 0.1, offset: -5 });
    expect(decodeRegisters(p, [105])).toBe(5.5);
    expect(encodeValue(p, 5.5)).toEqual([105]);
  });

  it('given a short string after a longer value, when decoded, then no byte of the earlier value leaks in', () => {
    decodeRegisters(point({ type: 'float64' }), [0x4142, 0x4344, 0x4546, 0x4748]);
    expect(decodeRegisters(point({ type: 'string', length: 1 }), [0x5859])).toBe('XY');
  });

  it('given a string of 4 registers, when decoded, then trailing NULs are dropped; too long a string is refused', () => {
    const p = point({ type: 'string', length: 2 });
    expect(decodeRegisters(p, [0x4142, 0x4300])).toBe('ABC');
    expect(encodeValue(p, 'ABCD')).toEqual([0x4142, 0x4344]);
    expect(() => encodeValue(p, 'ABCDE')).toThrow(EncodeError);
  });

  it('given bits of a register, when decoded, then each bit reads alone', () => {
    expect(decodeRegisters(point({ address: 'holding:0.0' }), [0b1000_0000_0000_0001])).toBe(true);
    expect(decodeRegisters(point({ address: 'holding:0.1' }), [0b1000_0000_0000_0001])).toBe(false);
    expect(decodeRegisters(point({ address: 'holding:0.15' }), [0b1000_0000_0000_0001])).toBe(true);
  });

  it('given arrays, when decoded, then each element uses its own registers', () => {
    const p = point({ type: 'int16', count: 3 });
    expect(decodeRegisters(p, [1, 0xffff, 3])).toEqual([1, -1, 3]);
    expect(() => encodeValue(p, [1, 2])).toThrow(/array of 3/);
  });

  it('given values out of range or of the wrong type, when encoded, then the error says which', () => {
    expect(() => encodeValue(point({ type: 'int16' }), 40000)).toThrow(/outside the range of int16/);
    expect(() => encodeValue(point({ type: 'uint16' }), -1)).toThrow(/outside the range of uint16/);
    expect(() => encodeValue(point({ type: 'float32' }), 'x')).toThrow(/needs a number/);
    expect(() => encodeValue(point({ address: 'coil:1' }), 1)).toThrow(/true or false/);
  });
});

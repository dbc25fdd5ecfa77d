/** OPC UA values and the tag model: types, status codes and written values coerced to a node's type. */
import { DataType, DataValue, StatusCodes, Variant, VariantArrayType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { CoercionError, statusOf, tagDataType, toValue, toVariant } from '../values.ts';

describe('opcua values', () => {
  it('given built-in types and ranks, when mapped, then each has its plantgate type and arrays are marked', () => {
    expect(tagDataType(DataType.Double, -1)).toBe('float64');
    expect(tagDataType(DataType.Float, -1)).toBe('float32');
    expect(tagDataType(DataType.SByte, -1)).toBe('int16');
    expect(tagDataType(DataType.Byte, -1)).toBe('uint16');
    expect(tagDataType(DataType.UInt64, -1)).toBe('uint64');
    expect(tagDataType(DataType.DateTime, -1)).toBe('datetime');
    expect(tagDataType(DataType.LocalizedText, -1)).toBe('string');
    expect(tagDataType(DataType.Int32, 1)).toBe('int32[]');
  });

  it('given status codes, when read, then the top two bits say good, uncertain or bad (OPC 10000-4 §7.39)', () => {
    expect(statusOf(0)).toBe('good');
    expect(statusOf(StatusCodes.UncertainLastUsableValue.value)).toBe('uncertain');
    expect(statusOf(StatusCodes.BadNodeIdUnknown.value)).toBe('bad');
  });

  it('given data values, when converted, then 64-bit integers become decimal strings and bad values keep their code', () => {
    const time = new Date('2026-12-04T10:00:00Z');
    const big = toValue(
      new DataValue({
        value: new Variant({ dataType: DataType.Int64, arrayType: VariantArrayType.Scalar, value: [-1, -2] }),
        sourceTimestamp: time,
      }),
    );
    expect(big).toEqual({ time: time.getTime(), value: '-2', status: 'good' });
    const bad = toValue(new DataValue({ statusCode: StatusCodes.BadSensorFailure, sourceTimestamp: time }));
    expect(bad).toMatchObject({
      value: null,
      status: 'bad',
      statusCode: StatusCodes.BadSensorFailure.value,
      error: 'BadSensorFailure',
    });
    const uncertain = toValue(
      new DataValue({
        value: new Variant({ dataType: DataType.Double, value: 1.5 }),
        statusCode: StatusCodes.UncertainLastUsableValue,
      }),
      123,
    );
    expect(uncertain).toEqual({
      time: 123,
      value: 1.5,
      status: 'uncertain',
      statusCode: StatusCodes.UncertainLastUsableValue.value,
    });
  });

  it('given values to write, when coerced, then each fits the node type or is refused with the reason', () => {
    expect(toVariant(DataType.UInt64, false, '18446744073709551615').value).toEqual([0xffffffff, 0xffffffff]);
    expect(toVariant(DataType.Int64, false, '-2').value).toEqual([0xffffffff, 0xfffffffe]);
    expect(toVariant(DataType.DateTime, false, '2026-12-04T10:00:00Z').value).toEqual(
      new Date('2026-12-04T10:00:00Z'),
    );
    expect(toVariant(DataType.Double, true, [1, 2]).arrayType).toBe(VariantArrayType.Array);
    const refusal = (dataType: DataType, value: unknown, isArray = false) => {
      try {
        toVariant(dataType, isArray, value as never);
        return 'accepted';
      } catch (error) {
        expect(error).toBeInstanceOf(CoercionError);
        return (error as Error).message;
      }
    };
    expect(refusal(DataType.UInt64, '18446744073709551616')).toBe('18446744073709551616 does not fit UInt64');
    expect(refusal(DataType.Byte, 256)).toBe('256 is outside 0..255 (Byte)');
    expect(refusal(DataType.Int32, 1.5)).toBe('expected an integer, got 1.5');
    expect(refusal(DataType.Float, 1e39)).toBe('1e+39 does not fit a 32-bit float');
    expect(refusal(DataType.Double, Number.NaN)).toBe('expected a finite number, got null');
    expect(refusal(DataType.DateTime, 'soon')).toBe('expected an ISO 8601 time, got "soon"');
    expect(refusal(DataType.Double, [1])).toBe('expected one value, not an array');
    expect(refusal(DataType.Double, 1, true)).toBe('expected an array');
    expect(refusal(DataType.ExtensionObject, '{}')).toBe(
      'values of OPC UA type ExtensionObject cannot be written',
    );
  });
});

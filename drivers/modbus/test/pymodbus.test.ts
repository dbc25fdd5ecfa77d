/**
 * The Modbus driver against pymodbus, an independent implementation: the conformance suite over TCP, RTU
 * over TCP and RTU on a serial line, with every type and word order encoded by pymodbus itself.
 */
import { describe, expect, it } from 'vitest';
import { type ConformanceFixture, describeDriverConformance } from '../../core/conformance.ts';
import {
  modbusSource,
  type PeerEntry,
  requirePeersOrSkip,
  startDriver,
  startPymodbus,
  startSerialPair,
} from './peers.ts';

const available = requirePeersOrSkip();

/** What pymodbus serves on unit 1; addresses between entries are unmapped (exception 2). */
const PEER_VALUES: PeerEntry[] = [
  { table: 'hr', address: 0, type: 'int16', value: -1234 },
  { table: 'hr', address: 1, type: 'uint16', value: 54321 },
  { table: 'hr', address: 2, type: 'int32', value: -123456789 },
  { table: 'hr', address: 4, type: 'uint32', value: 3000000000, order: 'CDAB' },
  { table: 'hr', address: 10, type: 'float32', value: 3.25, order: 'ABCD' },
  { table: 'hr', address: 12, type: 'float32', value: -1.5, order: 'CDAB' },
  { table: 'hr', address: 14, type: 'float32', value: 1234.5, order: 'BADC' },
  { table: 'hr', address: 16, type: 'float32', value: 0.15625, order: 'DCBA' },
  { table: 'hr', address: 20, type: 'float64', value: 10000000000.5, order: 'ABCD' },
  { table: 'hr', address: 24, type: 'float64', value: -2.25, order: 'CDAB' },
  { table: 'hr', address: 28, type: 'float64', value: 6.02214076e23, order: 'BADC' },
  { table: 'hr', address: 32, type: 'float64', value: 1e-9, order: 'DCBA' },
  { table: 'hr', address: 40, type: 'int64', value: '-9007199254740993', order: 'ABCD' },
  { table: 'hr', address: 44, type: 'uint64', value: '18446744073709551000', order: 'CDAB' },
  { table: 'hr', address: 50, type: 'string', value: 'PUMP-07', length: 4 },
  { table: 'hr', address: 60, type: 'raw', value: [0b1010_0000_0000_0101] },
  { table: 'hr', address: 70, type: 'int16', value: 100 },
  { table: 'hr', address: 80, type: 'float32', value: 1 },
  { table: 'hr', address: 96, type: 'uint16', value: 96 },
  { table: 'co', address: 0, type: 'bool', value: [1, 0, 1] },
  { table: 'co', address: 10, type: 'bool', value: [0] },
  { table: 'di', address: 0, type: 'bool', value: [1, 1, 0] },
  { table: 'ir', address: 0, type: 'uint16', value: 777 },
];

const TAGS = [
  { name: 'I16', address: 'holding:0', type: 'int16' as const },
  { name: 'U16', address: 'holding:1', type: 'uint16' as const },
  { name: 'I32', address: 'holding:2', type: 'int32' as const },
  { name: 'U32', address: 'holding:4', type: 'uint32' as const, wordOrder: 'CDAB' as const },
  { name: 'F32.ABCD', address: 'holding:10', type: 'float32' as const },
  { name: 'F32.CDAB', address: 'holding:12', type: 'float32' as const, wordOrder: 'CDAB' as const },
  { name: 'F32.BADC', address: 'holding:14', type: 'float32' as const, wordOrder: 'BADC' as const },
  { name: 'F32.DCBA', address: 'holding:16', type: 'float32' as const, wordOrder: 'DCBA' as const },
  { name: 'F64.ABCD', address: 'holding:20', type: 'float64' as const },
  { name: 'F64.CDAB', address: 'holding:24', type: 'float64' as const, wordOrder: 'CDAB' as const },
  { name: 'F64.BADC', address: 'holding:28', type: 'float64' as const, wordOrder: 'BADC' as const },
  { name: 'F64.DCBA', address: 'holding:32', type: 'float64' as const, wordOrder: 'DCBA' as const },
  { name: 'I64', address: 'holding:40', type: 'int64' as const },
  { name: 'U64', address: 'holding:44', type: 'uint64' as const, wordOrder: 'CDAB' as const },
  { name: 'Text', address: 'holding:50', type: 'string' as const, length: 4 },
  { name: 'Bit0', address: 'holding:60.0' },
  { name: 'Bit1', address: 'holding:60.1' },
  { name: 'Bit2', address: 'holding:60.2' },
  { name: 'Bit15', address: 'holding:60.15' },
  { name: 'Setpoint', address: 'holding:70', type: 'int16' as const, writable: true },
  { name: 'Limit', address: 'holding:80', type: 'float32' as const, writable: true },
  { name: 'Far', address: 'holding:96' },
  { name: 'Coils', address: 'coil:0', count: 3 },
  { name: 'Pump', address: 'coil:10', writable: true },
  { name: 'Inputs', address: 'discrete:0', count: 3 },
  { name: 'Flow', address: 'input:0', scale: 0.1, units: 'm³/h' },
  { name: 'Missing', address: 'holding:500' },
];

const SERVED = [
  { tag: 'I16', value: -1234 },
  { tag: 'U16', value: 54321 },
  { tag: 'I32', value: -123456789 },
  { tag: 'U32', value: 3000000000 },
  { tag: 'F32.ABCD', value: 3.25 },
  { tag: 'F32.CDAB', value: -1.5 },
  { tag: 'F32.BADC', value: 1234.5 },
  { tag: 'F32.DCBA', value: 0.15625 },
  { tag: 'F64.ABCD', value: 10000000000.5 },
  { tag: 'F64.CDAB', value: -2.25 },
  { tag: 'F64.BADC', value: 6.02214076e23 },
  { tag: 'F64.DCBA', value: 1e-9 },
  { tag: 'I64', value: '-9007199254740993' },
  { tag: 'U64', value: '18446744073709551000' },
  { tag: 'Text', value: 'PUMP-07' },
  { tag: 'Bit0', value: true },
  { tag: 'Bit1', value: false },
  { tag: 'Bit2', value: true },
  { tag: 'Bit15', value: true },
  { tag: 'Far', value: 96 },
  { tag: 'Coils', value: [true, false, true] },
  { tag: 'Inputs', value: [true, true, false] },
  { tag: 'Flow', value: 77.7 },
];

function fixture(transport: 'tcp' | 'rtuOverTcp' | 'rtu'): () => Promise<ConformanceFixture> {
  return async () => {
    const serial = transport === 'rtu' ? await startSerialPair() : undefined;
    const peer = await startPymodbus(
      transport === 'rtuOverTcp' ? 'rtu-over-tcp' : transport,
      { 1: PEER_VALUES },
      serial?.b,
    );
    const settings =
      transport === 'rtu'
        ? { transport, serial: { path: serial!.a, baudRate: 19200 }, timeoutMs: 1000 }
        : { transport, host: '127.0.0.1', port: peer.port, timeoutMs: 1000 };
    const { driver, host } = await startDriver(modbusSource(settings, TAGS, { intervalMs: 200 }));
    return {
      driver,
      host,
      served: SERVED,
      writes: [
        { tag: 'Setpoint', value: -42 },
        { tag: 'Limit', value: 12.5 },
        { tag: 'Pump', value: true },
      ],
      badWrite: { tag: 'Setpoint', value: 70000 },
      missing: 'Missing',
      readOnly: 'Flow',
      async teardown() {
        await driver.stop();
        await peer.stop();
        await serial?.stop();
      },
    };
  };
}

describe.runIf(available)('Modbus driver against pymodbus', () => {
  describeDriverConformance('modbus over TCP (pymodbus)', fixture('tcp'));
  describeDriverConformance('modbus RTU over TCP (pymodbus)', fixture('rtuOverTcp'));
  describeDriverConformance('modbus RTU on a serial line (pymodbus, socat pty)', fixture('rtu'));

  it('given a block that reads through holes the device lacks, when it answers exception 2, then the planner splits it once and remembers', async () => {
    const peer = await startPymodbus('tcp', { 1: PEER_VALUES });
    const { driver, host } = await startDriver(
      modbusSource(
        { host: '127.0.0.1', port: peer.port, maxRegisterGap: 16 },
        TAGS.filter((t) => t.address.startsWith('holding:') && t.name !== 'Missing'),
      ),
    );
    try {
      const before = driver.health().details!.groups as { requestsPerCycle: number }[];
      await host.waitFor(
        (latest) => latest.get('Far')?.status === 'good' && latest.get('I16')?.status === 'good',
      );
      const after = driver.health().details!.groups as { requestsPerCycle: number }[];
      // One merged block at first; after exception 2 the contiguous runs: 0-5, 10-17, 20-35, 40-47, 50-53, 60, 70, 80-81, 96.
      expect(before[0]!.requestsPerCycle).toBe(1);
      expect(after[0]!.requestsPerCycle).toBe(9);
      const requests = driver.health().details!.requests as number;
      await host.nextUpdates(3);
      const perCycle = ((driver.health().details!.requests as number) - requests) / 3;
      expect(perCycle).toBeLessThanOrEqual(9.34);
    } finally {
      await driver.stop();
      await peer.stop();
    }
  });
});

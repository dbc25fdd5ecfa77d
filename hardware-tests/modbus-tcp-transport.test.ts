/** The Modbus TCP client against the simulator: answers matched by transaction id, faults as typed errors. */
import { afterEach, describe, expect, it } from 'vitest';
import { StatusCodes } from '../drivers/core/index.ts';
import { ModbusTcpTransport } from '../drivers/modbus/tcp-transport.ts';
import { ModbusTcpSimulator } from './simulators/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connected(timeoutMs = 150) {
  const sim = new ModbusTcpSimulator();
  const port = await sim.listen();
  const transport = await ModbusTcpTransport.connect('127.0.0.1', port, timeoutMs);
  cleanups.push(
    () => sim.close(),
    () => transport.close(),
  );
  return { sim, transport };
}

describe('Modbus TCP client', () => {
  it('given a late answer to a request that timed out, when it arrives during the next request, then each gets its own answer', async () => {
    const { sim, transport } = await connected(250);
    sim.tables.holding[5] = 1234;
    sim.faults.set('*', 'late');
    sim.lateMs = 300;
    // Answered (1234) at 300 ms, after this request gave up at 250 ms.
    await expect(transport.readRegisters(1, 'holding', 5, 1)).rejects.toMatchObject({
      kind: 'timeout',
      statusCode: StatusCodes.BadTimeout,
    });
    sim.tables.holding[5] = 5678;
    sim.lateMs = 100;
    // Sent at 250 ms and answered (5678) at 350 ms; the stale 1234 arrives in between and must be dropped.
    expect(await transport.readRegisters(1, 'holding', 5, 1)).toEqual([5678]);
    expect(transport.isOpen).toBe(true);
  });

  it('given exceptions, garbage and a closed socket, when reading, then each is a typed error', async () => {
    const { sim, transport } = await connected();
    sim.unmapped = [{ table: 'holding', start: 100, end: 200 }];
    await expect(transport.readRegisters(1, 'holding', 150, 2)).rejects.toMatchObject({
      kind: 'exception',
      statusCode: 2,
    });
    await expect(transport.readRegisters(9, 'holding', 0, 1)).rejects.toMatchObject({
      kind: 'exception',
      statusCode: 11,
    });
    sim.faults.set('*', 'garbage');
    await expect(transport.readBits(1, 'coil', 0, 8)).rejects.toMatchObject({ kind: 'link' });
    expect(transport.isOpen).toBe(false);
    const closed: string[] = [];
    const second = await connected();
    second.transport.onClose((reason) => closed.push(reason));
    second.sim.faults.set('*', 'close');
    await expect(second.transport.readRegisters(1, 'input', 0, 1)).rejects.toMatchObject({ kind: 'link' });
    expect(closed).toEqual(['closed by the device']);
  });

  it('given writes of one and several values, when sent, then FC05, FC15, FC06 and FC16 reach the tables', async () => {
    const { sim, transport } = await connected();
    await transport.writeCoils(1, 3, [true]);
    await transport.writeCoils(1, 10, [true, false, true, true, false, false, false, false, true]);
    await transport.writeRegisters(1, 7, [0xbeef]);
    await transport.writeRegisters(1, 20, [1, 2, 3]);
    expect(sim.tables.coil[3]).toBe(1);
    expect([...sim.tables.coil.subarray(10, 19)]).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1]);
    expect(sim.tables.holding[7]).toBe(0xbeef);
    expect([...sim.tables.holding.subarray(20, 23)]).toEqual([1, 2, 3]);
    expect(await transport.readBits(1, 'coil', 10, 9)).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
  });
});

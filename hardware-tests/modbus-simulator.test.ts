/**
 * The Modbus driver against plantgate's own simulator: the conformance suite, and the failures a real
 * device shows — garbage, silence, a dropped socket, a server that goes away — none of which may crash
 * the gateway or stop the other units.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ConformanceFixture, describeDriverConformance } from '../drivers/core/conformance.ts';
import { StatusCodes } from '../drivers/core/index.ts';
import { modbusSource, startDriver } from '../drivers/modbus/test/peers.ts';
import { ModbusTcpSimulator } from './simulators/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(): Promise<{ sim: ModbusTcpSimulator; port: number }> {
  const sim = new ModbusTcpSimulator();
  const port = await sim.listen();
  cleanups.push(() => sim.close());
  return { sim, port };
}

async function driverFor(
  port: number,
  settings: Record<string, unknown>,
  tags: Parameters<typeof modbusSource>[1],
  poll = {},
) {
  const started = await startDriver(
    modbusSource(
      {
        host: '127.0.0.1',
        port,
        timeoutMs: 150,
        retries: 0,
        reconnectMinMs: 50,
        reconnectMaxMs: 200,
        ...settings,
      },
      tags,
      {
        intervalMs: 100,
        ...poll,
      },
    ),
  );
  cleanups.push(() => started.driver.stop());
  return started;
}

describeDriverConformance('modbus over TCP (plantgate simulator)', async (): Promise<ConformanceFixture> => {
  const sim = new ModbusTcpSimulator();
  sim.tables.holding[0] = 0xfb2e; // -1234
  sim.setFloat32('holding', 10, 3.25);
  sim.tables.coil[4] = 1;
  sim.tables.input[7] = 500;
  sim.unmapped = [{ table: 'holding', start: 400, end: 1000 }];
  const port = await sim.listen();
  const { driver, host } = await startDriver(
    modbusSource({ host: '127.0.0.1', port }, [
      { name: 'A', address: 'holding:0', type: 'int16' },
      { name: 'B', address: 'holding:10', type: 'float32' },
      { name: 'C', address: 'coil:4' },
      { name: 'D', address: 'input:7', scale: 0.5 },
      { name: 'W1', address: 'holding:20', type: 'float32', writable: true },
      { name: 'W2', address: 'coil:9', count: 3, writable: true },
      { name: 'W3', address: 'holding:30', type: 'uint16', count: 3, writable: true },
      { name: 'Gone', address: 'holding:500' },
    ]),
  );
  return {
    driver,
    host,
    served: [
      { tag: 'A', value: -1234 },
      { tag: 'B', value: 3.25 },
      { tag: 'C', value: true },
      { tag: 'D', value: 250 },
    ],
    writes: [
      { tag: 'W1', value: -7.5 },
      { tag: 'W2', value: [true, false, true] },
      { tag: 'W3', value: [1, 2, 3] },
    ],
    badWrite: { tag: 'W3', value: [1, 2, 70000] },
    missing: 'Gone',
    readOnly: 'D',
    async teardown() {
      await driver.stop();
      await sim.close();
    },
  };
});

describe('Modbus driver under device faults', () => {
  it('given a device that answers garbage, when polled, then values go bad without a crash and recover after', async () => {
    const { sim, port } = await simulator();
    sim.tables.holding[1] = 42;
    const { driver, host } = await driverFor(port, {}, [{ name: 'X', address: 'holding:1' }]);
    await host.waitFor((l) => l.get('X')?.value === 42);
    sim.faults.set('*', 'garbage');
    await host.waitFor((l) => l.get('X')?.status === 'bad');
    expect(host.latest.get('X')!.statusCode).toSatisfy(
      (c: number) => c === StatusCodes.BadTimeout || c === StatusCodes.BadCommunicationError,
    );
    sim.faults.clear();
    await host.waitFor((l) => l.get('X')?.status === 'good');
    expect(driver.health().details!.reconnects).toBeGreaterThan(0);
  });

  it('given a device that closes the socket, when polled, then the driver reconnects and values recover', async () => {
    const { sim, port } = await simulator();
    sim.tables.holding[1] = 7;
    const { driver, host } = await driverFor(port, {}, [{ name: 'X', address: 'holding:1' }]);
    await host.waitFor((l) => l.get('X')?.status === 'good');
    sim.faults.set('*', 'close');
    await host.waitFor((l) => l.get('X')?.status === 'bad');
    sim.faults.clear();
    await host.waitFor((l) => l.get('X')?.status === 'good');
    expect(driver.health().details!.reconnects).toBeGreaterThan(0);
  });

  it('given the server goes away and comes back on its port, when polled, then values are bad meanwhile and then good', async () => {
    const sim = new ModbusTcpSimulator();
    sim.tables.holding[1] = 5;
    const port = await sim.listen();
    const { driver, host } = await driverFor(port, {}, [{ name: 'X', address: 'holding:1' }]);
    await host.waitFor((l) => l.get('X')?.status === 'good');
    await sim.close();
    await host.waitFor((l) => l.get('X')?.statusCode === StatusCodes.BadNotConnected);
    expect(driver.health().state).toBe('degraded');
    const again = new ModbusTcpSimulator(sim.tables);
    await again.listen(port);
    cleanups.push(() => again.close());
    await host.waitFor((l) => l.get('X')?.status === 'good', 10_000);
    expect(driver.health().state).toBe('running');
  });

  it('given one silent unit among others, when it fails N cycles, then it is set aside and the others keep polling', async () => {
    const { sim, port } = await simulator();
    sim.units = new Set([1, 2]);
    sim.tables.holding[1] = 11;
    sim.faults.set(2, 'silent');
    const { driver, host } = await driverFor(port, { demoteAfterFailures: 2, demoteForMs: 1000 }, [
      { name: 'U1', address: 'holding:1', unitId: 1 },
      { name: 'U2', address: 'holding:1', unitId: 2 },
    ]);
    await host.waitFor(
      (l) => l.get('U2')?.statusCode === StatusCodes.BadOutOfService,
      10_000,
      'unit 2 set aside',
    );
    expect(driver.health().details!.unitsSetAside).toEqual([2]);
    // While unit 2 is set aside, a cycle costs no timeout: unit 1 is polled at its interval.
    const before = host.updates.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(host.updates.length - before).toBeGreaterThanOrEqual(3);
    expect(host.latest.get('U1')).toMatchObject({ value: 11, status: 'good' });
    sim.faults.clear();
    await host.waitFor((l) => l.get('U2')?.status === 'good', 10_000, 'unit 2 back');
    expect(driver.health().details!.unitsSetAside).toEqual([]);
  });

  it('given a unit that does not exist behind a gateway, when polled, then its tags carry exception 11 and others stay good', async () => {
    const { sim, port } = await simulator();
    sim.tables.holding[1] = 3;
    const { host } = await driverFor(port, {}, [
      { name: 'Here', address: 'holding:1', unitId: 1 },
      { name: 'Absent', address: 'holding:1', unitId: 9 },
    ]);
    await host.waitFor((l) => l.get('Absent')?.status === 'bad' && l.get('Here')?.status === 'good');
    expect(host.latest.get('Absent')).toMatchObject({
      statusCode: 11,
      error: expect.stringMatching(/exception 11/),
    });
  });

  it('given poll groups with their own intervals, when polled, then the fast group is read more often', async () => {
    const { port } = await simulator();
    const { host } = await driverFor(
      port,
      {},
      [
        { name: 'Fast', address: 'holding:1', group: 'fast' },
        { name: 'Slow', address: 'holding:2', group: 'slow' },
      ],
      { groups: { fast: { intervalMs: 100 }, slow: { intervalMs: 600 } } },
    );
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const count = (tag: string) => host.updates.filter((u) => u.some((v) => v.tag === tag)).length;
    expect(count('Fast')).toBeGreaterThanOrEqual(8);
    expect(count('Slow')).toBeLessThanOrEqual(3);
  });

  it('given retries, when one request goes unanswered, then the retry reads the value in the same cycle and it never turns bad', async () => {
    const { sim, port } = await simulator();
    sim.tables.holding[1] = 77;
    const { driver, host } = await driverFor(port, { retries: 1, timeoutMs: 150 }, [
      { name: 'X', address: 'holding:1' },
    ]);
    await host.waitFor((l) => l.get('X')?.status === 'good');
    sim.dropNext = 1;
    await host.nextUpdates(3);
    expect(
      host.updates
        .flat()
        .filter((v) => v.tag === 'X')
        .every((v) => v.status === 'good'),
    ).toBe(true);
    expect(driver.health().details!.failedRequests).toBe(1);
    sim.dropNext = 2;
    await host.waitFor((l) => l.get('X')?.status === 'bad', 5000, 'bad after both tries fail');
    expect(host.latest.get('X')!.statusCode).toBe(StatusCodes.BadTimeout);
  });

  it('given an inter-request delay, when a cycle has several blocks, then the device sees requests no closer than the delay', async () => {
    const { sim, port } = await simulator();
    const { host } = await driverFor(port, { interRequestDelayMs: 50, maxRegisterGap: 0 }, [
      { name: 'A', address: 'holding:1' },
      { name: 'B', address: 'holding:10' },
      { name: 'C', address: 'holding:20' },
    ]);
    await host.nextUpdates(2);
    const times = sim.requestTimes.slice(-6);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(45);
  });

  it('given a planned layout, when polled, then the device sees one request per planned block', async () => {
    const { sim, port } = await simulator();
    const tags = Array.from({ length: 200 }, (_, i) => ({
      name: `T${i}`,
      address: `holding:${i * 2}`,
      type: 'float32',
    }));
    const { driver, host } = await driverFor(port, {}, tags, { intervalMs: 200 });
    await host.nextUpdates(1);
    const start = sim.requests;
    await host.nextUpdates(3);
    const perCycle = (sim.requests - start) / 3;
    // 400 registers in blocks of at most 125 → 4 requests a cycle.
    expect(perCycle).toBe(4);
    expect((driver.health().details!.groups as { requestsPerCycle: number }[])[0]!.requestsPerCycle).toBe(4);
  });
});

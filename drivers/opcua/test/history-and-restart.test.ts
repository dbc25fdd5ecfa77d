/**
 * The server's history through the driver (raw with continuation points, processed, at-times), and a
 * server restart: one new session, the subscription back, values flowing again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tag, Value } from '../../core/index.ts';
import type { LazyOpcuaDriver as OpcuaDriver } from '../lazy-driver.ts';
import {
  line,
  type OpcuaPeer,
  settingsFor,
  sourceConfig,
  startPeer,
  startTrusted,
  tagConfig,
} from './peer.ts';

const signal = () => new AbortController().signal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function raw(
  driver: OpcuaDriver,
  tag: Tag,
  start: number,
  end: number,
  maxValues = 1000,
  boundary: 'inside' | 'outside' = 'inside',
) {
  const pages: Value[][] = [];
  for await (const page of driver.readRaw(tag, { start, end, maxValues, boundary }, signal()))
    pages.push(page);
  return { pages, values: pages.flat() };
}

describe('opcua history from the server', () => {
  let peer: OpcuaPeer;
  let driver: OpcuaDriver;
  let began: number;
  const tag = (name: string) => driver.listTags().find((t) => t.name === `Line1.${name}`)!;

  beforeAll(async () => {
    began = Date.now();
    peer = await startPeer({ tickMs: 100 });
    ({ driver } = await startTrusted(
      peer,
      sourceConfig(settingsFor(peer, { historyPageSize: 7 }), [
        line('Speed'),
        line('SealTemperature'),
        line('RejectCount'),
      ]),
    ));
    await sleep(4000);
  }, 60_000);
  afterAll(async () => {
    await driver?.stop();
    await peer?.stop();
  });

  it('given more values than a page, when raw history is read, then it comes page by page on continuation points, whole and in order', async () => {
    const end = Date.now();
    const { pages, values } = await raw(driver, tag('Speed'), began, end);
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.slice(0, -1).every((p) => p.length === 7)).toBe(true);
    expect(values.length).toBeGreaterThan(25);
    for (let i = 1; i < values.length; i++) expect(values[i]!.time).toBeGreaterThan(values[i - 1]!.time);
    expect(values.every((v) => v.status === 'good' && typeof v.value === 'number')).toBe(true);
  });

  it('given maxValues smaller than the range holds, when read, then reading stops soon after maxValues', async () => {
    const { values } = await raw(driver, tag('Speed'), began, Date.now(), 10);
    expect(values.length).toBeGreaterThanOrEqual(10);
    expect(values.length).toBeLessThanOrEqual(14);
    expect(values.length).toBeLessThan((await raw(driver, tag('Speed'), began, Date.now())).values.length);
  });

  it('given boundary outside, when read, then the value before the start comes first', async () => {
    const all = (await raw(driver, tag('Speed'), began, Date.now())).values;
    const start = Math.floor((all[5]!.time + all[6]!.time) / 2);
    const end = Math.floor((all[10]!.time + all[11]!.time) / 2);
    const outside = (await raw(driver, tag('Speed'), start, end, 1000, 'outside')).values;
    expect(outside[0]).toEqual(all[5]);
    expect(outside.slice(1, 6)).toEqual(all.slice(6, 11));
    expect(outside[6]).toEqual(all[11]);
    expect(outside).toHaveLength(7);
  });

  it('given an aggregate the server offers, when processed values are read, then the server computes each bucket', async () => {
    const end = Date.now() - 500;
    const start = end - 2000;
    const result = await driver.readProcessed(
      tag('Speed'),
      { start, end, intervalMs: 500, functions: ['AVG', 'MIN', 'DELTA'] },
      signal(),
    );
    // node-opcua's server has Average and Minimum but not Delta: that one is left to the core.
    expect([...result.keys()]).toEqual(['AVG', 'MIN']);
    const samples = (await raw(driver, tag('Speed'), start - 1000, end + 1000)).values;
    result.get('MIN')!.forEach((bucket, k) => {
      const from = start + k * 500;
      const inside = samples
        .filter((s) => s.time >= from && s.time < from + 500)
        .map((s) => s.value as number);
      expect(bucket.time).toBe(from);
      expect(bucket.value).toBeCloseTo(Math.min(...inside), 6);
    });
    expect(result.get('AVG')).toHaveLength(4);
  });

  it('given times between stored values, when read at those times, then the server interpolates (OPC 10000-11 §6.4.5)', async () => {
    const all = (await raw(driver, tag('Speed'), began, Date.now())).values;
    const [a, b] = [all[8]!, all[9]!];
    const t = Math.floor((a.time + b.time) / 2);
    const values = await driver.readAtTimes(tag('Speed'), [a.time, t], signal());
    expect(values![0]!.value).toBe(a.value);
    const expected =
      (a.value as number) + (((b.value as number) - (a.value as number)) * (t - a.time)) / (b.time - a.time);
    expect(values![1]!.value).toBeCloseTo(expected, 6);
  });

  it('given a variable the server keeps no history of, then the driver says so and leaves its history to the core', async () => {
    expect(driver.keepsHistory(tag('Speed'))).toBe(true);
    expect(driver.keepsHistory(tag('RejectCount'))).toBe(false);
    expect(await driver.readAtTimes(tag('RejectCount'), [Date.now()], signal())).toBeUndefined();
    expect(
      (
        await driver.readProcessed(
          tag('RejectCount'),
          { start: began, end: Date.now(), intervalMs: 1000, functions: ['AVG'] },
          signal(),
        )
      ).size,
    ).toBe(0);
  });
});

describe('opcua server restart', () => {
  it('given a running subscription, when the server restarts, then one new session opens, the subscription comes back and values flow again', async () => {
    const peer = await startPeer({ tickMs: 200 });
    const sessions = tagConfig({ name: 'SessionsCreated', nodeId: 'ns=1;s=Simulator.SessionsCreated' });
    const { driver, host } = await startTrusted(
      peer,
      sourceConfig(settingsFor(peer, { reconnectMinMs: 200, reconnectMaxMs: 1000 }), [
        line('Speed'),
        sessions,
      ]),
    );
    try {
      await host.waitFor((l) => l.get('Line1.Speed')?.status === 'good', 10_000, 'values before the restart');
      const sessionsBefore = driver.health().details!.sessionsCreated as number;
      await peer.restart(2500);
      // While the server was away, every tag read bad with BadNotConnected.
      expect(host.updates.flat().some((v) => v.tag === 'Line1.Speed' && v.statusCode === 0x808a0000)).toBe(
        true,
      );
      const restartedAt = Date.now();
      await host.waitFor(
        (l) => l.get('Line1.Speed')?.status === 'good' && l.get('Line1.Speed')!.time > restartedAt,
        30_000,
        'values after the restart',
      );
      await sleep(3000);
      // The new server process counts the sessions opened since it started: exactly one.
      expect(host.latest.get('SessionsCreated')).toMatchObject({ status: 'good', value: 1 });
      const health = driver.health();
      expect(health.state).toBe('running');
      expect(health.details).toMatchObject({ connected: true, reconnects: 1 });
      expect(health.details!.sessionsCreated).toBe(sessionsBefore + 1);
    } finally {
      await driver.stop();
      await peer.stop();
    }
  }, 90_000);
});

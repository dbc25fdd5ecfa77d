/** The typed operations through the loopback API of a running gateway polling the boiler simulator. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness } from './harness.ts';

type Values = {
  values: { tag: string; value: unknown; status: string; time: string; statusCode?: number }[];
};
type History = {
  tags: {
    tag: string;
    function?: string;
    values: { time: string; value: unknown; status: string }[];
    truncated?: boolean;
    error?: { code: string };
  }[];
};

let h: Harness;
const post = async (path: string, body: unknown, token?: string) => {
  const response = await fetch(`${h.client.base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { error?: { code: string; message: string } },
  };
};

beforeAll(async () => {
  h = await startHarness();
  await eventually(
    () => h.client.call('values.snapshot', 'boiler', { tags: ['Boiler1.SteamPressure'] }),
    (a) => (a.body as Values).values?.[0]?.status === 'good',
  );
  // Some history to read: polled every 100 ms while the simulator moves.
  await new Promise((resolve) => setTimeout(resolve, 1500));
}, 30_000);
afterAll(async () => h?.stop());

describe('loopback API: access', () => {
  it('given no token or a wrong one, when calling, then 401 PG_ERR_UNAUTHENTICATED', async () => {
    expect(await post('/sources/boiler/values/snapshot', { tags: ['x'] })).toMatchObject({
      status: 401,
      body: { error: { code: 'PG_ERR_UNAUTHENTICATED' } },
    });
    expect((await post('/sources/boiler/values/snapshot', { tags: ['x'] }, 'wrong')).status).toBe(401);
  });

  it('given the gateway, when started, then it listens on 127.0.0.1 only and the token file is mode 0600', () => {
    expect((h.gateway.api.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(statSync(path.join(h.dir, 'data', 'local-token')).mode & 0o777).toBe(0o600);
  });
});

describe('loopback API: the typed operations', () => {
  it('given tags, when the snapshot is read, then each has its live value, and an unknown tag is bad on its own', async () => {
    const { status, body } = await h.client.call('values.snapshot', 'boiler', {
      tags: ['Boiler1.Tag', 'Boiler1.Running', 'nope'],
    });
    expect(status).toBe(200);
    expect((body as Values).values.map((v) => [v.tag, v.value, v.status])).toEqual([
      ['Boiler1.Tag', 'BLR1', 'good'],
      ['Boiler1.Running', true, 'good'],
      ['nope', null, 'bad'],
    ]);
  });

  it('given 101 tags, when a snapshot is asked, then 400 PG_ERR_LIMIT_EXCEEDED names the limit', async () => {
    const tags = Array.from({ length: 101 }, (_, i) => `t${i}`);
    const { status, body } = await h.client.call('values.snapshot', 'boiler', { tags });
    expect(status).toBe(400);
    expect(body).toMatchObject({
      error: {
        code: 'PG_ERR_LIMIT_EXCEEDED',
        message: expect.stringMatching(/tags must NOT have more than 100 items/),
      },
    });
  });

  it('given an unknown key or a bad type, when asked, then 400 PG_ERR_BAD_REQUEST names the path', async () => {
    const a = await h.client.call('values.raw', 'boiler', {
      tags: ['x'],
      start: '*-1h',
      end: '*',
      sql: 'select 1',
    });
    expect(a).toMatchObject({
      status: 400,
      body: { error: { code: 'PG_ERR_BAD_REQUEST', message: expect.stringContaining('sql') } },
    });
    const b = await h.client.call('values.processed', 'boiler', {
      tags: ['x'],
      start: '*-1h',
      end: '*',
      interval: '1m',
      functions: ['MEDIAN'],
    });
    expect(b).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('functions[0] must be one of') } },
    });
    const c = await h.client.call('values.raw', 'boiler', { tags: ['x'], start: 'last tuesday', end: '*' });
    expect(c).toMatchObject({ status: 400, body: { error: { code: 'PG_ERR_BAD_TIME' } } });
  });

  it('given an unknown source or route, when asked, then 404 with a code', async () => {
    expect(await h.client.call('values.snapshot', 'nosuch', { tags: ['x'] })).toMatchObject({
      status: 404,
      body: { error: { code: 'PG_ERR_SOURCE_NOT_FOUND' } },
    });
    const r = await fetch(`${h.client.base}/sources/boiler/values/eval`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(h.client as unknown as { token: string }).token}` },
    });
    expect(r.status).toBe(404);
  });

  it('given a pattern, when tags are searched, then matches come sorted by name and paged', async () => {
    const { body } = await h.client.call('tags.search', 'boiler', { name: 'boiler1.s*', pageSize: 2 });
    expect(body).toMatchObject({ total: 3, page: 1, pageSize: 2 });
    expect((body as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual([
      'Boiler1.State',
      'Boiler1.SteamPressure',
    ]);
    const page2 = await h.client.call('tags.search', 'boiler', { name: 'Boiler1.S*', pageSize: 2, page: 2 });
    expect((page2.body as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual([
      'Boiler1.SteamTemp',
    ]);
    const byLabel = await h.client.call('tags.search', 'boiler', { label: 'pressure', units: 'bar' });
    expect((byLabel.body as { tags: { name: string }[] }).tags.map((t) => t.name)).toEqual([
      'Boiler1.SteamPressure',
    ]);
  });

  it('given names, when tags are got, then definitions come back and the unknown are listed', async () => {
    const { body } = await h.client.call('tags.get', 'boiler', { tags: ['Boiler1.State', 'nope'] });
    expect(body).toMatchObject({
      tags: [
        {
          id: 'Boiler1.State',
          dataType: 'uint16',
          stepped: true,
          states: [
            { value: 0, name: 'Off' },
            { value: 3, name: 'Firing' },
          ],
        },
      ],
      notFound: ['nope'],
    });
  });

  it('given polled history, when raw values are read, then they come in time order with truncation flagged', async () => {
    const { body } = await h.client.call('values.raw', 'boiler', {
      tags: ['Boiler1.SteamPressure'],
      start: '*-1h',
      end: '*',
      maxValues: 3,
    });
    const [tag] = (body as History).tags;
    expect(tag!.values).toHaveLength(3);
    expect(tag!.truncated).toBe(true);
    const times = tag!.values.map((v) => Date.parse(v.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('given polled history, when processed over one bucket, then COUNT, MIN and MAX agree with the raw values', async () => {
    const end = new Date().toISOString();
    const start = new Date(Date.now() - 60_000).toISOString();
    const raw = (
      await h.client.call('values.raw', 'boiler', {
        tags: ['Boiler1.SteamPressure'],
        start,
        end,
        maxValues: 100000,
      })
    ).body as History;
    const numbers = raw.tags[0]!.values.filter((v) => v.status === 'good').map((v) => v.value as number);
    const processed = (
      await h.client.call('values.processed', 'boiler', {
        tags: ['Boiler1.SteamPressure'],
        start,
        end,
        interval: '60s',
        functions: ['COUNT', 'MIN', 'MAX'],
      })
    ).body as History;
    const byFn = Object.fromEntries(processed.tags.map((t) => [t.function, t.values[0]!.value]));
    // The raw read ends at `end` inclusive; a bucket is [start, end), so a sample exactly at end may differ by one.
    expect(Math.abs((byFn.COUNT as number) - numbers.length)).toBeLessThanOrEqual(1);
    expect(byFn.MIN).toBe(Math.min(...numbers));
    expect(byFn.MAX).toBe(Math.max(...numbers));
  });

  it('given polled history, when plot and at-times are read, then each answers per tag', async () => {
    const plot = (
      await h.client.call('values.plot', 'boiler', {
        tags: ['Boiler1.SteamPressure', 'ghost'],
        start: '*-1m',
        end: '*',
        intervals: 5,
      })
    ).body as History;
    expect(plot.tags[0]!.values.length).toBeGreaterThan(0);
    expect(plot.tags[1]).toMatchObject({ tag: 'ghost', error: { code: 'PG_ERR_TAG_NOT_FOUND' } });
    const at = (
      await h.client.call('values.atTimes', 'boiler', { tags: ['Boiler1.Tag'], times: ['*-1h', '*'] })
    ).body as History;
    expect(at.tags[0]!.values.map((v) => [v.value, v.status])).toEqual([
      [null, 'bad'],
      ['BLR1', 'good'],
    ]);
  });

  it('given writable and read-only tags, when written, then each value has its own result and the write reaches the device', async () => {
    const { status, body } = await h.client.call('values.write', 'boiler', {
      values: [
        { tag: 'Boiler1.PressureSetpoint', value: 13.5 },
        { tag: 'Boiler1.SteamPressure', value: 1 },
        { tag: 'Boiler1.Running', value: 'yes' },
        { tag: 'ghost', value: 1 },
      ],
    });
    expect(status).toBe(200);
    expect((body as { results: unknown[] }).results).toEqual([
      { tag: 'Boiler1.PressureSetpoint', ok: true },
      {
        tag: 'Boiler1.SteamPressure',
        ok: false,
        error: { code: 'PG_ERR_TAG_NOT_WRITABLE', message: expect.any(String) },
      },
      {
        tag: 'Boiler1.Running',
        ok: false,
        error: { code: 'PG_ERR_BAD_VALUE', message: expect.stringContaining('true or false') },
      },
      { tag: 'ghost', ok: false, error: { code: 'PG_ERR_TAG_NOT_FOUND', message: expect.any(String) } },
    ]);
    await eventually(
      () => h.client.call('values.snapshot', 'boiler', { tags: ['Boiler1.PressureSetpoint'] }),
      (a) => (a.body as Values).values[0]!.value === 13.5,
    );
  });

  it('given a subscription, when a value changes, then the first push has the current values and later pushes the change', async () => {
    const controller = new AbortController();
    const pushes: Values[] = [];
    const stream = h.client.stream('boiler', ['Boiler1.Running'], 100, controller.signal);
    const reader = (async () => {
      for await (const push of stream) {
        pushes.push(push as Values);
        if (pushes.length === 1)
          await h.client.call('values.write', 'boiler', {
            values: [{ tag: 'Boiler1.Running', value: false }],
          });
        if (pushes.length === 2) controller.abort();
      }
    })().catch(() => undefined);
    await eventually(
      async () => pushes.length,
      (n) => n >= 2,
    );
    await reader;
    expect(pushes[0]!.values[0]).toMatchObject({ tag: 'Boiler1.Running', value: true });
    expect(pushes[1]!.values[0]).toMatchObject({ tag: 'Boiler1.Running', value: false });
  });
});

describe('loopback API: sources fail on their own', () => {
  it('given a source whose device is down, when read, then its values are bad with a code while the other source stays good', async () => {
    const dead = (await h.client.call('values.snapshot', 'dead', { tags: ['Nothing'] })).body as Values;
    expect(dead.values[0]).toMatchObject({ status: 'bad' });
    expect(typeof dead.values[0]!.statusCode).toBe('number');
    const live = (await h.client.call('values.snapshot', 'boiler', { tags: ['Boiler1.Tag'] })).body as Values;
    expect(live.values[0]!.status).toBe('good');
  });

  it('given health, when asked, then it shows the gateway, the machine and each source with its state', async () => {
    const { body } = await h.client.call('health', undefined);
    const health = body as {
      gateway: { id: string };
      machine: { cpus: number };
      sources: { id: string; state: string }[];
    };
    expect(health.gateway.id).toBe('test-site');
    expect(health.machine.cpus).toBeGreaterThan(0);
    expect(health.sources.map((s) => [s.id, s.state])).toEqual([
      ['boiler', 'running'],
      ['dead', 'degraded'],
    ]);
  });
});

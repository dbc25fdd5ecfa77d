/**
 * The SQL driver's reads against real PostgreSQL and MariaDB, over seeded history: tag search, raw
 * samples with limits and boundaries, and aggregates, plot values and at-time values pushed down into
 * SQL, each compared with what the gateway core computes from the same raw samples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeAggregates,
  buckets as makeBuckets,
  plotValues,
  valueAt,
} from '../../../gateway/query/aggregates.ts';
import type { Driver, RawHistoryRead, Tag, TagSearch, Value } from '../../core/index.ts';
import { seededRandom } from '../../core/testing.ts';
import type { NarrowSqlDriver, WideSqlDriver } from '../driver.ts';
import {
  configuredDatabases,
  createNarrowTables,
  insertCatalog,
  insertSamples,
  narrowMapping,
  openDatabase,
  type Sample,
  sqlSettings,
  startSqlDriver,
  type TestDatabase,
  tableName,
} from './databases.ts';

const signal = () => new AbortController().signal;
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);

async function rawOf(
  driver: RawHistoryRead,
  tag: Tag,
  start: number,
  end: number,
  boundary: 'inside' | 'outside' = 'outside',
) {
  const out: Value[] = [];
  for await (const chunk of driver.readRaw(tag, { start, end, maxValues: 1_000_000, boundary }, signal()))
    out.push(...chunk);
  return out;
}

/** Seeded history: a noisy signal each 10 s with some uncertain and bad samples, gaps, a text tag. */
function seed(): Sample[] {
  const random = seededRandom(7);
  const samples: Sample[] = [];
  for (let i = 0; i < 2000; i++) {
    if (i % 97 > 90) continue; // gaps
    const r = random();
    const quality = r < 0.05 ? 0 : r < 0.1 ? 64 : 192;
    samples.push({
      tag: 'Line1.Flow',
      time: T0 + i * 10_000,
      value: Math.round(random() * 1000) / 10,
      quality,
    });
    if (i % 10 === 0) samples.push({ tag: 'Line1.Level', time: T0 + i * 10_000 + 3, value: i / 10 });
  }
  for (let i = 0; i < 20; i++)
    samples.push({ tag: 'Line1.Batch', time: T0 + i * 60_000, value: null, text: `B-${i}` });
  for (const name of ['100%_done', 'under_score', '[bracket]', 'bang!tag', "O'Brien; DROP"])
    samples.push({ tag: name, time: T0, value: 1 });
  return samples;
}

for (const dialect of configuredDatabases()) {
  describe(`SQL driver reads (${dialect})`, () => {
    let db: TestDatabase;
    let narrow: NarrowSqlDriver;
    let withCatalog: NarrowSqlDriver;
    const history = tableName(`reads_hist_${dialect}`);
    const catalog = tableName(`reads_tags_${dialect}`);
    const wide = tableName(`reads_wide_${dialect}`);
    const drivers: Driver[] = [];
    const tagOf = async (d: TagSearch, name: string) => {
      const [tag] = await d.getTags([name], signal());
      if (!tag) throw new Error(`no tag ${name}`);
      return tag;
    };

    beforeAll(async () => {
      db = await openDatabase(dialect);
      await createNarrowTables(db, history, catalog);
      await insertSamples(db, history, seed());
      await insertCatalog(db, catalog, [
        ['Line1.Flow', 'Feed flow 100% open', 'm3/h'],
        ['Line1.Level', 'Tank level', 'm'],
        ['Line1.Batch', 'Batch number', ''],
      ]);
      const mapping = narrowMapping(history);
      narrow = (
        await startSqlDriver('hist', sqlSettings(db, { history: mapping }), [
          { name: 'Line1.Batch', dataType: 'string' },
        ])
      ).driver as NarrowSqlDriver;
      withCatalog = (
        await startSqlDriver(
          'hist-catalog',
          sqlSettings(db, {
            history: mapping,
            catalog: {
              table: catalog,
              nameColumn: 'name',
              descriptionColumn: 'description',
              unitsColumn: 'units',
            },
          }),
        )
      ).driver as NarrowSqlDriver;
      drivers.push(narrow, withCatalog);
    }, 60_000);

    afterAll(async () => {
      for (const d of drivers) await d.stop();
      for (const t of [history, catalog, wide]) await db?.exec(`DROP TABLE IF EXISTS ${t}`);
      await db?.close();
    });

    it('given distinct tag names, when searched with a pattern, then matches come in name order with the total', async () => {
      const page1 = await narrow.searchTags({ name: 'line1.*', page: 1, pageSize: 2 }, signal());
      expect(page1.total).toBe(3);
      expect(page1.tags.map((t) => t.name)).toEqual(['Line1.Batch', 'Line1.Flow']);
      const page2 = await narrow.searchTags({ name: 'Line1.*', page: 2, pageSize: 2 }, signal());
      expect(page2.tags.map((t) => t.name)).toEqual(['Line1.Level']);
      expect((await narrow.searchTags({ name: 'Line?.Fl*', page: 1, pageSize: 10 }, signal())).total).toBe(1);
      expect(page1.tags[0]).toMatchObject({ dataType: 'string', writable: false });
    });

    it('given names with LIKE wildcards and quotes, when searched literally, then each matches only itself', async () => {
      for (const name of ['100%_done', 'under_score', '[bracket]', 'bang!tag', "O'Brien; DROP"]) {
        const found = await narrow.searchTags({ name, page: 1, pageSize: 10 }, signal());
        expect(found.tags.map((t) => t.name)).toEqual([name]);
      }
      // % and _ in a pattern are characters, not wildcards: no tag is named exactly this.
      expect((await narrow.searchTags({ name: '%', page: 1, pageSize: 10 }, signal())).total).toBe(0);
      expect((await narrow.searchTags({ name: '____', page: 1, pageSize: 10 }, signal())).total).toBe(0);
      expect((await narrow.searchTags({ name: '[b]*', page: 1, pageSize: 10 }, signal())).total).toBe(0);
    });

    it('given a catalogue table, when searched by description and units, then it answers from its columns', async () => {
      const byDescription = await withCatalog.searchTags(
        { description: '100% OPEN', page: 1, pageSize: 10 },
        signal(),
      );
      expect(byDescription.tags.map((t) => t.name)).toEqual(['Line1.Flow']);
      expect(byDescription.tags[0]).toMatchObject({ description: 'Feed flow 100% open', units: 'm3/h' });
      expect(
        (await withCatalog.searchTags({ description: '1_0', page: 1, pageSize: 10 }, signal())).total,
      ).toBe(0);
      const byUnits = await withCatalog.searchTags({ units: 'm', page: 1, pageSize: 10 }, signal());
      expect(byUnits.tags.map((t) => t.name)).toEqual(['Line1.Level']);
      // Tags that are only in history are not in the catalogue.
      expect(await withCatalog.getTags(['Line1.Flow', 'under_score'], signal())).toHaveLength(1);
      expect((await withCatalog.searchTags({ label: 'any', page: 1, pageSize: 10 }, signal())).total).toBe(0);
    });

    it('given a catalogue table, when tags are created, changed and deleted, then its rows follow and names stay keys', async () => {
      const made = await withCatalog.createTag(
        { name: "Line2.O'Flow", description: 'New meter', units: 'l/s' },
        signal(),
      );
      expect(made).toMatchObject({ name: "Line2.O'Flow", units: 'l/s' });
      expect(await db.exec(`SELECT description FROM ${catalog} WHERE name = ?`, ["Line2.O'Flow"])).toEqual([
        ['New meter'],
      ]);
      await expect(withCatalog.createTag({ name: "Line2.O'Flow" }, signal())).rejects.toMatchObject({
        code: 'PG_ERR_CONFLICT',
      });
      expect(await withCatalog.updateTag("Line2.O'Flow", { units: 'm3/h' }, signal())).toMatchObject({
        units: 'm3/h',
        description: 'New meter',
      });
      await expect(
        withCatalog.updateTag("Line2.O'Flow", { name: 'Renamed' }, signal()),
      ).rejects.toMatchObject({ code: 'PG_ERR_BAD_VALUE' });
      await expect(withCatalog.createTag({ name: 'X', type: 'float32' }, signal())).rejects.toMatchObject({
        code: 'PG_ERR_BAD_VALUE',
        message: expect.stringContaining('not type'),
      });
      await withCatalog.deleteTag("Line2.O'Flow", signal());
      expect(await withCatalog.getTags(["Line2.O'Flow"], signal())).toEqual([]);
      await expect(withCatalog.deleteTag("Line2.O'Flow", signal())).rejects.toMatchObject({
        code: 'PG_ERR_TAG_NOT_FOUND',
      });
      // Without a catalogue the tags are history's names: nothing to create.
      await expect(narrow.createTag({ name: 'Y' }, signal())).rejects.toMatchObject({
        code: 'PG_ERR_NOT_SUPPORTED',
        message: expect.stringContaining('settings.catalog'),
      });
    });

    it('given a range, when raw values are read, then they come in time order with quality, inside or with the boundary samples', async () => {
      const tag = await tagOf(narrow, 'Line1.Flow');
      const start = T0 + 100_005;
      const end = T0 + 200_005;
      const inside = await rawOf(narrow, tag, start, end, 'inside');
      expect(inside.map((v) => v.time)).toEqual(
        Array.from({ length: 10 }, (_, i) => T0 + 110_000 + i * 10_000),
      );
      const outside = await rawOf(narrow, tag, start, end, 'outside');
      expect(outside[0]!.time).toBe(T0 + 100_000);
      expect(outside.at(-1)!.time).toBe(T0 + 210_000);
      expect(outside).toHaveLength(12);
      const all = await rawOf(narrow, tag, T0, T0 + 20_000_000, 'inside');
      const statuses = new Set(all.map((v) => v.status));
      expect(statuses).toEqual(new Set(['good', 'uncertain', 'bad']));
      const limited: Value[] = [];
      for await (const chunk of narrow.readRaw(
        tag,
        { start: T0, end: T0 + 20_000_000, maxValues: 25, boundary: 'inside' },
        signal(),
      ))
        limited.push(...chunk);
      expect(limited).toEqual(all.slice(0, 25));
      const text = await rawOf(narrow, await tagOf(narrow, 'Line1.Batch'), T0, T0 + 120_000, 'inside');
      expect(text.map((v) => v.value)).toEqual(['B-0', 'B-1', 'B-2']);
    });

    it('given buckets, when aggregates are pushed down, then they equal what the core computes from raw values', async () => {
      const tag = await tagOf(narrow, 'Line1.Flow');
      const start = T0 + 5_000;
      const end = T0 + 15_005_000;
      const intervalMs = 600_000;
      const functions = ['AVG', 'MIN', 'MAX', 'COUNT', 'RANGE', 'VARIANCE', 'STDDEV'] as const;
      const pushed = await narrow.readProcessed(tag, { start, end, intervalMs, functions }, signal());
      expect([...pushed.keys()]).toEqual([...functions]);
      const raw = await rawOf(narrow, tag, start, end);
      const core = computeAggregates(raw, makeBuckets(start, end, intervalMs), [...functions], false);
      for (const fn of functions) {
        const ours = pushed.get(fn)!;
        expect(ours.map((v) => [v.time, v.status])).toEqual(core[fn]!.map((v) => [v.time, v.status]));
        ours.forEach((v, i) => {
          const expected = core[fn]![i]!.value as number | null;
          if (expected === null) expect(v.value).toBeNull();
          else expect(v.value as number).toBeCloseTo(expected, 6);
        });
      }
      // TIMEAVERAGE and the like need the signal between samples: the core computes them.
      expect(
        (await narrow.readProcessed(tag, { start, end, intervalMs, functions: ['TIMEAVERAGE'] }, signal()))
          .size,
      ).toBe(0);
    });

    it('given buckets, when plot values are pushed down, then they are the samples the core would pick', async () => {
      const tag = await tagOf(narrow, 'Line1.Flow');
      const start = T0;
      const end = T0 + 20_000_000;
      const pushed = await narrow.readPlot(tag, { start, end, intervals: 50 }, signal());
      const raw = await rawOf(narrow, tag, start, end, 'inside');
      const core = plotValues(raw, makeBuckets(start, end, (end - start) / 50));
      expect(pushed).toEqual(core);
      expect(pushed.length).toBeLessThan(raw.length);
    });

    it('given times, when values at times are read, then each is the sample in force then, held', async () => {
      const tag = await tagOf(narrow, 'Line1.Level');
      const times = [T0 - 1, T0 + 3, T0 + 50_000, T0 + 99_999, T0 + 100_003, T0 + 10_000_000];
      const values = await narrow.readAtTimes(tag, times, signal());
      const raw = await rawOf(narrow, tag, T0 - 10_000, T0 + 10_000_000);
      expect(values.map((v) => v.time)).toEqual(times);
      expect(values[0]).toMatchObject({ status: 'bad', value: null });
      for (const [i, t] of times.entries()) if (i > 0) expect(values[i]).toEqual(valueAt(raw, t, true));
    });

    it('given a wide table with epoch milliseconds, when read, then each configured column is a tag', async () => {
      const bigint = 'BIGINT';
      const float = dialect === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE';
      await db.exec(`DROP TABLE IF EXISTS ${wide}`);
      await db.exec(
        `CREATE TABLE ${wide} (t_ms ${bigint} NOT NULL PRIMARY KEY, pressure ${float}, temp ${float}, mode VARCHAR(20))`,
      );
      for (let i = 0; i < 30; i++)
        await db.exec(`INSERT INTO ${wide} (t_ms, pressure, temp, mode) VALUES (?, ?, ?, ?)`, [
          T0 + i * 1000,
          i,
          i % 2 ? null : 100 + i,
          i % 10 === 0 ? `m${i}` : null,
        ]);
      const { driver } = await startSqlDriver(
        'wide',
        sqlSettings(db, {
          history: { layout: 'wide', table: wide, timeColumn: 't_ms', timeStorage: 'epochMilliseconds' },
        }),
        [
          { name: 'Press', column: 'pressure', units: 'bar' },
          { name: 'temp' },
          { name: 'Mode', column: 'mode', dataType: 'string' },
        ],
      );
      drivers.push(driver);
      const w = driver as WideSqlDriver;
      const [press, temp, mode] = w.listTags();
      expect(press).toMatchObject({ name: 'Press', units: 'bar', writable: false });
      const latest = await w.readSnapshot([press!, temp!, mode!], signal());
      expect(latest.map((v) => [v.time - T0, v.value])).toEqual([
        [29_000, 29],
        [28_000, 128],
        [20_000, 'm20'],
      ]);
      const tempRaw = await rawOf(w, temp!, T0 + 1500, T0 + 6500, 'outside');
      expect(tempRaw.map((v) => v.value)).toEqual([100, 102, 104, 106, 108]);
      const avg = await w.readProcessed(
        temp!,
        { start: T0, end: T0 + 30_000, intervalMs: 10_000, functions: ['AVG', 'COUNT'] },
        signal(),
      );
      expect(avg.get('COUNT')!.map((v) => v.value)).toEqual([5, 5, 5]);
      expect(avg.get('AVG')!.map((v) => v.value)).toEqual([104, 114, 124]);
      expect((await w.readAtTimes(mode!, [T0 + 15_500], signal()))[0]).toMatchObject({
        value: 'm10',
        time: T0 + 15_500,
      });
      expect(await w.writeValues([{ tag: press!, value: 1 }], signal())).toMatchObject([
        { ok: false, code: 'PG_ERR_TAG_NOT_WRITABLE' },
      ]);
    });

    it('given a wide table with writes enabled, when values are written, then each is a row of its own column', async () => {
      const { driver } = await startSqlDriver(
        'wide-writes',
        sqlSettings(db, {
          history: { layout: 'wide', table: wide, timeColumn: 't_ms', timeStorage: 'epochMilliseconds' },
          writes: { enabled: true },
        }),
        [
          { name: 'Press', column: 'pressure' },
          { name: 'Mode', column: 'mode', dataType: 'string' },
        ],
      );
      drivers.push(driver);
      const w = driver as WideSqlDriver;
      const [press, mode] = w.listTags();
      const results = await w.writeValues(
        [
          { tag: press!, value: 77.5, time: T0 + 100_000 },
          { tag: mode!, value: 'auto', time: T0 + 101_000 },
          { tag: mode!, value: 3 },
        ],
        signal(),
      );
      expect(results).toMatchObject([{ ok: true }, { ok: true }, { ok: false, code: 'PG_ERR_BAD_VALUE' }]);
      const latest = await w.readSnapshot([press!, mode!], signal());
      expect(latest.map((v) => [v.time - T0, v.value])).toEqual([
        [100_000, 77.5],
        [101_000, 'auto'],
      ]);
    });
  });
}

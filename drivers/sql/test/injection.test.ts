/**
 * Injection: tag names, patterns and values with quotes, comments, stacked statements, backslash
 * escapes, Unicode look-alikes and wildcards go through every operation of the SQL driver against
 * real PostgreSQL and MariaDB. A canary table proves afterwards that none of it ran as SQL, and the
 * names read back proves they were taken as data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tag } from '../../core/index.ts';
import { numericTag } from '../../core/testing.ts';
import type { NarrowSqlDriver } from '../driver.ts';
import {
  configuredDatabases,
  createNarrowTables,
  insertSamples,
  narrowMapping,
  openDatabase,
  sqlSettings,
  startSqlDriver,
  type TestDatabase,
  tableName,
} from './databases.ts';

const signal = () => new AbortController().signal;

function attacks(canary: string): string[] {
  return [
    `'; DROP TABLE ${canary}; --`,
    `' OR '1'='1`,
    `" OR 1=1 --`,
    `x'); DELETE FROM ${canary}; --`,
    `1; INSERT INTO ${canary} (marker) VALUES ('pwned')`,
    `tag' UNION SELECT marker, marker, marker FROM ${canary} --`,
    `\\'; DROP TABLE ${canary}; #`,
    `\\\\'; UPDATE ${canary} SET marker = 'pwned'; -- `,
    `/* */ tag /*`,
    `tag'/**/OR/**/1=1#`,
    `\u02bc; DROP TABLE ${canary}; --`, // modifier letter apostrophe
    `\uff07; DROP TABLE ${canary}; --`, // fullwidth apostrophe
    `\u2019 OR 1=1 --`, // right single quotation mark
    `\uff02; DELETE FROM ${canary}; \uff1b`, // fullwidth quotation mark and semicolon
    `$$; DROP TABLE ${canary}; $$`,
    '`; DROP TABLE x; `',
    `]; DROP TABLE ${canary}; --`,
    '%',
    '_',
    '%%%%_%%%%',
    '[a-z]%',
    '!%',
  ];
}

const tagNamed = (name: string): Tag => numericTag(name);

for (const dialect of configuredDatabases()) {
  describe(`SQL injection (${dialect})`, () => {
    let db: TestDatabase;
    let driver: NarrowSqlDriver;
    const history = tableName(`inj_hist_${dialect}`);
    const catalog = tableName(`inj_tags_${dialect}`);
    const canary = tableName(`inj_canary_${dialect}`);
    const names = () => attacks(canary);
    const T0 = Date.UTC(2026, 0, 1);

    beforeAll(async () => {
      db = await openDatabase(dialect);
      await createNarrowTables(db, history, catalog);
      await db.exec(`DROP TABLE IF EXISTS ${canary}`);
      await db.exec(`CREATE TABLE ${canary} (marker VARCHAR(64))`);
      await db.exec(`INSERT INTO ${canary} (marker) VALUES ('intact')`);
      await insertSamples(db, history, [
        { tag: 'Safe.A', time: T0, value: 1 },
        { tag: 'Safe.B', time: T0, value: 2 },
      ]);
      await db.exec(`INSERT INTO ${catalog} (name, description, units) VALUES ('Safe.A', 'a safe tag', 'm')`);
      const settings = sqlSettings(db, {
        history: narrowMapping(history, { text: false }),
        writes: { enabled: true },
      });
      driver = (await startSqlDriver('inj', settings)).driver as NarrowSqlDriver;
    }, 30_000);

    afterAll(async () => {
      await driver?.stop();
      for (const t of [history, catalog, canary]) await db?.exec(`DROP TABLE IF EXISTS ${t}`);
      await db?.close();
    });

    it('given hostile names and patterns, when searched and looked up, then they match only themselves or nothing', async () => {
      for (const name of names()) {
        const found = await driver.searchTags({ name, page: 1, pageSize: 100 }, signal());
        expect(
          found.tags.map((t) => t.name),
          name,
        ).toEqual([]);
        expect(await driver.getTags([name, 'Safe.A'], signal())).toHaveLength(1);
        // The pattern stays a pattern of literal characters inside *…*: nothing else widens it.
        const around = await driver.searchTags({ name: `*${name}*`, page: 1, pageSize: 100 }, signal());
        expect(
          around.tags.map((t) => t.name),
          name,
        ).toEqual([]);
      }
    });

    it('given hostile tag names, when every read runs with them, then each answers for that literal name only', async () => {
      for (const name of names()) {
        const tag = tagNamed(name);
        const [snapshot] = await driver.readSnapshot([tag], signal());
        expect(snapshot, name).toMatchObject({ status: 'bad', value: null });
        expect(snapshot!.error, name).toContain('no sample');
        const raw = [];
        for await (const chunk of driver.readRaw(
          tag,
          { start: 0, end: T0 + 1e9, maxValues: 10, boundary: 'outside' },
          signal(),
        ))
          raw.push(...chunk);
        expect(raw, name).toEqual([]);
        const processed = await driver.readProcessed(
          tag,
          { start: T0 - 1000, end: T0 + 1000, intervalMs: 1000, functions: ['COUNT', 'AVG'] },
          signal(),
        );
        expect(
          processed.get('COUNT')!.map((v) => v.value),
          name,
        ).toEqual([0, 0]);
        expect(
          await driver.readPlot(tag, { start: T0 - 1000, end: T0 + 1000, intervals: 2 }, signal()),
        ).toEqual([]);
        expect((await driver.readAtTimes(tag, [T0 + 1], signal()))[0], name).toMatchObject({ status: 'bad' });
      }
    });

    it('given hostile names written as tags, when read back, then they were stored as data, verbatim', async () => {
      const list = names();
      const results = await driver.writeValues(
        list.map((name, i) => ({ tag: tagNamed(name), value: i, time: T0 + 60_000 })),
        signal(),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const found = await driver.getTags(list, signal());
      expect(found.map((t) => t.name).sort()).toEqual([...list].sort());
      const values = await driver.readSnapshot(list.map(tagNamed), signal());
      expect(values.map((v) => v.value)).toEqual(list.map((_, i) => i));
      // The wildcards written as names are searched literally too: '%' finds the tag named '%' only.
      expect(
        (await driver.searchTags({ name: '%', page: 1, pageSize: 100 }, signal())).tags.map((t) => t.name),
      ).toEqual(['%']);
      expect(
        (await driver.searchTags({ name: '_', page: 1, pageSize: 100 }, signal())).tags.map((t) => t.name),
      ).toEqual(['_']);
    });

    it('given everything above, when the canary is read, then it and the history are untouched', async () => {
      expect(await db.exec(`SELECT marker FROM ${canary}`)).toEqual([['intact']]);
      const rows = await db.exec(`SELECT COUNT(*) FROM ${history}`);
      expect(Number(rows[0]![0])).toBe(2 + names().length);
    });
  });
}

/** Annotations kept in a site's SQL table, on PostgreSQL and MariaDB: written, read by range, changed, deleted, quotes as data. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Annotation, Driver } from '../../core/index.ts';
import type { NarrowSqlDriver } from '../driver.ts';
import {
  configuredDatabases,
  createNarrowTables,
  narrowMapping,
  openDatabase,
  sqlSettings,
  startSqlDriver,
  type TestDatabase,
  tableName,
} from './databases.ts';

const signal = () => new AbortController().signal;
const T = Date.UTC(2026, 4, 1, 8, 0, 0);

for (const dialect of configuredDatabases()) {
  describe(`SQL annotations table (${dialect})`, () => {
    let db: TestDatabase;
    let driver: NarrowSqlDriver;
    const history = tableName(`ann_hist_${dialect}`);
    const notes = tableName(`ann_notes_${dialect}`);
    const drivers: Driver[] = [];
    const note = (id: string, start: number, end: number | undefined, text: string): Annotation => ({
      id,
      source: 'hist',
      start,
      ...(end !== undefined ? { end } : {}),
      text,
      tags: ['Line1.Flow'],
      author: 'user:alice',
      createdAt: T,
      modifiedBy: 'user:alice',
      modifiedAt: T,
    });

    beforeAll(async () => {
      db = await openDatabase(dialect);
      await createNarrowTables(db, history);
      const time = dialect === 'postgres' ? 'TIMESTAMP(3)' : 'DATETIME(3)';
      await db.exec(`DROP TABLE IF EXISTS ${notes}`);
      await db.exec(
        `CREATE TABLE ${notes} (id VARCHAR(36) PRIMARY KEY, start_time ${time} NOT NULL, end_time ${time} NULL, note VARCHAR(4000) NOT NULL, tags VARCHAR(4000) NOT NULL, author VARCHAR(256) NOT NULL, created_at ${time} NOT NULL, modified_by VARCHAR(256) NOT NULL, modified_at ${time} NOT NULL)`,
      );
      driver = (
        await startSqlDriver(
          'hist',
          sqlSettings(db, { history: narrowMapping(history), annotations: { table: notes } }),
        )
      ).driver as NarrowSqlDriver;
      drivers.push(driver);
    }, 30_000);

    afterAll(async () => {
      for (const d of drivers) await d.stop();
      for (const t of [history, notes]) await db?.exec(`DROP TABLE IF EXISTS ${t}`);
      await db?.close();
    });

    it('given notes written, when read by range, then instants and ranges that overlap come back in time order', async () => {
      expect(driver.keepsAnnotations()).toBe(true);
      await driver.createAnnotation(
        note('00000000-0000-4000-8000-000000000001', T, T + 3_600_000, "O'Brien's shift; DROP TABLE x; --"),
        signal(),
      );
      await driver.createAnnotation(
        note('00000000-0000-4000-8000-000000000002', T + 600_000, undefined, 'valve V12'),
        signal(),
      );
      await driver.createAnnotation(
        note('00000000-0000-4000-8000-000000000003', T + 7_200_000, undefined, 'later'),
        signal(),
      );
      const read = await driver.readAnnotations(T + 60_000, T + 3_000_000, 100, signal());
      expect(read.map((a) => a.text)).toEqual(["O'Brien's shift; DROP TABLE x; --", 'valve V12']);
      expect(read[0]).toEqual(
        note('00000000-0000-4000-8000-000000000001', T, T + 3_600_000, "O'Brien's shift; DROP TABLE x; --"),
      );
      expect(read[1]!.end).toBeUndefined();
      expect(
        await db.exec(`SELECT tags FROM ${notes} WHERE id = ?`, ['00000000-0000-4000-8000-000000000002']),
      ).toEqual([['["Line1.Flow"]']]);
    });

    it('given a note, when changed and deleted, then the table follows', async () => {
      const changed = {
        ...note('00000000-0000-4000-8000-000000000002', T + 600_000, T + 660_000, 'valve V12 replaced'),
        modifiedBy: 'user:bob',
      };
      await driver.updateAnnotation(changed, signal());
      expect(await driver.getAnnotation(changed.id, signal())).toEqual(changed);
      expect(await driver.deleteAnnotation(changed.id, signal())).toBe(true);
      expect(await driver.getAnnotation(changed.id, signal())).toBeUndefined();
      expect(await driver.deleteAnnotation(changed.id, signal())).toBe(false);
    });

    it('given no annotations table, when asked, then the source leaves annotations to the gateway', async () => {
      const { driver: plain } = await startSqlDriver(
        'plain',
        sqlSettings(db, { history: narrowMapping(history) }),
      );
      drivers.push(plain);
      expect((plain as NarrowSqlDriver).keepsAnnotations()).toBe(false);
    });
  });
}

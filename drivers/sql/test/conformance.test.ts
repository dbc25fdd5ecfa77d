/** The driver conformance suite on a narrow history table with a catalogue, in PostgreSQL and MariaDB. */
import { describeDriverConformance } from '../../core/conformance.ts';
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
  tableName,
} from './databases.ts';

for (const dialect of configuredDatabases()) {
  describeDriverConformance(`sql (${dialect})`, async () => {
    const db = await openDatabase(dialect);
    const history = tableName(`conf_hist_${dialect}`);
    const catalog = tableName(`conf_tags_${dialect}`);
    await createNarrowTables(db, history, catalog);
    await insertCatalog(db, catalog, [
      ['Temp.A', 'Tank A temperature', 'degC'],
      ['Temp.B', 'Tank B temperature', 'degC'],
      ['Label', 'Batch label', ''],
      ['Flag', 'Agitator running', ''],
      ['Missing', 'Never recorded', ''],
      ['ReadOnly', 'Lab value', 'g/l'],
    ]);
    const t0 = Date.now() - 3_600_000;
    const samples: Sample[] = [];
    for (let i = 0; i < 10; i++) {
      samples.push({ tag: 'Temp.A', time: t0 + i * 60_000, value: 20 + i / 10 });
      samples.push({ tag: 'Temp.B', time: t0 + i * 60_000, value: i });
    }
    samples.push({ tag: 'Temp.A', time: t0 + 600_000, value: 21.5 });
    samples.push({ tag: 'Temp.B', time: t0 + 600_000, value: 7 });
    samples.push({ tag: 'Label', time: t0, value: null, text: 'ok' });
    samples.push({ tag: 'Flag', time: t0, value: 1 });
    samples.push({ tag: 'ReadOnly', time: t0, value: 12.5 });
    await insertSamples(db, history, samples);
    const settings = sqlSettings(db, {
      history: narrowMapping(history),
      catalog: { table: catalog, nameColumn: 'name', descriptionColumn: 'description', unitsColumn: 'units' },
      writes: { enabled: true },
    });
    const { driver, host } = await startSqlDriver('historian', settings, [
      { name: 'Label', dataType: 'string' },
      { name: 'Flag', dataType: 'bool' },
      { name: 'ReadOnly', writable: false },
    ]);
    return {
      driver,
      host,
      served: [
        { tag: 'Temp.A', value: 21.5 },
        { tag: 'Temp.B', value: 7 },
        { tag: 'Label', value: 'ok' },
        { tag: 'Flag', value: true },
      ],
      writes: [
        { tag: 'Temp.A', value: 33.25 },
        { tag: 'Label', value: 'changed' },
      ],
      badWrite: { tag: 'Temp.B', value: 'not a number' },
      missing: 'Missing',
      readOnly: 'ReadOnly',
      async teardown() {
        await driver.stop();
        await db.exec(`DROP TABLE IF EXISTS ${history}`);
        await db.exec(`DROP TABLE IF EXISTS ${catalog}`);
        await db.close();
      },
    };
  });
}

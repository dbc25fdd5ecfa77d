/**
 * A SQL historian source in a running gateway, on PostgreSQL: the config with its sealed password,
 * then every read operation through the gateway's API, writes refused on a read-only source, health.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../drivers/core/index.ts';
import {
  configuredDatabases,
  createNarrowTables,
  insertSamples,
  openDatabase,
  type Sample,
  type TestDatabase,
  tableName,
} from '../../drivers/sql/test/databases.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { freePort } from '../local-api/free-port.ts';
import { readLocalToken } from '../local-api/token.ts';
import { type RunningGateway, startGateway } from '../runtime.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';

type History = {
  tags: {
    tag: string;
    function?: string;
    truncated?: boolean;
    values: { time: string; value: unknown; status: string }[];
  }[];
};

const hasPostgres = configuredDatabases().includes('postgres');
const T0 = Date.UTC(2026, 10, 1);
const iso = (ms: number) => new Date(ms).toISOString();

describe.runIf(hasPostgres)('a SQL source in the gateway (postgres)', () => {
  let db: TestDatabase;
  let gateway: RunningGateway;
  let client: LocalApiClient;
  let dir: string;
  const history = tableName('gw_hist');
  const catalog = tableName('gw_tags');
  const notes = tableName('gw_notes');

  const sourceYaml = (password: string) => `gateway: { id: test-site, dataDir: ./data }
console: { port: PORT }
sources:
  - id: historian
    driver: sql
    settings:
      dialect: postgres
      connection:
        host: ${db.url.hostname}
        port: ${db.url.port || 5432}
        database: ${db.url.pathname.slice(1)}
        user: ${decodeURIComponent(db.url.username)}
        password: "${password}"
        tls: { enabled: false }
      history: { table: ${history}, tagColumn: tag, timeColumn: ts, valueColumn: value, qualityColumn: quality }
      catalog: { table: ${catalog}, nameColumn: name, descriptionColumn: description, unitsColumn: units }
      annotations: { table: ${notes} }
`;

  beforeAll(async () => {
    db = await openDatabase('postgres');
    await createNarrowTables(db, history, catalog);
    const samples: Sample[] = [];
    for (let i = 0; i < 600; i++) samples.push({ tag: 'Boiler.Steam', time: T0 + i * 1000, value: i % 60 });
    await insertSamples(db, history, samples);
    await db.exec(
      `INSERT INTO ${catalog} (name, description, units) VALUES ('Boiler.Steam', 'Steam flow', 't/h')`,
    );
    await db.exec(`DROP TABLE IF EXISTS ${notes}`);
    await db.exec(
      `CREATE TABLE ${notes} (id TEXT PRIMARY KEY, start_time TIMESTAMP(3) NOT NULL, end_time TIMESTAMP(3), note TEXT NOT NULL, tags TEXT NOT NULL, author TEXT NOT NULL, created_at TIMESTAMP(3) NOT NULL, modified_by TEXT NOT NULL, modified_at TIMESTAMP(3) NOT NULL)`,
    );
    dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-gw-sql-'));
    const dataDir = path.join(dir, 'data');
    const sealed = Sealer.open(dataDir, await machineIdentity()).seal('not-needed-with-trust-auth', {
      driver: 'sql',
      source: 'historian',
      field: 'connection.password',
    });
    const file = path.join(dir, 'gateway.yaml');
    writeFileSync(file, sourceYaml(sealed).replace('PORT', String(await freePort())));
    const config = await loadGatewayConfig(file);
    gateway = await startGateway(config, silentLogger);
    client = new LocalApiClient(gateway.port, readLocalToken(config.gateway.dataDir));
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    for (const t of [history, catalog, notes]) await db?.exec(`DROP TABLE IF EXISTS ${t}`);
    await db?.close();
  });

  it('given a password in clear, when the config is loaded, then it is refused by path', async () => {
    const file = path.join(dir, 'clear.yaml');
    writeFileSync(file, sourceYaml('secret').replace('PORT', '7443'));
    const refusal = await loadGatewayConfig(file).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(refusal).toContain('sources[0].settings.connection.password: a secret must be sealed');
  });

  it('given the catalogue, when searched and read, then the tag and its latest value answer', async () => {
    const search = await client.call('tags.search', 'historian', { name: 'boiler.*' });
    expect((search.body as { tags: unknown[] }).tags).toEqual([
      expect.objectContaining({ name: 'Boiler.Steam', description: 'Steam flow', units: 't/h' }),
    ]);
    const snapshot = await client.call('values.snapshot', 'historian', { tags: ['Boiler.Steam', 'Nope'] });
    expect(snapshot.body).toMatchObject({
      values: [
        { tag: 'Boiler.Steam', value: 599 % 60, status: 'good', time: iso(T0 + 599_000) },
        { tag: 'Nope', status: 'bad' },
      ],
    });
  });

  it('given a range, when raw values are read with a limit and boundary, then the gateway truncates and adds the boundary', async () => {
    const { body } = await client.call('values.raw', 'historian', {
      tags: ['Boiler.Steam'],
      start: iso(T0 + 10_500),
      end: iso(T0 + 20_500),
      boundary: 'outside',
    });
    const [steam] = (body as History).tags;
    expect(steam!.values.map((v) => v.time)).toEqual(
      Array.from({ length: 12 }, (_, i) => iso(T0 + 10_000 + i * 1000)),
    );
    const limited = await client.call('values.raw', 'historian', {
      tags: ['Boiler.Steam'],
      start: iso(T0),
      end: iso(T0 + 600_000),
      maxValues: 5,
    });
    expect((limited.body as History).tags[0]).toMatchObject({ truncated: true });
    expect((limited.body as History).tags[0]!.values).toHaveLength(5);
  });

  it('given buckets, when plot and processed values are read, then SQL and the core answer together', async () => {
    const plot = await client.call('values.plot', 'historian', {
      tags: ['Boiler.Steam'],
      start: iso(T0),
      end: iso(T0 + 600_000),
      intervals: 10,
    });
    const values = (plot.body as History).tags[0]!.values;
    // A sawtooth of 60 s per bucket: first 0, last 59, and those are also its minimum and maximum.
    expect(values).toHaveLength(20);
    expect(values.slice(0, 2).map((v) => v.value)).toEqual([0, 59]);
    const processed = await client.call('values.processed', 'historian', {
      tags: ['Boiler.Steam'],
      start: iso(T0),
      end: iso(T0 + 120_000),
      interval: '1m',
      functions: ['AVG', 'TIMEAVERAGE', 'COUNT'],
    });
    const [avg, timeAverage, count] = (processed.body as History).tags;
    expect(avg!.values.map((v) => v.value)).toEqual([29.5, 29.5]);
    expect(count!.values.map((v) => v.value)).toEqual([60, 60]);
    expect(timeAverage).toMatchObject({ function: 'TIMEAVERAGE' });
    expect(timeAverage!.values.every((v) => typeof v.value === 'number')).toBe(true);
    const atTimes = await client.call('values.atTimes', 'historian', {
      tags: ['Boiler.Steam'],
      times: [iso(T0 + 1500), iso(T0 - 1)],
    });
    expect((atTimes.body as History).tags[0]!.values).toMatchObject([
      { value: 1, status: 'good', time: iso(T0 + 1500) },
      { value: null, status: 'bad' },
    ]);
  });

  it('given a source without writes enabled, when a value is written, then it is refused and nothing is inserted', async () => {
    const { body } = await client.call('values.write', 'historian', {
      values: [{ tag: 'Boiler.Steam', value: 1 }],
    });
    expect(JSON.stringify(body)).toContain('PG_ERR_TAG_NOT_WRITABLE');
    const rows = await db.exec(`SELECT COUNT(*) FROM ${history}`);
    expect(Number(rows[0]![0])).toBe(600);
  });

  it('given an annotations table, when a note is made through the API, then it is a row of that table', async () => {
    const { body } = await client.call('annotations.create', 'historian', {
      text: 'Steam trap replaced',
      start: iso(T0 + 60_000),
    });
    const id = (body as { annotation: { id: string } }).annotation.id;
    expect(await db.exec(`SELECT note, author FROM ${notes} WHERE id = ?`, [id])).toEqual([
      ['Steam trap replaced', 'local:token'],
    ]);
    const read = await client.call('annotations.read', 'historian', {
      start: iso(T0),
      end: iso(T0 + 120_000),
    });
    expect((read.body as { annotations: { id: string }[] }).annotations.map((a) => a.id)).toEqual([id]);
  });

  it('given a running source, when health is read, then it shows the database and that TLS is off', async () => {
    const { body } = await client.call('health', undefined, {});
    const source = (
      body as { sources: { id: string; state: string; details: Record<string, unknown> }[] }
    ).sources.find((s) => s.id === 'historian')!;
    expect(source).toMatchObject({
      state: 'running',
      details: { dialect: 'postgres', tls: 'off', layout: 'narrow' },
    });
  });
});

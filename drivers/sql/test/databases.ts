/**
 * The real databases the SQL driver is tested against: PostgreSQL and MariaDB/MySQL, addressed by
 * PLANTGATE_TEST_POSTGRES_URL and PLANTGATE_TEST_MYSQL_URL (.ci/run sets both and starts the servers).
 * Each test makes tables of its own, named after the process, and drops them when done.
 */
import { Ajv } from 'ajv';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { RecordingHost } from '../../core/testing.ts';
import { createSqlDriver, type SqlSourceConfig } from '../driver.ts';
import type { DialectName } from '../settings.ts';
import { SqlSettings, type SqlTagConfig } from '../settings.ts';

export interface TestDatabase {
  dialect: Exclude<DialectName, 'mssql'>;
  url: URL;
  /** Runs admin SQL (seeding, inspecting the server); `?` placeholders for both. */
  exec(sql: string, params?: unknown[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

const ENV = { postgres: 'PLANTGATE_TEST_POSTGRES_URL', mysql: 'PLANTGATE_TEST_MYSQL_URL' } as const;

/** The databases configured here; in CI a missing one fails the run, elsewhere it is skipped with a notice. */
export function configuredDatabases(): TestDatabase['dialect'][] {
  const out: TestDatabase['dialect'][] = [];
  for (const dialect of ['postgres', 'mysql'] as const) {
    if (process.env[ENV[dialect]]) out.push(dialect);
    else if (process.env.CI)
      throw new Error(`${ENV[dialect]} is required in CI (.ci/run starts the database)`);
    else console.warn(`NOTICE: ${ENV[dialect]} is not set: the SQL driver's ${dialect} tests are skipped`);
  }
  return out;
}

export async function openDatabase(dialect: TestDatabase['dialect']): Promise<TestDatabase> {
  const url = new URL(process.env[ENV[dialect]]!);
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url.href, options: '-c TimeZone=UTC' });
    await client.connect();
    return {
      dialect,
      url,
      async exec(sql, params = []) {
        let n = 0;
        const text = sql.replace(/\?/g, () => `$${++n}`);
        return (await client.query({ text, values: params, rowMode: 'array' })).rows;
      },
      close: () => client.end(),
    };
  }
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    timezone: 'Z',
    multipleStatements: false,
  });
  await connection.query("SET time_zone = '+00:00'");
  return {
    dialect,
    url,
    async exec(sql, params = []) {
      const [rows] = await connection.query({ sql, values: params, rowsAsArray: true });
      return Array.isArray(rows) ? (rows as unknown[][]) : [];
    },
    close: () => connection.end(),
  };
}

/** A table name unique to this process and test. */
export function tableName(base: string): string {
  return `pgt_${process.pid}_${base}`;
}

/** The narrow history table and its catalogue, as a historian might keep them. */
export async function createNarrowTables(db: TestDatabase, history: string, catalog?: string): Promise<void> {
  const time = db.dialect === 'postgres' ? 'TIMESTAMP(3)' : 'DATETIME(3)';
  const float = db.dialect === 'postgres' ? 'DOUBLE PRECISION' : 'DOUBLE';
  await db.exec(`DROP TABLE IF EXISTS ${history}`);
  await db.exec(
    `CREATE TABLE ${history} (tag VARCHAR(256) NOT NULL, ts ${time} NOT NULL, value ${float}, text_value VARCHAR(256), quality INTEGER)`,
  );
  await db.exec(`CREATE INDEX ${history}_tag_ts ON ${history} (tag, ts)`);
  if (catalog) {
    await db.exec(`DROP TABLE IF EXISTS ${catalog}`);
    await db.exec(
      `CREATE TABLE ${catalog} (name VARCHAR(256) PRIMARY KEY, description VARCHAR(1024), units VARCHAR(64))`,
    );
  }
}

export interface Sample {
  tag: string;
  time: number;
  value: number | null;
  text?: string | null;
  quality?: number | null;
}

export async function insertSamples(
  db: TestDatabase,
  table: string,
  samples: readonly Sample[],
): Promise<void> {
  for (let i = 0; i < samples.length; i += 1000) {
    const chunk = samples.slice(i, i + 1000);
    const params: unknown[] = [];
    const rows = chunk.map((s) => {
      params.push(
        s.tag,
        new Date(s.time).toISOString().replace('T', ' ').replace('Z', ''),
        s.value,
        s.text ?? null,
        s.quality ?? 192,
      );
      return '(?, ?, ?, ?, ?)';
    });
    await db.exec(
      `INSERT INTO ${table} (tag, ts, value, text_value, quality) VALUES ${rows.join(', ')}`,
      params,
    );
  }
}

const ajv = new Ajv({ useDefaults: true, strict: false });

/** The value with the schema's defaults filled in, as the gateway's config loader gives it; a bad one throws. */
export function withDefaults<T>(schema: object, value: unknown): T {
  const copy = structuredClone(value);
  if (!ajv.validate(schema, copy)) throw new Error(`bad test config: ${ajv.errorsText()}`);
  return copy as T;
}

/** The history mapping of the tables `createNarrowTables` makes. */
export function narrowMapping(table: string, columns: { text?: boolean; quality?: boolean } = {}) {
  return {
    table,
    tagColumn: 'tag',
    timeColumn: 'ts',
    valueColumn: 'value',
    ...(columns.text === false ? {} : { textValueColumn: 'text_value' }),
    ...(columns.quality === false ? {} : { qualityColumn: 'quality' }),
  };
}

/** Rows of the catalogue table `createNarrowTables` makes: name, description, units. */
export async function insertCatalog(db: TestDatabase, table: string, rows: readonly (readonly string[])[]) {
  for (const [name, description, units] of rows)
    await db.exec(`INSERT INTO ${table} (name, description, units) VALUES (?, ?, ?)`, [
      name,
      description,
      units,
    ]);
}

/** Source settings for a test database, TLS off (the CI servers have none) unless the test says otherwise. */
export function sqlSettings(db: TestDatabase, overrides: Record<string, unknown>): SqlSettings {
  return withDefaults<SqlSettings>(SqlSettings, {
    dialect: db.dialect,
    connection: {
      host: db.url.hostname,
      port: Number(db.url.port || (db.dialect === 'postgres' ? 5432 : 3306)),
      database: db.url.pathname.slice(1),
      user: decodeURIComponent(db.url.username),
      ...(db.url.password ? { password: decodeURIComponent(db.url.password) } : {}),
      tls: { enabled: false },
    },
    ...overrides,
  });
}

export async function startSqlDriver(id: string, settings: SqlSettings, tags: SqlTagConfig[] = []) {
  const host = new RecordingHost();
  const config: SqlSourceConfig = { id, driver: 'sql', enabled: true, settings, tags };
  const driver = createSqlDriver(config, host);
  await driver.start(new AbortController().signal);
  return { driver, host };
}

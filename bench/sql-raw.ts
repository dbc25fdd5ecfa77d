/**
 * One million raw values from PostgreSQL through the SQL driver, beside a direct `pg` query returning
 * the same rows. Each run is a process of its own, so its RSS growth is its own: the driver streams
 * (a cursor, batches of rows turned into values and let go), the direct query holds every row, and
 * a direct `pg-cursor` read in the driver's batch size is the floor of any streamed read.
 *
 *   node bench/sql-raw.ts                                  → runs each, three times, alternating
 *   node bench/sql-raw.ts driver|pg|pg-arrays|pg-cursor    → one run, prints its figures as JSON
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Tag } from '../drivers/core/index.ts';
import { RecordingHost } from '../drivers/core/testing.ts';
import { createSqlDriver, type NarrowSqlDriver } from '../drivers/sql/driver.ts';
import { SqlSettings } from '../drivers/sql/settings.ts';
import { withDefaults } from '../drivers/sql/test/databases.ts';

const URL_ENV = 'PLANTGATE_TEST_POSTGRES_URL';
const url = new URL(process.env[URL_ENV] ?? 'postgres://postgres@127.0.0.1:5432/test');
const TABLE = 'plantgate_bench_history';
const ROWS = 1_000_000;
const T0 = Date.UTC(2026, 0, 1);
const START = new Date(T0).toISOString();
const END = new Date(T0 + ROWS * 1000).toISOString();

const connection = {
  host: url.hostname,
  port: Number(url.port || 5432),
  database: url.pathname.slice(1),
  user: decodeURIComponent(url.username),
};

/** The history table with one million samples of one tag, a second apart; made once, then reused. */
async function seed(): Promise<void> {
  const client = new pg.Client({ ...connection, options: '-c TimeZone=UTC' });
  await client.connect();
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (tag VARCHAR(256) NOT NULL, ts TIMESTAMP(3) NOT NULL, value DOUBLE PRECISION, text_value VARCHAR(256), quality INTEGER)`,
    );
    const { rows } = await client.query(`SELECT COUNT(*)::int AS n FROM ${TABLE} WHERE tag = 'Bench.Flow'`);
    if (rows[0].n === ROWS) return;
    await client.query(`TRUNCATE ${TABLE}`);
    await client.query(
      `INSERT INTO ${TABLE} SELECT 'Bench.Flow', $1::timestamp + i * interval '1 second', round((50 + 40 * sin(i / 300.0))::numeric, 3), NULL, 192 FROM generate_series(0, $2 - 1) AS i`,
      [START, ROWS],
    );
    await client.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_tag_ts ON ${TABLE} (tag, ts)`);
    await client.query(`ANALYZE ${TABLE}`);
  } finally {
    await client.end();
  }
}

function memory(): { rssMB: number; peakMB: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

interface RunFigures {
  mode: string;
  rows: number;
  ms: number;
  rssGrowthMB: number;
}

async function runDriver(): Promise<RunFigures> {
  const settings = withDefaults<SqlSettings>(SqlSettings, {
    dialect: 'postgres',
    connection: { ...connection, tls: { enabled: false } },
    history: {
      table: TABLE,
      tagColumn: 'tag',
      timeColumn: 'ts',
      valueColumn: 'value',
      textValueColumn: 'text_value',
      qualityColumn: 'quality',
    },
    queryTimeoutMs: 120_000,
  });
  const driver = createSqlDriver(
    { id: 'bench', driver: 'sql', enabled: true, settings, tags: [] },
    new RecordingHost(),
  );
  await driver.start(new AbortController().signal);
  const [tag] = await (driver as NarrowSqlDriver).getTags(['Bench.Flow'], new AbortController().signal);
  const before = memory();
  const started = performance.now();
  let rows = 0;
  let sum = 0;
  for await (const values of (driver as NarrowSqlDriver).readRaw(
    tag as Tag,
    { start: T0, end: T0 + ROWS * 1000, maxValues: ROWS + 1, boundary: 'inside' },
    new AbortController().signal,
  )) {
    rows += values.length;
    for (const v of values) sum += v.value as number;
  }
  const ms = performance.now() - started;
  const after = memory();
  await driver.stop();
  if (!Number.isFinite(sum)) throw new Error('values were not numbers');
  return { mode: 'driver', rows, ms, rssGrowthMB: after.peakMB - before.rssMB };
}

/** The same rows by one `pg` query: as row objects (pg's default), or as arrays (its fastest form). */
async function runDirect(mode: 'pg' | 'pg-arrays'): Promise<RunFigures> {
  const client = new pg.Client({ ...connection, options: '-c TimeZone=UTC' });
  await client.connect();
  const before = memory();
  const started = performance.now();
  const result = await client.query({
    text: `SELECT ts, value, text_value, quality FROM ${TABLE} WHERE tag = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts LIMIT $4`,
    values: ['Bench.Flow', START, END, ROWS + 1],
    ...(mode === 'pg-arrays' ? { rowMode: 'array' } : {}),
  });
  let sum = 0;
  for (const row of result.rows) sum += (mode === 'pg-arrays' ? row[1] : row.value) as number;
  const ms = performance.now() - started;
  const after = memory();
  await client.end();
  if (!Number.isFinite(sum)) throw new Error('values were not numbers');
  return { mode, rows: result.rows.length, ms, rssGrowthMB: after.peakMB - before.rssMB };
}

/** The same rows through `pg-cursor` straight, in batches of the driver's size, as arrays. */
async function runDirectCursor(): Promise<RunFigures> {
  const client = new pg.Client({ ...connection, options: '-c TimeZone=UTC' });
  await client.connect();
  const before = memory();
  const started = performance.now();
  const cursor = client.query(
    new Cursor(
      `SELECT ts, value, text_value, quality FROM ${TABLE} WHERE tag = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts LIMIT $4`,
      ['Bench.Flow', START, END, ROWS + 1],
      { rowMode: 'array' } as Cursor.CursorQueryConfig,
    ),
  );
  let rows = 0;
  let sum = 0;
  for (;;) {
    const batch = (await cursor.read(10_000)) as unknown[][];
    if (batch.length === 0) break;
    rows += batch.length;
    for (const row of batch) sum += row[1] as number;
  }
  await cursor.close();
  const ms = performance.now() - started;
  const after = memory();
  await client.end();
  if (!Number.isFinite(sum)) throw new Error('values were not numbers');
  return { mode: 'pg-cursor', rows, ms, rssGrowthMB: after.peakMB - before.rssMB };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

export async function runSqlBenchmark() {
  await seed();
  const runs: RunFigures[] = [];
  for (let i = 0; i < 3; i++) {
    for (const mode of ['pg', 'pg-arrays', 'pg-cursor', 'driver']) {
      const out = execFileSync(process.execPath, [import.meta.filename, mode], {
        encoding: 'utf8',
        env: { ...process.env, [URL_ENV]: url.href },
      });
      runs.push(JSON.parse(out.trim().split('\n').at(-1)!) as RunFigures);
    }
  }
  const of = (mode: string) => runs.filter((r) => r.mode === mode);
  const driverMs = median(of('driver').map((r) => r.ms));
  const pgMs = median(of('pg').map((r) => r.ms));
  const arraysMs = median(of('pg-arrays').map((r) => r.ms));
  const cursorMs = median(of('pg-cursor').map((r) => r.ms));
  for (const r of runs)
    if (r.rows !== ROWS) throw new Error(`expected ${ROWS} rows, ${r.mode} read ${r.rows}`);
  return {
    rows: ROWS,
    driverMs: round(driverMs),
    directPgMs: round(pgMs),
    directPgArraysMs: round(arraysMs),
    directPgCursorMs: round(cursorMs),
    ratio: round(driverMs / pgMs, 2),
    ratioToArrays: round(driverMs / arraysMs, 2),
    ratioToCursor: round(driverMs / cursorMs, 2),
    driverRssGrowthMB: round(Math.max(...of('driver').map((r) => r.rssGrowthMB))),
    directPgRssGrowthMB: round(Math.max(...of('pg').map((r) => r.rssGrowthMB))),
    directPgArraysRssGrowthMB: round(Math.max(...of('pg-arrays').map((r) => r.rssGrowthMB))),
    directPgCursorRssGrowthMB: round(Math.max(...of('pg-cursor').map((r) => r.rssGrowthMB))),
    runs: runs.map((r) => ({ ...r, ms: round(r.ms), rssGrowthMB: round(r.rssGrowthMB) })),
  };
}

if (import.meta.main) {
  const mode = process.argv[2];
  if (mode === 'driver') console.log(JSON.stringify(await runDriver()));
  else if (mode === 'pg' || mode === 'pg-arrays') console.log(JSON.stringify(await runDirect(mode)));
  else if (mode === 'pg-cursor') console.log(JSON.stringify(await runDirectCursor()));
  else console.log(await runSqlBenchmark());
}

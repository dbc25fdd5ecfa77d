/** PostgreSQL through `pg`: a pool, rows as arrays, times parsed straight to milliseconds, cursors for streams. */
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { Statement } from '../dialect.ts';
import type { Row } from '../rows.ts';
import {
  type ClientOptions,
  cancellable,
  databaseError,
  describeTarget,
  type SqlClient,
  serverAndUser,
  tlsOptions,
} from './client.ts';

const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM]]` (the session's zone is UTC, so a zone reads +00) to
 * milliseconds; a form it does not know (BC, infinity) goes to Date.parse.
 */
export function parsePgTimestamp(text: string): number {
  if (text.length < 19 || text[4] !== '-' || text[10] !== ' ') return Date.parse(text);
  let ms = Date.UTC(
    +text.slice(0, 4),
    +text.slice(5, 7) - 1,
    +text.slice(8, 10),
    +text.slice(11, 13),
    +text.slice(14, 16),
    +text.slice(17, 19),
  );
  let i = 19;
  if (text[i] === '.') {
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    ms += Math.floor(Number(`0${text.slice(i, j)}`) * 1000);
    i = j;
  }
  if (i < text.length) {
    const sign = text[i] === '-' ? -1 : 1;
    const [h = '0', m = '0'] = text.slice(i + 1).split(':');
    ms -= sign * (Number(h) * 60 + Number(m)) * 60_000;
  }
  return ms;
}

const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === TIMESTAMP || oid === TIMESTAMPTZ) return parsePgTimestamp;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** Times travel as ISO text in UTC: a zone-less column ignores the Z and keeps the UTC wall time. */
function values(statement: Statement): unknown[] {
  return statement.params.map((p) =>
    p.type === 'time' ? new Date(p.value as number).toISOString() : p.value,
  );
}

export class PostgresClient implements SqlClient {
  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly options: ClientOptions;
  readonly where: string;

  constructor(options: ClientOptions) {
    this.options = options;
    const s = options.settings;
    const tls = tlsOptions(s);
    this.where = describeTarget(s, 5432);
    this.config = {
      ...serverAndUser(s, 5432),
      ssl: tls ?? false,
      connectionTimeoutMillis: s.connection.connectTimeoutMs,
      application_name: 'plantgate',
      options: '-c TimeZone=UTC',
      types,
    };
    this.pool = new pg.Pool({ ...this.config, max: s.pool.max, idleTimeoutMillis: s.pool.idleMs });
    // An idle connection the server dropped reports here; the pool replaces it on the next query.
    this.pool.on('error', (error) =>
      options.log.warn('a pooled database connection failed', { database: this.where, error: error.message }),
    );
  }

  /**
   * A client from the pool. While it is out, a connection lost under it is also emitted as an event,
   * besides failing its query; the listener keeps that from ending the process.
   */
  private async connect(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw databaseError(error, this.where);
    }
    const onError = () => {};
    client.on('error', onError);
    const release = client.release.bind(client);
    client.release = (destroy?: boolean | Error) => {
      client.off('error', onError);
      client.release = release;
      release(destroy);
    };
    return client;
  }

  /** pg_cancel_backend from a connection of its own: the pool may be full of busy ones. */
  private cancelBackend(pid: number | undefined): () => Promise<void> {
    return async () => {
      if (!pid) return;
      const client = new pg.Client(this.config);
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await client.end().catch(() => {});
      }
    };
  }

  private async withClient<T>(signal: AbortSignal, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const pid = (client as unknown as { processID?: number }).processID;
    const job = use(client);
    job.then(
      () => client.release(),
      (error: unknown) =>
        client.release(databaseError(error, this.where).code === 'PG_ERR_SOURCE_UNAVAILABLE'),
    );
    return cancellable(
      signal,
      this.options.settings.queryTimeoutMs,
      job,
      this.cancelBackend(pid),
      this.options.log,
      this.where,
    );
  }

  async query(statement: Statement, signal: AbortSignal): Promise<Row[]> {
    return this.withClient(signal, async (client) => {
      const result = await client.query({
        text: statement.text,
        values: values(statement),
        rowMode: 'array',
      });
      return result.rows as Row[];
    });
  }

  async run(statement: Statement, signal: AbortSignal): Promise<number> {
    return this.withClient(signal, async (client) => {
      const result = await client.query({ text: statement.text, values: values(statement) });
      return result.rowCount ?? 0;
    });
  }

  async *stream(statement: Statement, signal: AbortSignal, batchRows: number): AsyncIterable<Row[]> {
    const client = await this.connect();
    const pid = (client as unknown as { processID?: number }).processID;
    const cursor = client.query(
      new Cursor(statement.text, values(statement), { rowMode: 'array', types } as Cursor.CursorQueryConfig),
    );
    let broken = false;
    try {
      while (true) {
        const batch = await cancellable(
          signal,
          this.options.settings.queryTimeoutMs,
          cursor.read(batchRows),
          this.cancelBackend(pid),
          this.options.log,
          this.where,
        );
        if (batch.length === 0) return;
        yield batch as Row[];
      }
    } catch (error) {
      broken = databaseError(error, this.where).code === 'PG_ERR_SOURCE_UNAVAILABLE';
      throw error;
    } finally {
      // Closing the cursor waits for a read still running; cancelled, it ends promptly.
      await cursor.close().catch(() => {
        broken = true;
      });
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

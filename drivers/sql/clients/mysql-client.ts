/**
 * MySQL and MariaDB through `mysql2`: server-side prepared statements (never text interpolation),
 * rows as arrays, the session in UTC, streams read with back-pressure.
 */
import mysql from 'mysql2';
import type { Statement } from '../dialect.ts';
import type { Row } from '../rows.ts';
import {
  type ClientOptions,
  cancellable,
  databaseError,
  describeTarget,
  RowBatches,
  type SqlClient,
  serverAndUser,
  tlsOptions,
} from './client.ts';

function values(statement: Statement): (string | number | Date | null)[] {
  return statement.params.map((p) => (p.type === 'time' ? new Date(p.value as number) : p.value));
}

type PoolConnection = mysql.PoolConnection;

export class MysqlClient implements SqlClient {
  private readonly pool: mysql.Pool;
  private readonly config: mysql.ConnectionOptions;
  private readonly options: ClientOptions;
  readonly where: string;

  constructor(options: ClientOptions) {
    this.options = options;
    const s = options.settings;
    const tls = tlsOptions(s);
    this.where = describeTarget(s, 3306);
    this.config = {
      ...serverAndUser(s, 3306),
      ...(tls ? { ssl: tls } : {}),
      connectTimeout: s.connection.connectTimeoutMs,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: true,
      // Each distinct statement stays prepared on its connection; the server's limit is shared by all.
      maxPreparedStatements: 128,
      multipleStatements: false,
    };
    this.pool = mysql.createPool({
      ...this.config,
      connectionLimit: s.pool.max,
      maxIdle: s.pool.max,
      idleTimeout: s.pool.idleMs,
      enableKeepAlive: true,
    });
    // DATETIME and TIMESTAMP then read and compare in UTC, and UNIX_TIMESTAMP() means what it says.
    this.pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'", () => {});
    });
  }

  private connect(): Promise<PoolConnection> {
    return new Promise((resolve, reject) =>
      this.pool.getConnection((error, connection) =>
        error ? reject(databaseError(error, this.where)) : resolve(connection),
      ),
    );
  }

  /** KILL QUERY from a connection of its own: the statement's own connection is busy with it. */
  private killQuery(threadId: number): () => Promise<void> {
    return async () => {
      const connection = mysql.createConnection(this.config);
      connection.on('error', () => {});
      try {
        await connection.promise().query('KILL QUERY ?', [threadId]);
      } finally {
        connection.destroy();
      }
    };
  }

  private release(connection: PoolConnection, error: unknown): void {
    if (error && databaseError(error, this.where).code === 'PG_ERR_SOURCE_UNAVAILABLE') connection.destroy();
    else connection.release();
  }

  private async execute<T>(
    statement: Statement,
    signal: AbortSignal,
    pick: (result: unknown) => T,
  ): Promise<T> {
    const connection = await this.connect();
    const job = new Promise<T>((resolve, reject) =>
      connection.execute({ sql: statement.text, rowsAsArray: true }, values(statement), (error, result) =>
        error ? reject(error) : resolve(pick(result)),
      ),
    );
    job.then(
      () => this.release(connection, undefined),
      (error: unknown) => this.release(connection, error),
    );
    return cancellable(
      signal,
      this.options.settings.queryTimeoutMs,
      job,
      this.killQuery(connection.threadId),
      this.options.log,
      this.where,
    );
  }

  query(statement: Statement, signal: AbortSignal): Promise<Row[]> {
    return this.execute(statement, signal, (rows) => rows as Row[]);
  }

  run(statement: Statement, signal: AbortSignal): Promise<number> {
    return this.execute(statement, signal, (result) => (result as mysql.ResultSetHeader).affectedRows);
  }

  async *stream(statement: Statement, signal: AbortSignal, batchRows: number): AsyncIterable<Row[]> {
    const connection = await this.connect();
    const rows = connection
      .execute({ sql: statement.text, rowsAsArray: true }, values(statement))
      .stream({ highWaterMark: batchRows });
    const batches = new RowBatches(rows, batchRows);
    let failure: unknown;
    try {
      while (true) {
        const batch = await cancellable(
          signal,
          this.options.settings.queryTimeoutMs,
          batches.next(),
          this.killQuery(connection.threadId),
          this.options.log,
          this.where,
        );
        if (batch.length === 0) return;
        yield batch;
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      if (failure !== undefined || !batches.finished) {
        // Stopped early: the rest of the result is still on the wire, so the connection goes.
        batches.destroy();
        connection.destroy();
      } else this.release(connection, undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.promise().end();
  }
}

/**
 * SQL Server through `mssql` (tedious): every parameter declared with its SQL type, rows as arrays,
 * times in UTC, cancellation by a TDS attention on the statement's own connection.
 */
import sql from 'mssql';
import type { Param, Statement } from '../dialect.ts';
import type { Row } from '../rows.ts';
import type { SqlSettings } from '../settings.ts';
import {
  type ClientOptions,
  cancellable,
  databaseError,
  describeTarget,
  RowBatches,
  type SqlClient,
  tlsOptions,
} from './client.ts';

export interface MssqlInput {
  name: string;
  type: sql.ISqlType;
  value: string | number | Date | null;
}

/**
 * The declared inputs of a statement: tag names and patterns NVARCHAR(4000) (a tag name is at most
 * 256 characters), times DATETIME2(7), numbers FLOAT or BIGINT. Named @p1…, as the dialect writes them.
 */
const MSSQL_TYPE: Record<Param['type'], () => sql.ISqlType> = {
  text: () => sql.NVarChar(4000),
  time: () => sql.DateTime2(7),
  float: () => sql.Float(),
  int: () => sql.BigInt(),
};

export function mssqlInputs(statement: Statement): MssqlInput[] {
  return statement.params.map((p: Param, i) => ({
    name: `p${i + 1}`,
    type: MSSQL_TYPE[p.type](),
    value: p.type === 'time' ? new Date(p.value as number) : p.value,
  }));
}

/** The pool's config: TLS on and the server's certificate checked unless the source says otherwise. */
export function mssqlConfig(s: SqlSettings): sql.config {
  const tls = tlsOptions(s);
  const c = s.connection;
  return {
    server: c.host,
    ...(c.instanceName ? {} : { port: c.port ?? 1433 }),
    database: c.database,
    user: c.user,
    ...(c.password !== undefined ? { password: c.password } : {}),
    connectionTimeout: c.connectTimeoutMs,
    requestTimeout: s.queryTimeoutMs,
    pool: { max: s.pool.max, min: 0, idleTimeoutMillis: s.pool.idleMs },
    options: {
      encrypt: tls !== undefined,
      trustServerCertificate: tls ? !tls.rejectUnauthorized : false,
      useUTC: true,
      appName: 'plantgate',
      ...(c.instanceName ? { instanceName: c.instanceName } : {}),
      ...(tls?.ca ? { cryptoCredentialsDetails: { ca: tls.ca } } : {}),
      ...(tls?.servername ? { serverName: tls.servername } : {}),
    },
  };
}

export class MssqlClient implements SqlClient {
  private readonly pool: sql.ConnectionPool;
  private readonly options: ClientOptions;
  private connecting: Promise<sql.ConnectionPool> | undefined;
  readonly where: string;

  constructor(options: ClientOptions) {
    this.options = options;
    this.where = describeTarget(options.settings, 1433);
    this.pool = new sql.ConnectionPool(mssqlConfig(options.settings));
    this.pool.on('error', (error: Error) =>
      options.log.warn('a pooled database connection failed', { database: this.where, error: error.message }),
    );
  }

  /** The pool, connected; a first connect that failed is tried again on the next statement. */
  private async connected(): Promise<sql.ConnectionPool> {
    if (this.pool.connected) return this.pool;
    this.connecting ??= this.pool.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw databaseError(error, this.where);
    });
    return this.connecting;
  }

  private async request(statement: Statement): Promise<sql.Request> {
    const request = (await this.connected()).request();
    request.arrayRowMode = true;
    for (const input of mssqlInputs(statement)) request.input(input.name, input.type, input.value);
    return request;
  }

  private async guarded<T>(
    statement: Statement,
    signal: AbortSignal,
    run: (r: sql.Request) => Promise<T>,
  ): Promise<T> {
    const request = await this.request(statement);
    return cancellable(
      signal,
      this.options.settings.queryTimeoutMs,
      run(request),
      async () => request.cancel(),
      this.options.log,
      this.where,
    );
  }

  query(statement: Statement, signal: AbortSignal): Promise<Row[]> {
    return this.guarded(
      statement,
      signal,
      async (r) => (await r.query(statement.text)).recordset as unknown as Row[],
    );
  }

  run(statement: Statement, signal: AbortSignal): Promise<number> {
    return this.guarded(statement, signal, async (r) =>
      (await r.query(statement.text)).rowsAffected.reduce((a, b) => a + b, 0),
    );
  }

  async *stream(statement: Statement, signal: AbortSignal, batchRows: number): AsyncIterable<Row[]> {
    const request = await this.request(statement);
    const batches = new RowBatches(request.toReadableStream({ highWaterMark: batchRows }), batchRows);
    request.query(statement.text).catch(() => {});
    try {
      while (true) {
        const batch = await cancellable(
          signal,
          this.options.settings.queryTimeoutMs,
          batches.next(),
          async () => request.cancel(),
          this.options.log,
          this.where,
        );
        if (batch.length === 0) return;
        yield batch;
      }
    } finally {
      if (!batches.finished) {
        request.cancel();
        batches.destroy();
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

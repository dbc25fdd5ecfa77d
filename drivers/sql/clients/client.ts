/**
 * One small interface over the three database client libraries: run a statement, stream a large
 * result in batches, close. Each statement has a timeout, and an aborted signal or a timeout cancels
 * it on the server (pg_cancel_backend, KILL QUERY, a TDS attention), not only in the gateway.
 */
import { readFileSync } from 'node:fs';
import {
  abortedError,
  isPlantgateError,
  type Logger,
  PlantgateError,
  throwIfAborted,
} from '../../core/index.ts';
import type { Statement } from '../dialect.ts';
import type { Row } from '../rows.ts';
import type { SqlSettings } from '../settings.ts';

export interface SqlClient {
  /** The statement's rows, each an array in select-list order. */
  query(statement: Statement, signal: AbortSignal): Promise<Row[]>;
  /** Rows in batches of about `batchRows`, read from the server as they are consumed. */
  stream(statement: Statement, signal: AbortSignal, batchRows: number): AsyncIterable<Row[]>;
  /** Runs a statement that returns no rows; answers the rows it changed. */
  run(statement: Statement, signal: AbortSignal): Promise<number>;
  close(): Promise<void>;
}

export interface ClientOptions {
  settings: SqlSettings;
  log: Logger;
}

export async function openClient(options: ClientOptions): Promise<SqlClient> {
  switch (options.settings.dialect) {
    case 'postgres':
      return new (await import('./postgres-client.ts')).PostgresClient(options);
    case 'mysql':
      return new (await import('./mysql-client.ts')).MysqlClient(options);
    case 'mssql':
      return new (await import('./mssql-client.ts')).MssqlClient(options);
  }
}

/** TLS options the three libraries share in substance: on, with the server checked, by default. */
export function tlsOptions(
  settings: SqlSettings,
): { rejectUnauthorized: boolean; ca?: string; servername?: string } | undefined {
  const tls = settings.connection.tls;
  if (!tls.enabled) return undefined;
  return {
    rejectUnauthorized: tls.verifyServer,
    ...(tls.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
    ...(tls.serverName ? { servername: tls.serverName } : {}),
  };
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ESOCKET',
  'ECONNCLOSED',
  'ELOGIN',
  'ER_ACCESS_DENIED_ERROR',
  'HANDSHAKE_NO_SSL_SUPPORT',
]);

/** Whether an error says the database cannot be reached (as opposed to refusing a statement). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') {
    if (CONNECTION_ERRORS.has(e.code)) return true;
    // PostgreSQL: class 08 (connection), 28 (authorization), 57P0x (server shutting down), 3D000 (no database).
    if (/^(08|28|57P0)/.test(e.code) || e.code === '3D000') return true;
  }
  const message = typeof e?.message === 'string' ? e.message : '';
  return /connection terminated|connection (is )?closed|not connected|ssl|tls|certificate|timeout expired|server closed/i.test(
    message,
  );
}

/** A database failure as a typed error that names where and what. */
export function databaseError(error: unknown, where: string): PlantgateError {
  if (isPlantgateError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown })?.code;
  const details =
    typeof code === 'string' || typeof code === 'number' ? { databaseCode: String(code) } : undefined;
  if (isConnectionError(error))
    return new PlantgateError(
      'PG_ERR_SOURCE_UNAVAILABLE',
      `the database at ${where} cannot be used: ${message}`,
      details,
    );
  return new PlantgateError(
    'PG_ERR_DEVICE_EXCEPTION',
    `the database at ${where} refused the statement: ${message}`,
    details,
  );
}

/**
 * Runs `job` until it settles, the signal aborts or the timeout passes; in the last two cases it asks
 * the server to cancel the statement and rejects at once (PG_ERR_ABORTED, PG_ERR_DEVICE_TIMEOUT). The
 * job's own late failure is then expected and not reported again.
 */
export async function cancellable<T>(
  signal: AbortSignal,
  timeoutMs: number,
  job: Promise<T>,
  cancel: () => Promise<void>,
  log: Logger,
  where: string,
): Promise<T> {
  throwIfAborted(signal);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    const cancelOnServer = (error: PlantgateError) => {
      reject(error);
      cancel().catch((e: unknown) =>
        log.warn('the database did not take the cancel request', { database: where, error: String(e) }),
      );
    };
    onAbort = () => cancelOnServer(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(
      () =>
        cancelOnServer(
          new PlantgateError(
            'PG_ERR_DEVICE_TIMEOUT',
            `the database at ${where} did not answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  job.catch(() => {});
  try {
    return await Promise.race([job, stop]);
  } catch (error) {
    throw databaseError(error, where);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Where to connect and as whom, as the pg and mysql2 options name it. */
export function serverAndUser(settings: SqlSettings, defaultPort: number) {
  const c = settings.connection;
  return {
    host: c.host,
    port: c.port ?? defaultPort,
    database: c.database,
    user: c.user,
    ...(c.password !== undefined ? { password: c.password } : {}),
  };
}

/** host:port/database, for messages (never the user or password). */
export function describeTarget(settings: SqlSettings, defaultPort: number): string {
  const c = settings.connection;
  return `${c.host}:${c.port ?? defaultPort}/${c.database}`;
}

/**
 * Reads an object-mode stream of rows in batches: the stream is paused once a batch is full, so a
 * large result is pulled from the server only as fast as batches are taken.
 */
export class RowBatches {
  private batch: Row[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly stream: NodeJS.ReadableStream & { destroy(): void };
  private readonly size: number;

  constructor(stream: NodeJS.ReadableStream & { destroy(): void }, size: number) {
    this.stream = stream;
    this.size = size;
    stream.on('data', (row: Row) => {
      this.batch.push(row);
      if (this.batch.length >= this.size) {
        stream.pause();
        this.notify();
      }
    });
    stream.on('end', () => {
      this.ended = true;
      this.notify();
    });
    stream.on('error', (error) => {
      this.failure = error;
      this.notify();
    });
  }

  get finished(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next batch; an empty one once the stream ended. */
  async next(): Promise<Row[]> {
    while (this.batch.length < this.size && !this.ended && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.stream.resume();
      });
    }
    if (this.failure !== undefined) throw this.failure;
    const out = this.batch;
    this.batch = [];
    return out;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/**
 * The SQL historian driver: typed requests become generated statements against the configured
 * history table. A database that cannot be reached makes values bad and health degraded, and is
 * tried again on every request and every health check; it never stops the gateway.
 */
import {
  type AggregateName,
  type Annotation,
  type AnnotationStorage,
  type AtTimesRead,
  badValue,
  type Driver,
  type DriverHealth,
  type DriverHost,
  type DriverState,
  isPlantgateError,
  PlantgateError,
  type PlotHistoryRead,
  type PlotQuery,
  type ProcessedHistoryRead,
  type ProcessedQuery,
  type RawHistoryRead,
  type RawQuery,
  type SnapshotRead,
  type SourceConfig,
  StatusCodes,
  type Tag,
  type TagCatalog,
  type TagConfiguration,
  type TagQuery,
  type TagSearch,
  throwIfAborted,
  type Value,
  type ValueWrite,
  type WriteRequest,
  type WriteResult,
} from '../core/index.ts';
import { SqlAnnotations } from './annotations.ts';
import { databaseError, openClient, type SqlClient } from './clients/client.ts';
import { HistoryReads } from './history-reads.ts';
import { type Mapping, mappingOf, seriesOf, wideTags } from './mapping.ts';
import type { SqlSettings, SqlTagConfig } from './settings.ts';
import { latestStatement, probeStatements } from './statements.ts';
import { SqlTagCatalog } from './tag-catalog.ts';
import { insertRows } from './writes.ts';

export type SqlSourceConfig = SourceConfig<SqlSettings, SqlTagConfig>;

abstract class SqlDriverBase
  implements
    Driver,
    SnapshotRead,
    RawHistoryRead,
    ProcessedHistoryRead,
    PlotHistoryRead,
    AtTimesRead,
    ValueWrite,
    AnnotationStorage
{
  protected readonly m: Mapping;
  protected readonly history: HistoryReads;
  private readonly annotations: SqlAnnotations;
  private sqlClient: SqlClient | undefined;
  private state: DriverState = 'stopped';
  private lastError: string | undefined;
  private lastOkAt: number | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private stats = { statements: 0, failures: 0 };

  protected readonly config: SqlSourceConfig;
  protected readonly host: DriverHost;

  constructor(config: SqlSourceConfig, host: DriverHost) {
    this.config = config;
    this.host = host;
    this.m = mappingOf(config.settings);
    this.history = new HistoryReads(this.m, () => this.client);
    this.annotations = new SqlAnnotations(
      this.m.dialect,
      config.settings.annotations,
      () => this.client,
      config.id,
    );
  }

  keepsAnnotations(): boolean {
    return this.annotations.keepsAnnotations();
  }

  readAnnotations(from: number, to: number, limit: number, signal: AbortSignal): Promise<Annotation[]> {
    return this.annotations.readAnnotations(from, to, limit, signal);
  }

  getAnnotation(id: string, signal: AbortSignal): Promise<Annotation | undefined> {
    return this.annotations.getAnnotation(id, signal);
  }

  createAnnotation(annotation: Annotation, signal: AbortSignal): Promise<void> {
    return this.annotations.createAnnotation(annotation, signal);
  }

  updateAnnotation(annotation: Annotation, signal: AbortSignal): Promise<void> {
    return this.annotations.updateAnnotation(annotation, signal);
  }

  deleteAnnotation(id: string, signal: AbortSignal): Promise<boolean> {
    return this.annotations.deleteAnnotation(id, signal);
  }

  /** The client of a started driver; every statement goes through `track`. */
  protected get client(): SqlClient {
    const client = this.sqlClient;
    if (!client || this.state === 'stopped')
      throw new PlantgateError('PG_ERR_SOURCE_UNAVAILABLE', 'the SQL source is not running');
    return {
      query: (s, signal) => this.track(client.query(s, signal)),
      run: (s, signal) => this.track(client.run(s, signal)),
      stream: (s, signal, batch) => this.trackStream(client.stream(s, signal, batch)),
      close: () => client.close(),
    };
  }

  private async track<T>(job: Promise<T>): Promise<T> {
    this.stats.statements++;
    try {
      const result = await job;
      this.succeeded();
      return result;
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  private async *trackStream<T>(rows: AsyncIterable<T>): AsyncIterable<T> {
    this.stats.statements++;
    try {
      yield* rows;
      this.succeeded();
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  private succeeded(): void {
    this.lastOkAt = Date.now();
    if (this.state === 'degraded' || this.state === 'starting') {
      if (this.lastError) this.host.log.info('the database answers again', { source: this.config.id });
      this.lastError = undefined;
      this.state = 'running';
    }
  }

  private failed(error: unknown): void {
    this.stats.failures++;
    if (isPlantgateError(error) && error.code === 'PG_ERR_SOURCE_UNAVAILABLE' && this.state !== 'stopped') {
      if (this.state === 'running')
        this.host.log.warn('the database cannot be reached', {
          source: this.config.id,
          error: error.message,
        });
      this.state = 'degraded';
      this.lastError = error.message;
    }
  }

  /** Names the configured columns: a missing table or column shows in health at once. */
  private async check(): Promise<void> {
    if (this.checking || this.state === 'stopped') return;
    this.checking = true;
    const signal = AbortSignal.timeout(this.config.settings.queryTimeoutMs);
    try {
      for (const statement of probeStatements(this.m, this.wideColumns()))
        await this.client.query(statement, signal);
    } catch (error) {
      const e = databaseError(error, 'the source');
      if ((this.state as DriverState) !== 'stopped') {
        this.state = 'degraded';
        if (this.lastError !== e.message)
          this.host.log.warn('the SQL source is not usable', { source: this.config.id, error: e.message });
        this.lastError = e.message;
      }
    } finally {
      this.checking = false;
    }
  }

  protected wideColumns(): string[] {
    return [];
  }

  async start(_signal: AbortSignal): Promise<void> {
    this.state = 'starting';
    this.sqlClient = await openClient({ settings: this.config.settings, log: this.host.log });
    await this.check();
    this.healthTimer = setInterval(() => void this.check(), this.config.settings.healthIntervalMs);
    this.healthTimer.unref();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.healthTimer);
    const client = this.sqlClient;
    this.sqlClient = undefined;
    await client?.close().catch(() => {});
  }

  health(): DriverHealth {
    const s = this.config.settings;
    return {
      state: this.state,
      ...(this.lastError ? { message: this.lastError } : {}),
      details: {
        dialect: s.dialect,
        database: `${s.connection.host}:${s.connection.port ?? this.m.dialect.defaultPort}/${s.connection.database}`,
        tls: s.connection.tls.enabled ? (s.connection.tls.verifyServer ? 'verified' : 'unverified') : 'off',
        layout: this.m.layout,
        writes: s.writes.enabled,
        statements: this.stats.statements,
        failures: this.stats.failures,
        ...(this.lastOkAt ? { lastAnswerAt: new Date(this.lastOkAt).toISOString() } : {}),
      },
    };
  }

  /** The latest sample of each tag; a database out of reach gives each tag a bad value saying so. */
  async readSnapshot(tags: readonly Tag[], signal: AbortSignal): Promise<Value[]> {
    throwIfAborted(signal);
    const now = Date.now();
    let rows: unknown[][];
    try {
      rows = await this.client.query(
        latestStatement(
          this.m,
          tags.map((tag) => ({ series: seriesOf(this.m, tag) })),
        ),
        signal,
      );
    } catch (error) {
      if (isPlantgateError(error) && error.code === 'PG_ERR_ABORTED') throw error;
      const e = databaseError(error, 'the source');
      const code = e.code === 'PG_ERR_DEVICE_TIMEOUT' ? StatusCodes.BadTimeout : StatusCodes.BadNotConnected;
      return tags.map(() =>
        badValue(
          now,
          e.code === 'PG_ERR_DEVICE_EXCEPTION' ? StatusCodes.BadCommunicationError : code,
          e.message,
        ),
      );
    }
    const byIndex = new Map<number, unknown[]>();
    for (const row of rows) byIndex.set(Number(row[0]), row);
    return tags.map((tag, k) => {
      const row = byIndex.get(k);
      if (!row) return badValue(now, StatusCodes.BadNoData, `no sample of ${tag.name} in history`);
      return this.history.toValue(row, tag);
    });
  }

  readRaw(tag: Tag, query: RawQuery, signal: AbortSignal): AsyncIterable<Value[]> {
    return this.history.readRaw(tag, query, signal);
  }

  readProcessed(tag: Tag, query: ProcessedQuery, signal: AbortSignal): Promise<Map<AggregateName, Value[]>> {
    return this.history.readProcessed(tag, query, signal);
  }

  readPlot(tag: Tag, query: PlotQuery, signal: AbortSignal): Promise<Value[]> {
    return this.history.readPlot(tag, query, signal);
  }

  readAtTimes(tag: Tag, times: readonly number[], signal: AbortSignal): Promise<Value[]> {
    return this.history.readAtTimes(tag, times, signal);
  }

  async writeValues(requests: readonly WriteRequest[], signal: AbortSignal): Promise<WriteResult[]> {
    throwIfAborted(signal);
    return insertRows(this.m, this.client, requests, signal);
  }
}

/** History one row per sample: tags searched in the catalogue table or the history's tag names. */
export class NarrowSqlDriver extends SqlDriverBase implements TagSearch, TagConfiguration {
  private readonly catalog: SqlTagCatalog;

  constructor(config: SqlSourceConfig, host: DriverHost) {
    super(config, host);
    this.catalog = new SqlTagCatalog(this.m, () => this.client, config.tags, config.settings.writes.enabled);
  }

  searchTags(query: TagQuery, signal: AbortSignal): Promise<{ tags: Tag[]; total: number }> {
    return this.catalog.search(query, signal);
  }

  getTags(idsOrNames: readonly string[], signal: AbortSignal): Promise<Tag[]> {
    return this.catalog.get(idsOrNames, signal);
  }

  createTag(definition: Record<string, unknown>, signal: AbortSignal): Promise<Tag> {
    return this.catalog.create(definition, signal);
  }

  updateTag(ref: string, changes: Record<string, unknown>, signal: AbortSignal): Promise<Tag> {
    return this.catalog.update(ref, changes, signal);
  }

  deleteTag(ref: string, signal: AbortSignal): Promise<void> {
    return this.catalog.delete(ref, signal);
  }
}

/** History one row per time: the tags are the configured columns. */
export class WideSqlDriver extends SqlDriverBase implements TagCatalog {
  private readonly tags: Tag[];

  constructor(config: SqlSourceConfig, host: DriverHost) {
    super(config, host);
    this.tags = wideTags(config.tags, config.settings.writes.enabled);
  }

  listTags(): readonly Tag[] {
    return this.tags;
  }

  protected override wideColumns(): string[] {
    return this.tags.map((t) => String(t.properties.column));
  }
}

export function createSqlDriver(config: SqlSourceConfig, host: DriverHost): Driver {
  return config.settings.history.layout === 'wide'
    ? new WideSqlDriver(config, host)
    : new NarrowSqlDriver(config, host);
}

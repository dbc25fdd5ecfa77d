/**
 * The OPC UA source as the gateway holds it: node-opcua (tens of MB of code and type tables) is loaded
 * when the first OPC UA source starts, so a gateway without one never pays for it. Every capability is
 * here from the start, answered by the driver once it is loaded.
 */
import {
  type AggregateName,
  type AtTimesRead,
  type Driver,
  type DriverHealth,
  type DriverHost,
  PlantgateError,
  type ProcessedHistoryRead,
  type ProcessedQuery,
  type PushesValues,
  type RawHistoryRead,
  type RawQuery,
  type SnapshotRead,
  type Tag,
  type TagCatalog,
  type Value,
  type ValueWrite,
  type WriteRequest,
  type WriteResult,
} from '../core/index.ts';
import type { OpcuaDriver, OpcuaSourceConfig } from './driver.ts';

export class LazyOpcuaDriver
  implements
    Driver,
    TagCatalog,
    SnapshotRead,
    ValueWrite,
    PushesValues,
    RawHistoryRead,
    ProcessedHistoryRead,
    AtTimesRead
{
  readonly pushesValues = true;
  readonly recordsLocally: boolean;
  private driver: OpcuaDriver | undefined;
  private readonly config: OpcuaSourceConfig;
  private readonly host: DriverHost;

  constructor(config: OpcuaSourceConfig, host: DriverHost) {
    this.config = config;
    this.host = host;
    this.recordsLocally = config.settings.recordHistory;
  }

  private get loaded(): OpcuaDriver {
    if (!this.driver)
      throw new PlantgateError('PG_ERR_SOURCE_UNAVAILABLE', 'the OPC UA source has not started');
    return this.driver;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { OpcuaDriver } = await import('./driver.ts');
    this.driver ??= new OpcuaDriver(this.config, this.host);
    await this.driver.start(signal);
  }

  async stop(): Promise<void> {
    await this.driver?.stop();
  }

  health(): DriverHealth {
    return this.driver?.health() ?? { state: 'stopped' };
  }

  listTags(): readonly Tag[] {
    return this.driver?.listTags() ?? [];
  }

  readSnapshot(tags: readonly Tag[], _signal: AbortSignal): Promise<Value[]> {
    return this.loaded.readSnapshot(tags);
  }

  writeValues(requests: readonly WriteRequest[], signal: AbortSignal): Promise<WriteResult[]> {
    return this.loaded.writeValues(requests, signal);
  }

  keepsHistory(tag: Tag): boolean {
    return this.driver?.keepsHistory(tag) ?? false;
  }

  readRaw(tag: Tag, query: RawQuery, signal: AbortSignal): AsyncIterable<Value[]> {
    return this.loaded.readRaw(tag, query, signal);
  }

  readProcessed(tag: Tag, query: ProcessedQuery, signal: AbortSignal): Promise<Map<AggregateName, Value[]>> {
    return this.loaded.readProcessed(tag, query, signal);
  }

  readAtTimes(tag: Tag, times: readonly number[], signal: AbortSignal): Promise<Value[] | undefined> {
    return this.loaded.readAtTimes(tag, times, signal);
  }
}

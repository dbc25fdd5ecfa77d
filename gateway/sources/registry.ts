/** All sources of the gateway, started together and each on its own. */
import {
  badValue,
  type DriverFactory,
  hasCapability,
  type Logger,
  type PeerValues,
  StatusCodes,
  type Value,
} from '../../drivers/core/index.ts';
import type { GatewayConfig, SourceConfigEntry } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { DRIVERS, findDriver } from './driver-registry.ts';
import { Source, type SourceDeps, type SourceHealth } from './source.ts';

export class SourceRegistry {
  private readonly sources = new Map<string, Source>();
  private readonly drivers: readonly DriverFactory[];
  private readonly deps: SourceDeps;

  constructor(
    config: GatewayConfig,
    history: HistoryStore,
    log: Logger,
    sealer: () => Sealer,
    drivers: readonly DriverFactory[] = DRIVERS,
    observe?: SourceDeps['observe'],
  ) {
    this.drivers = drivers;
    const peers: PeerValues = {
      onValues: (sourceId, listener) => this.get(sourceId).onValues(listener),
      snapshot: (sourceId, tagIds, signal) => this.snapshot(sourceId, tagIds, signal),
    };
    this.deps = {
      history,
      log,
      dataDir: config.gateway.dataDir,
      sealer,
      peers,
      ...(observe ? { observe } : {}),
    };
    for (const entry of config.sources) {
      const factory = findDriver(entry.driver, drivers)!;
      this.sources.set(entry.id, new Source(entry, factory, this.deps));
    }
  }

  /** The latest value of each tag (by id) of a source; bad where the source or the tag cannot answer. */
  private async snapshot(sourceId: string, tagIds: readonly string[], signal: AbortSignal): Promise<Value[]> {
    const now = Date.now();
    const source = this.sources.get(sourceId);
    const driver = source?.driver;
    if (!source || !driver || !hasCapability(driver, 'snapshotRead'))
      return tagIds.map(() =>
        badValue(now, StatusCodes.BadNotConnected, `source "${sourceId}" is not running`),
      );
    const found = hasCapability(driver, 'tagSearch')
      ? new Map((await driver.getTags(tagIds, signal)).map((t) => [t.id, t]))
      : new Map(tagIds.flatMap((id) => (source.findTag(id) ? [[id, source.findTag(id)!] as const] : [])));
    const tags = tagIds.map((id) => found.get(id)).filter((t) => t !== undefined);
    const values = tags.length ? await driver.readSnapshot(tags, signal) : [];
    const byId = new Map(tags.map((t, i) => [t.id, values[i]!]));
    return tagIds.map(
      (id) => byId.get(id) ?? badValue(now, StatusCodes.BadNodeIdUnknown, `no tag "${id}" in "${sourceId}"`),
    );
  }

  /** Starts every source; one that fails keeps retrying on its own and never blocks the others. */
  async startAll(): Promise<void> {
    await Promise.allSettled([...this.sources.values()].map((s) => s.start()));
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.sources.values()].map((s) => s.stop()));
  }

  /** Starts a source added to the config while the gateway runs. */
  async add(entry: SourceConfigEntry): Promise<Source> {
    if (this.sources.has(entry.id))
      throw gatewayError('PG_ERR_CONFLICT', `there is a source "${entry.id}" already`);
    const source = new Source(entry, findDriver(entry.driver, this.drivers)!, this.deps);
    this.sources.set(entry.id, source);
    await source.start();
    return source;
  }

  /** Stops and forgets a source taken out of the config. */
  async remove(id: string): Promise<void> {
    const source = this.get(id);
    this.sources.delete(id);
    await source.stop();
  }

  get(id: string): Source {
    const source = this.sources.get(id);
    if (!source) throw gatewayError('PG_ERR_SOURCE_NOT_FOUND', `no data source "${id}"`);
    return source;
  }

  list(): Source[] {
    return [...this.sources.values()];
  }

  health(): SourceHealth[] {
    return this.list().map((s) => s.health());
  }
}

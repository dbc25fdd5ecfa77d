/** All sources of the gateway, started together and each on its own. */
import type { DriverFactory, Logger } from '../../drivers/core/index.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { gatewayError } from '../errors.ts';
import type { HistoryStore } from '../history/store.ts';
import type { Sealer } from '../secrets/sealer.ts';
import { DRIVERS, findDriver } from './driver-registry.ts';
import { Source, type SourceHealth } from './source.ts';

export class SourceRegistry {
  private readonly sources = new Map<string, Source>();

  constructor(
    config: GatewayConfig,
    history: HistoryStore,
    log: Logger,
    sealer: () => Sealer,
    drivers: readonly DriverFactory[] = DRIVERS,
  ) {
    for (const entry of config.sources) {
      const factory = findDriver(entry.driver, drivers)!;
      this.sources.set(
        entry.id,
        new Source(entry, factory, { history, log, dataDir: config.gateway.dataDir, sealer }),
      );
    }
  }

  /** Starts every source; one that fails keeps retrying on its own and never blocks the others. */
  async startAll(): Promise<void> {
    await Promise.allSettled([...this.sources.values()].map((s) => s.start()));
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.sources.values()].map((s) => s.stop()));
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

/**
 * Follows the config file while the gateway runs. Role rules apply at once; other changes are reported
 * as needing a restart. A changed file that is not valid changes nothing and is logged with its problems.
 * The file is polled (stat) rather than watched, since editors and config tools replace it by rename.
 */
import { unwatchFile, watchFile } from 'node:fs';
import type { DriverFactory, Logger } from '../../drivers/core/index.ts';
import { DRIVERS } from '../sources/driver-registry.ts';
import { loadGatewayConfig } from './load.ts';
import type { GatewayConfig } from './schema.ts';

export function watchConfig(
  current: GatewayConfig,
  apply: (next: GatewayConfig) => void,
  log: Logger,
  refused: (reason: string) => void = () => undefined,
  drivers: readonly DriverFactory[] = DRIVERS,
  intervalMs = 1000,
): { stop(): void; adopt(next: GatewayConfig): void } {
  let config = current;
  const onChange = async () => {
    let next: GatewayConfig;
    try {
      next = await loadGatewayConfig(config.file, drivers);
    } catch (error) {
      log.error('config change refused; the running configuration stays', {
        error: (error as Error).message,
      });
      refused((error as Error).message);
      return;
    }
    const { access: _a, ...before } = config;
    const { access: _b, ...after } = next;
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      log.warn('config changed outside access.rules; those changes apply at the next restart');
    }
    if (JSON.stringify(config.access) !== JSON.stringify(next.access)) {
      log.info('role rules reloaded', { rules: next.access.rules.length });
    }
    config = { ...config, access: next.access };
    apply(config);
  };
  const listener = () => void onChange();
  watchFile(config.file, { interval: intervalMs, persistent: false }, listener);
  return {
    stop: () => unwatchFile(config.file, listener),
    // A config the gateway wrote itself (tags changed through the API) is the running one already.
    adopt(next) {
      config = next;
    },
  };
}

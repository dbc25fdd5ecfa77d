/** `plantgate bridge --config FILE`: runs the cloud bridge until SIGINT or SIGTERM. */
import { parseArgs } from 'node:util';
import { loadBridgeConfig, startBridge } from '../../cloud-bridge/index.ts';
import { createLogger, type LogLevel } from '../log.ts';
import { UsageError, waitForSignal } from './args.ts';

export async function bridgeCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } },
  });
  if (!values.config) throw new UsageError('plantgate bridge --config FILE');
  const log = createLogger((values['log-level'] as LogLevel | undefined) ?? 'info');
  const bridge = await startBridge(await loadBridgeConfig(values.config), log);
  const signal = await waitForSignal();
  log.info('stopping', { signal });
  await bridge.stop();
  return 0;
}

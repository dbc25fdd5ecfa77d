/** `plantgate gateway --config FILE`: runs the gateway until SIGINT or SIGTERM. */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { createLogger, type LogLevel } from '../log.ts';
import { startGateway } from '../runtime.ts';
import { UsageError, waitForSignal } from './args.ts';

export async function gatewayCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } },
  });
  if (!values.config) throw new UsageError('plantgate gateway --config FILE');
  const log = createLogger((values['log-level'] as LogLevel | undefined) ?? 'info');
  const config = await loadGatewayConfig(values.config);
  const gateway = await startGateway(config, log);
  const signal = await waitForSignal();
  log.info('stopping', { signal });
  await gateway.stop();
  return 0;
}

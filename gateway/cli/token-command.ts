/** `plantgate token rotate --config FILE`: a new local token; a running gateway takes it within a second. */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { rotateLocalToken, tokenFile } from '../local-api/token.ts';
import { print, UsageError } from './args.ts';

export async function tokenCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } });
  if (action !== 'rotate' || !values.config) throw new UsageError('plantgate token rotate --config FILE');
  const config = await loadGatewayConfig(values.config);
  rotateLocalToken(config.gateway.dataDir);
  print(
    `new local token written to ${tokenFile(config.gateway.dataDir)} (mode 0600); the old one stops working within a second`,
  );
  return 0;
}

/**
 * `plantgate console-url --config FILE`: a one-time address that signs in to the local console, valid
 * for five minutes. It is made from the local token, so only an account that can read the token (the
 * gateway's own, or root) can make one.
 */
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { signInUrl } from '../console/sessions.ts';
import { readLocalToken } from '../local-api/token.ts';
import { print, UsageError } from './args.ts';

export async function consoleUrlCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } } });
  if (!values.config) throw new UsageError('plantgate console-url --config FILE');
  const config = await loadGatewayConfig(values.config);
  const host = config.console.host === '::1' ? '[::1]' : '127.0.0.1';
  print(signInUrl(`http://${host}:${config.console.port}`, readLocalToken(config.gateway.dataDir)));
  return 0;
}

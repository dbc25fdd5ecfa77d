/** `plantgate config check FILE`: validates a config without starting anything. */
import { loadGatewayConfig } from '../config/load.ts';
import { print, UsageError } from './args.ts';

export async function configCheckCommand(argv: string[]): Promise<number> {
  const file = argv[0];
  if (!file || argv.length !== 1) throw new UsageError('plantgate config check FILE');
  const config = await loadGatewayConfig(file);
  const tags = config.sources.reduce((n, s) => n + s.tags.length, 0);
  print(`${file}: valid — gateway ${config.gateway.id}, ${config.sources.length} source(s), ${tags} tag(s)`);
  return 0;
}

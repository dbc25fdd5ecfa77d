/**
 * `plantgate enroll --config FILE --bridge URL --code CODE [--ca FILE] [--proxy URL]`: enrolls this
 * gateway with the bridge (keys made here, public halves exchanged and pinned). The config's `link`
 * section must name the same bridge for the gateway to connect.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { enroll } from '../link/enrollment.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';
import { print, UsageError } from './args.ts';

const USAGE = 'plantgate enroll --config FILE --bridge URL --code CODE [--ca FILE] [--proxy URL]';

export async function enrollCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      bridge: { type: 'string' },
      code: { type: 'string' },
      ca: { type: 'string' },
      proxy: { type: 'string' },
    },
  });
  if (!values.config || !values.code) throw new UsageError(USAGE);
  const config = await loadGatewayConfig(values.config);
  const bridge = values.bridge ?? config.link?.bridge;
  if (!bridge) throw new UsageError(`${USAGE}\n(--bridge may be left out when the config has link.bridge)`);
  const caFile = values.ca ?? config.link?.caFile;
  const proxy = values.proxy ?? config.link?.proxy;
  const sealer = Sealer.open(config.gateway.dataDir, await machineIdentity());
  const enrollment = await enroll({
    dataDir: config.gateway.dataDir,
    gatewayId: config.gateway.id,
    bridge,
    code: values.code,
    sealer,
    ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
    ...(proxy ? { proxy } : {}),
  });
  print(
    `enrolled gateway "${enrollment.gatewayId}" of organisation "${enrollment.organisation}" with ${enrollment.bridgeOrigin}`,
  );
  if (!config.link)
    print(
      `add to ${config.file}:  link: { bridge: ${enrollment.bridgeOrigin.replace('https:', 'wss:')}${enrollment.linkPath} }`,
    );
  return 0;
}

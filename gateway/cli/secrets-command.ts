/**
 * `plantgate secrets seal --config FILE --source ID --field PATH`: reads a secret from standard input
 * (without echo on a terminal) and prints it sealed for that setting of that source on this machine.
 * `plantgate secrets check --config FILE`: proves this machine can seal and open secrets with its key.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../config/load.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';
import { findDriver } from '../sources/driver-registry.ts';
import { print, UsageError } from './args.ts';

const USAGE =
  'plantgate secrets seal --config FILE --source ID --field PATH | plantgate secrets check --config FILE';

/** One line from standard input; on a terminal nothing typed is shown. */
async function readSecret(): Promise<string> {
  const input = process.stdin;
  if (input.isTTY) {
    process.stderr.write('secret (not shown): ');
    input.setRawMode(true);
  }
  let text = '';
  try {
    for await (const chunk of input) {
      text += chunk.toString('utf8');
      if (input.isTTY && text.includes('\u0003')) throw new UsageError('cancelled');
      if (text.includes('\n') || text.includes('\r')) break;
    }
  } finally {
    if (input.isTTY) {
      input.setRawMode(false);
      process.stderr.write('\n');
    }
    input.pause();
  }
  return text.split(/\r?\n|\r/)[0]!;
}

export async function secretsCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      source: { type: 'string' },
      field: { type: 'string' },
    },
  });
  if (!values.config || (action !== 'seal' && action !== 'check')) throw new UsageError(USAGE);
  const config = await loadGatewayConfig(values.config);
  const sealer = Sealer.open(config.gateway.dataDir, await machineIdentity());
  if (action === 'check') {
    const probe = randomBytes(16).toString('hex');
    const setting = { driver: 'check', source: 'check', field: 'probe' };
    const opened = sealer.unseal(sealer.seal(probe, setting), setting);
    if (opened !== probe) throw new Error('a sealed value did not open to what was sealed');
    print('secrets: this machine seals and opens secrets with its key');
    return 0;
  }
  if (!values.source || !values.field) throw new UsageError(USAGE);
  const source = config.sources.find((s) => s.id === values.source);
  if (!source) throw new UsageError(`no source "${values.source}" in ${values.config}`);
  const secretFields = findDriver(source.driver)?.secretFields ?? [];
  if (!secretFields.includes(values.field)) {
    throw new UsageError(
      secretFields.length
        ? `${values.field} is not a secret setting of the ${source.driver} driver (those are: ${secretFields.join(', ')})`
        : `the ${source.driver} driver has no secret settings`,
    );
  }
  const secret = await readSecret();
  if (!secret) throw new UsageError('no secret on standard input');
  print(sealer.seal(secret, { driver: source.driver, source: source.id, field: values.field }));
  return 0;
}

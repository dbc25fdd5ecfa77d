/**
 * `plantgate audit verify --config FILE`: checks the hash chain and says where it breaks.
 * `plantgate audit export --config FILE [--since T] [--until T]`: the records as JSON lines, for a SIEM.
 */
import { parseArgs } from 'node:util';
import { exportAudit, verifyAudit } from '../audit/verify.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { parseTime } from '../query/time.ts';
import { print, UsageError } from './args.ts';

const USAGE =
  'plantgate audit verify --config FILE | plantgate audit export --config FILE [--since T] [--until T]';

export async function auditCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string', short: 'c' }, since: { type: 'string' }, until: { type: 'string' } },
  });
  if (!values.config || (action !== 'verify' && action !== 'export')) throw new UsageError(USAGE);
  const { dataDir } = (await loadGatewayConfig(values.config)).gateway;
  if (action === 'verify') {
    const result = verifyAudit(dataDir);
    if (result.ok) {
      print(`audit log intact: ${result.records} record(s) in ${result.files} file(s)`);
      return 0;
    }
    const p = result.problem!;
    print(`audit log broken (${p.kind}) at ${p.file} line ${p.line}: ${p.message}`);
    return 1;
  }
  const now = Date.now();
  const since = values.since ? parseTime(values.since, now, '--since') : 0;
  const until = values.until ? parseTime(values.until, now, '--until') : now;
  for (const record of exportAudit(dataDir, since, until))
    process.stdout.write(`${JSON.stringify(record)}\n`);
  return 0;
}

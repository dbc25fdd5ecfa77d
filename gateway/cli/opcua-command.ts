/**
 * `plantgate opcua certificates|trust`: the gateway's OPC UA certificate store (dataDir/pki). A server
 * certificate the gateway has not seen is rejected and kept until an administrator trusts it here; a
 * running gateway's next connect attempt then accepts it.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type CertificateFacts, listCertificates, trustRejected } from '../../drivers/opcua/index.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { print, UsageError } from './args.ts';

const USAGE = `plantgate opcua certificates --config FILE
       plantgate opcua trust THUMBPRINT --config FILE`;

const line = (c: CertificateFacts) =>
  `  ${c.thumbprint}  ${c.subject}  valid until ${c.notAfter}${c.daysLeft < 0 ? ' (EXPIRED)' : ''}`;

export async function opcuaCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' } },
  });
  if (!values.config || (action !== 'certificates' && action !== 'trust')) throw new UsageError(USAGE);
  const config = await loadGatewayConfig(values.config);
  const pkiDir = path.join(config.gateway.dataDir, 'pki');
  if (action === 'certificates') {
    const { own, trusted, rejected } = listCertificates(pkiDir);
    print(`gateway certificate (${pkiDir}/own):`);
    print(own ? line(own) : '  none yet: it is created when an OPC UA source first starts');
    print('trusted server certificates:');
    print(trusted.length ? trusted.map(line).join('\n') : '  none');
    print('rejected, waiting for a decision (plantgate opcua trust THUMBPRINT):');
    print(rejected.length ? rejected.map(line).join('\n') : '  none');
    return 0;
  }
  const [thumbprint] = positionals;
  if (!thumbprint || positionals.length > 1) throw new UsageError(USAGE);
  const trusted = trustRejected(pkiDir, thumbprint);
  print(
    `trusted ${trusted.thumbprint} (${trusted.subject}); OPC UA sources accept it from their next connect attempt`,
  );
  return 0;
}

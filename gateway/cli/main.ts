/**
 * The `plantgate` command. Each command's code is loaded when it runs, so a gateway never loads the
 * bridge; in the binary each command is a bundle of its own, so errors are told apart by name and code.
 */
import { isPlantgateError } from '../../drivers/core/index.ts';
import { VERSION } from '../version.ts';
import { isUsageError, print, UsageError } from './args.ts';

const HELP = `plantgate ${VERSION} — an edge gateway for plant data

  plantgate gateway --config FILE            run the gateway
  plantgate bridge --config FILE             run the cloud bridge
  plantgate enroll --config FILE --code CODE [--bridge URL] [--ca FILE] [--proxy URL]
                                             enroll this gateway with the bridge
  plantgate config check FILE                validate a gateway config
  plantgate query --config FILE OPERATION [SOURCE] ['JSON']
                                             run a typed operation on the running gateway
  plantgate demo [--dir DIR] [--smoke]       simulated boiler house and packaging line, a gateway and a bridge, on loopback
  plantgate sim modbus [--port N]            the simulated boiler house alone (Modbus TCP)
  plantgate sim opcua [--port N] [--pki DIR] the simulated packaging line alone (OPC UA)
  plantgate opcua certificates --config FILE the gateway's OPC UA certificates: own, trusted, rejected
  plantgate opcua trust THUMBPRINT --config FILE
                                             trust a rejected OPC UA server certificate
  plantgate token rotate --config FILE       replace the loopback API's local token
  plantgate console-url --config FILE        a one-time address that signs in to the local console
  plantgate secrets seal --config FILE --source ID --field PATH
                                             seal a secret read from standard input for one setting
  plantgate secrets check --config FILE      check that this machine can seal and open secrets
  plantgate audit verify --config FILE       check the audit log's hash chain
  plantgate audit export --config FILE [--since T] [--until T]
                                             audit records as JSON lines
  plantgate --version

Operations: tags.search tags.get values.snapshot values.raw values.plot values.processed
            values.atTimes values.subscribe values.write health`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'gateway':
        return await (await import('./gateway-command.ts')).gatewayCommand(rest);
      case 'bridge':
        return await (await import('./bridge-command.ts')).bridgeCommand(rest);
      case 'enroll':
        return await (await import('./enroll-command.ts')).enrollCommand(rest);
      case 'config':
        if (rest[0] !== 'check') throw new UsageError('plantgate config check FILE');
        return await (await import('./config-check-command.ts')).configCheckCommand(rest.slice(1));
      case 'query':
        return await (await import('./query-command.ts')).queryCommand(rest);
      case 'demo':
        return await (await import('./demo-command.ts')).demoCommand(rest);
      case 'sim':
        return await (await import('./sim-command.ts')).simCommand(rest);
      case 'opcua':
        return await (await import('./opcua-command.ts')).opcuaCommand(rest);
      case 'audit':
        return await (await import('./audit-command.ts')).auditCommand(rest);
      case 'secrets':
        return await (await import('./secrets-command.ts')).secretsCommand(rest);
      case 'token':
        return await (await import('./token-command.ts')).tokenCommand(rest);
      case 'console-url':
        return await (await import('./console-url-command.ts')).consoleUrlCommand(rest);
      case '--version':
      case 'version':
        print(VERSION);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        print(HELP);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"\n\n${HELP}`);
    }
  } catch (error) {
    if (isUsageError(error)) {
      process.stderr.write(`usage: ${error.message}\n`);
      return 2;
    }
    if (isPlantgateError(error) && error.code === 'PG_ERR_CONFIG_INVALID') {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    const code = isPlantgateError(error) ? `${error.code}: ` : '';
    process.stderr.write(`plantgate: ${code}${(error as Error).message}\n`);
    return 1;
  }
}

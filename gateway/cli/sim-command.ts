/** `plantgate sim modbus [--port N] [--host H]`: the simulated boiler house, until SIGINT or SIGTERM. */
import { parseArgs } from 'node:util';
import { startBoilerSimulator } from '../../hardware-tests/simulators/index.ts';
import { print, UsageError, waitForSignal } from './args.ts';

export async function simCommand(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'modbus') throw new UsageError('plantgate sim modbus [--port N] [--host 127.0.0.1]');
  const { values } = parseArgs({
    args: rest,
    options: { port: { type: 'string' }, host: { type: 'string' } },
  });
  const port = values.port === undefined ? 5020 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${values.port} is not a port number`);
  const host = values.host ?? '127.0.0.1';
  const sim = await startBoilerSimulator({ port, host });
  print(`Modbus TCP boiler simulator on ${host}:${sim.port} (unit 1). Ctrl-C stops it.`);
  await waitForSignal();
  await sim.stop();
  return 0;
}

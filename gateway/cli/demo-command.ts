/**
 * `plantgate demo`: a simulated boiler house on Modbus TCP and a gateway polling it, all on loopback.
 * Files go to ./var/demo (or --dir). `--smoke` checks that a live value arrives, then exits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startBoilerSimulator } from '../../hardware-tests/simulators/index.ts';
import { readBundledFile } from '../bundled-files.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { freePort } from '../local-api/free-port.ts';
import { readLocalToken } from '../local-api/token.ts';
import { createLogger } from '../log.ts';
import { startGateway } from '../runtime.ts';
import { print, waitForSignal } from './args.ts';

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, smoke: { type: 'boolean' } },
  });
  const dir = path.resolve(values.dir ?? 'var/demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = createLogger(values.smoke ? 'warn' : 'info');

  const sim = await startBoilerSimulator();
  // The yaml document model keeps the demo file's comments; it is loaded only here.
  const { parseDocument } = await import('yaml');
  const document = parseDocument(await readBundledFile('config/demo/gateway.yaml'));
  document.setIn(['sources', 0, 'settings', 'port'], sim.port);
  document.setIn(['console', 'port'], await freePort(7443));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, document.toString());
  const config = await loadGatewayConfig(file);
  const gateway = await startGateway(config, log);
  const client = new LocalApiClient(gateway.port, readLocalToken(config.gateway.dataDir));

  try {
    if (values.smoke) return await smokeCheck(client);
    const relFile = path.relative(process.cwd(), file) || file;
    const snapshot = `'{"tags":["Boiler1.SteamPressure","Boiler1.Running"]}'`;
    print(`
plantgate demo is running.
  Modbus TCP boiler simulator  127.0.0.1:${sim.port}
  gateway loopback API         http://127.0.0.1:${gateway.port}/api/v1   (token in ${path.join(path.relative(process.cwd(), dir) || '.', 'local-token')})

Try, in another terminal:
  npx plantgate query --config ${relFile} values.snapshot boiler ${snapshot}
  npx plantgate query --config ${relFile} tags.search boiler '{"name":"Boiler1.*"}'
  npx plantgate query --config ${relFile} values.processed boiler '{"tags":["Boiler1.SteamPressure"],"start":"*-5m","end":"*","interval":"1m","functions":["AVG","MIN","MAX"]}'
  npx plantgate query --config ${relFile} values.write boiler '{"values":[{"tag":"Boiler1.PressureSetpoint","value":12}]}'
  npx plantgate query --config ${relFile} values.subscribe boiler '{"tags":["Boiler1.SteamPressure"]}'
  npx plantgate query --config ${relFile} health

Ctrl-C stops the demo.`);
    await waitForSignal();
    return 0;
  } finally {
    await gateway.stop();
    await sim.stop();
  }
}

async function smokeCheck(client: LocalApiClient): Promise<number> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const answer = await client.call('values.snapshot', 'boiler', {
      tags: ['Boiler1.SteamPressure', 'Boiler1.Tag'],
    });
    const values = (answer.body as { values?: { status: string }[] }).values;
    if (answer.status === 200 && values?.every((v) => v.status === 'good')) {
      print(answer.body);
      print('demo smoke check: ok');
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  print('demo smoke check: no good value from the simulated boiler within 15 s');
  return 1;
}

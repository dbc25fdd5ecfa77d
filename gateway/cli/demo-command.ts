/**
 * `plantgate demo`: a simulated boiler house on Modbus TCP and a packaging line on OPC UA, a gateway
 * reading both, and a bridge the gateway is enrolled with and linked to, with a development token
 * issuer — all on loopback. Files go to ./var/demo (or --dir). `--smoke` checks that live values arrive
 * locally and through the bridge, then exits.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  SIMULATOR_USER,
  startBoilerSimulator,
  startOpcuaSimulator,
} from '../../hardware-tests/simulators/index.ts';
import { readBundledFile } from '../bundled-files.ts';
import { loadGatewayConfig } from '../config/load.ts';
import { signInUrl } from '../console/sessions.ts';
import { LocalApiClient } from '../local-api/client.ts';
import { freePort } from '../local-api/free-port.ts';
import { readLocalToken } from '../local-api/token.ts';
import { createLogger } from '../log.ts';
import { startGateway } from '../runtime.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';
import { print, waitForSignal } from './args.ts';
import { DEMO_PASSWORD, type DemoCloud, startDemoCloud } from './demo-bridge.ts';

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dir: { type: 'string' }, smoke: { type: 'boolean' } },
  });
  const dir = path.resolve(values.dir ?? 'var/demo');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = createLogger(values.smoke ? 'warn' : 'info');

  const sim = await startBoilerSimulator();
  // The simulated line accepts any client certificate; a real server's administrator trusts the
  // gateway's certificate (dataDir/pki/own) by hand.
  const line = await startOpcuaSimulator({
    port: await freePort(4840),
    pkiDir: path.join(dir, 'opcua-simulator'),
    acceptAnyClient: true,
  });
  // The yaml document model keeps the demo file's comments; it is loaded only here.
  const { parseDocument } = await import('yaml');
  const document = parseDocument(await readBundledFile('config/demo/gateway.yaml'));
  document.setIn(['sources', 0, 'settings', 'port'], sim.port);
  document.setIn(['console', 'port'], await freePort(7443));
  const dataDir = path.resolve(dir, String(document.getIn(['gateway', 'dataDir'])));
  document.setIn(['sources', 1, 'settings', 'endpoint'], line.endpoint);
  document.setIn(
    ['sources', 1, 'settings', 'user', 'password'],
    Sealer.open(dataDir, await machineIdentity()).seal(SIMULATOR_USER.password, {
      driver: 'opcua',
      source: 'line',
      field: 'user.password',
    }),
  );
  // What `plantgate opcua trust THUMBPRINT` does after the first connect attempt, done up front here.
  const trusted = path.join(dataDir, 'pki', 'trusted', 'certs');
  mkdirSync(trusted, { recursive: true });
  copyFileSync(line.certificateFile, path.join(trusted, 'packaging-line-simulator.pem'));
  const file = path.join(dir, 'gateway.yaml');
  writeFileSync(file, document.toString());
  const gatewayId = String(document.getIn(['gateway', 'id']));
  const cloud = await startDemoCloud(dir, gatewayId, dataDir, log);
  const bridge = cloud.bridge;
  document.set('link', {
    bridge: `${bridge.url.replace('https:', 'wss:')}/link`,
    caFile: bridge.selfSignedFile,
  });
  writeFileSync(file, document.toString());
  const config = await loadGatewayConfig(file);
  const gateway = await startGateway(config, log);
  const client = new LocalApiClient(gateway.port, readLocalToken(config.gateway.dataDir));
  await cloud.consent(gatewayId, 'boiler');
  await cloud.consent(gatewayId, 'line');

  try {
    const snapshotPath = `/api/v1/gateways/${gatewayId}/sources/boiler/values/snapshot`;
    const snapshotUrl = `${bridge.url}${snapshotPath}`;
    if (values.smoke) return await smokeCheck(client, cloud, snapshotPath);
    const relFile = path.relative(process.cwd(), file) || file;
    const snapshot = `'{"tags":["Boiler1.SteamPressure","Boiler1.Running"]}'`;
    print(`
plantgate demo is running.
  Modbus TCP boiler simulator  127.0.0.1:${sim.port}
  OPC UA line simulator        ${line.endpoint}   (SignAndEncrypt; its certificate ${line.thumbprint} trusted in ${path.relative(process.cwd(), trusted) || trusted})
  gateway loopback API         http://127.0.0.1:${gateway.port}/api/v1   (token in ${path.join(path.relative(process.cwd(), dir) || '.', 'local-token')})
  bridge (self-signed TLS)     ${bridge.url}/api/v1   (OpenAPI at /api/v1/openapi.json)
  the gateway's link           ${bridge.url.replace('https:', 'wss:')}/link, enrolled as "${gatewayId}"

The gateway's local console (one-time sign-in address, five minutes; npx plantgate console-url --config ${relFile} makes another):
  ${signInUrl(`http://127.0.0.1:${gateway.port}`, readLocalToken(config.gateway.dataDir))}

People sign in to the bridge's pages (development identity provider, password ${DEMO_PASSWORD}):
  ${bridge.url}/my-apps   as alice (who let demo-app read the boiler), bob, admin or root

A cloud app reads the boiler through the bridge and the link (token of demo-app for alice):
  curl --cacert ${path.relative(process.cwd(), bridge.selfSignedFile ?? '')} -H "Authorization: Bearer $(cat ${path.relative(process.cwd(), cloud.appTokenFile)})" \\
    -H 'content-type: application/json' -d ${snapshot} \\
    ${snapshotUrl}

Try, in another terminal:
  npx plantgate query --config ${relFile} values.snapshot boiler ${snapshot}
  npx plantgate query --config ${relFile} tags.search boiler '{"name":"Boiler1.*"}'
  npx plantgate query --config ${relFile} values.processed boiler '{"tags":["Boiler1.SteamPressure"],"start":"*-5m","end":"*","interval":"1m","functions":["AVG","MIN","MAX"]}'
  npx plantgate query --config ${relFile} values.write boiler '{"values":[{"tag":"Boiler1.PressureSetpoint","value":12}]}'
  npx plantgate query --config ${relFile} values.subscribe boiler '{"tags":["Boiler1.SteamPressure"]}'
  npx plantgate query --config ${relFile} tags.search line '{"name":"*"}'
  npx plantgate query --config ${relFile} values.raw line '{"tags":["Line1.Speed"],"start":"*-1m","end":"*"}'
  npx plantgate query --config ${relFile} values.write line '{"values":[{"tag":"Line1.SpeedSetpoint","value":300}]}'
  npx plantgate opcua certificates --config ${relFile}
  npx plantgate query --config ${relFile} health

Ctrl-C stops the demo.`);
    await waitForSignal();
    return 0;
  } finally {
    await gateway.stop();
    await bridge.stop();
    await sim.stop();
    await line.stop();
  }
}

async function smokeCheck(client: LocalApiClient, cloud: DemoCloud, snapshotPath: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  let local = false;
  while (Date.now() < deadline) {
    if (!local) {
      const answer = await client.call('values.snapshot', 'boiler', {
        tags: ['Boiler1.SteamPressure', 'Boiler1.Tag'],
      });
      const lineAnswer = await client.call('values.snapshot', 'line', {
        tags: ['Line1.Speed', 'Line1.State'],
      });
      const good = (a: typeof answer) =>
        a.status === 200 &&
        (a.body as { values?: { status: string }[] }).values?.every((v) => v.status === 'good') === true;
      local = good(answer) && good(lineAnswer);
      if (local) print({ boiler: answer.body, line: lineAnswer.body });
    } else {
      const answer = await cloud
        .callAsApp(snapshotPath, { tags: ['Boiler1.SteamPressure'] })
        .catch(() => undefined);
      const lineAnswer = await cloud
        .callAsApp(snapshotPath.replace('/sources/boiler/', '/sources/line/'), { tags: ['Line1.Speed'] })
        .catch(() => undefined);
      const goodThrough = (a: typeof answer) =>
        a?.status === 200 && (a.body.values as { status: string }[] | undefined)?.[0]?.status === 'good';
      if (goodThrough(answer) && goodThrough(lineAnswer)) {
        print({ boiler: answer!.body, line: lineAnswer!.body });
        if (!(await cloud.signInReachesProvider())) {
          print("demo smoke check: a person's sign-in does not reach the development identity provider");
          return 1;
        }
        print("demo smoke check: ok (local API, through the bridge, and a person's sign-in)");
        return 0;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  print(
    `demo smoke check: no good value ${local ? 'through the bridge' : 'from the simulated boiler and line'} within 15 s`,
  );
  return 1;
}

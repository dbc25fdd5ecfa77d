/**
 * The demo's cloud side: a bridge on loopback with a development token issuer, the demo gateway enrolled
 * with it, a demo user who consented to the demo app, and a ready token for that app.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import {
  createDevIssuer,
  DEMO_PASSWORD,
  parseBridgeConfig,
  type RunningBridge,
  startBridge,
} from '../../cloud-bridge/index.ts';
import type { Logger } from '../../drivers/core/index.ts';
import { readBundledFile } from '../bundled-files.ts';
import { enroll } from '../link/enrollment.ts';
import { freePort } from '../local-api/free-port.ts';
import { machineIdentity } from '../secrets/machine-identity.ts';
import { Sealer } from '../secrets/sealer.ts';

export { DEMO_PASSWORD };
export const DEMO_APP = 'demo-app';
/** A demo account of the development identity provider, so the demo consent shows on its My apps page. */
export const DEMO_USER = 'alice';

export interface DemoCloud {
  bridge: RunningBridge;
  /** A token of the demo app for the demo user (12 h). */
  appToken: string;
  appTokenFile: string;
  /** Calls the bridge as the demo app. */
  callAsApp(pathname: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Consents the demo user to the demo app on a gateway's source (after the gateway is enrolled). */
  consent(gatewayId: string, sourceId: string): Promise<void>;
  /** Whether a person's sign-in reaches the development identity provider's sign-in form. */
  signInReachesProvider(): Promise<boolean>;
}

/** The status and redirect of one GET, without following it. */
function head(url: string, ca: string): Promise<{ status: number; location?: string }> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const request = get(url, { ca }, (response) => {
      response.resume();
      resolve({
        status: response.statusCode ?? 0,
        ...(response.headers.location ? { location: response.headers.location } : {}),
      });
    });
    request.on('error', reject);
  });
}

function call(
  bridge: RunningBridge,
  pathname: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      `${bridge.url}${pathname}`,
      {
        method: 'POST',
        ca: bridge.certificate,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (p: Buffer) => parts.push(p));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(parts).toString() || '{}'),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/** Starts the bridge and enrolls the gateway `gatewayId` whose data lives in `gatewayDataDir`. */
export async function startDemoCloud(
  dir: string,
  gatewayId: string,
  gatewayDataDir: string,
  log: Logger,
): Promise<DemoCloud> {
  const bridgeDir = path.join(dir, 'bridge');
  const { parseDocument } = await import('yaml');
  const document = parseDocument(await readBundledFile('config/demo/bridge.yaml'));
  document.setIn(['bridge', 'listen', 'port'], await freePort(8443));
  const file = path.join(bridgeDir, 'bridge.yaml');
  mkdirSync(bridgeDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, document.toString());
  const config = await parseBridgeConfig(document.toString(), file);
  const [issuerEntry] = config.auth.issuers;
  const issuer = await createDevIssuer(
    path.join(bridgeDir, 'jwks.json'),
    issuerEntry?.issuer,
    issuerEntry?.audience,
  );
  const bridge = await startBridge(config, log);
  const own = (sub: string) => issuer.mint({ sub, azp: config.auth.clientId });

  const code = await call(bridge, '/api/v1/gateways', await own('admin'), { id: gatewayId });
  if (code.status !== 201)
    throw new Error(`the demo bridge refused an enrollment code: ${JSON.stringify(code.body)}`);
  await enroll({
    dataDir: gatewayDataDir,
    gatewayId,
    bridge: bridge.url,
    code: String(code.body.code),
    sealer: Sealer.open(gatewayDataDir, await machineIdentity()),
    ca: bridge.certificate,
  });
  const appToken = await issuer.mint({ sub: DEMO_USER, azp: DEMO_APP }, { expiresIn: '12h' });
  const appTokenFile = path.join(dir, 'app-token');
  writeFileSync(appTokenFile, `${appToken}\n`, { mode: 0o600 });
  return {
    bridge,
    appToken,
    appTokenFile,
    callAsApp: (pathname, body) => call(bridge, pathname, appToken, body),
    async signInReachesProvider() {
      const begin = await head(`${bridge.url}/signin`, bridge.certificate);
      if (begin.status !== 303 || !begin.location?.startsWith(`${bridge.devIdp?.issuer}/`)) return false;
      const authorize = await head(begin.location, bridge.certificate);
      return authorize.status === 303 && /\/interaction\//.test(authorize.location ?? '');
    },
    async consent(gateway, sourceId) {
      const answer = await call(bridge, '/api/v1/consents', await own(DEMO_USER), {
        app: DEMO_APP,
        gatewayId: gateway,
        sourceId,
      });
      if (answer.status !== 201)
        throw new Error(`the demo consent was refused: ${JSON.stringify(answer.body)}`);
    },
  };
}

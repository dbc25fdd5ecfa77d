/**
 * The running bridge: one HTTPS port serving the app API, the people's API, enrollment, the OpenAPI
 * document, value streams (WebSocket) and the link endpoint `/link` (MQTT over WebSocket into the
 * embedded broker).
 */
import type { Server } from 'node:https';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  httpStatusOf,
  isPlantgateError,
  type LinkKeyPair,
  type Logger,
  toErrorBody,
} from '../gateway/api/index.ts';
import { registerAdminPage } from './admin-page.ts';
import { bridgeLinkKeys, tlsMaterial } from './bridge-keys.ts';
import { LinkBroker } from './broker.ts';
import { CloudAccess } from './cloud-access.ts';
import type { BridgeConfig, IssuerConfig } from './config.ts';
import { registerConsentPage } from './consent-page.ts';
import { type DevIdentityProvider, startDevIdentityProvider } from './dev-idp.ts';
import { registerDeveloperPage } from './developer-page.ts';
import { registerEnrollmentRoute } from './enrollment-route.ts';
import { LinkDispatcher } from './link-dispatcher.ts';
import { openApiDocument } from './openapi.ts';
import { registerOperationRoutes } from './operation-routes.ts';
import { errorPage, registerPeoplePages } from './people-pages.ts';
import { registerPeopleRoutes } from './people-routes.ts';
import { auditRequest, note } from './request-context.ts';
import { Sessions, SignIn } from './sign-in.ts';
import { type BridgeStore, SqliteBridgeStore } from './store.ts';
import { TokenVerifier } from './tokens.ts';
import { STREAM_PATH, ValueStreams } from './value-stream.ts';

export interface RunningBridge {
  config: BridgeConfig;
  /** https://host:port */
  url: string;
  port: number;
  /** PEM of the certificate the bridge serves (pin it as the CA of a self-signed bridge). */
  certificate: string;
  /** The generated certificate's file, when the bridge made its own. */
  selfSignedFile?: string;
  store: BridgeStore;
  broker: LinkBroker;
  dispatcher: LinkDispatcher;
  keys: LinkKeyPair;
  /** The development identity provider, when `auth.devIssuer` is on. */
  devIdp?: DevIdentityProvider;
  stop(): Promise<void>;
}

export async function startBridge(config: BridgeConfig, log: Logger): Promise<RunningBridge> {
  const { dataDir, listen } = config.bridge;
  const store = new SqliteBridgeStore(dataDir);
  for (const [organisation, org] of Object.entries(config.organisations))
    await store.seedAllowedApps(organisation, org.allowedApps);
  const keys = bridgeLinkKeys(dataDir);
  const tls = await tlsMaterial(dataDir, listen.cert, listen.key);
  let devIdp: DevIdentityProvider | undefined;
  const issuers: IssuerConfig[] = [...config.auth.issuers];
  let devIssuer: IssuerConfig | undefined;
  if (config.auth.devIssuer) {
    devIdp = await startDevIdentityProvider({ jwksFile: path.join(dataDir, 'dev-idp-jwks.json') });
    devIssuer = {
      issuer: devIdp.issuer,
      audience: devIdp.audience,
      jwksFile: devIdp.jwksFile,
      organisation: Object.keys(config.organisations)[0] as string,
    };
    issuers.push(devIssuer);
    log.warn('development identity provider on', { issuer: devIdp.issuer });
  }
  const verifier = new TokenVerifier(issuers);
  const access = new CloudAccess(config, store);
  const broker = await LinkBroker.start(store, log, (gatewayId, reason) => {
    log.warn('link refused', { gateway: gatewayId, reason });
    void store
      .getGateway(gatewayId ?? '')
      .then((gateway) =>
        store.audit({
          time: new Date().toISOString(),
          action: 'link',
          outcome: 'PG_ERR_UNAUTHENTICATED',
          ...(gateway ? { organisation: gateway.organisation, gatewayId: gateway.id } : {}),
          detail: reason,
        }),
      )
      .catch(() => undefined);
  });
  const dispatcher = new LinkDispatcher(broker, keys);
  await dispatcher.start();
  const streams = new ValueStreams({ verifier, access, dispatcher, store });

  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 8 * 1024 * 1024,
    https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
  }) as unknown as FastifyInstance;

  app.addHook('onResponse', (request, reply, done) => {
    if (request.url.startsWith('/api/v1/openapi.json')) return done();
    void auditRequest(store, request, reply, (error) =>
      log.error('bridge audit write failed', { error: error.message }),
    ).finally(done);
  });
  app.setErrorHandler((error, request, reply) => {
    const known = isPlantgateError(error);
    const status = known ? httpStatusOf(error.code) : (error as { statusCode?: number }).statusCode;
    if (known) {
      note(request, { outcome: error.code, detail: error.message });
      if (!request.url.startsWith('/api/')) return errorPage(reply, status ?? 500, error.message);
      return reply.code(status ?? 500).send(toErrorBody(error));
    }
    if (status && status >= 400 && status < 500) {
      note(request, { outcome: 'PG_ERR_BAD_REQUEST', detail: (error as Error).message });
      return reply
        .code(status)
        .send({ error: { code: 'PG_ERR_BAD_REQUEST', message: (error as Error).message } });
    }
    note(request, { outcome: 'PG_ERR_INTERNAL', detail: (error as Error).message });
    log.error('bridge request failed', { error: (error as Error).message });
    return reply.code(500).send(toErrorBody(error));
  });
  app.setNotFoundHandler((request, reply) => {
    note(request, { outcome: 'PG_ERR_NOT_FOUND' });
    return reply.code(404).send({
      error: { code: 'PG_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    });
  });

  const document = openApiDocument();
  app.get('/api/v1/openapi.json', async () => document);
  const disconnect = (gatewayId: string) => broker.disconnect(gatewayId);
  registerEnrollmentRoute(app, { store, keys, disconnect });
  registerPeopleRoutes(app, { verifier, access, store, disconnect, ownClientId: config.auth.clientId });
  const sessions = new Sessions(config.auth.session.idleMinutes, config.auth.session.lifetimeHours);
  const signIn = new SignIn(config.auth.clientId, new Set(devIdp ? [devIdp.issuer] : []));
  registerPeoplePages(app, {
    config,
    issuers,
    ...(devIssuer ? { defaultIssuer: devIssuer } : {}),
    signIn,
    sessions,
    store,
  });
  registerConsentPage(app, { access, sessions, store });
  registerDeveloperPage(app, { access, sessions, store });
  registerAdminPage(app, {
    config,
    access,
    sessions,
    store,
    isOnline: (gatewayId) => broker.isOnline(gatewayId),
    disconnect,
  });
  registerOperationRoutes(app, {
    verifier,
    access,
    dispatcher,
    store,
    isOnline: (gatewayId) => broker.isOnline(gatewayId),
  });

  const server = app.server as Server;
  server.on('upgrade', (request, socket, head) => {
    const pathname = (request.url ?? '').split('?')[0] ?? '';
    if (pathname === '/link') return broker.handleUpgrade(request, socket, head);
    if (STREAM_PATH.test(pathname)) return void streams.handleUpgrade(request, socket, head);
    socket.destroy();
  });

  await app.listen({ host: listen.host, port: listen.port });
  const port = (server.address() as { port: number }).port;
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  devIdp?.registerClient({ clientId: config.auth.clientId, redirectUris: [`${url}/signin/callback`] });
  log.info('bridge started', {
    url,
    link: `${url.replace('https:', 'wss:')}/link`,
    instance: dispatcher.instanceId,
  });
  return {
    config,
    url,
    port,
    certificate: tls.cert,
    ...(tls.selfSignedFile ? { selfSignedFile: tls.selfSignedFile } : {}),
    store,
    broker,
    dispatcher,
    keys,
    ...(devIdp ? { devIdp } : {}),
    async stop() {
      streams.close();
      await devIdp?.stop();
      await broker.close();
      await app.close();
      store.close();
      log.info('bridge stopped', { url });
    },
  };
}

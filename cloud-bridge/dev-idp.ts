/**
 * The development identity provider: a real OpenID Connect provider (`oidc-provider`) on loopback with a
 * few demo accounts, for the demo and the tests. It signs people in with the authorization code flow and
 * PKCE and issues ES256 JWT access tokens for the bridge's audience, with `azp` (the client) and `groups`
 * — the shape of a Microsoft Entra ID v2 token. Its demo passwords are in this file; it is enabled only
 * by `auth.devIssuer: true`, and the bridge refuses that unless it listens on loopback.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { type Adapter, type AdapterPayload, type Configuration, Provider } from 'oidc-provider';
import { escapeHtml } from './html.ts';

export interface DemoAccount {
  id: string;
  name: string;
  groups: string[];
}

/** The demo accounts; each signs in with DEMO_PASSWORD. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { id: 'alice', name: 'Alice (operator)', groups: ['operators'] },
  { id: 'bob', name: 'Bob (engineer)', groups: ['engineers'] },
  { id: 'admin', name: 'Ada (organisation admin)', groups: [] },
  { id: 'root', name: 'Rae (global admin, where the config names her)', groups: [] },
];
export const DEMO_PASSWORD = 'plantgate-demo';

export interface DevIdpClient {
  clientId: string;
  redirectUris: string[];
}

export interface DevIdentityProvider {
  issuer: string;
  audience: string;
  /** The public signing keys, as a JWKS file the bridge's issuer entry names. */
  jwksFile: string;
  /** Registers (or replaces) a client that may sign people in: the bridge's own, or an app. */
  registerClient(client: DevIdpClient): void;
  stop(): Promise<void>;
}

function loginPage(uid: string, clientId: string, problem?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in — development identity provider</title></head>
<body><main><h1>Development identity provider</h1>
<p>Signing in to <strong>${escapeHtml(clientId)}</strong>. Demo accounts: ${DEMO_ACCOUNTS.map((a) => escapeHtml(a.id)).join(', ')}.</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Account</label> <input id="login" name="login" autocomplete="username" required autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

/**
 * The provider's storage, in memory and for this provider alone; clients come from the registrations
 * made with `registerClient`.
 */
function adapterFor(clients: Map<string, DevIdpClient>) {
  const store = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  return class MemoryAdapter implements Adapter {
    private readonly name: string;
    constructor(name: string) {
      this.name = name;
    }
    private key(id: string) {
      return `${this.name}:${id}`;
    }
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      store.set(this.key(id), { payload, expiresAt: Date.now() + expiresIn * 1000 });
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') {
        const client = clients.get(id);
        return client
          ? {
              client_id: client.clientId,
              token_endpoint_auth_method: 'none',
              redirect_uris: client.redirectUris,
              grant_types: ['authorization_code'],
              response_types: ['code'],
              id_token_signed_response_alg: 'ES256',
            }
          : undefined;
      }
      const entry = store.get(this.key(id));
      if (!entry || entry.expiresAt < Date.now()) return undefined;
      return entry.payload;
    }
    async findByUid(uid: string) {
      for (const { payload } of store.values()) if (payload.uid === uid) return payload;
      return undefined;
    }
    async findByUserCode(userCode: string) {
      for (const { payload } of store.values()) if (payload.userCode === userCode) return payload;
      return undefined;
    }
    async consume(id: string) {
      const entry = store.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, { payload }] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}

async function formOf(request: http.IncomingMessage): Promise<URLSearchParams> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request) {
    size += (part as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    parts.push(part as Buffer);
  }
  return new URLSearchParams(Buffer.concat(parts).toString('utf8'));
}

export async function startDevIdentityProvider(options: {
  jwksFile: string;
  audience?: string;
  host?: string;
  port?: number;
}): Promise<DevIdentityProvider> {
  const audience = options.audience ?? 'api://plantgate';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-idp-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  writeFileSync(options.jwksFile, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`);

  const server = http.createServer();
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const clients = new Map<string, DevIdpClient>();
  const accounts = new Map(DEMO_ACCOUNTS.map((a) => [a.id, a]));

  const configuration: Configuration = {
    adapter: adapterFor(clients),
    pkce: { required: () => true },
    jwks: { keys: [privateJwk] },
    cookies: { keys: [crypto.getRandomValues(new Uint8Array(32)).toString()] },
    scopes: ['openid', 'profile'],
    claims: { openid: ['sub', 'groups', 'auth_time'], profile: ['name'] },
    conformIdTokenClaims: false,
    async findAccount(_ctx: unknown, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, name: account.name, groups: account.groups }),
      };
    },
    // Consent to plant data is given at the bridge; the provider grants what a client asks.
    async loadExistingGrant(ctx) {
      const { client, session, provider } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile');
      grant.addResourceScope(audience, 'plantgate');
      await grant.save();
      return grant;
    },
    async extraTokenClaims(_ctx, token) {
      if (token.kind !== 'AccessToken' || !('accountId' in token)) return undefined;
      return { azp: token.clientId, groups: accounts.get(String(token.accountId))?.groups ?? [] };
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'plantgate',
          audience,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // A plain answer, not the provider's default page (which loads web fonts).
    async renderError(ctx, out) {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = Object.entries(out)
        .map(([key, value]) => `${key}: ${String(value)}`)
        .join('\n');
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 3600, IdToken: 3600, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  server.on('request', (request, response) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec((request.url ?? '').split('?')[0] ?? '');
    if (!match) return void callback(request, response);
    void (async () => {
      try {
        const details = await provider.interactionDetails(request, response);
        const clientId = String(details.params.client_id);
        response.setHeader('cache-control', 'no-store');
        // The sign-in form posts here and is then redirected to the client: its origins are allowed too.
        const origins = new Set(
          (clients.get(clientId)?.redirectUris ?? []).map((uri) => new URL(uri).origin),
        );
        response.setHeader(
          'content-security-policy',
          `default-src 'none'; form-action 'self' ${[...origins].join(' ')}; frame-ancestors 'none'`,
        );
        if (request.method === 'POST' && match[2]) {
          const form = await formOf(request);
          const account = accounts.get(form.get('login') ?? '');
          if (!account || form.get('password') !== DEMO_PASSWORD) {
            response.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
            return void response.end(loginPage(details.uid, clientId, 'Unknown account or wrong password.'));
          }
          return void (await provider.interactionFinished(
            request,
            response,
            { login: { accountId: account.id } },
            { mergeWithLastSubmission: false },
          ));
        }
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(loginPage(details.uid, clientId));
      } catch (error) {
        response.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`sign-in failed: ${(error as Error).message}`);
      }
    })();
  });

  return {
    issuer,
    audience,
    jwksFile: options.jwksFile,
    registerClient(client) {
      clients.set(client.clientId, client);
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

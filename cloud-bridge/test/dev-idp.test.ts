import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, type DevIdentityProvider, startDevIdentityProvider } from '../dev-idp.ts';
import { TokenVerifier } from '../tokens.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
let idp: DevIdentityProvider;
let config: oidc.Configuration;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plantgate-idp-'));
  idp = await startDevIdentityProvider({ jwksFile: path.join(dir, 'jwks.json') });
  idp.registerClient({ clientId: 'trend-viewer', redirectUris: [REDIRECT] });
  config = await oidc.discovery(new URL(idp.issuer), 'trend-viewer', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
});
afterAll(() => idp?.stop());

/** A browser's part of the flow: follows redirects with the provider's cookies, signs in, returns the callback URL. */
async function signIn(login: string, password: string, verifier: string): Promise<URL | number> {
  const cookies = new Map<string, string>();
  const remember = (response: Response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const [name, ...value] = (pair ?? '').split('=');
      if (name) cookies.set(name.trim(), value.join('='));
    }
  };
  const cookie = () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  let url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).href;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(REDIRECT)) return new URL(url);
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookie() } });
    remember(response);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location') as string, url).href;
      continue;
    }
    const page = await response.text();
    const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
    if (!action || response.status !== 200) return response.status;
    const answer = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, password }),
    });
    remember(answer);
    if (answer.status !== 303 && answer.status !== 302) return answer.status;
    url = new URL(answer.headers.get('location') as string, url).href;
  }
  throw new Error('too many redirects');
}

describe('the development identity provider', () => {
  it('signs a demo account in with code and PKCE, and its access token passes the bridge token check', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const callback = await signIn('alice', DEMO_PASSWORD, verifier);
    expect(callback).toBeInstanceOf(URL);
    const tokens = await oidc.authorizationCodeGrant(config, callback as URL, {
      pkceCodeVerifier: verifier,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', groups: ['operators'] });
    const identity = await new TokenVerifier([
      { issuer: idp.issuer, audience: idp.audience, jwksFile: idp.jwksFile, organisation: 'testorg' },
    ]).verify(tokens.access_token);
    expect(identity).toMatchObject({
      subject: 'user:alice',
      groups: ['operators'],
      app: 'trend-viewer',
      organisation: 'testorg',
    });
  });

  it('refuses a wrong password and an unknown account', async () => {
    expect(await signIn('alice', 'guess', oidc.randomPKCECodeVerifier())).toBe(401);
    expect(await signIn('mallory', DEMO_PASSWORD, oidc.randomPKCECodeVerifier())).toBe(401);
  });

  it('refuses a client it does not know', async () => {
    const stranger = await oidc.discovery(new URL(idp.issuer), 'stranger', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const url = oidc.buildAuthorizationUrl(stranger, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
  });
});

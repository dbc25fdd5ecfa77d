/** Token checks against an issuer that publishes its keys over HTTP: caching, and a key rotation picked up. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from './tokens.ts';

const ISSUER = 'https://login.example.test/tenant/v2.0';
const AUDIENCE = 'api://plantgate';
let published: JWK[] = [];
let fetches = 0;
let server: http.Server;
let jwksUri: string;

async function key(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const mint = (k: Awaited<ReturnType<typeof key>>, claims: Record<string, unknown> = {}) =>
  new SignJWT({ oid: '0f1e-oid', sub: 'pairwise-sub', azp: 'trend-viewer', groups: ['g-ops'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: k.kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime('10m')
    .sign(k.privateKey);

beforeAll(async () => {
  server = http.createServer((_request, response) => {
    fetches++;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('token verifier with a published key set', () => {
  it('fetches the keys once, and takes the principal from oid, groups and azp', async () => {
    const k1 = await key('k1');
    published = [k1.jwk];
    const verifier = new TokenVerifier(
      [{ issuer: ISSUER, audience: AUDIENCE, jwksUri, organisation: 'contoso' }],
      { cacheMaxAgeMs: 60_000, cooldownMs: 100 },
    );
    for (let i = 0; i < 5; i++) {
      expect(await verifier.verify(await mint(k1))).toEqual({
        subject: 'user:0f1e-oid',
        groups: ['g-ops'],
        app: 'trend-viewer',
        organisation: 'contoso',
      });
    }
    expect(fetches).toBe(1);

    // The issuer rotates to k2: a token with the new key id makes the verifier fetch again.
    const k2 = await key('k2');
    published = [k2.jwk];
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await verifier.verify(await mint(k2, { appid: 'x', azp: undefined }))).app).toBe('x');
    expect(fetches).toBe(2);

    // A key the issuer never published stays refused.
    const stranger = await key('k3');
    await expect(verifier.verify(await mint(stranger))).rejects.toThrow(/no key of the issuer/);
  });
});

describe("roles from a token's roles claim", () => {
  it("developer and orgAdmin count in the issuer's organisation; globalAdmin only from an issuer allowed to grant it", async () => {
    const k = await key('k-roles');
    published = [k.jwk];
    const token = await mint(k, { roles: ['developer', 'orgAdmin', 'globalAdmin', 'superuser'] });
    const organisation = new TokenVerifier([
      { issuer: ISSUER, audience: AUDIENCE, jwksUri, organisation: 'contoso' },
    ]);
    expect((await organisation.verify(token)).roles).toEqual(['developer', 'orgAdmin']);
    const operator = new TokenVerifier([
      { issuer: ISSUER, audience: AUDIENCE, jwksUri, organisation: 'operator', grantsGlobalAdmin: true },
    ]);
    expect((await operator.verify(token)).roles).toEqual(['developer', 'orgAdmin', 'globalAdmin']);
    const none = await mint(k, { roles: 'orgAdmin' });
    expect((await organisation.verify(none)).roles).toBeUndefined();
  });
});

/** Forged tokens, missing consent, apps the organisation does not allow: refused at the bridge, and audited. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, CLIENT_ID, type LinkHarness, startLinkHarness } from './link-harness.ts';

let h: LinkHarness;
beforeAll(async () => {
  h = await startLinkHarness();
  await h.consent('alice');
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';
const body = { tags: ['Boiler1.SteamPressure'] };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function refusedWith(token: string, code: string, status: number, message?: RegExp) {
  const answer = await h.api(SNAPSHOT, { token, body });
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body.error.code).toBe(code);
  if (message) expect(answer.body.error.message).toMatch(message);
  return answer;
}

async function auditedAs(outcome: string, detail: RegExp, organisation: string | null = 'testorg') {
  const entries = await h.bridge.store.listAudit(organisation, '1970-01-01T00:00:00.000Z', 10_000);
  expect(entries.some((e) => e.outcome === outcome && detail.test(e.detail ?? ''))).toBe(true);
}

describe('bearer tokens', () => {
  it('a genuine token passes (the baseline the forgeries below are made from)', async () => {
    const answer = await h.api(SNAPSHOT, { token: await h.appToken('alice'), body });
    expect(answer.status, answer.text).toBe(200);
  });

  it('alg none is refused', async () => {
    const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      iss: h.issuer.issuer,
      aud: h.issuer.audience,
      sub: 'alice',
      azp: APP,
      exp: now() + 600,
    })}.`;
    await refusedWith(forged, 'PG_ERR_UNAUTHENTICATED', 401, /algorithm is not allowed/);
    await auditedAs('PG_ERR_UNAUTHENTICATED', /algorithm is not allowed/);
  });

  it('HS256 signed with the public key is refused', async () => {
    const jwks = JSON.parse(readFileSync(h.issuer.jwksFile, 'utf8'));
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const forged = await new SignJWT({ sub: 'alice', azp: APP })
      .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0].kid })
      .setIssuer(h.issuer.issuer)
      .setAudience(h.issuer.audience)
      .setExpirationTime('10m')
      .sign(secret);
    await refusedWith(forged, 'PG_ERR_UNAUTHENTICATED', 401, /algorithm is not allowed/);
  });

  it('wrong issuer, wrong audience, expired and not-yet-valid tokens are refused', async () => {
    const stranger = await h.issuer.mint({ sub: 'alice', azp: APP, iss: 'https://evil.test' });
    await refusedWith(
      stranger,
      'PG_ERR_UNAUTHENTICATED',
      401,
      /issuer "https:\/\/evil.test" is not configured/,
    );
    await auditedAs('PG_ERR_UNAUTHENTICATED', /is not configured/, null);

    const otherAudience = await h.issuer.mint({ sub: 'alice', azp: APP, aud: 'api://someone-else' });
    await refusedWith(otherAudience, 'PG_ERR_UNAUTHENTICATED', 401, /claim "aud"/);

    const expired = await h.issuer.mint({ sub: 'alice', azp: APP, exp: now() - 600 });
    await refusedWith(expired, 'PG_ERR_UNAUTHENTICATED', 401, /expired/);

    const early = await h.issuer.mint({ sub: 'alice', azp: APP, nbf: now() + 600 });
    await refusedWith(early, 'PG_ERR_UNAUTHENTICATED', 401, /claim "nbf"/);
    await auditedAs('PG_ERR_UNAUTHENTICATED', /nbf/);
  });

  it('a key id the issuer does not publish, and a tampered payload, are refused', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const unknownKid = await new SignJWT({ sub: 'alice', azp: APP })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-published' })
      .setIssuer(h.issuer.issuer)
      .setAudience(h.issuer.audience)
      .setExpirationTime('10m')
      .sign(privateKey);
    await refusedWith(unknownKid, 'PG_ERR_UNAUTHENTICATED', 401, /no key of the issuer/);

    const genuine = await h.appToken('bob');
    const [header, , signature] = genuine.split('.');
    const payload = JSON.parse(Buffer.from(genuine.split('.')[1] as string, 'base64url').toString());
    const tampered = `${header}.${b64({ ...payload, sub: 'alice' })}.${signature}`;
    await refusedWith(tampered, 'PG_ERR_UNAUTHENTICATED', 401, /signature does not verify/);
    await auditedAs('PG_ERR_UNAUTHENTICATED', /signature does not verify/);
  });

  it('no token at all is refused', async () => {
    const answer = await h.api(SNAPSHOT, { body });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('PG_ERR_UNAUTHENTICATED');
  });
});

describe('organisation and consent', () => {
  it('a user without consent is refused before anything reaches the gateway', async () => {
    await refusedWith(await h.appToken('carol'), 'PG_ERR_CONSENT_REQUIRED', 403, /has not consented/);
    await auditedAs('PG_ERR_CONSENT_REQUIRED', /user:carol has not consented/);
  });

  it('an app the organisation does not allow is refused, even with consent on record', async () => {
    const token = await h.issuer.mint({ sub: 'alice', azp: 'shadow-app' });
    await refusedWith(token, 'PG_ERR_APP_NOT_ALLOWED', 403, /does not allow app "shadow-app"/);
    await auditedAs('PG_ERR_APP_NOT_ALLOWED', /shadow-app/);

    // The org admin allows it; alice consents; it works. The admin refuses it again; it stops.
    const admin = await h.ownToken('admin');
    const allow = (allowed: boolean) =>
      h.api(`/api/v1/organisations/testorg/apps/shadow-app`, {
        method: 'PUT',
        token: admin,
        body: { allowed },
      });
    expect((await allow(true)).status).toBe(200);
    await h.consent('alice', 'boiler', 'shadow-app');
    expect((await h.api(SNAPSHOT, { token, body })).status).toBe(200);
    expect((await allow(false)).status).toBe(200);
    await refusedWith(token, 'PG_ERR_APP_NOT_ALLOWED', 403);
  });

  it("consent is only given with the bridge's own client, never an app's token", async () => {
    const answer = await h.api('/api/v1/consents', {
      token: await h.appToken('carol'),
      body: { app: APP, gatewayId: 'site-a', sourceId: 'boiler' },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'PG_ERR_FORBIDDEN' });
    expect(answer.body.error.message).toContain(CLIENT_ID);
    await auditedAs('PG_ERR_FORBIDDEN', /bridge's own client/);
  });

  it('revoked consent stops the app at once', async () => {
    const id = await h.consent('dave');
    // dave has consent but no gateway rule: the gateway refuses him (its own rules decide).
    const refused = await refusedWith(
      await h.appToken('dave'),
      'PG_ERR_ACCESS_DENIED',
      403,
      /user:dave may not/,
    );
    expect(refused.body.error.message).toContain('values.snapshot');
    const revoke = await h.api(`/api/v1/consents/${id}`, {
      method: 'DELETE',
      token: await h.ownToken('dave'),
    });
    expect(revoke.status).toBe(204);
    await refusedWith(await h.appToken('dave'), 'PG_ERR_CONSENT_REQUIRED', 403);
  });

  it('a sign-in older than the session limit serves only apps consented with offline access', async () => {
    const stale = await h.appToken('alice', { auth_time: now() - 13 * 3600 });
    await refusedWith(stale, 'PG_ERR_UNAUTHENTICATED', 401, /sign in again/);
    const answer = await h.api('/api/v1/consents', {
      token: await h.ownToken('alice'),
      body: { app: APP, gatewayId: 'site-a', sourceId: 'boiler', offlineAccess: true },
    });
    expect(answer.body.offlineAccess).toBe(true);
    expect((await h.api(SNAPSHOT, { token: stale, body })).status).toBe(200);
  });

  it("another organisation's gateways do not exist for a user", async () => {
    const answer = await h.api('/api/v1/gateways/site-zz/sources/boiler/values/snapshot', {
      token: await h.appToken('alice'),
      body,
    });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('PG_ERR_NOT_FOUND');
  });

  it('only org admins create enrollment codes, and codes are stored hashed', async () => {
    const notAdmin = await h.api('/api/v1/gateways', {
      token: await h.ownToken('alice'),
      body: { id: 'site-x' },
    });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.message).toMatch(/orgAdmin/);
    const made = await h.api('/api/v1/gateways', {
      token: await h.ownToken('admin'),
      body: { id: 'site-x' },
    });
    expect(made.status).toBe(201);
    const files = ['bridge.db', 'bridge.db-wal'].map((f) => `${h.dir}/bridge-data/${f}`).filter(existsSync);
    const stored = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(stored.includes(Buffer.from(made.body.code))).toBe(false);
    expect(stored.includes(Buffer.from(createHash('sha256').update(made.body.code).digest('hex')))).toBe(
      true,
    );
  });
});

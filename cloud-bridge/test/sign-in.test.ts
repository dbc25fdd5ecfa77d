import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sessions, safeReturn } from '../sign-in.ts';
import { browserFor, csrfOf, signInAs } from './browser-http.ts';
import { type LinkHarness, startLinkHarness } from './link-harness.ts';

let h: LinkHarness;
beforeAll(async () => {
  h = await startLinkHarness({ devIssuer: true });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';
const body = { tags: ['Boiler1.SteamPressure'] };

describe('people sign in to the bridge', () => {
  it('sign in with the development provider, see the consent, revoke it, and the app is refused at once', async () => {
    const consentId = await h.consent('alice');
    const b = browserFor(h);
    const myApps = await signInAs(h, b, 'alice');
    expect(myApps.url.pathname).toBe('/my-apps');
    expect(myApps.status).toBe(200);
    expect(myApps.text).toContain('Signed in as user:alice (testorg)');
    expect(myApps.text).toContain('trend-viewer');
    expect(myApps.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(myApps.headers['cache-control']).toBe('no-store');
    const session = /__Host-pg_session=([^;]+)/.exec(
      [...(b.jar.get(new URL(h.bridge.url).host) ?? [])].map(([k, v]) => `${k}=${v}`).join(';'),
    );
    expect(session).not.toBeNull();

    const appToken = await h.appToken('alice');
    expect((await h.api(SNAPSHOT, { token: appToken, body })).status).toBe(200);

    const revoked = await b.go('/my-apps/revoke', { form: { csrf: csrfOf(myApps.text), id: consentId } });
    expect(revoked.url.pathname).toBe('/my-apps');
    expect(revoked.text).toContain('You have not let any app use plant data');
    const refused = await h.api(SNAPSHOT, { token: appToken, body });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('PG_ERR_CONSENT_REQUIRED');
  });

  it('a change without the CSRF token, or posted from another site, is refused', async () => {
    const consentId = await h.consent('bob');
    const b = browserFor(h);
    const myApps = await signInAs(h, b, 'bob');
    const noToken = await b.go('/my-apps/revoke', { form: { id: consentId } });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('CSRF');
    const crossSite = await b.go('/my-apps/revoke', {
      form: { csrf: csrfOf(myApps.text), id: consentId },
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const fromAnotherSite = await b.go('/my-apps/revoke', {
      form: { csrf: csrfOf(myApps.text), id: consentId },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(fromAnotherSite.status).toBe(403);
    expect((await b.go('/my-apps')).text).toContain(consentId);
  });

  it('without a session a page sends the person to sign in; a sign-out ends the session', async () => {
    const b = browserFor(h);
    expect((await b.go('/my-apps', { follow: false })).headers.location).toBe('/signin?return=%2Fmy-apps');
    const begun = await b.go('/signin', { follow: false });
    expect(begun.headers['set-cookie']?.[0]).toMatch(
      /^__Host-pg_signin=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax/,
    );
    const myApps = await signInAs(h, b, 'admin');
    expect(myApps.status).toBe(200);
    const bridgeCookies = b.jar.get(new URL(h.bridge.url).host) as Map<string, string>;
    const ended = bridgeCookies.get('__Host-pg_session') as string;
    const out = await b.go('/signout', { form: { csrf: csrfOf(myApps.text) } });
    expect(out.url.pathname).toBe('/signed-out');
    expect(bridgeCookies.has('__Host-pg_session')).toBe(false);
    // The ended session's cookie no longer opens anything.
    bridgeCookies.set('__Host-pg_session', ended);
    expect((await b.go('/my-apps', { follow: false })).status).toBe(303);
  });

  it('a callback that this browser did not begin is refused', async () => {
    const b = browserFor(h);
    const answer = await b.go('/signin/callback?code=forged&state=forged');
    expect(answer.status).toBe(401);
  });
});

describe('sessions and return addresses', () => {
  it('a session ends after its inactivity timeout and after its absolute lifetime', () => {
    const sessions = new Sessions(30, 12);
    const identity = { subject: 'user:a', groups: [], app: 'bridge', organisation: 'o' };
    const start = 1_000_000;
    const idle = sessions.create(identity, start);
    expect(sessions.get(idle.id, start + 29 * 60_000)).toBeDefined();
    expect(sessions.get(idle.id, start + 29 * 60_000 + 31 * 60_000)).toBeUndefined();
    const busy = sessions.create(identity, start);
    for (let t = start; t < start + 12 * 3_600_000; t += 20 * 60_000)
      expect(sessions.get(busy.id, t)).toBeDefined();
    expect(sessions.get(busy.id, start + 12 * 3_600_000 + 1)).toBeUndefined();
  });

  it('ended sessions are swept out before the store grows past its mark', () => {
    const sessions = new Sessions(30, 12);
    const identity = { subject: 'user:a', groups: [], app: 'bridge', organisation: 'o' };
    for (let i = 0; i < 9_999; i++) sessions.create(identity, 0);
    const live = sessions.create(identity, 20 * 60_000);
    sessions.create(identity, 31 * 60_000);
    expect(sessions.size).toBe(2);
    // The sweep does not count as activity: the live one still ends 30 min after its last use.
    expect(sessions.get(live.id, 20 * 60_000 + 30 * 60_000 + 1)).toBeUndefined();
  });

  it('returns only to a path on the bridge itself', () => {
    expect(safeReturn('/my-apps?x=1')).toBe('/my-apps?x=1');
    for (const evil of [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      'javascript:alert(1)',
      '',
    ])
      expect(safeReturn(evil)).toBe('/my-apps');
  });
});

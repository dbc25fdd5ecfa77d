import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserFor, csrfOf, signInAs } from './browser-http.ts';
import { APP, type LinkHarness, startLinkHarness } from './link-harness.ts';

const RETURN = 'https://trend-viewer.example/back';
const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';
const body = { tags: ['Boiler1.SteamPressure'] };
let h: LinkHarness;

beforeAll(async () => {
  h = await startLinkHarness({ devIssuer: true });
  const registered = await h.api('/api/v1/apps', {
    token: await h.ownToken('admin'),
    body: {
      clientId: APP,
      name: 'Trend Viewer',
      publisher: 'Example Analytics',
      redirectUris: [RETURN],
      offlineAccess: true,
    },
  });
  if (registered.status !== 201) throw new Error(`app registration: ${registered.text}`);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const prompt = (returnTo = RETURN, app = APP) =>
  `/consent?app=${app}&gateway=site-a&sources=boiler&return=${encodeURIComponent(returnTo)}`;

describe('registering apps', () => {
  it('takes a developer or org admin of the organisation, with https (or loopback) redirect addresses', async () => {
    const own = await h.ownToken('alice');
    const refused = await h.api('/api/v1/apps', {
      token: own,
      body: { clientId: 'x-app', name: 'X', publisher: 'X', redirectUris: [RETURN] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/developer role/);
    const admin = await h.ownToken('admin');
    const plainHttp = await h.api('/api/v1/apps', {
      token: admin,
      body: { clientId: 'x-app', name: 'X', publisher: 'X', redirectUris: ['http://app.example/cb'] },
    });
    expect(plainHttp.status).toBe(400);
    expect(plainHttp.body.error.message).toMatch(/redirectUris\[0\] must be https/);
    const byApp = await h.api('/api/v1/apps', { token: await h.appToken('admin') });
    expect(byApp.status).toBe(403);
    const listed = await h.api('/api/v1/apps', { token: admin });
    expect(listed.body.apps.map((a: { clientId: string }) => a.clientId)).toEqual([APP]);
  });
});

describe('the consent prompt', () => {
  it('shows the app and its offline access; allowing sends the person back and the app may call', async () => {
    const b = browserFor(h);
    const shown = await signInAs(h, b, 'bob', prompt());
    expect(shown.status).toBe(200);
    expect(shown.url.pathname).toBe('/consent');
    expect(shown.text).toContain('Trend Viewer');
    expect(shown.text).toContain('Example Analytics');
    expect(shown.text).toContain('Offline access.');
    expect(shown.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const token = await h.appToken('bob', { groups: ['operators'] });
    expect((await h.api(SNAPSHOT, { token, body })).status).toBe(403);

    const answer = await b.go('/consent', {
      form: {
        csrf: csrfOf(shown.text),
        app: APP,
        gateway: 'site-a',
        sources: 'boiler',
        return: RETURN,
        decision: 'allow',
      },
      follow: false,
    });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(`${RETURN}?consent=granted`);
    expect((await h.api(SNAPSHOT, { token, body })).status).toBe(200);
    const myApps = await b.go('/my-apps');
    expect(myApps.text).toContain('<strong>Offline access</strong>');
  });

  it('denying sends the person back with access_denied and gives nothing', async () => {
    const b = browserFor(h);
    const shown = await signInAs(h, b, 'alice', prompt());
    const answer = await b.go('/consent', {
      form: {
        csrf: csrfOf(shown.text),
        app: APP,
        gateway: 'site-a',
        sources: 'stuck',
        return: RETURN,
        decision: 'deny',
      },
      follow: false,
    });
    expect(answer.headers.location).toBe(`${RETURN}?error=access_denied`);
    expect((await b.go('/my-apps')).text).not.toContain('>stuck<');
  });

  it('refuses a return address the app did not register, and an app that is not registered', async () => {
    const b = browserFor(h);
    const evil = await signInAs(h, b, 'alice', prompt('https://evil.example/steal'));
    expect(evil.status).toBe(400);
    expect(evil.text).toContain('not one of app');
    expect((await b.go(prompt(RETURN, 'unknown-app'))).status).toBe(404);
  });

  it('refuses a grant posted without the CSRF token', async () => {
    const b = browserFor(h);
    await signInAs(h, b, 'alice', prompt());
    const answer = await b.go('/consent', {
      form: { app: APP, gateway: 'site-a', sources: 'boiler', return: RETURN, decision: 'allow' },
      follow: false,
    });
    expect(answer.status).toBe(403);
  });
});

describe("the developer's page", () => {
  it('lists the apps and registers one for a developer or org admin; others are refused', async () => {
    const admin = browserFor(h);
    const shown = await signInAs(h, admin, 'admin', '/developer');
    expect(shown.url.pathname).toBe('/developer');
    expect(shown.text).toContain('Example Analytics');
    const saved = await admin.go('/developer/apps', {
      form: {
        csrf: csrfOf(shown.text),
        clientId: 'energy-report',
        name: 'Energy Report',
        publisher: 'Plant IT',
        redirectUris: 'https://energy.example/back\r\nhttp://127.0.0.1:5173/back',
      },
    });
    expect(saved.url.search).toBe('?saved=energy-report');
    expect(saved.text).toContain('http://127.0.0.1:5173/back');
    const apps = await h.api('/api/v1/apps', { token: await h.ownToken('admin') });
    expect(apps.body.apps.find((a: { clientId: string }) => a.clientId === 'energy-report')).toMatchObject({
      redirectUris: ['https://energy.example/back', 'http://127.0.0.1:5173/back'],
      offlineAccess: false,
      createdBy: 'user:admin',
    });
    const bad = await admin.go('/developer/apps', {
      form: { csrf: csrfOf(shown.text), clientId: 'x', name: 'X', publisher: 'X', redirectUris: 'ftp://x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('redirectUris[0] must be https');

    const person = browserFor(h);
    expect((await signInAs(h, person, 'alice', '/developer')).status).toBe(403);
  });
});

describe("the organisation admin's page", () => {
  it('shows gateways with their link, makes an enrollment code once, allows and refuses apps, shows the audit', async () => {
    const admin = browserFor(h);
    const shown = await signInAs(h, admin, 'admin', '/admin');
    expect(shown.status).toBe(200);
    expect(shown.text).toMatch(/<td>site-a<\/td>[\s\S]*?<td>online<\/td>/);
    expect(shown.text).toContain('Example Analytics');

    const coded = await admin.go('/admin/enrollment-codes', {
      form: { csrf: csrfOf(shown.text), id: 'site-b', name: 'Site B' },
    });
    expect(coded.text).toMatch(
      /Enrollment code for <strong>site-b<\/strong>[\s\S]*<code>pgc_[\w-]{32}<\/code>/,
    );
    expect(coded.text).toMatch(/<td>site-b<\/td><td>Site B<\/td><td>not enrolled<\/td>\s*<td>offline<\/td>/);
    // The request's audit entry is written as its answer leaves: the next view shows it.
    expect((await admin.go('/admin')).text).toContain('enrollment code made');

    const token = await h.appToken('alice');
    const refuse = await admin.go('/admin/apps', {
      form: { csrf: csrfOf(shown.text), clientId: APP, allowed: 'no' },
    });
    expect(refuse.text).toMatch(/<td>refused<\/td>/);
    expect((await h.api(SNAPSHOT, { token, body })).body.error.code).toBe('PG_ERR_APP_NOT_ALLOWED');
    await admin.go('/admin/apps', { form: { csrf: csrfOf(shown.text), clientId: APP, allowed: 'yes' } });
    expect((await h.api(SNAPSHOT, { token, body })).body.error?.code).not.toBe('PG_ERR_APP_NOT_ALLOWED');

    const deleted = await admin.go('/admin/gateways/delete', {
      form: { csrf: csrfOf(shown.text), id: 'site-b' },
    });
    expect(deleted.text).not.toContain('<td>site-b</td><td>Site B</td>');
  });

  it('is for org admins only, and changes need the CSRF token', async () => {
    const person = browserFor(h);
    expect((await signInAs(h, person, 'bob', '/admin')).status).toBe(403);
    const admin = browserFor(h);
    await signInAs(h, admin, 'admin', '/admin');
    const forged = await admin.go('/admin/apps', { form: { clientId: APP, allowed: 'no' } });
    expect(forged.status).toBe(403);
  });
});

describe('organisation roles', () => {
  it("come from the config or the token's roles claim, in the token's organisation only; deny by default", async () => {
    const app = { clientId: 'carol-app', name: 'C', publisher: 'C', redirectUris: [RETURN] };
    const plain = await h.ownToken('carol');
    expect((await h.api('/api/v1/apps', { token: plain, body: app })).status).toBe(403);
    const developer = await h.ownToken('carol', { roles: ['developer'] });
    expect((await h.api('/api/v1/apps', { token: developer, body: app })).status).toBe(201);
    expect((await h.api('/api/v1/organisations/testorg/audit', { token: developer })).status).toBe(403);
    const orgAdmin = await h.ownToken('carol', { roles: ['orgAdmin'] });
    expect((await h.api('/api/v1/organisations/testorg/audit', { token: orgAdmin })).status).toBe(200);
    // Another organisation's audit is not an org admin's to read, nor does a role claim reach it.
    expect((await h.api('/api/v1/organisations/otherorg/audit', { token: orgAdmin })).status).toBe(403);
    const admin = await h.ownToken('admin');
    expect((await h.api('/api/v1/organisations/otherorg/audit', { token: admin })).status).toBe(403);
    const global = await h.ownToken('carol', { roles: ['globalAdmin'] });
    expect((await h.api('/api/v1/organisations/testorg/audit', { token: global })).status).toBe(403);
  });
});

describe('the app-access log', () => {
  it('lists what apps did for people, filtered by person, app and outcome, for org admins', async () => {
    const token = await h.appToken('bob', { groups: ['operators'] });
    await h.api(SNAPSHOT, { token, body });
    const admin = await h.ownToken('admin');
    const all = await h.api('/api/v1/organisations/testorg/app-access?user=bob&app=trend-viewer', {
      token: admin,
    });
    expect(all.status).toBe(200);
    expect(all.body.entries.length).toBeGreaterThan(0);
    for (const e of all.body.entries)
      expect(e).toMatchObject({ subject: 'user:bob', app: APP, gatewayId: 'site-a' });
    expect(all.body.entries[0]).toMatchObject({ action: 'values.snapshot', sourceId: 'boiler' });
    const outcomes = new Set(all.body.entries.map((e: { outcome: string }) => e.outcome));
    expect(outcomes).toContain('ok');
    expect(outcomes).toContain('PG_ERR_CONSENT_REQUIRED');
    const refused = await h.api('/api/v1/organisations/testorg/app-access?user=bob&outcome=refused', {
      token: admin,
    });
    expect(refused.body.entries.every((e: { outcome: string }) => e.outcome !== 'ok')).toBe(true);
    // The bridge's own client (people on its pages) is not an app.
    expect(all.body.entries.some((e: { app: string }) => e.app === 'plantgate-bridge')).toBe(false);
    const byPerson = await h.api('/api/v1/organisations/testorg/app-access', {
      token: await h.ownToken('bob'),
    });
    expect(byPerson.status).toBe(403);

    const b = browserFor(h);
    const shown = await signInAs(h, b, 'admin', '/admin?user=bob&outcome=ok');
    expect(shown.text).toMatch(
      /<td>user:bob<\/td><td>trend-viewer<\/td><td>site-a<\/td>\s*<td>boiler<\/td><td>values.snapshot<\/td><td>ok<\/td>/,
    );
  });
});

describe('allowing an app for some people only', () => {
  it('lets only the named users and groups use it, and says so to the others', async () => {
    const bob = await h.appToken('bob', { groups: ['operators'] });
    const alice = await h.appToken('alice');
    await h.consent('alice');
    await h.consent('bob');
    const admin = browserFor(h);
    const shown = await signInAs(h, admin, 'admin', '/admin');
    const only = await admin.go('/admin/apps', {
      form: {
        csrf: csrfOf(shown.text),
        clientId: APP,
        allowed: 'yes',
        principals: 'group:operators\r\nuser:dave',
      },
    });
    expect(only.text).toContain('allowed for group:operators, user:dave');
    expect((await h.api(SNAPSHOT, { token: bob, body })).status).toBe(200);
    const refused = await h.api(SNAPSHOT, { token: alice, body });
    expect(refused.body.error).toMatchObject({ code: 'PG_ERR_APP_NOT_ALLOWED' });
    expect(refused.body.error.message).toMatch(/only for some of its people, not user:alice/);

    const adminToken = await h.ownToken('admin');
    const api = (decision: unknown) =>
      h.api(`/api/v1/organisations/testorg/apps/${APP}`, {
        method: 'PUT',
        token: adminToken,
        body: decision,
      });
    expect((await api({ allowed: true, principals: ['everyone'] })).status).toBe(400);
    expect((await api({ allowed: false, principals: ['user:alice'] })).status).toBe(400);
    expect((await api({ allowed: true })).status).toBe(200);
    expect((await h.api(SNAPSHOT, { token: alice, body })).status).toBe(200);
  });
});

describe('global admins', () => {
  it('come only from the config, and are org admins of every organisation', async () => {
    const root = await h.ownToken('root');
    expect((await h.api('/api/v1/organisations/otherorg/audit', { token: root })).status).toBe(200);
    expect((await h.api('/api/v1/organisations/testorg/audit', { token: root })).status).toBe(200);
    expect((await h.api('/api/v1/organisations/nowhere/audit', { token: root })).status).toBe(403);
    // The same principal through a token that merely claims more is nobody special.
    const claimed = await h.ownToken('carol', { roles: ['globalAdmin', 'orgAdmin'] });
    expect((await h.api('/api/v1/organisations/otherorg/audit', { token: claimed })).status).toBe(403);
  });
});

describe('trust settings', () => {
  it('an organisation that refuses offline access: no prompt for such an app, and old sign-ins no longer pass', async () => {
    await h.consent('alice');
    const stale = await h.appToken('alice', { auth_time: Math.floor(Date.now() / 1000) - 13 * 3600 });
    const offline = await h.api('/api/v1/consents', {
      token: await h.ownToken('alice'),
      body: { app: APP, gatewayId: 'site-a', sourceId: 'boiler', offlineAccess: true },
    });
    expect(offline.status).toBe(201);
    expect((await h.api(SNAPSHOT, { token: stale, body })).status).toBe(200);

    const admin = browserFor(h);
    const shown = await signInAs(h, admin, 'admin', '/admin');
    const saved = await admin.go('/admin/trust', { form: { csrf: csrfOf(shown.text), sessionHours: '12' } });
    expect(saved.text).not.toMatch(/id="trust-offline"[^>]*checked/);
    const refused = await h.api(SNAPSHOT, { token: stale, body });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/refuses it/);
    expect((await admin.go('/admin')).text).toContain('trust: before offline access allowed');

    const person = browserFor(h);
    const prompt = await signInAs(
      h,
      person,
      'bob',
      `/consent?app=${APP}&gateway=site-a&sources=boiler&return=${encodeURIComponent(RETURN)}`,
    );
    // trend-viewer was registered with offline access in this file's setup.
    expect(prompt.status).toBe(403);
    expect(prompt.text).toContain('does not allow');

    const put = await h.api('/api/v1/organisations/testorg/trust', {
      method: 'PUT',
      token: await h.ownToken('admin'),
      body: { offlineAccess: 'allowed', sessionHours: 12 },
    });
    expect(put.status).toBe(200);
    expect((await h.api(SNAPSHOT, { token: stale, body })).status).toBe(200);
    const bad = await h.api('/api/v1/organisations/testorg/trust', {
      method: 'PUT',
      token: await h.ownToken('admin'),
      body: { offlineAccess: 'maybe', sessionHours: 12 },
    });
    expect(bad.status).toBe(400);
  });
});

describe("the global admin's page", () => {
  it('administers every organisation, each in its own page', async () => {
    const b = browserFor(h);
    const own = await signInAs(h, b, 'root', '/admin');
    expect(own.text).toContain('Organisation testorg');
    expect(own.text).toMatch(
      /Global admin: <strong>testorg<\/strong> · <a href="\/admin\?organisation=otherorg">otherorg<\/a>/,
    );
    const other = await b.go('/admin?organisation=otherorg');
    expect(other.text).toContain('<h1>Organisation otherorg</h1>');
    const coded = await b.go('/admin/enrollment-codes', {
      form: { csrf: csrfOf(other.text), organisation: 'otherorg', id: 'other-site' },
    });
    expect(coded.text).toContain('<td>other-site</td>');
    expect((await b.go('/admin?organisation=testorg')).text).not.toContain('<td>other-site</td>');
    // An organisation admin is not let into another organisation's page.
    const admin = browserFor(h);
    expect((await signInAs(h, admin, 'admin', '/admin?organisation=otherorg')).status).toBe(403);
  });
});

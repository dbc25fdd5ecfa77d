import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, chromiumAvailable, launchChromium } from '../../gateway/test/browser.ts';
import { DEMO_PASSWORD } from '../dev-idp.ts';
import { APP, type LinkHarness, startLinkHarness } from './link-harness.ts';

const RETURN = 'https://trend-viewer.example/back';
const SNAPSHOT = '/api/v1/gateways/site-a/sources/boiler/values/snapshot';
/** A short inactivity timeout (6 s), so a test can outwait it. */
const IDLE_MINUTES = 0.1;

const available = chromiumAvailable("the browser tests of the bridge's pages");

let h: LinkHarness;
let browser: Browser;

describe.runIf(available)("the bridge's pages in a browser", () => {
  beforeAll(async () => {
    h = await startLinkHarness({ devIssuer: true, sessionIdleMinutes: IDLE_MINUTES });
    const registered = await h.api('/api/v1/apps', {
      token: await h.ownToken('admin'),
      body: { clientId: APP, name: 'Trend Viewer', publisher: 'Example Analytics', redirectUris: [RETURN] },
    });
    if (registered.status !== 201) throw new Error(`app registration: ${registered.text}`);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('sign in, allow the app, its call works; revoke it and the app is refused', async () => {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 800 },
    });
    // The app's own site is not on this machine: the browser is answered for it.
    await context.route(`${RETURN}**`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<h1>Back at Trend Viewer</h1>' }),
    );
    const page = await context.newPage();
    await page.goto(
      `${h.bridge.url}/consent?app=${APP}&gateway=site-a&sources=boiler&return=${encodeURIComponent(RETURN)}`,
    );
    await page.getByLabel('Account').fill('bob');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sign-in.png') });
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page.getByRole('heading', { name: 'Allow Trend Viewer?' })).toBeDefined();
    await page.waitForURL(/\/consent\?/);
    expect(await page.textContent('main')).toContain('Example Analytics');
    await page.screenshot({ path: path.join(ARTIFACTS, 'consent-prompt.png') });
    const token = await h.appToken('bob', { groups: ['operators'] });
    const body = { tags: ['Boiler1.SteamPressure'] };
    expect((await h.api(SNAPSHOT, { token, body })).status).toBe(403);

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${RETURN}?consent=granted`);
    expect((await h.api(SNAPSHOT, { token, body })).status).toBe(200);

    await page.goto(`${h.bridge.url}/my-apps`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'my-apps.png') });
    await page.getByRole('button', { name: `Revoke ${APP} on site-a / boiler` }).click();
    await page.waitForURL(`${h.bridge.url}/my-apps`);
    expect(await page.textContent('main')).toContain('You have not let any app use plant data');
    const refused = await h.api(SNAPSHOT, { token, body });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('PG_ERR_CONSENT_REQUIRED');
    await context.close();
  });

  it('the forms work from the keyboard alone', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${h.bridge.url}/my-apps`);
    const account = page.getByLabel('Account');
    await account.waitFor();
    expect(await account.evaluate((e) => e === document.activeElement)).toBe(true); // autofocus
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_PASSWORD);
    await Promise.all([page.waitForURL(`${h.bridge.url}/my-apps`), page.keyboard.press('Enter')]);
    expect(await page.textContent('header')).toContain('Signed in as user:alice');
    await context.close();
  });

  it('a session that was idle too long is over: a change from its page is refused', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await h.consent('alice');
    await page.goto(`${h.bridge.url}/my-apps`);
    await page.getByLabel('Account').fill('alice');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${h.bridge.url}/my-apps`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MINUTES * 60_000 + 1500));
    await page.getByRole('button', { name: `Revoke ${APP} on site-a / boiler` }).click();
    await page.waitForLoadState();
    expect(await page.textContent('main')).toContain('sign in first');
    await page.screenshot({ path: path.join(ARTIFACTS, 'session-over.png') });
    await context.close();
  });

  it("refuses a form posted from another site, another organisation's page and a foreign return address; sends its headers", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const consentId = await h.consent('alice');
    await page.goto(`${h.bridge.url}/my-apps`);
    await page.getByLabel('Account').fill('alice');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await Promise.all([
      page.waitForURL(`${h.bridge.url}/my-apps`),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const headers = (await page.reload())?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['cache-control']).toBe('no-store');

    // A page of another site posts a revoke to the bridge in this signed-in browser.
    await context.route('https://evil.example/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form id="f" method="post" action="${h.bridge.url}/my-apps/revoke"><input name="id" value="${consentId}"></form>
<script>document.getElementById('f').submit()</script>`,
      }),
    );
    const answered = page.waitForResponse(`${h.bridge.url}/my-apps/revoke`);
    await page.goto('https://evil.example/attack');
    expect((await answered).status()).toBeGreaterThanOrEqual(401);
    await page.goto(`${h.bridge.url}/my-apps`);
    expect(await page.content()).toContain(consentId);

    const foreign = await page.goto(
      `${h.bridge.url}/consent?app=${APP}&gateway=site-a&sources=boiler&return=${encodeURIComponent('https://evil.example/steal')}`,
    );
    expect(foreign?.status()).toBe(400);
    const otherOrg = await page.goto(`${h.bridge.url}/admin?organisation=otherorg`);
    expect(otherOrg?.status()).toBe(403);
    await context.close();
  });
});

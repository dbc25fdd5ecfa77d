/**
 * The local console in a real browser (Debian's Chromium through playwright-core), at 1280×800 and by
 * keyboard where a person would: sign in with the one-time address, add a Modbus source pointed at the
 * simulator (testing the connection first), watch its live value, change a role rule, and find both
 * changes in the audit page. Screenshots go to var/test-artifacts/.
 */
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInUrl } from '../console/sessions.ts';
import { readLocalToken } from '../local-api/token.ts';
import { ARTIFACTS, chromiumAvailable, launchChromium } from './browser.ts';
import { type Harness, startHarness } from './harness.ts';

const available = chromiumAvailable("the console's browser tests");

let h: Harness;
let browser: Browser;
let page: Page;
let origin: string;

describe.runIf(available)('the local console in a browser', () => {
  beforeAll(async () => {
    h = await startHarness({ extraConfig: '  - { id: calc, driver: script }\n' });
    origin = `http://127.0.0.1:${h.gateway.port}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('signs in with the one-time address and shows the overview', async () => {
    await page.goto(signInUrl(origin, readLocalToken(h.gateway.config.gateway.dataDir)));
    await expect.poll(() => page.url()).toBe(`${origin}/console`);
    expect(await page.locator('h1').textContent()).toBe('Overview');
    expect(await page.locator('table').first().textContent()).toContain('boiler');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-overview.png'), fullPage: true });
  });

  it('adds a Modbus source pointed at the simulator after testing the connection, by keyboard', async () => {
    await page.goto(`${origin}/console/sources`);
    await page.getByRole('link', { name: 'Add a Modbus source' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/sources\/new/);
    await page.getByLabel('Id').fill('boiler2');
    await page.getByLabel('Description').fill('Second boiler');
    await page.getByLabel(/^Settings/).fill(`{ host: 127.0.0.1, port: ${h.simPort}, timeoutMs: 500 }`);
    await page.getByLabel(/^Poll/).fill('{ intervalMs: 200 }');
    await page
      .getByLabel(/^Tags/)
      .fill('- { name: B2.SteamTemp, address: "holding:102", type: float32, units: degC }');
    await page.getByRole('button', { name: 'Test the connection' }).click();
    await expect
      .poll(async () => page.getByRole('status').textContent())
      .toContain('Connection test: running');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-add-source.png'), fullPage: true });
    await page.getByRole('button', { name: 'Add the source' }).click();
    await page.waitForURL(`${origin}/console/sources`);
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('tr', { hasText: 'boiler2' }).textContent();
      })
      .toContain('running');
  });

  it('shows a live value of the new source that updates by itself, and its trend from local history', async () => {
    await page.goto(`${origin}/console/tags?source=boiler2&name=*`);
    const cell = page.locator('td[data-tag="B2.SteamTemp"]');
    await expect.poll(async () => Number(await cell.textContent())).toBeGreaterThan(0);
    const first = await cell.textContent();
    await expect.poll(async () => cell.textContent(), { timeout: 10_000 }).not.toBe(first);
    expect(await cell.locator('xpath=following-sibling::td[1]').textContent()).toBe('good');
    await page.getByRole('link', { name: 'B2.SteamTemp' }).click();
    const chart = page.locator('canvas[data-trend="B2.SteamTemp"]');
    await expect
      .poll(async () => Number(/(\d+) points/.exec((await chart.getAttribute('aria-label')) ?? '')?.[1] ?? 0))
      .toBeGreaterThan(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-tags.png'), fullPage: true });
  });

  it('makes a script tag from a form generated from its template, and shows its value', async () => {
    await page.goto(`${origin}/console/script-tags`);
    await page.getByText('Make a script tag from a template').click();
    await page.getByRole('link', { name: 'unit-conversion' }).click();
    await page.getByLabel('Name').fill('B2.SteamTempF');
    await page.getByLabel(/^from/).selectOption('degC');
    await page.getByLabel(/^to/).selectOption('degF');
    await page.getByLabel('x: source').fill('boiler2');
    await page.getByLabel('tag', { exact: true }).first().fill('B2.SteamTemp');
    await page.getByRole('button', { name: 'Make the script tag' }).click();
    await page.waitForURL(`${origin}/console/script-tags`);
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('tr', { hasText: 'B2.SteamTempF' }).textContent();
      })
      .toMatch(/\d+(\.\d+)? degF \(good\)/);
    // Made from the console, it names the console as its maker (not the loopback API's token).
    expect(await page.locator('tr', { hasText: 'B2.SteamTempF' }).textContent()).toContain('local:console');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-script-tags.png'), fullPage: true });
  });

  it('changes a role rule, which is in force at once', async () => {
    await page.goto(`${origin}/console/access`);
    await page
      .getByLabel(/^Role rules/)
      .fill('- { principal: "user:bob", sources: [boiler2], roles: [read] }');
    await page.getByRole('button', { name: 'Save the rules' }).click();
    await expect.poll(async () => page.getByRole('status').textContent()).toContain('Saved and in force');
    await page.goto(`${origin}/console/access?who=user%3Abob`);
    expect(await page.locator('tr', { hasText: 'boiler2' }).locator('td').nth(1).textContent()).toBe('yes');
    const refused = await page.goto(`${origin}/console/access`);
    expect(refused?.status()).toBe(200);
    await page
      .getByLabel(/^Role rules/)
      .fill('- { principal: "everyone", sources: [boiler2], roles: [read] }');
    await page.getByRole('button', { name: 'Save the rules' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('principal');
  });

  it('labels every form field on every page, and every page fits 1280 wide', async () => {
    const pages = [
      '/console',
      '/console/sources',
      '/console/sources/new?driver=modbus',
      '/console/sources/boiler2/edit',
      '/console/tags?source=boiler2&trend=B2.SteamTemp',
      '/console/access?who=user%3Abob',
      '/console/script-tags',
      '/console/script-tags/new?source=calc&template=threshold-alarm',
      '/console/audit',
      '/console/enrollment',
      '/console/certificates',
    ];
    for (const p of pages) {
      const answer = await page.goto(`${origin}${p}`);
      expect(answer?.status(), p).toBe(200);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
          .filter((c) => !(c as HTMLInputElement).labels?.length && !c.getAttribute('aria-label'))
          .map((c) => c.getAttribute('name')),
      );
      expect(unlabelled, p).toEqual([]);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width, p).toBeLessThanOrEqual(1280);
    }
  });

  it('finds both changes in the audit page', async () => {
    await page.goto(`${origin}/console/audit?principal=local%3Aconsole`);
    const text = await page.locator('table').textContent();
    expect(text).toContain('source boiler2 (modbus) added from the console');
    expect(text).toContain('role rules changed from the console');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-audit.png'), fullPage: true });
  });
});

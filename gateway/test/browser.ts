/** Debian's Chromium for the browser tests (playwright-core): present in CI, else the tests are skipped with a notice. */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Where the browser tests leave their screenshots. */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../var/test-artifacts');

/** Whether Chromium is here; in CI its absence fails the run. */
export function chromiumAvailable(what: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available && process.env.CI)
    throw new Error(`${CHROMIUM} is required in CI (.ci/run installs chromium)`);
  if (!available) console.warn(`NOTICE: ${CHROMIUM} missing: ${what} are skipped`);
  return available;
}

/** Headless Chromium with the flags this machine needs (no sandbox as root, no background traffic). */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

import { existsSync } from 'node:fs';

import type { Browser } from 'playwright-core';

/** Debian's Chromium, which the browser tests drive through playwright-core (no browser download). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * The `skip` option of a browser test suite: in CI the browser must be there (.ci/run installs it), so the
 * suite runs and fails without it; elsewhere its absence skips the suite, visibly.
 */
export const chromiumSkip: string | false =
  !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${CHROMIUM} is missing (apt-get install chromium): skipped` : false;

/**
 * Launches Debian's Chromium headless, without sandbox, GPU or background traffic. playwright-core is loaded
 * here, not when this package is imported: most suites that import it drive no browser.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium (.ci/run)`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

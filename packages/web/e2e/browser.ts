/**
 * What every browser test shares: Debian's Chromium, how it is launched here, why a run skips without
 * it, and axe-core for the accessibility checks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Browser tests are required in CI; elsewhere they skip with one line saying why. */
export const chromiumSkip: string | false = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `Chromium not found at ${CHROMIUM} (apt-get install chromium); browser tests skipped` : false;

/** Headless, as root, and with no background traffic: this machine's network is closed. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Injected through the DevTools protocol (page.evaluate), which the page's Content-Security-Policy
// does not govern: a <script> tag would be refused by script-src 'self', as an attacker's would be.
export const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

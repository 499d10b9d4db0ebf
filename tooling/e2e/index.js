// Launches the system Chromium for browser tests. Debian's package lives at /usr/bin/chromium;
// CHROMIUM_PATH overrides it. The flags keep it off the network this machine does not have.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  Boolean,
);

/** The Chromium binary to use, or undefined when none is installed. */
export function chromiumPath() {
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * @param {import('playwright-core').LaunchOptions} [options]
 * @example
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 */
export async function launchBrowser(options = {}) {
  const executablePath = chromiumPath();
  if (!executablePath) {
    throw new Error(
      'Chromium not found: install Debian\'s "chromium" package (apt-get install -y chromium) or set CHROMIUM_PATH',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    ...options,
  });
}

/**
 * Collects console errors and uncaught page errors, so a test can assert there were none.
 * @param {import('playwright-core').Page} page
 */
export function collectPageErrors(page) {
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  return errors;
}

// Headless Chromium for the tests that need a real browser: Debian's /usr/bin/chromium driven
// by playwright-core (never a downloaded browser), and the demo server (examples/web/serve.js)
// to load pages from. Where Chromium is missing the tests say so and skip, except under CI.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

const chromium = '/usr/bin/chromium';
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why a browser test cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  if (!existsSync(chromium)) return `${chromium} not found (apt-get install chromium)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return undefined;
}

/** Start headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium: browserType } = await import('playwright-core');
  return browserType.launch({ executablePath: chromium, args, timeout: 30_000 });
}

/** The demo server on a free port, and a browser. */
export async function startBrowser(): Promise<{ browser: Browser; url: string; close: () => Promise<void> }> {
  const { startServer } = await import(join(__dirname, '..', 'examples', 'web', 'serve.js')) as
    { startServer: (o: { port: number }) => Promise<{ server: import('node:http').Server; url: string }> };
  const { server, url } = await startServer({ port: 0 });
  const browser = await launchChromium();
  return {
    browser, url,
    close: async () => {
      await browser.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** Collect what goes wrong in a page: uncaught errors, console errors, failed requests. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

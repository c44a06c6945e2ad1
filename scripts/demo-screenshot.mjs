// Makes docs/demo.png, the README's picture of the demo page: trains the page's default model
// (GRU, 128 units) for a while in headless Chromium, stops, and takes a screenshot.
// usage: node scripts/demo-screenshot.mjs [seconds of training, default 60]
import { chromium } from 'playwright-core';
import { startServer } from '../examples/web/serve.js';

const seconds = Number(process.argv[2] ?? 60);
const { server, url } = await startServer({ port: 0 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.evaluate(() => window.demo.ready);
  await page.click('#train');
  await page.waitForTimeout(seconds * 1000);
  await page.click('#stop');
  await page.waitForFunction(() => !document.getElementById('train').disabled);
  await page.click('#generate-more');
  await page.waitForFunction(() => document.getElementById('generated').textContent.length >= 500);
  await page.screenshot({ path: new URL('../docs/demo.png', import.meta.url).pathname, fullPage: true });
  console.log(`docs/demo.png: ${await page.textContent('#status')}`);
} finally {
  await browser.close();
  server.close();
}

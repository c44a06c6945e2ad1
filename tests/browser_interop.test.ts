// The import and export paths in a real browser: Debian's Chromium, driven by playwright-core,
// runs loadKerasModel, loadONNX and toONNX on the committed fixtures on a page and in a module
// worker, with the files fetched over HTTP as an application would; the outputs must be
// PyTorch's within 1e-5. The files are served by intercepting the browser's requests (no
// server). Without /usr/bin/chromium this file is skipped with a note, except under CI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';

const root = join(__dirname, '..');
const chromium = '/usr/bin/chromium';
const origin = 'http://rnn-wasm.test';

// URL prefix → folder; the worker's copy of dist/ has its bare import rewritten to a URL
const mounts: { prefix: string; dir: string; rewrite?: boolean }[] = [
  { prefix: '/dist/', dir: join(root, 'dist') },
  { prefix: '/worker-dist/', dir: join(root, 'dist'), rewrite: true },
  { prefix: '/loader/', dir: join(root, 'node_modules', '@assemblyscript', 'loader') },
  { prefix: '/fixtures/', dir: join(__dirname, 'fixtures') },
  { prefix: '/', dir: join(__dirname, 'browser') },
];
const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json' };

/** Answer every request of the context from the mounts (404 outside them). */
async function serveFiles(context: BrowserContext): Promise<void> {
  await context.route(`${origin}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    const { prefix, dir, rewrite } = mounts.find((m) => path.startsWith(m.prefix))!;
    const file = resolve(dir, '.' + sep + path.slice(prefix.length));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) return route.fulfill({ status: 404, body: `not found: ${path}` });
    let body: string | Buffer = readFileSync(file);
    if (rewrite && file.endsWith('.js')) body = body.toString('utf8').replace(/(from\s*['"])@assemblyscript\/loader(['"])/g, '$1/loader/index.js$2');
    return route.fulfill({ status: 200, body, contentType: types[extname(file)] ?? 'application/octet-stream' });
  });
}

interface Out { keras: number[]; kerasWant: number[]; onnx: number[]; onnxWant: number[]; roundTrip: boolean }

function check(label: string, out: Out): void {
  for (const [got, want, what] of [[out.keras, out.kerasWant, 'Keras file'], [out.onnx, out.onnxWant, 'ONNX file']] as const) {
    assert.is(got.length, want.length, `${label}: ${what} output size`);
    got.forEach((v, i) => { if (!(Math.abs(v - want[i]) <= 1e-5)) assert.unreachable(`${label}: ${what} [${i}]: ${v}, PyTorch ${want[i]}`); });
  }
  assert.ok(out.roundTrip, `${label}: toONNX → loadONNX gives the same weights`);
}

const missing = !existsSync(chromium) ? `${chromium} not found (apt-get install chromium)` : undefined;
if (missing && !process.env.CI) {
  console.log(`browser_interop.test.ts: not run: ${missing}`);
} else {
  test('Keras and ONNX files load, and ONNX round trips, on a page and in a module worker', async () => {
    assert.not.ok(missing, missing);
    const { chromium: browserType } = await import('playwright-core');
    let browser: Browser | undefined;
    try {
      browser = await browserType.launch({ executablePath: chromium, args: ['--headless', '--no-sandbox', '--disable-gpu'], timeout: 30_000 });
      const context = await browser.newContext();
      await serveFiles(context);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
      const started = page.waitForEvent('worker');
      await page.goto(`${origin}/interop.html`);
      const worker = await started;
      // each context sets __result when its workload ends; poll both
      for (const [label, read] of [['page', () => page.evaluate(() => (globalThis as any).__result)], ['worker', () => worker.evaluate(() => (globalThis as any).__result)]] as const) {
        let result;
        for (const t0 = Date.now(); (result = await read()) === undefined;) {
          if (Date.now() - t0 > 30_000) throw new Error(`${label}: no result after 30 s\n${problems.join('\n')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(result.ok, `${label}: ${result.error}\n${problems.join('\n')}`);
        check(label, result.result);
      }
    } finally {
      await browser?.close();
    }
  });
  test.run();
}

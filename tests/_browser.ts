// Test helpers for real-browser tests of dist/: a static file server for dist/ and the pages in
// tests/browser/, and a page run in headless Chromium (tests/_chromium.ts) until it sets
// window.__result. The server sends no COOP/COEP headers: pages are not cross-origin isolated,
// as most are not.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chromiumMissing, launchChromium, watch } from './_chromium';

const root = join(__dirname, '..');

// URL prefix → folder served under it; everything else comes from tests/browser/.
// Pages resolve dist/'s one bare import, '@assemblyscript/loader', with an import map.
// Module workers ignore the page's import map (Chromium 156 included), so they load
// /worker-dist/: dist/ with that import rewritten to a URL, as a bundler or dev server would.
type Mount = { prefix: string; dir: string; rewrite?: boolean };
const mounts: Mount[] = [
  { prefix: '/dist/', dir: join(root, 'dist') },
  { prefix: '/worker-dist/', dir: join(root, 'dist'), rewrite: true },
  { prefix: '/loader/', dir: join(root, 'node_modules', '@assemblyscript', 'loader') },
  { prefix: '/', dir: join(__dirname, 'browser') },
];
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json', '.wasm': 'application/wasm',
};

/** A static file server on 127.0.0.1 at a free port; GET only, nothing outside the mounts
 *  (`extra` ones first). */
export async function serve(extra: Mount[] = []): Promise<{ server: Server; origin: string }> {
  const all = [...extra, ...mounts];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;   // served names need no decoding
    const { prefix, dir, rewrite } = all.find((m) => path.startsWith(m.prefix))!;
    const file = resolve(dir, '.' + sep + path.slice(prefix.length));
    if (req.method !== 'GET' || !file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
      return;
    }
    let body: string | Buffer = readFileSync(file);
    if (rewrite && file.endsWith('.js')) {
      body = body.toString('utf8').replace(/(from\s*['"])@assemblyscript\/loader(['"])/g, '$1/loader/index.js$2');
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Run `fn` as a uvu test when a browser is here. Without /usr/bin/chromium (or playwright-core)
 *  the test is skipped with a note naming `file`, except under CI, where that is a failure. */
export function browserTest(file: string, name: string, fn: () => Promise<void>): void {
  const reason = chromiumMissing();
  if (reason && !process.env.CI) {
    console.log(`${file}: the browser test was not run: ${reason}`);
    return;
  }
  if (reason) test('a real browser is available (required under CI)', () => assert.unreachable(`the browser test cannot run: ${reason}`));
  else test(name, fn);
  test.run();
}

/** Open `page` (a file of tests/browser/, or of an `extra` mount) in headless Chromium and wait
 *  for window.__result; page errors, console errors, failed requests and HTTP errors come back
 *  with it. */
export async function runPage(page: string, timeout = 60_000, extra: Mount[] = []): Promise<{ result: any; problems: string[] }> {
  const { server, origin } = await serve(extra);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const tab = await browser.newPage();
    const problems = watch(tab);
    await tab.goto(`${origin}/${page}`);
    await tab.waitForFunction(() => (window as any).__result !== undefined, undefined, { timeout })
      .catch((e) => { throw new Error(`${e.message}\n${problems.join('\n')}`); });
    return { result: await tab.evaluate(() => (window as any).__result), problems };
  } finally {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

// The demo page (examples/web/, npm run demo) in headless Chromium, used as a person would:
// it loads with the novel in the text box, trains in its worker (every batch sharded over two
// more) until the learning curve has a few points and the loss in the chart's data has fallen,
// streams generated text, stops, saves the model in IndexedDB, and after a reload lists it and
// loads it back with the same weights; a downloaded file opens again through the upload
// button. A screenshot of the page must not be blank (RNN_WASM_SCREENSHOT=path keeps it).
// And the demo's server: MIME types, the rewritten import, nothing outside its folders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumMissing, startBrowser, watch } from './_chromium';
import { checkSame } from './_utils.js';

const reason = chromiumMissing();

/** The learning curve's points as the chart draws them: step and bits per character. */
function chartPoints(page: Page, series: string): Promise<{ step: number; bits: number }[]> {
  return page.$$eval(`#chart [data-series="${series}"] circle`, (circles) =>
    circles.map((c) => ({ step: Number(c.getAttribute('data-step')), bits: Number(c.getAttribute('data-value')) })));
}

const weights = (page: Page) => page.evaluate(() => (window as any).demo.call('weights') as Promise<number[]>);

/** Distinct colours and the share of pixels that are not the background, of a PNG screenshot. */
function inkOf(page: Page, png: Buffer): Promise<{ colours: number; ink: number }> {
  return page.evaluate(async (base64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${base64}`;
    await img.decode();
    const canvas = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    const colours = new Set<number>();
    let ink = 0;
    const background = (data[0] << 16) | (data[1] << 8) | data[2];
    for (let i = 0; i < data.length; i += 4) {
      const c = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      colours.add(c);
      if (c !== background) ink++;
    }
    return { colours: colours.size, ink: ink / (data.length / 4) };
  }, png.toString('base64'));
}

test('the demo server sends each file with its MIME type, rewrites the bare import, and serves nothing else', async () => {
  const { startServer } = await import(join(__dirname, '..', 'examples', 'web', 'serve.js')) as
    { startServer: (o: { port: number }) => Promise<{ server: import('node:http').Server; url: string }> };
  const { server, url } = await startServer({ port: 0 });
  try {
    const get = (path: string, method = 'GET') => fetch(new URL(path, url), { method });
    const types: [string, string][] = [
      ['/', 'text/html; charset=utf-8'], ['/app.js', 'text/javascript; charset=utf-8'], ['/style.css', 'text/css; charset=utf-8'],
      ['/rnn-wasm/index.js', 'text/javascript; charset=utf-8'], ['/loader/index.js', 'text/javascript; charset=utf-8'],
      ['/data/pride-and-prejudice.txt', 'text/plain; charset=utf-8'],
    ];
    for (const [path, type] of types) {
      const r = await get(path);
      assert.is(r.status, 200, path);
      assert.is(r.headers.get('content-type'), type, path);
      const body = await r.text();
      if (path.startsWith('/rnn-wasm/')) assert.not.match(body, /from ['"]@assemblyscript\/loader['"]/, 'the bare import is rewritten');
    }
    assert.match(await (await get('/rnn-wasm/wasm.js')).text(), "from '/loader/index.js'");
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/rnn-wasm/../package.json', '/nothing.html', '/data/%E0%A4%A']) {
      assert.is((await get(path)).status, 404, path);
    }
    assert.is((await get('/', 'POST')).status, 405);
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

if (reason && !process.env.CI) {
  console.log(`demo.test.ts: the demo page was not tested: ${reason}`);
} else if (reason) {
  test('Chromium is available (required under CI)', () => assert.unreachable(`the demo test cannot run: ${reason}`));
} else {
  test('the demo page trains in a worker, charts the loss, streams text, and saves, reloads and loads the model', async () => {
    const { browser, url, close } = await startBrowser();
    try {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      const problems = watch(page);
      await page.goto(url);
      await page.evaluate(() => (window as any).demo.ready);
      assert.match(await page.inputValue('#text'), /^PRIDE AND PREJUDICE/);
      assert.match(await page.textContent('#saved') ?? '', 'none yet');

      // train a small GRU on two worker threads (data-parallel) until the curve has six points
      await page.selectOption('#hidden', '64');
      await page.selectOption('#threads', '2');
      await page.click('#train');
      await page.waitForFunction(() => (window as any).demo.rows.length >= 6, undefined, { timeout: 120_000 });
      assert.ok(await page.isEnabled('#stop'), 'Stop is offered while training runs');
      await page.click('#stop');
      await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled, undefined, { timeout: 30_000 });
      assert.match(await page.textContent('#status') ?? '', /^stopped after \d+ steps on 2 worker threads; GRU, 1 × 64/);

      const train = await chartPoints(page, 'train'), heldOut = await chartPoints(page, 'held-out');
      assert.ok(train.length >= 6 && heldOut.length === train.length, `${train.length} and ${heldOut.length} points`);
      assert.equal(train.slice(0, 6).map((p) => p.step), [10, 20, 30, 40, 50, 60], 'a point every 10 steps');
      assert.ok(train.at(-1)!.bits < train[0].bits - 0.3, `training bits per character fall: ${train[0].bits} → ${train.at(-1)!.bits}`);
      assert.ok(heldOut.at(-1)!.bits < heldOut[0].bits, `held-out bits per character fall: ${heldOut[0].bits} → ${heldOut.at(-1)!.bits}`);
      const live = await page.textContent('#generated') ?? '';
      assert.ok(live.length > 20, `text streamed while training: ${JSON.stringify(live)}`);

      // save in IndexedDB, reload, load it back
      const trained = await weights(page);
      await page.fill('#save-name', 'demo test');
      await page.click('#save');
      await page.waitForSelector('#saved li[data-name="demo test"]');
      await page.reload();
      await page.evaluate(() => (window as any).demo.ready);
      await page.waitForSelector('#saved li[data-name="demo test"]');
      assert.match(await page.textContent('#saved li[data-name="demo test"] .meta') ?? '', /^GRU 1×64 · \d+ KiB/);
      await page.click('#saved li[data-name="demo test"] button[data-action=load]');
      await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('loaded'));
      checkSame('weights after save, reload and load', await weights(page), trained);
      await page.click('#generate-more');
      await page.waitForFunction(() => document.getElementById('generated')!.textContent!.length >= 500, undefined, { timeout: 30_000 });

      // download the model, open the file through the upload button
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      assert.is(download.suggestedFilename(), 'demo test.safetensors');
      await page.setInputFiles('#upload', (await download.path())!);
      await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('opened'), undefined, { timeout: 30_000 })
        .catch(async (e) => { throw new Error(`${e.message}; status: ${await page.textContent('#status')}`); });
      checkSame('weights after download and upload', await weights(page), trained);

      const png = await page.screenshot({ fullPage: true });
      const { colours, ink } = await inkOf(page, png);
      assert.ok(colours > 50 && ink > 0.05, `the screenshot is not blank: ${colours} colours, ${(100 * ink).toFixed(1)} % ink`);
      if (process.env.RNN_WASM_SCREENSHOT) writeFileSync(process.env.RNN_WASM_SCREENSHOT, png);
      assert.equal(problems, []);
      assert.ok(readFileSync((await download.path())!).length > 4 * trained.length);
    } finally {
      await close();
    }
  });
}

test.run();

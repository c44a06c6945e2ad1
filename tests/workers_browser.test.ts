// Training over Web Workers in a real browser: headless Chromium, a page served without
// COOP/COEP (no cross-origin isolation, no SharedArrayBuffer), the workers started from the
// library's embedded script with no configuration. The page's runs equal Node's bit for bit
// (one thread and 2 workers alike), 2 workers equal one thread within the stated tolerance,
// repeat bit for bit, resume bit for bit after an abort, and a worker that fails gives a clear
// error, keeps the last step's weights, and resumes to the uninterrupted run. And the library
// bundled by esbuild into one file for a page still starts its workers; in a page whose
// Content-Security-Policy refuses blob: workers, the error names that cause and the remedy, a
// worker script of the page's own (bundled, importing 'rnn-wasm/worker') trains as Node does.
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import * as rnnWasm from '../dist/index.js';
import { browserTest, runPage } from './_browser';
import { checkClose, checkSame } from './_utils';

/** What tests/browser/_workers_workload.js returns. */
interface Result {
  oneThread: number[];
  losses: number[];
  workers: number[];
  workerLosses: number[];
  workersAgain: number[];
  aborted: string;
  resumed: number[];
  failure: { message: string; keptLastStep: boolean; closed: boolean };
  recovered: number[];
}
type Workload = (lib: typeof rnnWasm, failingWorker: string) => Promise<Result>;

/** One run's checks, in Node or in the page: `failure` is how its failing worker fails. */
function checkRun(label: string, r: Result, failure: RegExp): void {
  checkClose(`${label}: 2 workers vs one thread, weights`, r.workers, r.oneThread, 2e-5, 1e-3);
  checkClose(`${label}: 2 workers vs one thread, epoch losses`, r.workerLosses, r.losses, 1e-6);
  checkSame(`${label}: 2 workers, twice`, r.workersAgain, r.workers);
  assert.is(r.aborted, 'aborted', `${label}: the abort stopped the run`);
  checkSame(`${label}: aborted and resumed`, r.resumed, r.workers);
  assert.match(r.failure.message, failure, `${label}: the failure's message`);
  assert.ok(r.failure.keptLastStep && r.failure.closed, `${label}: the last step's weights kept, the pool closed`);
  checkSame(`${label}: resumed after the failure`, r.recovered, r.workers);
}

const failed = (how: string) => new RegExp(`^fit: worker [12] of 2 ${how}; the worker pool is closed\\. The batch was not finished: ` +
  `the model keeps the weights and training state of its last step, and fit\\(\\{ resume: true \\}\\) continues from the start of the batch$`);

browserTest('workers_browser.test.ts', 'training over Web Workers in a page without cross-origin isolation equals Node, and one thread', async () => {
  const { workersWorkload } = await import(join(__dirname, 'browser', '_workers_workload.js')) as { workersWorkload: Workload };
  const node = await workersWorkload(rnnWasm, pathToFileURL(join(__dirname, 'fixtures', 'workers', 'dies-on-third-shard.mjs')).href);
  checkRun('Node', node, failed('exited with code 7'));

  const { result: out, problems } = await runPage('workers.html');
  assert.ok(out.ok, `in the browser: ${out.error}\n${problems.join('\n')}`);
  assert.is(out.isolated, false, 'the page is not cross-origin isolated');
  assert.is(out.sharedMemory, 'undefined', 'and has no SharedArrayBuffer');
  const page = out.result as Result;
  checkRun('page', page, failed('threw an uncaught error: Uncaught Error: injected failure'));
  checkSame('page vs Node: one thread', page.oneThread, node.oneThread);
  checkSame('page vs Node: 2 workers', page.workers, node.workers);
  assert.equal(problems.filter((p) => !p.includes('injected failure')), [], 'no other errors in the page');
});

/** A small run over 2 workers: the same code in Node and in the bundled page (on the SIMD
 *  build, whose bits are the same everywhere; the workers take the model's build). */
const bundledRun = `
  const m = await createRNN({ cell: 'gru', n_x: 5, n_a: 12, n_y: 5, input: 'tokens', reduction: 'mean', seed: 3, backend: 'simd' });
  const x = Array.from({ length: 10 }, (_, i) => Array.from({ length: 4 + (i % 3) }, (_, t) => (i + t * t) % 5));
  await m.fit({ x, y: x.map((s) => s.map((v) => (v + 1) % 5)) }, { epochs: 2, batchSize: 5, workers: 2 });
  const weights = Array.from(m.getWeights());
`;

browserTest('workers_browser.test.ts', 'bundled by esbuild for the browser, the library starts its workers with no configuration', async () => {
  const node = await new Function('createRNN', `return (async () => { ${bundledRun} return weights; })();`)(rnnWasm.createRNN) as number[];
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-page-bundle-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `
      import { createRNN } from ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
      try {
        ${bundledRun}
        window.__result = { ok: true, weights };
      } catch (e) {
        window.__result = { ok: false, error: String(e && e.stack || e) };
      }
    `);
    buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(dir, 'bundle.js'), logLevel: 'silent' });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./bundle.js"></script>');
    const { result, problems } = await runPage('bundled/index.html', 60_000, [{ prefix: '/bundled/', dir }]);
    assert.ok(result.ok, `in the browser: ${result.error}\n${problems.join('\n')}`);
    checkSame('the bundled page vs Node', result.weights, node);
    assert.equal(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

browserTest('workers_browser.test.ts', 'a page whose Content-Security-Policy refuses blob: workers: the error says why and what to do, and a worker script of the page\'s own trains as Node does', async () => {
  const node = await new Function('createRNN', `return (async () => { ${bundledRun} return weights; })();`)(rnnWasm.createRNN) as number[];
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-page-csp-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `
      import { createRNN, createWorkerPool } from ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
      const failure = async (start) => { try { await start(); return 'started'; } catch (e) { return e.message; } };
      try {
        const pool = await failure(() => createWorkerPool({ size: 2 }));
        const probe = await createRNN({ n_x: 3, n_a: 4, n_y: 2, backend: 'simd' });
        const fit = await failure(() => probe.fit({ x: [[[0, 0, 0]]], y: [[1]] }, { workers: 2 }));
        const own = await createWorkerPool({ size: 2, url: new URL('./worker.js', location.href).href });
        ${bundledRun.replace('workers: 2', 'workers: own')}
        window.__result = { ok: true, pool, fit, weights };
      } catch (e) {
        window.__result = { ok: false, error: String(e && e.stack || e) };
      }
    `);
    const options = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent' } as const;
    buildSync({ ...options, entryPoints: [entry], outfile: join(dir, 'bundle.js') });
    // the page's own worker: 'rnn-wasm/worker' bundled, as a page's build would
    const exported = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).exports['./worker'].import;
    writeFileSync(join(dir, 'worker-entry.js'), `import ${JSON.stringify(join(__dirname, '..', exported))};`);
    buildSync({ ...options, entryPoints: [join(dir, 'worker-entry.js')], outfile: join(dir, 'worker.js') });
    // the worker gets its kernels compiled from the page: its bundle carries none
    const workerCode = readFileSync(join(dir, 'worker.js'), 'utf8');
    assert.is(workerCode.split('AGFzbQ').length - 1, 0, 'wasm modules in the bundled worker');
    assert.ok(workerCode.length < 300_000, `the bundled worker is ${workerCode.length} bytes`);
    // scripts and workers from this origin only ('wasm-unsafe-eval' lets the kernels compile)
    const csp = "default-src 'self'; img-src data:; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
    writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">` +
      '<link rel="icon" href="data:,"><script type="module" src="./bundle.js"></script>');
    const { result, problems } = await runPage('csp/index.html', 60_000, [{ prefix: '/csp/', dir }]);
    assert.ok(result.ok, `in the browser: ${result.error}\n${problems.join('\n')}`);
    const hint = ' The workers run the embedded script from a blob: URL; the likely cause is a Content-Security-Policy that refuses ' +
      'blob: workers \\(blob: missing from its worker-src, or from the script-src it falls back to\\)\\. Start them from a script of your own instead: createWorkerPool\\(\\{ size, url \\}\\) ' +
      "with a module worker that does import 'rnn-wasm/worker', then fit\\(data, \\{ workers: pool \\}\\)$";
    assert.match(result.pool, new RegExp(`^createWorkerPool: the workers could not start: worker [12] of 2 .*\\.${hint}`));
    assert.match(result.fit, new RegExp(`^fit: the workers could not start: worker [12] of 2 .*\\.${hint}`));
    checkSame('the page\'s own workers vs Node', result.weights, node);
    assert.equal(problems.filter((p) => !/^console: Creating a worker from 'blob:.* violates .*Content Security Policy/.test(p)), [], 'no errors but the refused workers');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

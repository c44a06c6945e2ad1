// In a real browser: Debian's Chromium, driven by playwright-core, loads dist/ over HTTP and
// trains a model on the page and in a module worker on the SIMD build; both must match Node to
// 1e-6. With the build 'auto' picks, Chromium (114+) runs the relaxed-SIMD build, which must
// stay within 1e-4 of Node's SIMD run over the same training. Each build can be forced in the
// page, and a page whose Content-Security-Policy refuses WebAssembly gets an error that names
// the function called and the directive the policy lacks.
// Without /usr/bin/chromium (or playwright-core) this file is skipped with a note, except
// under CI, where that is a failure.
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import * as rnnWasm from '../dist/index.js';
import { browserTest, runPage } from './_browser';
import { checkClose } from './_utils';

/** What tests/browser/_workload.js returns (plain arrays, to cross postMessage). */
interface Result {
  backend: string;
  losses: number[];
  loss: number;
  yhat: number[];
  aT: number[];
  weights: number[];
  translator: { losses: number[]; greedy: number[]; beam: number[][]; reloaded: number[]; weights: number[] };
  streamed: { losses: number[]; steps: number; weights: number[] };
  /** WebAssembly instances alive once every model is disposed. */
  instances: number;
}
type Workload = (lib: typeof rnnWasm) => Promise<Result>;

function checkSameRun(label: string, actual: Result, expected: Result): void {
  assert.is(actual.backend, expected.backend, `${label}: backend`);
  checkClose(`${label}: losses`, actual.losses, expected.losses, 1e-6);
  checkClose(`${label}: final loss`, [actual.loss], [expected.loss], 1e-6);
  checkClose(`${label}: forward ŷ`, actual.yhat, expected.yhat, 1e-6);
  checkClose(`${label}: forward a<T>`, actual.aT, expected.aT, 1e-6);
  checkClose(`${label}: weights`, actual.weights, expected.weights, 1e-6);
  const [a, e] = [actual.translator, expected.translator];
  checkClose(`${label}: encoder-decoder losses`, a.losses, e.losses, 1e-6);
  checkClose(`${label}: encoder-decoder weights`, a.weights, e.weights, 1e-6);
  assert.equal(a.greedy, e.greedy, `${label}: greedy decoding`);
  assert.equal(a.reloaded, a.greedy, `${label}: the reloaded model decodes the same`);
  assert.is(a.beam.length, e.beam.length, `${label}: beam hypotheses`);
  a.beam.forEach((h, i) => checkClose(`${label}: beam hypothesis ${i}`, h, e.beam[i], 1e-6));
  assert.is(actual.streamed.steps, expected.streamed.steps, `${label}: steps over the text stream`);
  checkClose(`${label}: losses over the text stream`, actual.streamed.losses, expected.streamed.losses, 1e-6);
  checkClose(`${label}: weights after the text stream`, actual.streamed.weights, expected.streamed.weights, 1e-6);
}

browserTest('browser.test.ts', 'a page and a module worker in Chromium train exactly as Node does', async () => {
  // the very module that the page and the worker run
  const { workload } = await import(join(__dirname, 'browser', '_workload.js')) as { workload: Workload };
  const node = await workload(rnnWasm);
  assert.ok(node.losses[node.losses.length - 1] < node.losses[0] / 4, `Node: loss ${node.losses[0]} → ${node.losses.at(-1)}`);
  const t = node.translator.losses;
  assert.ok(t[t.length - 1] < t[0] / 2, `Node: encoder-decoder loss ${t[0]} → ${t.at(-1)}`);
  const s = node.streamed;
  assert.ok(s.steps === 3 * 4 && s.losses[2] < s.losses[0], `Node: ${s.steps} steps over the text stream, loss ${s.losses.join(' → ')}`);

  const { result: out, problems } = await runPage('index.html', 30_000);
  assert.ok(out.ok, `in the browser: ${out.error}\n${problems.join('\n')}`);

  const { page: inPage, worker: inWorker, auto } = out as { page: Result; worker: Result; auto: Result };
  assert.ok(inPage.losses.at(-1)! < inPage.losses[0] / 4, `page: loss ${inPage.losses[0]} → ${inPage.losses.at(-1)}`);
  checkSameRun('page vs Node', inPage, node);
  checkSameRun('worker vs Node', inWorker, node);
  // the page and the worker each made models and disposed them all: no instance is left
  assert.is(inPage.instances, 0, 'page: instances alive after every model is disposed');
  assert.is(inWorker.instances, 0, 'worker: instances alive after every model is disposed');
  assert.is(auto.backend, 'relaxed', "Chromium validates relaxed SIMD, so 'auto' picks it");
  for (const key of ['losses', 'yhat', 'aT', 'weights'] as const) checkClose(`relaxed page vs Node: ${key}`, auto[key], node[key], 1e-4, 1e-2);
  checkClose('relaxed page vs Node: encoder-decoder weights', auto.translator.weights, node.translator.weights, 1e-4, 1e-2);
});

browserTest('browser.test.ts', 'each kernel build can be forced in Chromium; a page whose policy refuses WebAssembly gets an error that names the call and the directive', async () => {
  const { result: builds, problems } = await runPage('backends.html');
  for (const backend of ['relaxed', 'simd', 'scalar'] as const) assert.equal(builds[backend], { backend, finite: true }, backend);
  assert.equal(builds.auto, { backend: 'relaxed', finite: true }, "Chromium validates relaxed SIMD, so 'auto' picks it");
  assert.equal(builds.createModel, { backend: 'relaxed', finite: true });
  assert.equal(builds.gpu, { error: `TypeError: createRNN: backend must be 'auto', 'relaxed', 'simd' or 'scalar', got "gpu"` });
  assert.equal(problems, []);

  const { result: refused } = await runPage('csp.html');
  const policy = /CompileError: (createRNN|createModel): WebAssembly\.\w+\(\): .*unsafe-eval[^;]*[^.]; a Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src \(or default-src\) for the kernels to compile$/;
  for (const key of ['relaxed', 'simd', 'scalar', 'auto', 'createModel']) {
    assert.match(refused[key].error, policy, key);
    assert.ok(refused[key].error.startsWith(`CompileError: ${key === 'createModel' ? 'createModel' : 'createRNN'}: `), refused[key].error);
  }
  assert.equal(refused.gpu, builds.gpu, 'a build that does not exist is refused before anything compiles');
});

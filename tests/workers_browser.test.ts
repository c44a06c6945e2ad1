// Training over Web Workers in a real browser: headless Chromium, a page served without
// COOP/COEP (no cross-origin isolation, no SharedArrayBuffer), the workers started from the
// library's embedded script with no configuration. The page's runs equal Node's bit for bit
// (one thread and 2 workers alike), 2 workers equal one thread within the stated tolerance,
// repeat bit for bit, resume bit for bit after an abort, and a worker that fails gives a clear
// error, keeps the last step's weights, and resumes to the uninterrupted run.
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

// Runs the workload on the page's main thread and in a module worker, on the SIMD build, and on
// the page again with the build 'auto' picks; the test reads window.__result once it is set:
// { ok: true, page, worker, auto } or { ok: false, error }.
import * as lib from '/dist/index.js';
import { workload } from './_workload.js';

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./_worker.js', { type: 'module' });
    worker.onmessage = (e) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(`in the worker: ${e.data.error}`));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`the worker failed to load or threw: ${e.message || 'no message (a module failed to load?)'}`));
    };
  });
}

try {
  const page = await workload(lib);
  const worker = await inWorker();
  const auto = await workload(lib, 'auto');
  window.__result = { ok: true, page, worker, auto };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}

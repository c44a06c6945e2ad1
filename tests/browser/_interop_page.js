// Runs the interop workload on the page and in a module worker; the test reads
// window.__result: { ok: true, page, worker } or { ok: false, error }.
import * as lib from '/dist/index.js';
import { interopWorkload } from './_interop_workload.js';

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker('./_interop_worker.js', { type: 'module' });
    worker.onmessage = (e) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(`in the worker: ${e.data.error}`));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(`the worker failed to load or threw: ${e.message || 'no message'}`));
    };
  });
}

try {
  window.__result = { ok: true, page: await interopWorkload(lib, '/'), worker: await inWorker() };
} catch (e) {
  window.__result = { ok: false, error: String((e && e.stack) || e) };
}

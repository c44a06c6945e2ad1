// Starts the interop workload in a module worker, then runs it on the page; the test reads
// window.__result and the worker's self.__result: { ok: true, result } or { ok: false, error }.
import * as lib from '/dist/index.js';
import { interopWorkload } from './_interop_workload.js';

new Worker('./_interop_worker.js', { type: 'module' });
try {
  window.__result = { ok: true, result: await interopWorkload(lib, '/') };
} catch (e) {
  window.__result = { ok: false, error: String((e && e.stack) || e) };
}

// Runs the worker workload in a page served without COOP/COEP (so without cross-origin
// isolation or SharedArrayBuffer); the test reads window.__result: { ok, isolated, result } or
// { ok: false, error }.
import * as lib from '/dist/index.js';
import { workersWorkload } from './_workers_workload.js';

try {
  const result = await workersWorkload(lib, new URL('./_failing_worker.js', location.href).href);
  window.__result = { ok: true, isolated: self.crossOriginIsolated, sharedMemory: typeof SharedArrayBuffer, result };
} catch (e) {
  window.__result = { ok: false, error: String(e && e.stack || e) };
}

// The interop workload in a module worker (which ignores the page's import map, so it loads
// /worker-dist/: dist/ with its one bare import rewritten to a URL).
import * as lib from '/worker-dist/index.js';
import { interopWorkload } from './_interop_workload.js';

try {
  self.postMessage({ ok: true, result: await interopWorkload(lib, '/') });
} catch (e) {
  self.postMessage({ ok: false, error: String((e && e.stack) || e) });
}

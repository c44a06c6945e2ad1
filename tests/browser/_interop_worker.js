// The interop workload in a module worker (which ignores the page's import map, so it loads
// /worker-dist/: dist/ with its one bare import rewritten to a URL); the test reads self.__result.
import * as lib from '/worker-dist/index.js';
import { interopWorkload } from './_interop_workload.js';

try {
  self.__result = { ok: true, result: await interopWorkload(lib, '/') };
} catch (e) {
  self.__result = { ok: false, error: String((e && e.stack) || e) };
}

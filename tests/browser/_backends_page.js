// Each kernel build forced in turn, then 'auto', and a build that does not exist: what a model
// reports, or the error. Loaded by backends.html (the kernels may compile) and by csp.html (a
// Content-Security-Policy without 'wasm-unsafe-eval': they may not). No import map, which
// would be an inline script: /worker-dist/ has the loader's import rewritten to a URL.
import { createModel, createRNN } from '/worker-dist/index.js';

const outcome = async (make) => {
  try {
    const m = await make();
    const { loss } = m.forward({ x: [[0, 1, 2]], y: [[1, 2, 0]] });
    m.dispose();
    return { backend: m.backend, finite: Number.isFinite(loss) };
  } catch (e) {
    return { error: `${e.constructor.name}: ${e.message}` };
  }
};

const result = {};
for (const backend of ['relaxed', 'simd', 'scalar', 'auto', 'gpu']) {
  result[backend] = await outcome(() => createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1, backend }));
}
result.createModel = await outcome(() => createModel({ architecture: 'many-to-many', n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1 }));
window.__result = result;

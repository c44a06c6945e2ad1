// What the worker tests run in Node and in a page: a seeded LSTM language model trained on one
// thread and over 2 workers (twice), a worker run aborted and resumed in a new model, and a run
// whose worker fails at its third shard, then resumed on a fresh pool. Plain arrays out, so the
// result crosses Playwright unchanged.

/** @param {typeof import('../../dist/index.js')} lib
 *  @param {string | URL} failingWorker  a worker script that fails at its third shard */
export async function workersWorkload(lib, failingWorker) {
  const { createRNN, createWorkerPool, Random } = lib;
  const rng = new Random(3);
  const x = Array.from({ length: 20 }, () => Array.from({ length: 3 + rng.int(8) }, () => rng.int(7)));
  const data = { x, y: x.map((s) => s.map((_, t) => (t > 1 ? s[t - 2] : -1))) };
  // the SIMD build, the same bits everywhere ('auto' picks relaxed SIMD in Chromium, not in Node 20)
  const config = { cell: 'lstm', n_x: 7, n_a: 12, n_y: 7, input: 'tokens', reduction: 'mean', seed: 4, backend: 'simd' };
  const options = { epochs: 3, batchSize: 6, optimizer: 'sgd', learningRate: 0.05, clipNorm: 1 };
  const train = async (extra, model) => {
    const m = model ?? await createRNN(config);
    const r = await m.fit(data, { ...options, ...extra });
    const weights = Array.from(m.getWeights());
    return { m, r, weights };
  };

  const one = await train({});
  const pool = await createWorkerPool({ size: 2 });
  const two = await train({ workers: pool });
  const again = await train({ workers: 2 });

  // abort during epoch 2, resume in a new model
  const controller = new AbortController();
  const part = await train({ workers: pool, signal: controller.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 1) controller.abort(); } });
  const resumedModel = await createRNN({ ...config, seed: 99 });
  resumedModel.setTrainingState(part.m.getTrainingState());
  const resumed = await train({ workers: pool, resume: true }, resumedModel);
  await pool.dispose();

  // a worker fails: the error, the weights of the last step, then a resume on a fresh pool
  const failing = await createWorkerPool({ size: 2, url: failingWorker });
  const victim = await createRNN(config);
  let lastStep = [];
  let message = '';
  try {
    await victim.fit(data, { ...options, workers: failing, onProgress: () => { lastStep = Array.from(victim.getWeights()); } });
  } catch (e) {
    message = String(e && e.message);
  }
  const keptLastStep = Array.from(victim.getWeights()).every((v, i) => Object.is(v, lastStep[i]));
  const recovered = await train({ workers: 2, resume: true }, victim);

  for (const r of [one, two, again, part, resumed]) r.m.dispose();
  return {
    oneThread: one.weights, losses: one.r.epochLosses, workers: two.weights, workerLosses: two.r.epochLosses, workersAgain: again.weights,
    aborted: part.r.stopReason, resumed: resumed.weights, failure: { message, keptLastStep, closed: failing.isDisposed }, recovered: recovered.weights,
  };
}

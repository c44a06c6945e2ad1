// Data-parallel training over worker threads in Node: the gradient over workers is the batch's
// gradient (every architecture, both reductions, ragged batches, uneven shards, tbptt); fit
// over workers matches one thread within the stated tolerance and is bit-identical run to run;
// checkpoints, abort and resume, the non-finite guard, callbacks, validation and metrics keep
// working; a worker that throws or dies gives a clear error and leaves the model as it was
// after its last step; pools are reused, refused while busy, and never keep Node alive; the
// embedded worker takes its kernels compiled from the calling thread.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { createModel, createRNN, createWorkerPool, Random, type ModelConfig, type WorkerPool } from '../dist/index.js';
import { compiledBuild } from '../dist/wasm.js';
import { checkClose, checkSame, checkFitOverWorkers, checkWorkerGradient, rejectsWith, uniforms, wasmFlags, WORKER_TOL } from './_utils.js';

// The stated tolerance. The gradient over workers is the batch's gradient up to the rounding of
// a different summation order: within 5e-4 of each entry, entries below 1 % of their tensor's
// largest measured against that 1 %. After a few epochs the weights agree within 2e-5 (SGD)
// relative to max(|w|, 1e-3), and the losses within 1e-6. With Adam, which moves a weight by up
// to lr whatever its gradient's size, these small models stay within 2e-4; a gradient at the
// level of rounding can move a weight differently by up to about lr (bench/workers.js shows it
// on larger models).
const TOL = WORKER_TOL;

const rng = new Random(11);
/** n token sequences over V tokens, of lengths 2..T (ragged). */
const sequences = (n: number, T: number, V: number) => Array.from({ length: n }, () => Array.from({ length: 2 + rng.int(T - 1) }, () => rng.int(V)));
const xs = sequences(22, 9, 6);

/** Every architecture, with a data set it trains on. */
const architectures: { name: string; config: ModelConfig; data: { x: any[]; y: any[] } }[] = [
  { name: 'many-to-many, bidirectional 2-layer GRU', config: { architecture: 'many-to-many', cell: 'gru', layers: 2, bidirectional: true, input: 'tokens', n_x: 6, n_a: 10, n_y: 6 },
    data: { x: xs, y: xs.map((s) => s.map((_, t) => (t > 0 ? s[t - 1] : -1))) } },
  { name: 'many-to-one LSTM', config: { architecture: 'many-to-one', cell: 'lstm', input: 'tokens', n_x: 6, n_a: 10, n_y: 3 },
    data: { x: xs, y: xs.map((s) => s[0] % 3) } },
  { name: 'one-to-one, linear output', config: { architecture: 'one-to-one', cell: 'rnn', n_x: 3, n_a: 10, n_y: 2, output: 'linear' },
    data: { x: xs.map(() => uniforms(rng, 3)), y: xs.map(() => uniforms(rng, 2)) } },
  { name: 'one-to-many GRU', config: { architecture: 'one-to-many', cell: 'gru', n_y: 6, n_a: 10, startToken: 0 },
    data: { x: xs.map((s) => s[0]), y: xs } },
  { name: 'encoder-decoder LSTM with attention', config: { architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: 6, n_y: 6, n_a: 10, attention: 'general', startToken: 0 },
    data: { x: xs, y: xs.map((s) => [...s].reverse()) } },
];

let pool2: WorkerPool, pool3: WorkerPool;

const Equal = suite('workers: the same training as one thread');

Equal.before(async () => {
  [pool2, pool3] = await Promise.all([createWorkerPool({ size: 2 }), createWorkerPool({ size: 3 })]);
});

Equal('the gradient over workers is the batch\'s gradient, for every architecture and both reductions', async () => {
  for (const { name, config, data } of architectures) {
    // 'sum' over 2 workers; 'mean' over 3, whose shards of 7 examples hold 2, 2 and 3
    for (const [reduction, pool] of [['sum', pool2], ['mean', pool3]] as const) {
      const batch = { x: data.x.slice(0, 7), y: data.y.slice(0, 7) };
      await checkWorkerGradient(`${name}, ${reduction}, ${pool.size} workers`, { ...config, reduction, seed: 3 } as ModelConfig, batch, pool);
    }
  }
});

Equal('fit over workers ends where one thread does, within the tolerance, for every architecture (SGD over 2, Adam over 3)', async () => {
  for (const { name, config, data } of architectures) {
    for (const [optimizer, pool] of [['sgd', pool2], ['adam', pool3]] as const) {
      const options = { epochs: 3, batchSize: 8, learningRate: optimizer === 'sgd' ? 0.02 : 0.01, optimizer, metrics: ['accuracy'], validationSplit: 0.2 } as const;
      const fitOptions = config.output === 'linear' ? { ...options, metrics: [] } : options;
      const one = await createModel({ ...config, reduction: 'mean', seed: 4 } as ModelConfig);
      const r1 = await one.fit(data as never, fitOptions);
      const many = await createModel({ ...config, reduction: 'mean', seed: 4 } as ModelConfig);
      const rk = await many.fit(data as never, { ...fitOptions, workers: pool });
      const label = `${name}, ${optimizer}, ${pool.size} workers`;
      checkClose(`${label}: weights`, many.getWeights(), one.getWeights(), TOL[optimizer], 1e-3);
      checkClose(`${label}: epoch losses`, rk.epochLosses, r1.epochLosses, TOL.loss);
      checkClose(`${label}: validation losses`, rk.history.map((h) => h.val!.loss), r1.history.map((h) => h.val!.loss), TOL.loss);
      if (config.output !== 'linear') assert.equal(rk.history.map((h) => h.metrics!.accuracy), r1.history.map((h) => h.metrics!.accuracy), `${label}: accuracy`);
      one.dispose(); many.dispose();
    }
  }
});

Equal('truncated BPTT over workers: one update per window, shards of different lengths', async () => {
  const data = { x: xs, y: xs.map((s) => s.map((_, t) => (t > 1 ? s[t - 2] : -1))) };
  const config = { cell: 'lstm', n_x: 6, n_a: 12, n_y: 6, input: 'tokens', reduction: 'mean', seed: 5 } as const;
  const options = { epochs: 2, batchSize: 5, tbptt: 3, optimizer: 'sgd', learningRate: 0.05, shuffle: false } as const;
  await checkFitOverWorkers(config, data, options, pool3);
});

Equal('truncated BPTT over workers, \'mean\': a shard with nothing to predict in a middle window keeps its windows in step with the others', async () => {
  // shard 2 of 2 (sequences 2 and 3) has no targets in steps 3..5, the second window: it must
  // send that window (weighing 0), not skip to its third, which would be summed with the others' second
  const rng = new Random(31);
  const x = Array.from({ length: 4 }, () => Array.from({ length: 9 }, () => rng.int(6)));
  const y = x.map((s, b) => s.map((v, t) => (b >= 2 && t >= 3 && t < 6 ? -1 : (v + 1) % 6)));
  const config = { cell: 'gru', n_x: 6, n_a: 8, n_y: 6, input: 'tokens', reduction: 'mean', seed: 7 } as const;
  const options = { epochs: 2, batchSize: 4, tbptt: 3, optimizer: 'sgd', learningRate: 0.5, shuffle: false } as const;
  await checkFitOverWorkers(config, { x, y }, options, pool2);
});

Equal('a batch smaller than the pool leaves the extra workers out', async () => {
  const data = { x: xs.slice(0, 5), y: xs.slice(0, 5).map((s) => s.map((t) => (t + 1) % 6)) };
  const config = { cell: 'gru', n_x: 6, n_a: 8, n_y: 6, input: 'tokens', seed: 6 } as const;
  const one = await createRNN(config), many = await createRNN(config);
  await one.fit(data, { batchSize: 2, epochs: 2, optimizer: 'sgd', learningRate: 0.05 });
  await many.fit(data, { batchSize: 2, epochs: 2, optimizer: 'sgd', learningRate: 0.05, workers: pool3 });
  checkClose('weights', many.getWeights(), one.getWeights(), TOL.sgd, 1e-3);
  one.dispose(); many.dispose();
});

Equal.run();

// ---

const Same = suite('workers: deterministic, resumable');

const lm = { cell: 'lstm', n_x: 6, n_a: 12, n_y: 6, layers: 2, dropout: 0.3, outputDropout: 0.2, input: 'tokens', reduction: 'mean' } as const;
const lmData = { x: xs, y: xs.map((s) => s.map((_, t) => (t > 1 ? s[t - 2] : -1))) };
const lmOptions = { epochs: 3, batchSize: 6, learningRate: 0.02, clipNorm: 1, schedule: { type: 'cosine', tMax: 12 } } as const;

Same('the same worker count gives the same weights, bit for bit, dropout and shuffling included', async () => {
  const run = async (workers: number | WorkerPool) => {
    const m = await createRNN({ ...lm, seed: 7 });
    await m.fit(lmData, { ...lmOptions, workers });
    const w = m.getWeights();
    m.dispose();
    return w;
  };
  const a = await run(pool2), b = await run(pool2), c = await run(2);
  checkSame('a reused pool', b, a);
  checkSame('a pool of this call', c, a);
});

Same('abort and resume over workers, in a new model, is bit-identical to the uninterrupted run', async () => {
  const pool = pool2;
  const whole = await createRNN({ ...lm, seed: 8 });
  await whole.fit(lmData, { ...lmOptions, workers: pool });
  const first = await createRNN({ ...lm, seed: 8 });
  const controller = new AbortController();
  const part = await first.fit(lmData, { ...lmOptions, workers: pool, signal: controller.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 1) controller.abort(); } });
  assert.is(part.stopReason, 'aborted');
  assert.not.ok(pool.isDisposed, 'a pool given to fit stays open');
  const second = await createRNN({ ...lm, seed: 9 });
  second.setTrainingState(first.getTrainingState());
  await second.fit(lmData, { ...lmOptions, workers: pool, resume: true });
  checkSame('weights', second.getWeights(), whole.getWeights());
  whole.dispose(); first.dispose(); second.dispose();
});

Same('callbacks and the non-finite guard work over workers as on one thread', async () => {
  const x = Array.from({ length: 16 }, () => Array.from({ length: 4 }, () => uniforms(rng, 2)));
  const y = x.map((s) => s.map((r) => [r[0] + r[1]]));
  x[9][2] = [3e38, 3e38];                           // batch 3 of 4 overflows a ReLU cell
  const make = async () => {
    const m = await createRNN({ n_x: 2, n_a: 4, n_y: 1, output: 'linear', activation: 'relu', seed: 9 });
    m.setParam('W_ax', new Float32Array(8).fill(10));
    return m;
  };
  const options = { epochs: 2, batchSize: 4, shuffle: false, optimizer: 'sgd', learningRate: 1e-4 } as const;
  for (const workers of [0, pool2]) {
    const m = await make();
    let good: Float32Array | undefined;
    const events: string[] = [];
    await rejectsWith(m.fit({ x, y }, { ...options, workers, onProgress: (p) => { good = m.getWeights(); events.push(`${p.epoch}.${p.batch}`); } }), RangeError,
      /^fit: the (loss is (NaN|Infinity)|gradient of \S+ has \S+ at index \d+) at optimizer step 3 \(epoch 1 of 2, batch 3 of 4\); training stopped with the weights of the last good step/);
    const label = workers === 0 ? 'one thread' : 'workers';
    checkSame(`${label}: weights of step 2`, m.getWeights(), good!);
    assert.equal(events, ['0.0', '0.1'], `${label}: progress`);
    const skipped = await m.fit({ x, y }, { ...options, workers, onNonFinite: 'skip' });
    assert.equal([skipped.steps, skipped.skippedSteps], [6, 2], `${label}: skipped`);
    m.dispose();
  }
});

Same('over workers, an update that would make a weight or a moment not finite is refused with every optimizer, as on one thread', async () => {
  const x = Array.from({ length: 8 }, () => Array.from({ length: 3 }, () => uniforms(rng, 2)));
  const y = x.map((s) => s.map((r) => [40 * r[0] - 30 * r[1]]));
  const optimizers = ['sgd', { type: 'sgd', momentum: 0.9 }, 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
  for (const optimizer of optimizers) {
    const m = await createRNN({ cell: 'gru', n_x: 2, n_a: 4, n_y: 1, output: 'linear', seed: 3 });
    await m.fit({ x, y }, { epochs: 1, batchSize: 4, optimizer, learningRate: 0.01, workers: pool2 });
    const weights = m.getWeights();
    const label = JSON.stringify(optimizer);
    const huge = { epochs: 1, batchSize: 4, optimizer, learningRate: optimizer === 'adagrad' ? 1e39 : 3e38, workers: pool2 };
    await rejectsWith(m.fit({ x, y }, huge), RangeError,
      /^fit: the update with learning rate \S+ would make \S+ \(or its optimizer moments\) not finite at optimizer step 3 \(epoch 1 of 1, batch 1 of 2\); training stopped with the weights of the last good step/);
    checkSame(`${label}: weights`, m.getWeights(), weights);
    const skipped = await m.fit({ x, y }, { ...huge, onNonFinite: 'skip' });
    assert.equal([skipped.steps, skipped.skippedSteps], [0, 2], label);
    checkSame(`${label}: weights after skipping`, m.getWeights(), weights);
    const on = await m.fit({ x, y }, { epochs: 1, batchSize: 4, optimizer, learningRate: 0.01, workers: pool2 });
    assert.equal(on.steps, 2, `${label}: trains on`);
    m.dispose();
  }
});

Same.run();

// ---

const Fail = suite('workers: failures');

const workerScript = (name: string) => pathToFileURL(join(__dirname, 'fixtures', 'workers', name));

Fail('a bad example is refused with the error one thread gives, before any worker runs; the model and the pool are unharmed', async () => {
  const pool = pool2;
  const data = { x: xs.slice(0, 8), y: xs.slice(0, 8).map((s) => s.map((t) => (t + 1) % 6)) };
  data.x[6] = [1, 2, 9];                             // token 9 of a 6-token vocabulary, in the second shard
  data.y[6] = [2, 3, 4];
  const m = await createRNN({ cell: 'gru', n_x: 6, n_a: 8, n_y: 6, input: 'tokens', seed: 10 });
  const weights = m.getWeights();
  const options = { batchSize: 8, shuffle: false };
  await rejectsWith(m.fit(data, options), RangeError, /^fit: x\[6\]\[2\] = 9 is out of range; token ids must be in \[0, n_x\) = \[0, 6\)$/);
  await rejectsWith(m.fit(data, { ...options, workers: pool }), RangeError, /^fit: x\[6\]\[2\] = 9 is out of range; token ids must be in \[0, n_x\) = \[0, 6\)$/);
  checkSame('weights', m.getWeights(), weights);
  data.x[6] = [1, 2, 3];
  assert.is((await m.fit(data, { ...options, workers: pool })).steps, 1, 'the pool still trains');
  m.dispose();
});

Fail('a worker that dies: a clear error, the model keeps its last step, and resuming gives the uninterrupted run', async () => {
  const options = { ...lmOptions, epochs: 2 };
  const whole = await createRNN({ ...lm, seed: 12 });
  await whole.fit(lmData, { ...options, workers: pool2 });
  const dying = await createWorkerPool({ size: 2, url: workerScript('dies-on-third-shard.mjs') });
  const m = await createRNN({ ...lm, seed: 12 });
  let afterStep2: Float32Array | undefined;
  await rejectsWith(m.fit(lmData, { ...options, workers: dying, onProgress: () => { afterStep2 = m.getWeights(); } }), Error,
    /^fit: worker [12] of 2 exited with code 7; the worker pool is closed\. The batch was not finished: the model keeps the weights and training state of its last step, and fit\(\{ resume: true \}\) continues from the start of the batch$/);
  checkSame('the weights of the last step', m.getWeights(), afterStep2!);
  assert.ok(dying.isDisposed, 'the pool closed');
  await rejectsWith(m.fit(lmData, { ...options, workers: dying }), TypeError, /^fit: this worker pool is closed \(worker [12] of 2 exited with code 7\); create another with createWorkerPool\(\)$/);
  await m.fit(lmData, { ...options, workers: 2, resume: true });
  checkSame('resumed to the end', m.getWeights(), whole.getWeights());
  whole.dispose(); m.dispose();
});

Fail('a worker that throws an uncaught error is reported, and the pool closes', async () => {
  const pool = await createWorkerPool({ size: 2, url: workerScript('throws-on-second-shard.mjs') });
  const m = await createRNN({ ...lm, seed: 13 });
  await rejectsWith(m.fit(lmData, { ...lmOptions, workers: pool }), Error, /^fit: worker [12] of 2 threw an uncaught error: injected failure; the worker pool is closed/);
  assert.ok(pool.isDisposed);
  m.dispose();
});

Fail('refused: a bad workers option, a busy pool, a worker script that does not start', async () => {
  const m = await createRNN({ ...lm, seed: 14 });
  await rejectsWith(m.fit(lmData, { workers: -1 }), RangeError, /^fit: workers must be an integer in \[0, 64\], got -1$/);
  // a limit, checked before any thread starts (1000 would start 1000 threads and their replicas)
  await rejectsWith(m.fit(lmData, { workers: 1000 }), RangeError, /^fit: workers must be an integer in \[0, 64\], got 1000$/);
  await rejectsWith(m.fit(lmData, { workers: 65 }), RangeError, /^fit: workers must be an integer in \[0, 64\], got 65$/);
  await rejectsWith(createWorkerPool({ size: 65 }), RangeError, /^createWorkerPool: size must be an integer in \[1, 64\], got 65$/);
  await rejectsWith(m.fit(lmData, { workers: '2' as never }), TypeError, /^fit: workers must be a number of worker threads or a pool from createWorkerPool\(\), got "2"$/);
  assert.throws(() => m.trainStep(lmData, { workers: 2 } as never), /^trainStep: workers is an option of fit\(\); trainStep runs on the calling thread$/);
  await rejectsWith(createWorkerPool({ size: 0 }), RangeError, /^createWorkerPool: size must be an integer in \[1, 64\], got 0$/);
  await rejectsWith(createWorkerPool({ size: 2, workers: 2 } as never), TypeError, /^createWorkerPool: options has no field "workers"/);
  await rejectsWith(createWorkerPool({ size: 1, url: workerScript('missing.mjs') }), Error, /^createWorkerPool: the workers could not start: worker 1 of 1 /);
  await rejectsWith(createWorkerPool({ size: 2, url: 'not/a/path.mjs' }), Error, /^createWorkerPool: the workers could not start: /);
  const pool = pool2;
  const other = await createRNN({ ...lm, seed: 15 });
  const running = m.fit(lmData, { ...lmOptions, workers: pool });
  await new Promise((r) => setTimeout(r, 0));
  await rejectsWith(other.fit(lmData, { workers: pool }), TypeError, /^fit: this worker pool is training another model; one fit\(\) at a time per pool$/);
  await running;
  await other.fit(lmData, { workers: pool });      // free again
  m.dispose(); other.dispose();
});

Fail('dispose() during a fit over workers: the fit rejects saying where, and the pool is free again', async () => {
  const m = await createRNN({ ...lm, seed: 16 });
  await rejectsWith(m.fit(lmData, { ...lmOptions, workers: pool2, onProgress: (p) => { if (p.batch === 1) m.dispose(); } }), Error,
    /^fit: the model was disposed during training \(epoch 1 of 3, before batch 3 of 4\)$/);
  const other = await createRNN({ ...lm, seed: 16 });
  assert.is((await other.fit(lmData, { ...lmOptions, epochs: 1, workers: pool2 })).steps, 4);
  other.dispose();
});

Fail('dispose() while a fit\'s workers start, and a pool disposed during a fit: each error says which, and the model trains after', async () => {
  const m = await createRNN({ ...lm, seed: 17 });
  const starting = m.fit(lmData, { ...lmOptions, workers: 2 });
  await new Promise((r) => setTimeout(r, 0));      // the fit is now waiting for its threads
  m.dispose();
  await rejectsWith(starting, Error, /^fit: the model was disposed during training \(/);
  const pool = await createWorkerPool({ size: 2 });
  const other = await createRNN({ ...lm, seed: 17 });
  const weights = other.getWeights();
  await rejectsWith(other.fit(lmData, { ...lmOptions, workers: pool, onProgress: () => { void pool.dispose(); } }), Error,
    /^fit: pool\.dispose\(\) was called; the worker pool is closed\. The batch was not finished/);
  await rejectsWith(other.fit(lmData, { ...lmOptions, workers: pool }), TypeError, /^fit: this worker pool is closed \(pool\.dispose\(\) was called\)/);
  assert.not.equal(other.getWeights(), weights);    // its first step was taken
  assert.is((await other.fit(lmData, { ...lmOptions, epochs: 1 })).steps, 4);
  other.dispose();
});

Fail('an idle pool does not keep Node running, and a finished fit over workers leaves nothing behind', () => {
  const dist = join(__dirname, '..', 'dist', 'index.js');
  const script = `
    const { createRNN, createWorkerPool } = await import(${JSON.stringify(dist)});
    const pool = await createWorkerPool({ size: 2 });            // never disposed
    const m = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1 });
    const data = { x: [[0, 1, 2], [2, 1]], y: [[1, 2, 0], [0, 2]] };
    await m.fit(data, { workers: pool });
    await m.fit(data, { workers: 2 });
    process.stdout.write('done');
  `;
  const out = execFileSync(process.execPath, [...wasmFlags, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(out, 'done');
});

Fail.after(async () => {
  await Promise.all([pool2.dispose(), pool3.dispose()]);
});

Fail.run();

// ---

const Packaged = suite('workers: packaged');

Packaged('bundled into one file by esbuild, the library still starts its workers, with no configuration', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-workers-'));
  try {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, `
      import { createRNN } from ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
      const m = await createRNN({ cell: 'gru', n_x: 4, n_a: 8, n_y: 4, input: 'tokens', seed: 2 });
      const x = [[0, 1, 2, 3], [3, 2, 1], [1, 1], [2, 0, 3]];
      await m.fit({ x, y: x.map((s) => s.map((t) => (t + 1) % 4)) }, { epochs: 2, batchSize: 4, workers: 2 });
      process.stdout.write(JSON.stringify(Array.from(m.getWeights())));
    `);
    const out = join(dir, 'bundle.mjs');
    buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', target: 'es2022', outfile: out, logLevel: 'silent' });
    assert.not.match(readFileSync(out, 'utf8'), /from ['"]\.|import\(['"]\./, 'no relative imports left in the bundle');
    const bundled = JSON.parse(execFileSync(process.execPath, [...wasmFlags, out], { cwd: dir, encoding: 'utf8', timeout: 30_000 }));
    const m = await createRNN({ cell: 'gru', n_x: 4, n_a: 8, n_y: 4, input: 'tokens', seed: 2 });
    const x = [[0, 1, 2, 3], [3, 2, 1], [1, 1], [2, 0, 3]];
    await m.fit({ x, y: x.map((s) => s.map((t) => (t + 1) % 4)) }, { epochs: 2, batchSize: 4, workers: 2 });
    checkSame('bundled vs the package', bundled, m.getWeights());
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Packaged('the embedded worker builds its replica on the compiled build the calling thread sends, and says so when none comes', async () => {
  const { Worker } = await import('node:worker_threads');
  const { workerScript } = await import(join(__dirname, '..', 'dist', 'workers', 'script.js')) as { workerScript: string };
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1, backend: 'scalar' });
  const worker = new Worker(workerScript, { eval: true });
  const replies: any[] = [];
  const next = () => new Promise<any>((resolve) => worker.once('message', resolve));
  try {
    replies.push(await next());                                  // hello
    const file = m.save();
    for (const kernels of [undefined, new Uint8Array(3)]) {
      worker.postMessage({ type: 'init', file, backend: 'scalar', kernels });
      replies.push(await next());
    }
    worker.postMessage({ type: 'init', file, backend: 'scalar', kernels: await compiledBuild('scalar') });
    replies.push(await next());
  } finally {
    await worker.terminate();
    m.dispose();
  }
  assert.equal(replies.map((r) => r.type), ['hello', 'error', 'error', 'ready']);
  assert.is(replies[1].message, "the kernels of the 'scalar' build must come as a WebAssembly.Module, got undefined");
  assert.is(replies[2].message, "the kernels of the 'scalar' build must come as a WebAssembly.Module, got a Uint8Array of length 3");
});

Packaged('a message a worker cannot be sent (one postMessage cannot clone) fails the pool with the reason', async () => {
  const pool = await createWorkerPool({ size: 2 });
  const request = { type: 'next', buffer: new Float32Array(1), unclonable: Symbol('not cloneable') } as never;
  await rejectsWith(pool.request(1, request), Error, /^worker 2 of 2 could not be sent its 'next' message \(.*could not be cloned.*\)$/);
  assert.ok(pool.isDisposed, 'the pool closed');
});

Packaged.run();

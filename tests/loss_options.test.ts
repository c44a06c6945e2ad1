// The softmax loss's classWeights and labelSmoothing around the kernels: training over workers
// (each shard's gradient weighted by its share of Σ w[y]; a shard of zero-weight targets by
// 1 / N, its smoothing terms summed) matches one thread, and resuming is
// bit for bit; evaluate() and fit's epoch losses use the model's loss (accuracy stays
// unweighted; perplexity and bits per character are of the plain cross-entropy); the options
// are saved, loaded and checked on resume;
// bad options are refused by name; and a model without them keeps the bits it had before
// they existed (tests/fixtures/loss_bits.json, from the build before them).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, createWorkerPool, decodeSafetensors, encodeSafetensors, loadModel, loadRNN, Random, type ModelConfig, type WorkerPool } from '../dist/index.js';
import { checkClose, checkSame, checkFitOverWorkers, checkWorkerGradient, checkRecordedBits, checkResumeBitForBit, countCalls, rejectsWith, throwsWith, unsealed, WORKER_TOL } from './_utils.js';

// tests/workers.test.ts's stated tolerance
const TOL = WORKER_TOL;
const WEIGHTS = [0.3, 2.5, 0, 1.1, 0.7];
const LOSS = { classWeights: WEIGHTS, labelSmoothing: 0.1 };

const rng = new Random(31);
const xs = Array.from({ length: 22 }, () => Array.from({ length: 2 + rng.int(8) }, () => rng.int(5)));

/** Every architecture with a softmax head, with the loss options and data it trains on. */
const architectures: { name: string; config: ModelConfig; data: { x: any[]; y: any[] } }[] = [
  { name: 'many-to-many GRU, skipped steps', config: { architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 5, n_a: 8, n_y: 5, ...LOSS },
    data: { x: xs, y: xs.map((s) => s.map((_, t) => (t > 0 ? s[t - 1] : -1))) } },
  { name: 'many-to-one LSTM', config: { architecture: 'many-to-one', cell: 'lstm', input: 'tokens', n_x: 5, n_a: 8, n_y: 5, ...LOSS },
    data: { x: xs, y: xs.map((s) => s[s.length - 1]) } },
  { name: 'encoder-decoder GRU', config: { architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: 5, n_y: 5, n_a: 8, startToken: 0, ...LOSS },
    data: { x: xs, y: xs.map((s) => [...s].reverse()) } },
];

let pool2: WorkerPool, pool3: WorkerPool;

// ---

const Workers = suite('loss options: workers and resume');

Workers.before(async () => {
  [pool2, pool3] = await Promise.all([createWorkerPool({ size: 2 }), createWorkerPool({ size: 3 })]);
});
Workers.after(async () => {
  await Promise.all([pool2.dispose(), pool3.dispose()]);
});

Workers('the gradient over workers is the batch\'s: shards are weighted by their share of Σ w[y], not of their targets', async () => {
  for (const { name, config, data } of architectures) {
    for (const [reduction, pool] of [['mean', pool2], ['mean', pool3], ['sum', pool3]] as const) {
      const batch = { x: data.x.slice(0, 7), y: data.y.slice(0, 7) };
      await checkWorkerGradient(`${name}, ${reduction}, ${pool.size} workers`, { ...config, reduction, seed: 3 } as ModelConfig, batch, pool);
    }
  }
});

Workers('a shard whose targets all weigh 0 keeps its smoothing terms\' gradient (mean, 2 and 3 workers)', async () => {
  // class 2 weighs 0: examples 3..5 predict only class 2, so the last shard over 2 workers
  // ([3, 6)) and over 3 workers ([4, 6)) has n_k = 0
  const zero = (y: any): any => (Array.isArray(y) ? y.map((v) => (v < 0 ? v : 2)) : 2);
  for (const { name, config, data } of architectures) {
    const batch = { x: data.x.slice(0, 6), y: data.y.slice(0, 6).map((y, b) => (b >= 3 ? zero(y) : y)) };
    for (const pool of [pool2, pool3]) {
      await checkWorkerGradient(`${name}, ${pool.size} workers`, { ...config, reduction: 'mean', seed: 3 } as ModelConfig, batch, pool);
    }
  }
});

Workers('truncated BPTT over 3 workers, a shard\'s windows with only zero-weight targets: as on one thread', async () => {
  // examples 6..9 of each batch of 10 (the last shard over 3 workers) predict only class 2,
  // which weighs 0: each of that shard's windows has n_k = 0 (and a late window may have N = 0)
  const data = { x: xs.slice(0, 20), y: xs.slice(0, 20).map((s, i) => s.map((_, t) => (t < 1 ? -1 : i % 10 >= 6 ? 2 : s[t - 1]))) };
  const config = { cell: 'gru', n_x: 5, n_a: 8, n_y: 5, input: 'tokens', reduction: 'mean', ...LOSS, seed: 6 } as const;
  const options = { epochs: 2, batchSize: 10, tbptt: 3, optimizer: 'sgd', learningRate: 0.05, shuffle: false } as const;
  await checkFitOverWorkers(config, data, options, pool3);
});

Workers('fit over 2 workers ends where one thread does (weights, epoch and validation losses, accuracy)', async () => {
  for (const { name, config, data } of architectures) {
    const options = { epochs: 3, batchSize: 8, learningRate: 0.02, optimizer: 'sgd', metrics: ['accuracy'], validationSplit: 0.2 } as const;
    const one = await createModel({ ...config, reduction: 'mean', seed: 4 } as ModelConfig);
    const r1 = await one.fit(data as never, options);
    const many = await createModel({ ...config, reduction: 'mean', seed: 4 } as ModelConfig);
    const rk = await many.fit(data as never, { ...options, workers: pool2 });
    checkClose(`${name}: weights`, many.getWeights(), one.getWeights(), TOL.sgd, 1e-3);
    checkClose(`${name}: epoch losses`, rk.epochLosses, r1.epochLosses, TOL.loss);
    checkClose(`${name}: validation losses`, rk.history.map((h) => h.val!.loss), r1.history.map((h) => h.val!.loss), TOL.loss);
    assert.equal(rk.history.map((h) => h.metrics!.accuracy), r1.history.map((h) => h.metrics!.accuracy), `${name}: accuracy`);
    one.dispose(); many.dispose();
  }
});

Workers('truncated BPTT over 3 workers: each window averaged over its own Σ w[y], as on one thread', async () => {
  const data = { x: xs, y: xs.map((s) => s.map((_, t) => (t > 1 ? s[t - 2] : -1))) };
  const config = { cell: 'lstm', n_x: 5, n_a: 8, n_y: 5, input: 'tokens', reduction: 'mean', classWeights: [0.3, 2.5, 0.6, 1.1, 0.7], labelSmoothing: 0.1, seed: 5 } as const;
  const options = { epochs: 2, batchSize: 5, tbptt: 3, optimizer: 'sgd', learningRate: 0.05, shuffle: false } as const;
  await checkFitOverWorkers(config, data, options, pool3);
});

Workers('abort and resume (over workers and on one thread), in a new model, is bit-identical to the uninterrupted run', async () => {
  const { config, data } = architectures[0];
  const options = { epochs: 3, batchSize: 6, learningRate: 0.02, metrics: ['accuracy'] } as const;
  for (const workers of [0, pool2]) {
    // the checkpoint holds the epoch's sums so far: Σ w[y], not a count
    await checkResumeBitForBit(workers === 0 ? 'one thread' : 'workers', (seed) => createModel({ ...config, reduction: 'mean', seed } as ModelConfig), data, { ...options, workers });
  }
});

Workers('a checkpoint resumes only into a model with the same loss options', async () => {
  const { config, data } = architectures[0];
  const m = await createModel({ ...config, seed: 1 } as ModelConfig);
  await m.fit(data as never, { epochs: 1, batchSize: 8 });
  const state = m.getTrainingState();
  const other = await createModel({ ...config, classWeights: [1, 1, 1, 1, 1], seed: 1 } as ModelConfig);
  throwsWith(() => other.setTrainingState(state), RangeError, /setTrainingState: the checkpoint was saved from a model with another configuration: classWeights is \[0\.3,2\.5,0,1\.1,0\.7\] in the checkpoint, \[1,1,1,1,1\] in this model/);
  const { labelSmoothing: _, ...unsmoothed } = config as { labelSmoothing?: number };
  const plain = await createModel({ ...unsmoothed, seed: 1 } as ModelConfig);
  throwsWith(() => plain.setTrainingState(state), RangeError, /labelSmoothing is 0\.1 in the checkpoint, unset in this model/);
  m.dispose(); other.dispose(); plain.dispose();
});

Workers('perplexity and bits per character are of the plain cross-entropy: evaluate, fit\'s epoch and validation metrics, one thread and 2 workers', async () => {
  for (const { name, config, data } of architectures) {
    const m = await createModel({ ...config, reduction: 'mean', seed: 8 } as ModelConfig);
    const { classWeights: _, labelSmoothing: __, ...plainConfig } = config as unknown as Record<string, unknown>;
    const plain = await createModel({ ...plainConfig, reduction: 'mean', seed: 8 } as ModelConfig);
    const metrics = ['perplexity', 'bitsPerChar'] as const;
    const e = m.evaluate(data as never, { batchSize: 5, metrics });
    const p = plain.evaluate(data as never, { batchSize: 5, metrics });
    checkClose(`${name}: perplexity`, [e.perplexity!], [p.perplexity!], 1e-6);
    checkClose(`${name}: bits per character`, [e.bitsPerChar!], [p.bitsPerChar!], 1e-6);
    // the loss stays the weighted, smoothed one
    checkClose(`${name}: loss`, [e.loss], [m.forward(data as never).loss!], 1e-6);
    assert.ok(Math.abs(e.loss - p.loss) > 1e-3, `${name}: the loss ${e.loss} is not the plain ${p.loss}`);
    // one batch: the epoch's metrics are of the weights before its step; validation of those after
    const val = { x: data.x.slice(0, 6), y: data.y.slice(0, 6) };
    const options = { epochs: 1, batchSize: data.x.length, shuffle: false, learningRate: 0.05, optimizer: 'sgd', metrics, validationData: val } as const;
    const one = await createModel({ ...config, reduction: 'mean', seed: 8 } as ModelConfig);
    const many = await createModel({ ...config, reduction: 'mean', seed: 8 } as ModelConfig);
    const [r1, rk] = [await one.fit(data as never, options), await many.fit(data as never, { ...options, workers: pool2 })];
    const h1 = r1.history[0], hk = rk.history[0];
    checkClose(`${name}: fit's perplexity`, [h1.metrics!.perplexity!, h1.metrics!.bitsPerChar!], [p.perplexity!, p.bitsPerChar!], 1e-6);
    checkClose(`${name}: fit's perplexity over workers`, [hk.metrics!.perplexity!, hk.metrics!.bitsPerChar!], [p.perplexity!, p.bitsPerChar!], 1e-6);
    const after = one.evaluate(val as never, { metrics });
    checkClose(`${name}: validation`, [h1.val!.loss, h1.val!.perplexity!, h1.val!.bitsPerChar!], [after.loss, after.perplexity!, after.bitsPerChar!], 1e-6);
    checkClose(`${name}: validation over workers`, [hk.val!.perplexity!, hk.val!.bitsPerChar!], [after.perplexity!, after.bitsPerChar!], TOL.sgd);
    for (const x of [m, plain, one, many]) x.dispose();
  }
});

Workers.run();

// ---

const Evaluate = suite('loss options: evaluate, metrics, files');

Evaluate('evaluate()\'s loss is Σ L / Σ w[y] over every batch, the mean forward() gives on the whole set; accuracy is unweighted', async () => {
  for (const { name, config, data } of architectures) {
    for (const reduction of ['sum', 'mean'] as const) {
      const m = await createModel({ ...config, reduction, seed: 6 } as ModelConfig);
      const mean = await createModel({ ...config, reduction: 'mean', seed: 6 } as ModelConfig);
      const whole = mean.forward(data as never).loss!;
      const e = m.evaluate(data as never, { batchSize: 5, metrics: ['accuracy'] });
      checkClose(`${name}, ${reduction}: evaluate's loss`, [e.loss], [whole], 1e-6);
      // accuracy: argmax = target over every predicted target, each counting 1 whatever its weight
      const f = m.forward(data as never) as { yhat: Float32Array; T?: number };
      const n = 5, T = f.T ?? 1;
      let right = 0, counted = 0;
      data.y.forEach((y, b) => {
        (Array.isArray(y) ? y : [y]).forEach((target: number, t: number) => {
          if (target < 0) return;
          const row = f.yhat.subarray((b * T + t) * n, (b * T + t + 1) * n);
          right += row.indexOf(Math.max(...row)) === target ? 1 : 0;
          counted++;
        });
      });
      assert.is(e.accuracy, right / counted, `${name}, ${reduction}: accuracy`);
      m.dispose(); mean.dispose();
    }
  }
});

Evaluate('the options are saved in the model file: loadModel and loadRNN give the same model, the same bits', async () => {
  for (const { name, config, data } of architectures) {
    const m = await createModel({ ...config, reduction: 'mean', seed: 7 } as ModelConfig);
    const loaded = await loadModel(m.save());
    assert.equal(loaded.config, m.config, `${name}: config`);
    assert.equal(m.config.classWeights, WEIGHTS);
    assert.is(m.config.labelSmoothing, 0.1);
    assert.ok(Object.isFrozen(m.config.classWeights), 'frozen with the config');
    const batch = { x: data.x.slice(0, 5), y: data.y.slice(0, 5) } as never;
    assert.is(loaded.computeGradients(batch).loss, m.computeGradients(batch).loss, `${name}: loss bit for bit`);
    if (config.architecture === 'many-to-many') {
      const rnn = await loadRNN(m.save());
      assert.equal(rnn.config.classWeights, WEIGHTS);
      assert.is(rnn.forward(batch).loss, m.forward(batch).loss);
      rnn.dispose();
    }
    m.dispose(); loaded.dispose();
  }
});

Evaluate('createRNN takes the options; toJSON round-trips through createRNN', async () => {
  const m = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, reduction: 'mean', ...LOSS, seed: 2 });
  const again = await createRNN(m.toJSON());
  const batch = { x: [[1, 2, 3], [4]], y: [[0, -1, 1], [2]] };
  assert.is(again.forward(batch).loss, m.forward(batch).loss);
  m.dispose(); again.dispose();
});

Evaluate.run();

// ---

const Bad = suite('loss options: bad options refused by name, before anything is built');

const base = { architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 3 } as const;
const badCases: [string, object, ErrorConstructor, RegExp][] = [
  ['classWeights of the wrong length', { classWeights: [1, 2] }, RangeError, /createModel: classWeights must hold n_y = 3 weights \(one per class\), got 2/],
  ['a negative class weight', { classWeights: [1, -0.5, 1] }, RangeError, /createModel: classWeights\[1\] must be a finite number ≥ 0, got -0\.5$/],
  ['a negative class weight within float32\'s range is not said to be beyond it', { classWeights: [1, -1, 2] }, RangeError, /createModel: classWeights\[1\] must be a finite number ≥ 0, got -1$/],
  ['a NaN class weight', { classWeights: [1, 1, NaN] }, RangeError, /createModel: classWeights\[2\] must be a finite number ≥ 0, got NaN/],
  ['an infinite class weight', { classWeights: [Infinity, 1, 1] }, RangeError, /createModel: classWeights\[0\] must be a finite number ≥ 0, got Infinity/],
  ['a class weight beyond float32', { classWeights: [1, 1e39, 1] }, RangeError, /classWeights\[1\] must be a finite number ≥ 0, got 1e\+39 \(beyond float32's range/],
  ['a class weight that is not a number', { classWeights: [1, '2', 1] }, TypeError, /createModel: classWeights\[1\] must be a number, got "2"/],
  ['classWeights that are not an array', { classWeights: 2 }, TypeError, /createModel: classWeights must be an array of n_y = 3 numbers \(a weight per class\), got 2/],
  ['class weights all 0', { classWeights: [0, 0, 0] }, RangeError, /createModel: classWeights are all 0; at least one class must weigh more than 0/],
  ['class weights all 0 in float32', { classWeights: [1e-46, 0, 0] }, RangeError, /createModel: classWeights are all 0 in float32 \(the largest, 1e-46, rounds to 0\); at least one class must weigh 1\.4e-45 or more$/],
  ['labelSmoothing of 1', { labelSmoothing: 1 }, RangeError, /createModel: labelSmoothing must be a number in \[0, 1\), got 1/],
  ['a negative labelSmoothing', { labelSmoothing: -0.1 }, RangeError, /createModel: labelSmoothing must be a number in \[0, 1\), got -0\.1/],
  ['labelSmoothing NaN', { labelSmoothing: NaN }, RangeError, /createModel: labelSmoothing must be a number in \[0, 1\), got NaN/],
  ['labelSmoothing as a string', { labelSmoothing: '0.1' }, TypeError, /createModel: labelSmoothing must be a number in \[0, 1\), got "0\.1"/],
  ['classWeights on a sigmoid output', { output: 'sigmoid', classWeights: [1, 1, 1] }, TypeError, /createModel: classWeights applies to output 'softmax' \(cross-entropy\) only, got output 'sigmoid'/],
  ['labelSmoothing on a linear output', { output: 'linear', labelSmoothing: 0.1 }, TypeError, /createModel: labelSmoothing applies to output 'softmax' \(cross-entropy\) only, got output 'linear'/],
  ['a misspelt option', { labelSmothing: 0.1 }, TypeError, /labelSmoothing/],
];
for (const [label, options, type, pattern] of badCases) {
  Bad(label, async () => {
    await rejectsWith(createModel({ ...base, ...options } as never), type, pattern);
  });
}

Bad('createRNN and every architecture check them the same way', async () => {
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 3, classWeights: [1] }), RangeError, /createRNN: classWeights must hold n_y = 3 weights/);
  await rejectsWith(createModel({ architecture: 'one-to-one', n_x: 2, n_a: 2, n_y: 2, labelSmoothing: 2 }), RangeError, /createModel: labelSmoothing must be/);
  await rejectsWith(createModel({ architecture: 'one-to-many', n_a: 2, n_y: 4, classWeights: [1, 2, 3] }), RangeError, /createModel: classWeights must hold n_y = 4 weights/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_y: 3, n_a: 2, output: 'sigmoid', labelSmoothing: 0.1 }), TypeError, /labelSmoothing applies to output 'softmax'/);
});

Bad('a model file with bad options is refused, naming the file\'s config', async () => {
  const m = await createModel({ ...base, classWeights: [1, 2, 3], seed: 1 });
  const f = decodeSafetensors(m.save());
  const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  // edited on purpose: without the checksum, which would refuse any edit before the config is read
  const edit = (to: string) => encodeSafetensors(tensors, unsealed({ ...f.metadata, config: f.metadata.config.replace('"classWeights":[1,2,3]', to) }));
  await rejectsWith(loadModel(edit('"classWeights":[1,2,-3]')), RangeError, /^loadModel: the file's config: classWeights\[2\] must be a finite number ≥ 0, got -3$/);
  await rejectsWith(loadModel(edit('"classWeights":[1,2]')), RangeError, /^loadModel: the file's config: classWeights must hold n_y = 3 weights \(one per class\), got 2$/);
  const loaded = await loadModel(edit('"classWeights":[1,2,4]'));
  assert.equal(loaded.config.classWeights, [1, 2, 4], 'the file as edited');
  m.dispose(); loaded.dispose();
});

Bad.run();

// ---

const Bits = suite('loss options: the default path keeps its bits');

Bits('a model without the options runs the kernel it ran before them, and a config without them has no new keys', async () => {
  const plain = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, reduction: 'mean', labelSmoothing: 0, seed: 3 });
  assert.not.ok('labelSmoothing' in plain.config || 'classWeights' in plain.config, 'labelSmoothing: 0 is the default, not saved');
  const batch = { x: [[1, 2, 3]], y: [[0, 1, 2]] };
  const calls = countCalls(plain, () => plain.computeGradients(batch));
  assert.ok(calls.head_loss_w === 1 && !calls.head_loss_ls, JSON.stringify(calls));
  const smoothed = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, reduction: 'mean', labelSmoothing: 0.1, seed: 3 });
  const with_ = countCalls(smoothed, () => smoothed.computeGradients(batch));
  assert.ok(with_.head_loss_ls === 1 && !with_.head_loss_w, JSON.stringify(with_));
  plain.dispose(); smoothed.dispose();
});

Bits('ŷ, losses, gradients, evaluate() and trained weights of every architecture, bit for bit as before the options (simd, scalar)', () => {
  checkRecordedBits('make_loss_bits.mjs', 'loss_bits.json');
});

Bits.run();

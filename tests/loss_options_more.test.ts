// ignoreIndex and posWeight around the kernels: an ignored target is a −1 where targets are
// packed, so a model with ignoreIndex gives, for targets of that id, the bits the default model
// gives for −1 — in forward, gradients, evaluate and fit (buckets, streams, truncated BPTT);
// a decoder's ignored targets that are no class end its sequence (padding), and one inside is
// refused; training over workers matches one thread; resuming is bit for bit; the options are
// saved, loaded and checked on resume; bad options and targets are refused by name; and a
// sigmoid model without posWeight runs the kernel it ran before (the kernel with it only when
// it is set; tests/loss_options.test.ts holds the default path to the bits of the build before
// the loss options).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createModel, createRNN, createWorkerPool, decodeSafetensors, encodeSafetensors, loadModel, loadRNN, Random, type ModelConfig, type WorkerPool,
} from '../dist/index.js';
import { checkClose, checkFitOverWorkers, checkResumeBitForBit, checkSame, checkWorkerGradient, countCalls, rejectsWith, throwsWith, unsealed, WORKER_TOL } from './_utils.js';

const TOL = WORKER_TOL;
const PAD = -100;
const POS = [0.5, 3, 0, 1.5];

const rng = new Random(41);
const xs = Array.from({ length: 22 }, () => Array.from({ length: 2 + rng.int(8) }, () => rng.int(5)));
const units = (n: number) => Array.from({ length: n }, () => Math.fround(rng.int(5) / 4));

/** Per-step targets with −100 (and one −1) in some steps: the next-token task. */
const paddedSteps = xs.map((s, i) => s.map((_, t) => (t === 0 ? -1 : (t + i) % 3 === 0 ? PAD : s[t - 1])));
/** −100 replaced by −1: what a model without ignoreIndex is given. */
const minusOne = (y: unknown): any => (Array.isArray(y) ? y.map(minusOne) : y === PAD ? -1 : y);

/** Every architecture with its ignoreIndex or posWeight, and data with ignored targets. */
const architectures: { name: string; config: ModelConfig; data: { x: any[]; y: any[] }; ignore?: boolean }[] = [
  { name: 'many-to-many GRU, ignoreIndex −100', config: { architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 5, n_a: 8, n_y: 5, ignoreIndex: PAD },
    data: { x: xs, y: paddedSteps }, ignore: true },
  { name: 'many-to-one LSTM, ignoreIndex −100, class weights and smoothing', config: {
    architecture: 'many-to-one', cell: 'lstm', input: 'tokens', n_x: 5, n_a: 8, n_y: 5, ignoreIndex: PAD, classWeights: [0.3, 2.5, 0.6, 1.1, 0.7], labelSmoothing: 0.1,
  }, data: { x: xs, y: xs.map((s, i) => (i % 7 === 1 ? PAD : s[s.length - 1])) }, ignore: true },
  { name: 'encoder-decoder GRU, targets padded with −100', config: { architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: 5, n_y: 5, n_a: 8, startToken: 0, ignoreIndex: PAD },
    data: { x: xs, y: xs.map((s) => [...[...s].reverse(), ...new Array(9 - s.length).fill(PAD)]) }, ignore: true },
  { name: 'many-to-many LSTM sigmoid, posWeight', config: { architecture: 'many-to-many', cell: 'lstm', input: 'tokens', output: 'sigmoid', n_x: 5, n_a: 8, n_y: 4, posWeight: POS },
    data: { x: xs, y: xs.map((s) => s.map(() => units(4))) } },
  { name: 'one-to-many GRU sigmoid, posWeight', config: { architecture: 'one-to-many', cell: 'gru', output: 'sigmoid', n_y: 4, n_a: 8, posWeight: POS },
    data: { x: xs.map(() => units(4)), y: xs.map((s) => s.map(() => units(4))) } },
];

let pool2: WorkerPool, pool3: WorkerPool;

// ---

const Workers = suite('ignoreIndex and posWeight: workers and resume');

Workers.before(async () => {
  [pool2, pool3] = await Promise.all([createWorkerPool({ size: 2 }), createWorkerPool({ size: 3 })]);
});
Workers.after(async () => {
  await Promise.all([pool2.dispose(), pool3.dispose()]);
});

Workers('the gradient over workers is the batch\'s (replicas built from the file keep the options)', async () => {
  for (const { name, config, data } of architectures) {
    for (const [reduction, pool] of [['mean', pool2], ['mean', pool3], ['sum', pool3]] as const) {
      const batch = { x: data.x.slice(0, 7), y: data.y.slice(0, 7) };
      await checkWorkerGradient(`${name}, ${reduction}, ${pool.size} workers`, { ...config, reduction, seed: 3 } as ModelConfig, batch, pool);
    }
  }
});

Workers('a shard whose targets are all ignored weighs nothing (mean, 2 and 3 workers)', async () => {
  // examples 3..5 have only ignored targets: the last shard over 2 workers ([3, 6)) and over 3 ([4, 6))
  for (const { name, config, data, ignore } of architectures) {
    if (!ignore) continue;
    const none = (y: any): any => (Array.isArray(y) ? y.map(() => PAD) : PAD);
    const batch = { x: data.x.slice(0, 6), y: data.y.slice(0, 6).map((y, b) => (b >= 3 ? none(y) : y)) };
    for (const pool of [pool2, pool3]) {
      await checkWorkerGradient(`${name}, ${pool.size} workers`, { ...config, reduction: 'mean', seed: 3 } as ModelConfig, batch, pool);
    }
  }
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

Workers('truncated BPTT over 3 workers with targets of −100, and with posWeight: as on one thread', async () => {
  const options = { epochs: 2, batchSize: 5, tbptt: 3, optimizer: 'sgd', learningRate: 0.05, shuffle: false } as const;
  await checkFitOverWorkers({ cell: 'lstm', n_x: 5, n_a: 8, n_y: 5, input: 'tokens', reduction: 'mean', ignoreIndex: PAD, seed: 5 }, { x: xs, y: paddedSteps }, options, pool3);
  const sigmoid = { x: xs, y: xs.map((s) => s.map(() => units(4))) };
  await checkFitOverWorkers({ cell: 'gru', n_x: 5, n_a: 8, n_y: 4, input: 'tokens', output: 'sigmoid', reduction: 'mean', posWeight: POS, seed: 5 }, sigmoid as never, options, pool3);
});

Workers('abort and resume (over workers and on one thread), in a new model, is bit-identical to the uninterrupted run', async () => {
  for (const { name, config, data } of [architectures[0], architectures[3]]) {
    const options = { epochs: 3, batchSize: 6, learningRate: 0.02, metrics: ['accuracy'] } as const;
    for (const workers of [0, pool2]) {
      await checkResumeBitForBit(`${name}, ${workers === 0 ? 'one thread' : 'workers'}`, (seed) => createModel({ ...config, reduction: 'mean', seed } as ModelConfig), data, { ...options, workers });
    }
  }
});

Workers('a checkpoint resumes only into a model with the same ignoreIndex and posWeight', async () => {
  const [ignoring, , , weighing] = architectures;
  const m = await createModel({ ...ignoring.config, seed: 1 } as ModelConfig);
  await m.fit(ignoring.data as never, { epochs: 1, batchSize: 8 });
  const { ignoreIndex: _, ...plainConfig } = ignoring.config as { ignoreIndex?: number };
  const plain = await createModel({ ...plainConfig, seed: 1 } as ModelConfig);
  throwsWith(() => plain.setTrainingState(m.getTrainingState()), RangeError, /setTrainingState: the checkpoint was saved from a model with another configuration: ignoreIndex is -100 in the checkpoint, unset in this model/);
  const s = await createModel({ ...weighing.config, seed: 1 } as ModelConfig);
  const other = await createModel({ ...weighing.config, posWeight: [1, 1, 1, 1], seed: 1 } as ModelConfig);
  throwsWith(() => other.setTrainingState(s.getTrainingState()), RangeError, /posWeight is \[0\.5,3,0,1\.5\] in the checkpoint, \[1,1,1,1\] in this model/);
  m.dispose(); plain.dispose(); s.dispose(); other.dispose();
});

Workers.run();

// ---

const Skips = suite('ignoreIndex: an ignored target is a −1 where targets are packed');

Skips('every architecture: targets of the ignoreIndex give the bits −1 gives without it (forward, gradients, evaluate, metrics)', async () => {
  for (const { name, config, data, ignore } of architectures) {
    if (!ignore) continue;
    for (const reduction of ['sum', 'mean'] as const) {
      const { ignoreIndex: _, ...plainConfig } = config as { ignoreIndex?: number };
      const m = await createModel({ ...config, reduction, seed: 2 } as ModelConfig);
      const plain = await createModel({ ...plainConfig, reduction, seed: 2 } as ModelConfig);
      const batch = { x: data.x.slice(0, 9), y: data.y.slice(0, 9) };
      const same = { x: batch.x, y: minusOne(batch.y) };
      const label = `${name}, ${reduction}`;
      const [f, p] = [m.forward(batch as never), plain.forward(same as never)];
      assert.is(f.loss, p.loss, `${label}: loss`);
      checkSame(`${label}: yhat`, f.yhat, p.yhat);
      const [g, q] = [m.computeGradients(batch as never), plain.computeGradients(same as never)];
      assert.is(g.loss, q.loss, `${label}: loss of computeGradients`);
      for (const e of m.layout.entries) checkSame(`${label}: grad ${e.name}`, g.grads[e.name], q.grads[e.name]);
      const metrics = ['accuracy', 'perplexity'] as const;
      assert.equal(m.evaluate(data as never, { batchSize: 5, metrics }), plain.evaluate({ x: data.x, y: minusOne(data.y) } as never, { batchSize: 5, metrics }), `${label}: evaluate`);
      m.dispose(); plain.dispose();
    }
  }
});

Skips('fit from arrays (bucketed), from a stream and with truncated BPTT trains as −1 does, bit for bit', async () => {
  const config = { cell: 'gru', n_x: 5, n_a: 6, n_y: 5, input: 'tokens', reduction: 'mean', seed: 3 } as const;
  const data = { x: xs, y: paddedSteps }, same = { x: xs, y: minusOne(paddedSteps) };
  const batches = (d: { x: number[][]; y: number[][] }) => () => (function* () {
    for (let i = 0; i < d.x.length; i += 6) yield { x: d.x.slice(i, i + 6), y: d.y.slice(i, i + 6) };
  })();
  for (const [label, options, from] of [
    ['bucketed arrays', { bucketByLength: true, batchSize: 4 }, (d: typeof data) => d],
    ['a stream of batches', {}, batches],
    ['truncated BPTT', { tbptt: 2, batchSize: 5 }, (d: typeof data) => d],
  ] as const) {
    const m = await createRNN({ ...config, ignoreIndex: PAD });
    const plain = await createRNN(config);
    const o = { epochs: 2, learningRate: 0.05, optimizer: 'adam', metrics: ['accuracy'], ...options } as const;
    const [r, p] = [await m.fit(from(data) as never, o), await plain.fit(from(same) as never, o)];
    checkSame(`${label}: weights`, m.getWeights(), plain.getWeights());
    assert.equal(r.epochLosses, p.epochLosses, `${label}: epoch losses`);
    assert.equal(r.history.map((h) => h.metrics), p.history.map((h) => h.metrics), `${label}: accuracy`);
    m.dispose(); plain.dispose();
  }
});

Skips('−1 still skips with another ignoreIndex; an ignoreIndex that is a class skips that class\'s targets (loss, mean, accuracy)', async () => {
  const m = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 3, reduction: 'mean', ignoreIndex: 2, seed: 6 });
  const plain = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 3, reduction: 'mean', seed: 6 });
  const x = [[1, 2, 3, 4], [0, 1]];
  const a = m.computeGradients({ x, y: [[0, 2, -1, 1], [2, 1]] }), b = plain.computeGradients({ x, y: [[0, -1, -1, 1], [-1, 1]] });
  assert.is(a.loss, b.loss, 'the mean over the targets left (3)');
  for (const e of m.layout.entries) checkSame(e.name, a.grads[e.name], b.grads[e.name]);
  const e = m.evaluate({ x, y: [[2, 2, 2, 1], [2, 2]] }, { metrics: ['accuracy'] }), f = plain.evaluate({ x, y: [[-1, -1, -1, 1], [-1, -1]] }, { metrics: ['accuracy'] });
  assert.equal(e, f, 'one target counted');
  // a mean of no targets is NaN with a zero gradient, as for −1
  const none = m.computeGradients({ x, y: [[2, 2, -1, 2], [2, 2]] });
  assert.ok(Number.isNaN(none.loss), 'NaN');
  assert.ok(Object.values(none.grads).every((g) => g.every((v) => v === 0)), 'zero gradient');
  m.dispose(); plain.dispose();
});

Skips('a last-state model (one-to-one, many-to-one) skips an example of −1 by default', async () => {
  const m = await createModel({ architecture: 'one-to-one', n_x: 2, n_a: 3, n_y: 3, reduction: 'mean', seed: 7 });
  const x = [[0.5, -1], [1, 2], [0, 0.25]];
  const all = m.computeGradients({ x, y: [1, -1, 2] }), kept = m.computeGradients({ x: [x[0], x[2]], y: [1, 2] });
  assert.is(all.loss, kept.loss);
  for (const e of m.layout.entries) checkSame(e.name, all.grads[e.name], kept.grads[e.name]);
  m.dispose();
});

Skips('a decoder\'s sequence ends before its ignored last targets; an ignored class inside is read as its next input', async () => {
  const config = { architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: 5, n_y: 5, n_a: 4, startToken: 0, reduction: 'sum', seed: 8 } as const;
  const m = await createModel({ ...config, ignoreIndex: PAD });
  const x = [[1, 2, 3], [4], [2, 2]];
  const padded = m.forward({ x, y: [[3, 2, 1, PAD, PAD], [4, PAD, PAD, PAD, PAD], [PAD, PAD, PAD, PAD, PAD]] });
  const cut = m.forward({ x, y: [[3, 2, 1], [4], [-1]] });
  assert.equal(padded.lengths, [3, 1, 1], 'each sequence ends before its padding; one with no target keeps its first step');
  assert.is(padded.T, 3);
  assert.is(padded.loss, cut.loss);
  checkSame('yhat', padded.yhat, cut.yhat);
  // the sequence whose every target is ignored adds nothing
  assert.is(m.forward({ x: x.slice(0, 2), y: [[3, 2, 1], [4]] }).loss, cut.loss);
  throwsWith(() => m.forward({ x, y: [[3, PAD, 1], [4], [2]] }), RangeError,
    /^forward: y\[0\]\[1\] = -100 skips its step, but y\[0\]\[2\] = 1 comes after it; a decoder's target is its next step's input \(teacher forcing\) and -100 is no token, so it can only pad the end of a sequence$/);
  throwsWith(() => m.forward({ x, y: [[3, 7], [4], [2]] }), RangeError,
    /^forward: y\[0\]\[1\] = 7 is out of range; class ids must be in \[0, n_y\) = \[0, 5\), or −1 or -100 \(the ignoreIndex\) to skip the last steps \(padding\)$/);
  // an ignored class: the same steps, the class not scored but fed
  const c = await createModel({ ...config, ignoreIndex: 2 });
  c.setWeights(m.getWeights());
  const r = c.forward({ x, y: [[3, 2, 1], [4], [2, 2]] });
  assert.equal(r.lengths, [3, 1, 2]);
  checkSame('the same outputs as the model that scores class 2', r.yhat, m.forward({ x, y: [[3, 2, 1], [4], [2, 2]] }).yhat);
  m.dispose(); c.dispose();
});

Skips.run();

// ---

const Files = suite('ignoreIndex and posWeight: files');

Files('saved in the model file: loadModel and loadRNN give the same model, the same bits', async () => {
  for (const { name, config, data } of architectures) {
    const m = await createModel({ ...config, reduction: 'mean', seed: 7 } as ModelConfig);
    const loaded = await loadModel(m.save());
    assert.equal(loaded.config, m.config, `${name}: config`);
    const batch = { x: data.x.slice(0, 5), y: data.y.slice(0, 5) } as never;
    assert.is(loaded.computeGradients(batch).loss, m.computeGradients(batch).loss, `${name}: loss bit for bit`);
    if (config.architecture === 'many-to-many') {
      const rnn = await loadRNN(m.save());
      assert.equal([rnn.config.ignoreIndex, rnn.config.posWeight], [m.config.ignoreIndex, m.config.posWeight], `${name}: loadRNN's config`);
      assert.is(rnn.forward(batch).loss, m.forward(batch).loss);
      rnn.dispose();
    }
    m.dispose(); loaded.dispose();
  }
  const s = await createModel({ ...architectures[3].config, seed: 1 } as ModelConfig);
  assert.equal(s.config.posWeight, POS);
  assert.ok(Object.isFrozen(s.config.posWeight), 'frozen with the config');
  s.dispose();
});

Files('toJSON round-trips through createRNN; ignoreIndex −1, the default, is not saved', async () => {
  const m = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, reduction: 'mean', ignoreIndex: PAD, seed: 2 });
  const again = await createRNN(m.toJSON());
  const batch = { x: [[1, 2, 3], [4]], y: [[0, PAD, 1], [-1]] };
  assert.is(again.forward(batch).loss, m.forward(batch).loss);
  const d = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, ignoreIndex: -1, seed: 2 });
  assert.not.ok('ignoreIndex' in d.config, 'the default is not saved');
  m.dispose(); again.dispose(); d.dispose();
});

Files('a model file with a bad posWeight or ignoreIndex is refused, naming the file\'s config', async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 3, output: 'sigmoid', posWeight: [1, 2, 3], seed: 1 });
  const f = decodeSafetensors(m.save());
  const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  // edited on purpose: without the checksum, which would refuse any edit
  const edit = (to: string) => encodeSafetensors(tensors, unsealed({ ...f.metadata, config: f.metadata.config.replace('"posWeight":[1,2,3]', to) }));
  await rejectsWith(loadModel(edit('"posWeight":[1,2,-3]')), RangeError, /^loadModel: the file's config: posWeight\[2\] must be a finite number ≥ 0, got -3$/);
  await rejectsWith(loadModel(edit('"ignoreIndex":-99')), TypeError, /^loadModel: the file's config: ignoreIndex applies to output 'softmax' \(cross-entropy\) only, got output 'sigmoid'$/);
  const loaded = await loadModel(edit('"posWeight":[1,2,0]'));
  assert.equal(loaded.config.posWeight, [1, 2, 0], 'the file as edited');
  m.dispose(); loaded.dispose();
});

Files.run();

// ---

const Bad = suite('ignoreIndex and posWeight: bad options refused by name, before anything is built');

const base = { architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 3 } as const;
const sigmoid = { ...base, output: 'sigmoid' } as const;
const IGNORE = 'an integer in \\(−2\\^53, 2\\^53\\), the class id whose targets are skipped \\(PyTorch\'s ignore_index\\)';
const badCases: [string, object, ErrorConstructor, RegExp][] = [
  ['posWeight of the wrong length', { ...sigmoid, posWeight: [1, 2] }, RangeError, /^createModel: posWeight must hold n_y = 3 weights \(one per output\), got 2$/],
  ['a negative positive weight', { ...sigmoid, posWeight: [1, -0.5, 1] }, RangeError, /^createModel: posWeight\[1\] must be a finite number ≥ 0, got -0\.5$/],
  ['a NaN positive weight', { ...sigmoid, posWeight: [1, 1, NaN] }, RangeError, /^createModel: posWeight\[2\] must be a finite number ≥ 0, got NaN$/],
  ['an infinite positive weight', { ...sigmoid, posWeight: [Infinity, 1, 1] }, RangeError, /^createModel: posWeight\[0\] must be a finite number ≥ 0, got Infinity$/],
  ['a positive weight beyond float32', { ...sigmoid, posWeight: [1, 1e39, 1] }, RangeError,
    /^createModel: posWeight\[1\] must be a finite number ≥ 0, got 1e\+39 \(beyond float32's range of ±3\.4028235e38: it would be Infinity\)$/],
  ['a positive weight that is not a number', { ...sigmoid, posWeight: [1, '2', 1] }, TypeError, /^createModel: posWeight\[1\] must be a number, got "2"$/],
  ['posWeight that is not an array', { ...sigmoid, posWeight: 2 }, TypeError, /^createModel: posWeight must be an array of n_y = 3 numbers \(a weight per output\), got 2$/],
  ['posWeight as a string', { ...sigmoid, posWeight: '123' }, TypeError, /^createModel: posWeight must be an array of n_y = 3 numbers \(a weight per output\), got "123"$/],
  ['posWeight on a softmax output', { ...base, posWeight: [1, 1, 1] }, TypeError,
    /^createModel: posWeight applies to output 'sigmoid' \(binary cross-entropy\) only, got output 'softmax'$/],
  ['posWeight on a linear output', { ...base, output: 'linear', posWeight: [1, 1, 1] }, TypeError,
    /^createModel: posWeight applies to output 'sigmoid' \(binary cross-entropy\) only, got output 'linear'$/],
  ['ignoreIndex as a string', { ...base, ignoreIndex: '-100' }, TypeError, new RegExp(`^createModel: ignoreIndex must be ${IGNORE}, got "-100"$`)],
  ['ignoreIndex not an integer', { ...base, ignoreIndex: 1.5 }, RangeError, new RegExp(`^createModel: ignoreIndex must be ${IGNORE}, got 1\\.5$`)],
  ['ignoreIndex NaN', { ...base, ignoreIndex: NaN }, RangeError, new RegExp(`^createModel: ignoreIndex must be ${IGNORE}, got NaN$`)],
  ['ignoreIndex −Infinity', { ...base, ignoreIndex: -Infinity }, RangeError, new RegExp(`^createModel: ignoreIndex must be ${IGNORE}, got -Infinity$`)],
  ['ignoreIndex 2^53', { ...base, ignoreIndex: 2 ** 53 }, RangeError, new RegExp(`^createModel: ignoreIndex must be ${IGNORE}, got 9007199254740992$`)],
  ['ignoreIndex on a sigmoid output', { ...sigmoid, ignoreIndex: -100 }, TypeError,
    /^createModel: ignoreIndex applies to output 'softmax' \(cross-entropy\) only, got output 'sigmoid'$/],
  ['a misspelt option', { ...sigmoid, posWieght: [1, 1, 1] }, TypeError, /posWeight/],
];
for (const [label, config, type, pattern] of badCases) {
  Bad(label, async () => {
    await rejectsWith(createModel(config as never), type, pattern);
  });
}

Bad('createRNN and every architecture check them the same way', async () => {
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 3, output: 'sigmoid', posWeight: [1] }), RangeError, /^createRNN: posWeight must hold n_y = 3 weights/);
  await rejectsWith(createModel({ architecture: 'one-to-one', n_x: 2, n_a: 2, n_y: 2, output: 'linear', ignoreIndex: 0 }), TypeError, /^createModel: ignoreIndex applies to output 'softmax'/);
  await rejectsWith(createModel({ architecture: 'one-to-many', n_a: 2, n_y: 4, output: 'sigmoid', posWeight: [1, 2, 3] }), RangeError, /^createModel: posWeight must hold n_y = 4 weights/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_y: 3, n_a: 2, ignoreIndex: 0.5 }), RangeError, /^createModel: ignoreIndex must be an integer/);
});

Bad('a target out of range names the ignoreIndex among the ids that skip', async () => {
  const m = await createRNN({ input: 'tokens', n_x: 3, n_a: 2, n_y: 3, ignoreIndex: PAD });
  throwsWith(() => m.forward({ x: [[0, 1]], y: [[0, -2]] }), RangeError,
    /^forward: y\[0\]\[1\] = -2 is out of range; class ids must be in \[0, n_y\) = \[0, 3\), or −1 or -100 \(the ignoreIndex\) to skip the step$/);
  const o = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 2, n_y: 3, ignoreIndex: PAD });
  throwsWith(() => o.forward({ x: [[[1, 2]]], y: [3] }), RangeError,
    /^forward: y\[0\] = 3 is out of range; class ids must be in \[0, n_y\) = \[0, 3\), or −1 or -100 \(the ignoreIndex\) to skip the example$/);
  // an ignoreIndex is a target's, never an input's: a one-to-many's first input of −100 is refused
  const g = await createModel({ architecture: 'one-to-many', n_a: 2, n_y: 3, ignoreIndex: PAD });
  throwsWith(() => g.forward({ x: [PAD], y: [[1]] }), RangeError, /^forward: x\[0\] = -100 is out of range; class ids must be in \[0, n_y\) = \[0, 3\)$/);
  m.dispose(); o.dispose(); g.dispose();
});

Bad.run();

// ---

const Kernels = suite('posWeight: its own kernel, only when set');

Kernels('a sigmoid model without posWeight runs head_loss_w as before; with it, head_loss_pw; ignoreIndex adds no kernel', async () => {
  const batch = { x: [[1, 2, 3]], y: [[[1, 0], [0.5, 1], [0, 0]]] };
  const plain = await createRNN({ input: 'tokens', output: 'sigmoid', n_x: 5, n_a: 4, n_y: 2, reduction: 'mean', seed: 3 });
  const calls = countCalls(plain, () => plain.computeGradients(batch));
  assert.ok(calls.head_loss_w === 1 && !calls.head_loss_pw, JSON.stringify(calls));
  const weighed = await createRNN({ input: 'tokens', output: 'sigmoid', n_x: 5, n_a: 4, n_y: 2, reduction: 'mean', posWeight: [2, 0.5], seed: 3 });
  const with_ = countCalls(weighed, () => weighed.computeGradients(batch));
  assert.ok(with_.head_loss_pw === 1 && !with_.head_loss_w, JSON.stringify(with_));
  // ŷ is the same sigmoid, bit for bit; the loss is another
  checkSame('yhat', weighed.forward(batch).yhat, plain.forward(batch).yhat);
  assert.ok(Math.abs(weighed.forward(batch).loss! - plain.forward(batch).loss!) > 1e-3);
  const ignoring = await createRNN({ input: 'tokens', n_x: 5, n_a: 4, n_y: 5, ignoreIndex: PAD, seed: 3 });
  const ic = countCalls(ignoring, () => ignoring.computeGradients({ x: [[1, 2]], y: [[PAD, 3]] }));
  assert.ok(ic.head_loss_w === 1 && !ic.head_loss_ls && !ic.head_loss_pw, JSON.stringify(ic));
  plain.dispose(); weighed.dispose(); ignoring.dispose();
});

Kernels('posWeight of all 1 gives the gradient of the plain loss, to the bit, and its loss to rounding', async () => {
  const batch = { x: [[1, 2, 3], [4]], y: [[[1, 0], [0.25, 1], [0, 0]], [[1, 1]]] };
  const plain = await createRNN({ input: 'tokens', output: 'sigmoid', n_x: 5, n_a: 4, n_y: 2, reduction: 'mean', seed: 4 });
  const ones = await createRNN({ input: 'tokens', output: 'sigmoid', n_x: 5, n_a: 4, n_y: 2, reduction: 'mean', posWeight: [1, 1], seed: 4 });
  const [a, b] = [plain.computeGradients(batch), ones.computeGradients(batch)];
  for (const e of plain.layout.entries) checkSame(e.name, b.grads[e.name], a.grads[e.name]);
  checkClose('loss', [b.loss], [a.loss], 1e-12);
  plain.dispose(); ones.dispose();
});

Kernels.run();

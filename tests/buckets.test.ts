// Length bucketing in fit(): batches of similar lengths (little padding), every example once
// per epoch, the batch order shuffled with the seed; deterministic, resumable bit for bit, and
// metrics and validation as without it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, Random } from '../dist/index.js';
import { bucketBatches } from '../dist/train/buckets.js';
import { checkSame, rejectsWith } from './_utils.js';

/** Sentences of natural lengths (a long tail: 2–60 tokens) tagged by a simple rule. */
function sentences(rng: Random, n: number, V = 12) {
  const x: number[][] = [], y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const T = Math.min(60, 2 + Math.floor(-8 * Math.log(1 - rng.uniform())));
    const s = Array.from({ length: T }, () => rng.int(V));
    x.push(s);
    y.push(s.map((id, t) => (t > 0 && s[t - 1] === id ? 1 : id % 2 === 0 ? 0 : 2)));
  }
  return { x, y };
}

const spec = { architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 12, n_a: 8, n_y: 3, reduction: 'mean' } as const;

/** The batches a fit runs, as the lengths of their examples (lossAndGradients is watched). */
function watch(model: object): number[][][] {
  const epochs: number[][][] = [[]];
  const m = model as { lossAndGradients: (where: string, batch: { x: unknown[] }) => number };
  const run = m.lossAndGradients.bind(model);
  m.lossAndGradients = (where, batch) => {
    epochs[epochs.length - 1].push(batch.x.map((s) => (s as unknown[]).length));
    return run(where, batch);
  };
  return epochs;
}

/** Padded steps a batch runs: B × its longest, less its real steps. */
const padding = (batches: number[][]) => batches.reduce((s, b) => s + b.length * Math.max(...b) - b.reduce((u, v) => u + v, 0), 0);

const Buckets = suite('fit: length bucketing');

Buckets('bucketBatches: every example once; sorted within pools; shuffled batch order from the seed; no shuffle runs shortest first', () => {
  const rng = new Random(1);
  const lengths = Array.from({ length: 1000 }, () => 1 + rng.int(50));
  const batches = bucketBatches(lengths, 16, 8, new Random(7));
  assert.is(batches.length, Math.ceil(1000 / 16));
  assert.equal(batches.flat().sort((a, b) => a - b), lengths.map((_, i) => i), 'each example exactly once');
  // batches of one pool are consecutive slices of the pool sorted by length: they do not overlap
  for (let p = 0; p < batches.length; p++) {
    const ls = batches[p].map((i) => lengths[i]);
    assert.ok(Math.max(...ls) - Math.min(...ls) <= 10, `batch ${p} spans lengths ${Math.min(...ls)}–${Math.max(...ls)}`);
  }
  assert.equal(bucketBatches(lengths, 16, 8, new Random(7)), batches, 'the same seed, the same batches');
  assert.not.equal(bucketBatches(lengths, 16, 8, new Random(8)), batches, 'another seed, other batches');
  const sorted = bucketBatches(lengths, 16, 8).flat().map((i) => lengths[i]);
  assert.equal(sorted, [...sorted].sort((a, b) => a - b), 'without shuffling: shortest first');
});

Buckets('fit with bucketByLength runs every example once per epoch with a fraction of the padding', async () => {
  const data = sentences(new Random(2), 400);
  const seen = async (bucketByLength: boolean) => {
    const model = await createModel({ ...spec, seed: 3 });
    const epochs = watch(model);
    await model.fit(data, { epochs: 1, batchSize: 16, bucketByLength, learningRate: 0.01 });
    model.dispose();
    return epochs[0];
  };
  const plain = await seen(false), bucketed = await seen(true);
  const total = data.x.reduce((s, x) => s + x.length, 0);
  assert.equal(bucketed.flat().sort((a, b) => a - b), data.x.map((s) => s.length).sort((a, b) => a - b), 'every example, once');
  assert.is(bucketed.length, plain.length, 'as many batches');
  assert.ok(padding(plain) > total, `without bucketing most steps are padding: ${padding(plain)} padded, ${total} real`);
  assert.ok(padding(bucketed) < total / 5 && padding(bucketed) < padding(plain) / 5,
    `bucketed: ${padding(bucketed)} padded steps for ${total} real ones (without bucketing ${padding(plain)})`);
});

Buckets('deterministic, resumable bit for bit mid-epoch, with metrics and validation; it learns', async () => {
  const data = sentences(new Random(4), 300), val = sentences(new Random(5), 60);
  const options = { epochs: 3, batchSize: 16, bucketByLength: true, poolSize: 4, learningRate: 0.02, metrics: ['accuracy'] as const, validationData: val };
  const whole = await createModel({ ...spec, seed: 6 });
  const r = await whole.fit(data, options);
  assert.ok(r.history[2].val!.accuracy! > 0.9, `validation accuracy ${r.history[2].val!.accuracy}`);
  assert.ok(r.history[2].metrics!.accuracy! > r.history[0].metrics!.accuracy!, 'training accuracy rises');
  const again = await createModel({ ...spec, seed: 6 });
  await again.fit(data, options);
  checkSame('the same seed, the same weights', again.getWeights(), whole.getWeights());
  // stopped in the middle of epoch 2, resumed in a new model from the checkpoint
  const stop = new AbortController();
  const first = await createModel({ ...spec, seed: 6 });
  const cut = await first.fit(data, { ...options, signal: stop.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 7) stop.abort(); } });
  assert.is(cut.stopReason, 'aborted');
  const second = await createModel({ ...spec, seed: 99 });
  second.setTrainingState(first.getTrainingState());
  await second.fit(data, { ...options, resume: true });
  checkSame('resumed', second.getWeights(), whole.getWeights());
  // a run cannot resume with another kind of batches
  await rejectsWith(first.fit(data, { ...options, bucketByLength: false, resume: true }), RangeError,
    /resume needs the data and batches of the run it continues: .*shuffle true, bucketed batches; got 300, 16, shuffle true$/);
  for (const m of [whole, again, first, second]) m.dispose();
});

Buckets('every architecture: encoder-decoder pairs bucket by source and target length; bad options are refused', async () => {
  const rng = new Random(7);
  const x = Array.from({ length: 64 }, () => Array.from({ length: 1 + rng.int(20) }, () => rng.int(5)));
  const y = x.map((s) => [...s].reverse());
  const model = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 5, n_a: 8, seed: 8 });
  const epochs = watch(model);
  await model.fit({ x, y }, { batchSize: 8, bucketByLength: true });
  assert.ok(padding(epochs[0]) < x.reduce((s, v) => s + v.length, 0) / 4, 'source padding is small');
  await rejectsWith(model.fit({ x, y }, { bucketByLength: 'yes' as any }), TypeError, /fit: bucketByLength must be true or false, got "yes"/);
  await rejectsWith(model.fit({ x, y }, { bucketByLength: true, poolSize: 0 }), RangeError, /fit: poolSize must be an integer ≥ 1, got 0/);
  model.dispose();
  const rnn = await createRNN({ n_x: 2, n_a: 2, n_y: 2, input: 'tokens', seed: 1 });
  await rejectsWith(rnn.fit({ x: [[0]], y: [[1]] }, { yields: 'examples' }), TypeError, /fit: yields says what a stream yields; this data is a data set \{ x, y \}/);
  rnn.dispose();
});

Buckets.run();

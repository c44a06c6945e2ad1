// fit's data checked before it trains: a bad example of an in-memory data set (or of its
// validation data) is named by its index in the caller's arrays, in the wording of the batch
// check, whatever the batch order, the path (tbptt, length buckets, workers) or the
// architecture, and the model — weights, optimizer, generator, fit position — is untouched.
// Streams are checked as they are read, and a bad item is named by its epoch and its place in
// the stream. A learning rate given twice is refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, Random } from '../dist/index.js';
import { checkSame, echo, rejectsWith, throwsWith } from './_utils.js';

/** The repro of the sweep: 8 examples of 3 steps over 4 tokens, y[6][1] = 7 with n_y = 4. */
function sweepData() {
  const x = Array.from({ length: 8 }, (_, i) => [i % 4, 1, 2]);
  const y = Array.from({ length: 8 }, () => [1, 2, 3]);
  y[6][1] = 7;
  return { x, y };
}

const lm = { n_x: 4, n_a: 8, n_y: 4, input: 'tokens' } as const;
const outOfRange = /^fit: y\[6\]\[1\] = 7 is out of range; class ids must be in \[0, n_y\) = \[0, 4\), or −1 to skip the step$/;

/** Everything a failed call must leave as it was: weights, optimizer state and step count,
 *  the generator, and where fit stands (the training state holds them all). */
function sameState(label: string, before: Uint8Array, after: Uint8Array): void {
  assert.ok(before.length === after.length && before.every((b, i) => b === after[i]), `${label}: the training state changed`);
}

// ---

const Ahead = suite('fit: in-memory data is checked before the first step');

Ahead('the sweep repro: the index is the data set\'s, shuffled or not, and nothing has trained', async () => {
  const m = await createRNN({ ...lm, seed: 1 });
  const data = sweepData();
  const state = m.getTrainingState();
  for (const shuffle of [false, true]) {
    await rejectsWith(m.fit(data, { epochs: 3, batchSize: 2, shuffle }), RangeError, outOfRange);
    sameState(`shuffle ${shuffle}`, state, m.getTrainingState());
  }
  m.dispose();
});

Ahead('tbptt, length buckets, workers and a validation split give the same error, and change nothing', async () => {
  const m = await createRNN({ ...lm, seed: 2 });
  // a model that has trained: a failed fit asking for another optimizer must not replace its own
  const good = { x: sweepData().x, y: sweepData().x.map((s) => s.map((t) => (t + 1) % 4)) };
  m.trainStep(good, { optimizer: 'adam' });
  await m.fit(good, { epochs: 1, batchSize: 4, signal: { aborted: false } });
  const state = m.getTrainingState();
  const data = sweepData();
  const paths = [
    { tbptt: 2 }, { bucketByLength: true }, { workers: 2 }, { validationSplit: 0.25 }, { optimizer: 'sgd' as const },
    { resume: true }, { earlyStopping: { patience: 1 } },
  ];
  for (const path of paths) {
    await rejectsWith(m.fit(data, { epochs: 3, batchSize: 2, ...path }), RangeError, outOfRange);
    sameState(JSON.stringify(path), state, m.getTrainingState());
  }
  m.dispose();
});

Ahead('validation data is checked too, under its own name', async () => {
  const m = await createRNN({ ...lm, seed: 3 });
  const data = sweepData();
  const state = m.getTrainingState();
  const train = { x: data.x.slice(0, 4), y: data.y.slice(0, 4) };
  await rejectsWith(m.fit(train, { validationData: data, epochs: 2 }), RangeError,
    /^fit: validationData\.y\[6\]\[1\] = 7 is out of range; class ids must be in \[0, n_y\) = \[0, 4\)/);
  sameState('validationData', state, m.getTrainingState());
  // evaluate names the data set's index too
  throwsWith(() => m.evaluate(data, { batchSize: 4 }), RangeError, /^evaluate: y\[6\]\[1\] = 7 is out of range/);
  m.dispose();
});

Ahead('the first bad example is the one named, in any chunk of a large data set, dense or tokens', async () => {
  const m = await createRNN({ ...lm, n_x: 8, seed: 4 });
  const data = echo(new Random(4), 3000, 16, 4, 1);
  data.x[2999][3] = 9;                               // later, and in another chunk
  data.x[2504][0] = 8;                               // an input out of range, after…
  data.y[2501][5] = 4;                               // …the first bad example
  const state = m.getTrainingState();
  await rejectsWith(m.fit(data, { batchSize: 32 }), RangeError, /^fit: y\[2501\]\[5\] = 4 is out of range; class ids must be in \[0, n_y\) = \[0, 4\)/);
  sameState('tokens', state, m.getTrainingState());
  const dense = await createRNN({ n_x: 2, n_a: 4, n_y: 1, output: 'linear', seed: 4 });
  const x = Array.from({ length: 3000 }, (_, i) => Array.from({ length: 12 }, (_, t) => [i / 3000, t / 12]));
  const y = x.map((s) => s.map((r) => [r[0] - r[1]]));
  x[1777][3] = [0.5, NaN];
  y[2900][0] = [Infinity];
  await rejectsWith(dense.fit({ x, y }), RangeError, /^fit: x\[1777\] step 3 feature 1 is NaN; inputs must be finite$/);
  x[1777][3] = [0.5, 0.5];
  await rejectsWith(dense.fit({ x, y }), RangeError, /^fit: y\[2900\] step 0 value 0 is Infinity; targets must be finite$/);
  y[2900][0] = [0];
  // ragged: a sequence without a target per step, named as the batch check names it
  y[42] = y[42].slice(1);
  await rejectsWith(dense.fit({ x, y }), RangeError, /^fit: y\[42\] has 11 steps, but x\[42\] has 12 steps; give one target per input step$/);
  m.dispose(); dense.dispose();
});

Ahead('every architecture: the bad example is named by its index and the model is untouched', async () => {
  const rng = new Random(5);
  const seqs = (n: number, T: number, V: number) => Array.from({ length: n }, () => Array.from({ length: T }, () => rng.int(V)));
  const cases = [
    { config: { architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a: 4, n_y: 3 }, x: seqs(9, 4, 5), y: [0, 1, 2, 0, 1, 2, 9, 0, 1],
      error: /^fit: y\[6\] = 9 is out of range; class ids must be in \[0, n_y\) = \[0, 3\), or −1 to skip the example$/ },
    { config: { architecture: 'one-to-one', n_x: 2, n_a: 4, n_y: 3 }, x: Array.from({ length: 9 }, (_, i) => (i === 6 ? [1] : [1, 2])), y: Array(9).fill(1),
      error: /^fit: x\[6\] has 1 value, the model expects n_x = 2/ },
    { config: { architecture: 'one-to-many', n_y: 4, n_a: 4, startToken: 0 }, x: Array(9).fill(0), y: seqs(9, 3, 4).map((s, i) => (i === 6 ? [1, 5] : s)),
      error: /^fit: y\[6\]\[1\] = 5 is out of range; class ids must be in \[0, n_y\) = \[0, 4\), or −1 to skip the last steps \(padding\)$/ },
    { config: { architecture: 'encoder-decoder', input: 'tokens', n_x: 6, n_y: 4, n_a: 4, attention: 'dot' }, x: seqs(9, 5, 6).map((s, i) => (i === 6 ? [1, -1] : s)),
      y: seqs(9, 3, 4), error: /^fit: x\[6\]\[1\] = -1 is out of range; token ids must be in \[0, n_x\) = \[0, 6\)$/ },
    { config: { architecture: 'many-to-many', input: 'tokens', n_x: 6, n_a: 4, n_y: 3, embedding: { size: 3 } }, x: seqs(9, 4, 6),
      y: seqs(9, 4, 3).map((s, i) => (i === 6 ? [0, 1, 2] : s)), error: /^fit: y\[6\] has 3 class ids, but x\[6\] has 4 steps; give one target per input step$/ },
  ];
  for (const c of cases) {
    const m = await createModel({ ...c.config, seed: 5 } as any);
    const state = m.getTrainingState();
    for (const options of [{ batchSize: 2 }, { batchSize: 4, bucketByLength: true }]) {
      await rejectsWith((m as any).fit({ x: c.x, y: c.y }, { epochs: 2, ...options }), RangeError, c.error);
      sameState(c.config.architecture, state, m.getTrainingState());
    }
    m.dispose();
  }
});

Ahead('a long check goes back to the event loop, and the model counts as in a fit meanwhile', async () => {
  const m = await createRNN({ ...lm, seed: 6 });
  const data = echo(new Random(6), 4000, 16, 4, 1);
  data.y[3999][0] = 5;
  let ran = false, refused = '';
  setTimeout(() => {
    ran = true;
    try { m.trainStep({ x: data.x.slice(0, 2), y: data.y.slice(0, 2) }); } catch (e) { refused = (e as Error).message; }
  }, 0);
  await rejectsWith(m.fit(data, { yieldEveryMs: 0 }), RangeError, /^fit: y\[3999\]\[0\] = 5 is out of range/);
  assert.ok(ran, 'a timer ran during the check');
  assert.match(refused, /^trainStep: a fit\(\) is running on this model/);
  m.dispose();
});

Ahead.run();

// ---

const Streams = suite('fit: streams are checked as they are read');

const batchesOf = (data: { x: number[][]; y: number[][] }, size: number) =>
  Array.from({ length: Math.ceil(data.x.length / size) }, (_, b) => ({ x: data.x.slice(b * size, (b + 1) * size), y: data.y.slice(b * size, (b + 1) * size) }));

Streams('a bad batch names the epoch, the batch in the stream and the example in the batch; earlier epochs have trained', async () => {
  const good = echo(new Random(7), 8, 3, 4, 1);
  const bad = { x: good.x, y: good.y.map((s, i) => (i === 5 ? [1, 7, 3] : s)) };
  let pass = 0;
  const stream = () => batchesOf(pass++ === 0 ? good : bad, 2);     // the second epoch reads y[5] = [1, 7, 3]
  for (const workers of [0, 2]) {
    const m = await createRNN({ ...lm, seed: 7 });
    const w = m.getWeights();
    pass = 0;
    await rejectsWith(m.fit(stream, { epochs: 2, shuffle: false, workers }), RangeError,
      /^fit: epoch 2 of 2, batch 3 of the data stream: its y\[1\]\[1\] = 7 is out of range; class ids must be in \[0, n_y\) = \[0, 4\), or −1 to skip the step \(streamed data is checked as it is read, so earlier batches may have trained the model\)$/);
    assert.ok(m.getWeights().some((v, i) => v !== w[i]), 'the first epoch trained');
    m.dispose();
  }
});

Streams('a stream of examples names the example; a validation stream names its batch and the epoch it follows', async () => {
  const m = await createRNN({ ...lm, seed: 8 });
  const data = echo(new Random(8), 8, 3, 4, 1);
  data.y[6] = [1, 2];
  const examples = () => data.x.map((x, i) => ({ x, y: data.y[i] }));
  await rejectsWith(m.fit(examples, { yields: 'examples', batchSize: 2 }), RangeError,
    /^fit: epoch 1 of 1, example 7 of the data stream: its y has 2 class ids, but x has 3 steps; give one target per input step \(streamed data is checked as it is read/);
  const train = { x: data.x.slice(0, 4), y: data.y.slice(0, 4) };
  await rejectsWith(m.fit(train, { validationData: batchesOf(data, 4), epochs: 2 }), RangeError,
    /^fit: after epoch 1 of 2, batch 2 of the validation data stream: its y\[2\] has 2 class ids, but x\[2\] has 3 steps/);
  m.dispose();
});

Streams.run();

// ---

const Rate = suite('the learning rate is given in one place');

Rate('optimizer.learningRate and learningRate together are refused by trainStep and fit; either alone is the same rate', async () => {
  const data = echo(new Random(9), 8, 3, 4, 1);
  const m = await createRNN({ ...lm, seed: 9 });
  const state = m.getTrainingState();
  const twice = { optimizer: { type: 'sgd', learningRate: 0.01 }, learningRate: 0.5 } as const;
  const message = /^(trainStep|fit): the learning rate is given twice, as optimizer\.learningRate = 0\.01 and as learningRate = 0\.5; give it in one place$/;
  throwsWith(() => m.trainStep(data, twice), TypeError, message);
  await rejectsWith(m.fit(data, twice), TypeError, message);
  sameState('refused', state, m.getTrainingState());
  // the same rate, given either way, takes the same step
  const a = await createRNN({ ...lm, seed: 9 }), b = await createRNN({ ...lm, seed: 9 });
  assert.is(a.trainStep(data, { optimizer: { type: 'sgd', learningRate: 0.5 } }).learningRate, 0.5);
  assert.is(b.trainStep(data, { optimizer: { type: 'sgd' }, learningRate: 0.5 }).learningRate, 0.5);
  checkSame('weights', a.getWeights(), b.getWeights());
  m.dispose(); a.dispose(); b.dispose();
});

Rate.run();

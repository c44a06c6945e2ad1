// fit({ stepsPerEpoch: N }): epochs of N batches over passes of the data that follow on from one
// another (a stream read on, then afresh when it ends; a data set reshuffled each pass), with
// validation, metrics, early stopping, callbacks, progress, the guard and workers per epoch of N
// batches; a run stopped at any batch resumes bit for bit; bad options and streams that cannot
// be read again are refused with errors that say so.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, decodeSafetensors, encodeSafetensors, Random } from '../dist/index.js';
import { checkSame, checkSameState, echo, rejectsWith, throwsWith, unsealed, type AbortPoint } from './_utils.js';

const tokens = { n_x: 6, n_a: 10, n_y: 6, input: 'tokens', reduction: 'mean' } as const;
// dropout draws from the generator that also seeds each pass's order: an extra or missing draw shows
const deep = { cell: 'gru', ...tokens, layers: 2, dropout: 0.25 } as const;

type Data = { x: number[][]; y: number[][] };

/** A data set cut into batches of `size`, in order. */
function batchesOf<D extends { x: unknown[]; y: unknown[] }>(data: D, size: number): D[] {
  const out: D[] = [];
  for (let i = 0; i < data.x.length; i += size) out.push({ ...data, x: data.x.slice(i, i + size), y: data.y.slice(i, i + size) });
  return out;
}

/** A stream of the data set's examples from an async generator, and how many times it was read. */
function examplesOf(data: Data) {
  const reads = { passes: 0 };
  async function* stream() {
    reads.passes++;
    for (let i = 0; i < data.x.length; i++) {
      await Promise.resolve();
      yield { x: data.x[i], y: data.y[i] };
    }
  }
  return { stream, reads };
}

const Epochs = suite('stepsPerEpoch: epochs of N batches');

Epochs('over a stream of batches: each epoch goes on where the last stopped, a new pass starts when the stream ends, progress knows N', async () => {
  const data = echo(new Random(1), 56, 8, 6, 1);
  const batches = batchesOf(data, 8);                           // 7 batches a pass
  const options = { shuffle: false, learningRate: 0.02, optimizer: 'adam' } as const;
  // 5 epochs of 3 batches: batches 0..6, 0..6, 0 of the data, as one pass of those 15 batches
  const flat = await createRNN({ ...tokens, seed: 2 });
  await flat.fit([...batches, ...batches, batches[0]], { ...options, epochs: 1 });
  const m = await createRNN({ ...tokens, seed: 2 });
  let calls = 0;
  const seen: [number, number, number, number][] = [];
  const ends: number[] = [];
  const r = await m.fit(() => { calls++; return batches; }, {
    ...options, epochs: 5, stepsPerEpoch: 3,
    onProgress: (p) => { seen.push([p.epoch, p.batch, p.batches, p.pass]); },
    onEpochEnd: (logs) => { ends.push(logs.epoch); },
  });
  checkSame('weights', m.getWeights(), flat.getWeights());
  assert.is(calls, 3, 'the stream function is called once per pass');
  assert.equal(ends, [0, 1, 2, 3, 4]);
  assert.equal(seen, Array.from({ length: 15 }, (_, i) => [Math.floor(i / 3), i % 3, 3, Math.floor(i / 7)]), 'epoch, batch, batches, pass');
  assert.is(r.history.length, 5);
  assert.is(r.steps, 15);
  m.dispose(); flat.dispose();
});

Epochs('shuffled pools that straddle epochs and passes are neither redrawn nor skipped: E epochs of N batches train as k whole passes', async () => {
  // 13 examples in batches of 2: 7 batches a pass (the last of one example), pools of 2
  // batches; 7 epochs of 3 batches are 3 passes, epoch and pool boundaries crossing everywhere
  const data = echo(new Random(3), 13, 6, 6, 1);
  const options = { yields: 'examples', batchSize: 2, poolSize: 2, learningRate: 0.02, bucketByLength: true } as const;
  const whole = await createModel({ architecture: 'many-to-many', ...deep, seed: 4 });
  const w = examplesOf(data);
  await whole.fit(w.stream, { ...options, epochs: 3 });
  const m = await createModel({ architecture: 'many-to-many', ...deep, seed: 4 });
  const s = examplesOf(data);
  const r = await m.fit(s.stream, { ...options, epochs: 7, stepsPerEpoch: 3 });
  checkSame('weights', m.getWeights(), whole.getWeights());
  assert.is(s.reads.passes, 3, 'each item is read once a pass');
  assert.is(r.steps, 21);
  // an in-memory data set, reshuffled or bucketed each pass, the same way
  for (const bucketByLength of [false, true]) {
    const set = { batchSize: 2, learningRate: 0.02, bucketByLength, poolSize: 2 };
    const a = await createRNN({ ...deep, seed: 5 });
    await a.fit(data, { ...set, epochs: 3 });
    const b = await createRNN({ ...deep, seed: 5 });
    const seen: number[] = [];
    await b.fit(data, { ...set, epochs: 7, stepsPerEpoch: 3, onProgress: (p) => { seen.push(p.batches); } });
    checkSame(`data set, bucketByLength ${bucketByLength}`, b.getWeights(), a.getWeights());
    assert.ok(seen.length === 21 && seen.every((n) => n === 3));
    a.dispose(); b.dispose();
  }
  m.dispose(); whole.dispose();
});

Epochs('the pass the last epoch ended inside is closed when fit ends, so a stream\'s clean-up runs (a file reader closes its file)', async () => {
  const data = echo(new Random(25), 40, 6, 6, 1);
  const counts = { opened: 0, closed: 0 };
  function* tracked() {
    counts.opened++;
    try {
      yield* batchesOf(data, 8);                                // 5 batches
    } finally {
      counts.closed++;
    }
  }
  const m = await createRNN({ ...tokens, seed: 26 });
  await m.fit(tracked, { epochs: 4, stepsPerEpoch: 3, poolSize: 1 });   // 12 batches: 2 passes and 2 batches of a third
  assert.equal(counts, { opened: 3, closed: 3 });
  m.dispose();
});

Epochs('a stream that never ends: validation, metrics, onEpochEnd and early stopping every N batches', async () => {
  const val = echo(new Random(6), 24, 8, 6, 1);
  const rng = new Random(7);
  function* forever() {
    for (;;) yield echo(rng, 8, 8, 6, 1);
  }
  const m = await createRNN({ ...tokens, seed: 8 });
  const stream = forever();                                     // a generator object: read once, never ends
  const r = await m.fit(stream, {
    epochs: 60, stepsPerEpoch: 10, learningRate: 0.03, metrics: ['accuracy'], validationData: batchesOf(val, 8),
    earlyStopping: { patience: 2, minDelta: 0.01, monitor: 'val_loss' },
  });
  assert.is(r.stopReason, 'early-stopping');
  assert.ok(r.history.length >= 3 && r.history.length < 60, `${r.history.length} epochs`);
  assert.is(r.steps, 10 * r.history.length);
  for (const h of r.history) assert.ok(h.val!.accuracy! >= 0 && h.metrics!.accuracy! >= 0 && Number.isFinite(h.loss));
  assert.ok(r.history.at(-1)!.val!.accuracy! > r.history[0].val!.accuracy!, 'it learns');
  m.dispose();
});

Epochs('a generator object is read once: fine while epochs × N fit in it, refused when an epoch needs a second pass', async () => {
  const data = echo(new Random(9), 40, 6, 6, 1);
  const m = await createRNN({ ...tokens, seed: 10 });
  function* once() { yield* batchesOf(data, 8); }             // 5 batches
  const r = await m.fit(once(), { epochs: 2, stepsPerEpoch: 2 });
  assert.is(r.steps, 4);
  await rejectsWith(m.fit(once(), { epochs: 3, stepsPerEpoch: 2 }), RangeError,
    /^fit: epoch 3 of 3, pass 2 needs another pass over the data stream, but read again it yielded nothing; a generator object can be read only once, so give fit a function that returns a new one \(or an iterable that starts over\), or a stream that does not end$/);
  // an empty stream is still an empty stream
  await rejectsWith(m.fit([], { stepsPerEpoch: 2 }), RangeError, /^fit: the data stream yielded nothing this epoch; a generator object can be read only once/);
  m.dispose();
});

Epochs('errors name the epoch of N batches, and a streamed item its pass', async () => {
  const data = echo(new Random(11), 24, 6, 6, 1);
  const m = await createRNN({ ...tokens, seed: 12 });
  let pass = 0;
  const stream = () => { pass++; return pass === 1 ? batchesOf(data, 8) : [...batchesOf(data, 8), { x: [[1, 9]], y: [[1, 2]] }]; };
  await rejectsWith(m.fit(stream, { epochs: 4, stepsPerEpoch: 2 }), RangeError,
    /^fit: epoch 2 of 4, pass 2, batch 4 of the data stream: its x\[0\]\[1\] = 9 is out of range/);
  m.dispose();
  // the non-finite guard: a ReLU cell overflowed by the 3rd batch of the 2nd pass (of 4 batches)
  const rng = new Random(9);
  const x = Array.from({ length: 8 }, () => Array.from({ length: 4 }, () => [rng.uniform(), rng.uniform()]));
  const y = x.map((s) => s.map((r) => [r[0] + r[1]]));
  const poisoned = x.map((s, i) => (i === 5 ? s.map((r, t) => (t === 2 ? [3e38, 3e38] : r)) : s));
  let reads = 0;
  const passes = () => batchesOf({ x: reads++ === 0 ? x : poisoned, y }, 2);
  const relu = await createRNN({ n_x: 2, n_a: 4, n_y: 1, output: 'linear', activation: 'relu', seed: 9 });
  relu.setParam('W_ax', new Float32Array(8).fill(10));
  const r = await relu.fit(passes as never, { epochs: 5, stepsPerEpoch: 3, shuffle: false, optimizer: 'sgd', learningRate: 1e-4, onNonFinite: 'stop' });
  assert.equal([r.stopReason, r.steps, r.history.length], ['non-finite', 6, 2]);
  assert.match(r.message!, /at optimizer step 7 \(epoch 3 of 5, batch 1 of 3\)/);
  relu.dispose();
});

Epochs('stepsPerEpoch is checked: a whole number of batches ≥ 1', async () => {
  const data = echo(new Random(13), 8, 6, 6, 1);
  const m = await createRNN({ ...tokens, seed: 14 });
  const before = m.getWeights();
  await rejectsWith(m.fit(data, { stepsPerEpoch: 0 }), RangeError, /^fit: stepsPerEpoch must be an integer in \[1, 9007199254740991\], got 0$/);
  await rejectsWith(m.fit(data, { stepsPerEpoch: 2.5 }), RangeError, /^fit: stepsPerEpoch must be an integer in \[1, 9007199254740991\], got 2\.5$/);
  await rejectsWith(m.fit(data, { stepsPerEpoch: Infinity }), RangeError, /^fit: stepsPerEpoch must be an integer in \[1, 9007199254740991\], got Infinity$/);
  await rejectsWith(m.fit([data], { stepsPerEpoch: '3' as any }), TypeError, /^fit: stepsPerEpoch must be an integer in \[1, 9007199254740991\], got "3"$/);
  await rejectsWith(m.fit(data, { steps_per_epoch: 3 } as any), TypeError, /^fit: options has no field "steps_per_epoch"; did you mean stepsPerEpoch\?$/);
  checkSame('weights untouched', m.getWeights(), before);
  m.dispose();
});

Epochs.run();

// ---

const Resume = suite('stepsPerEpoch: resume');

Resume('an abort at every batch position resumes bit for bit: inside an epoch, at its end, at a pass boundary inside it, pools across epochs', async () => {
  // 13 examples in batches of 2: 7 batches a pass (the last one short), pools of 2 batches.
  // 8 epochs of 3 batches: passes end inside epochs 2, 4 and at the end of epoch 7 (with epoch 8
  // still to come), and pools straddle epochs
  const data = echo(new Random(15), 13, 6, 6, 1);
  const epochs = 8, N = 3;
  const points: AbortPoint[] = [{ at: 'start' }];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let batch = 0; batch < N; batch++) points.push({ at: 'batch', epoch, batch });
    points.push({ at: 'epochEnd', epoch });
  }
  const kinds = [
    { label: 'a stream of examples, shuffled', data: () => examplesOf(data).stream, options: { yields: 'examples', poolSize: 2, shuffle: true } },
    { label: 'a stream of examples, in order', data: () => examplesOf(data).stream, options: { yields: 'examples', poolSize: 2, shuffle: false } },
    { label: 'a data set, reshuffled each pass', data: () => data, options: { shuffle: true } },
  ] as const;
  for (const kind of kinds) {
    const fitOptions = { ...kind.options, epochs, stepsPerEpoch: N, batchSize: 2, learningRate: 0.02, optimizer: 'adam', metrics: ['accuracy'] } as const;
    const whole = await createRNN({ ...deep, seed: 20 });
    await whole.fit(kind.data() as never, fitOptions);
    const expected = whole.getTrainingState();
    whole.dispose();
    for (const point of points) {
      const label = `${kind.label}, abort ${JSON.stringify(point)}`;
      const first = await createRNN({ ...deep, seed: 20 });
      const controller = new AbortController();
      if (point.at === 'start') controller.abort();
      const part = await first.fit(kind.data() as never, {
        ...fitOptions, signal: controller.signal,
        onProgress: (p) => { if (point.at === 'batch' && p.epoch === point.epoch && p.batch === point.batch) controller.abort(); },
        onEpochEnd: (logs) => { if (point.at === 'epochEnd' && logs.epoch === point.epoch) controller.abort(); },
      });
      const last = point.at !== 'start' && point.epoch === epochs - 1 && (point.at === 'epochEnd' || point.batch === N - 1);
      assert.is(part.stopReason, last ? undefined : 'aborted', `${label}: stop reason`);
      const bytes = first.getTrainingState();
      first.dispose();
      const second = await createRNN({ ...deep, seed: 21 });
      second.setTrainingState(bytes);
      await second.fit(kind.data() as never, { ...fitOptions, resume: true });
      checkSameState(label, second.getTrainingState(), expected);
      second.dispose();
    }
  }
});

Resume('a finished run trained further with resume and a larger epochs goes on in the pass it ended inside', async () => {
  const data = echo(new Random(27), 13, 6, 6, 1);
  const options = { yields: 'examples', batchSize: 2, poolSize: 2, stepsPerEpoch: 3, learningRate: 0.02 } as const;
  const whole = await createRNN({ ...deep, seed: 28 });
  await whole.fit(examplesOf(data).stream, { ...options, epochs: 5 });
  const m = await createRNN({ ...deep, seed: 28 });
  await m.fit(examplesOf(data).stream, { ...options, epochs: 2 });     // ends inside the first pass
  const r = await m.fit(examplesOf(data).stream, { ...options, epochs: 5, resume: true });
  assert.equal(r.history.map((h) => h.epoch), [2, 3, 4]);
  checkSame('weights', m.getWeights(), whole.getWeights());
  whole.dispose(); m.dispose();
});

Resume('resume needs the same stepsPerEpoch; a checkpoint written without it resumes as before', async () => {
  const data = echo(new Random(16), 20, 6, 6, 1);
  const m = await createRNN({ ...tokens, seed: 17 });
  const controller = new AbortController();
  await m.fit(data, { batchSize: 4, stepsPerEpoch: 3, epochs: 2, signal: controller.signal, onProgress: () => controller.abort() });
  await rejectsWith(m.fit(data, { batchSize: 4, stepsPerEpoch: 2, epochs: 2, resume: true }), RangeError,
    /^fit: resume needs the data and batches of the run it continues: it had 20 training examples in batches of 4, shuffle true, stepsPerEpoch 3; got 20, 4, shuffle true, stepsPerEpoch 2$/);
  await rejectsWith(m.fit(data, { batchSize: 4, epochs: 2, resume: true }), RangeError, /it had 20 training examples in batches of 4, shuffle true, stepsPerEpoch 3; got 20, 4, shuffle true$/);
  // a position written without stepsPerEpoch (as by earlier versions) has no pass fields
  const plain = await createRNN({ ...tokens, seed: 17 });
  const c2 = new AbortController();
  await plain.fit(data, { batchSize: 4, epochs: 2, signal: c2.signal, onProgress: (p) => { if (p.batch === 2) c2.abort(); } });
  const fit = JSON.parse(decodeSafetensors(plain.getTrainingState()).metadata.training).fit;
  assert.equal(['stepsPerEpoch', 'pass', 'passBatch'].filter((k) => k in fit), [], 'no new fields without stepsPerEpoch');
  await rejectsWith(plain.fit(data, { batchSize: 4, epochs: 2, stepsPerEpoch: 5, resume: true }), RangeError, /it had 20 training examples in batches of 4, shuffle true; got 20, 4, shuffle true, stepsPerEpoch 5$/);
  m.dispose(); plain.dispose();
});

Resume('over workers: a stream stopped inside an epoch of N batches resumes bit for bit', async () => {
  const data = echo(new Random(18), 30, 6, 6, 1);
  const options = { yields: 'examples', batchSize: 6, poolSize: 2, epochs: 3, stepsPerEpoch: 4, learningRate: 0.02, workers: 2 } as const;
  const whole = await createRNN({ ...deep, seed: 22 });
  await whole.fit(examplesOf(data).stream, options);
  const first = await createRNN({ ...deep, seed: 22 });
  const controller = new AbortController();
  await first.fit(examplesOf(data).stream, { ...options, signal: controller.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 1) controller.abort(); } });
  const second = await createRNN({ ...deep, seed: 23 });
  second.setTrainingState(first.getTrainingState());
  await second.fit(examplesOf(data).stream, { ...options, resume: true });
  checkSame('weights', second.getWeights(), whole.getWeights());
  whole.dispose(); first.dispose(); second.dispose();
});

Resume('a checkpoint\'s pass fields are checked when it is read', async () => {
  const data = echo(new Random(19), 20, 6, 6, 1);
  const m = await createRNN({ ...tokens, seed: 24 });
  const controller = new AbortController();
  await m.fit(data, { batchSize: 4, stepsPerEpoch: 3, signal: controller.signal, onProgress: () => controller.abort() });
  const good = m.getTrainingState();
  const edited = (change: (fit: Record<string, unknown>) => void) => {
    const file = decodeSafetensors(good);
    const training = JSON.parse(file.metadata.training);
    change(training.fit);
    const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    return encodeSafetensors(tensors, { ...unsealed(file.metadata), training: JSON.stringify(training) });
  };
  throwsWith(() => m.setTrainingState(edited((f) => { f.passBatch = 6; })), RangeError, /^setTrainingState: training\.fit\.passBatch 6 is past the last batch of a pass \(5 batches\)$/);
  throwsWith(() => m.setTrainingState(edited((f) => { f.batch = 4; })), RangeError, /^setTrainingState: training\.fit\.batch 4 is past the last batch of an epoch of stepsPerEpoch = 3 batches$/);
  throwsWith(() => m.setTrainingState(edited((f) => { delete f.pass; })), TypeError, /^setTrainingState: training\.fit\.pass must be a whole number ≥ 0, got undefined$/);
  throwsWith(() => m.setTrainingState(edited((f) => { f.stepsPerEpoch = 0; })), RangeError, /stepsPerEpoch = 0/);
  m.setTrainingState(good);
  m.dispose();
});

Resume.run();

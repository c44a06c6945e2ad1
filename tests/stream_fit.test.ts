// fit() over streams: iterables and async iterables of batches or of examples, re-read every
// epoch; validation, metrics, progress, abort, early stopping and resume (re-read and skip)
// work as with a data set in memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, Random } from '../dist/index.js';
import { checkSame, echo, rejectsWith } from './_utils.js';

const tokens = { n_x: 6, n_a: 12, n_y: 6, input: 'tokens', reduction: 'mean' } as const;

/** A data set cut into batches of 8, in order. */
function batchesOf(data: { x: number[][]; y: number[][] }, size = 8) {
  const out: { x: number[][]; y: number[][] }[] = [];
  for (let i = 0; i < data.x.length; i += size) out.push({ x: data.x.slice(i, i + size), y: data.y.slice(i, i + size) });
  return out;
}

/** The examples of a data set, one at a time, from an async generator (as a file reader gives them). */
function examplesOf(data: { x: number[][]; y: number[][] }) {
  return async function* () {
    for (let i = 0; i < data.x.length; i++) {
      await Promise.resolve();
      yield { x: data.x[i], y: data.y[i] };
    }
  };
}

const Stream = suite('fit over streams');

Stream('a stream of batches, unshuffled, trains exactly as the same batches from a data set', async () => {
  const data = echo(new Random(1), 48, 10, 6, 2);
  const fromSet = await createRNN({ ...tokens, seed: 2 });
  await fromSet.fit(data, { epochs: 3, batchSize: 8, shuffle: false, learningRate: 0.02 });
  const fromStream = await createRNN({ ...tokens, seed: 2 });
  const seen: number[] = [];
  const r = await fromStream.fit(batchesOf(data), { epochs: 3, shuffle: false, learningRate: 0.02, onProgress: (p) => { seen.push(p.batches); } });
  checkSame('weights', fromStream.getWeights(), fromSet.getWeights());
  assert.is(r.history.length, 3);
  assert.is(seen.length, 18);
  assert.ok(seen.every((n) => n === Infinity), 'a stream has no known number of batches');
  fromSet.dispose(); fromStream.dispose();
});

Stream('an async generator of examples: batched, shuffled pool by pool, with validation from a stream, metrics and early stopping', async () => {
  const data = echo(new Random(3), 200, 10, 6, 1), val = echo(new Random(4), 40, 10, 6, 1);
  const model = await createRNN({ ...tokens, seed: 5 });
  const r = await model.fit(examplesOf(data), {
    yields: 'examples', batchSize: 10, poolSize: 4, epochs: 30, learningRate: 0.03, metrics: ['accuracy'],
    validationData: batchesOf(val), earlyStopping: { patience: 2, monitor: 'val_accuracy', minDelta: 0.001 },
  });
  assert.ok(r.history.length >= 2, 'epochs ran');
  const best = Math.max(...r.history.map((h) => h.val!.accuracy!));
  assert.ok(best > 0.9, `validation accuracy ${best}`);
  assert.ok(r.history.at(-1)!.metrics!.accuracy! > 0.5, 'training metrics from the stream');
  assert.is(r.stopReason, 'early-stopping');
  // the same as evaluating the validation set in memory
  const direct = model.evaluate(val, { batchSize: 8, metrics: ['accuracy'] });
  assert.ok(Math.abs(direct.accuracy! - model.evaluate(val, { batchSize: 13, metrics: ['accuracy'] }).accuracy!) < 1e-12);
  model.dispose();
});

Stream('abort in the middle of an epoch, resume in a new model: the stream is re-read and the batches done are skipped, bit for bit', async () => {
  const data = echo(new Random(6), 120, 8, 6, 1);
  const options = { yields: 'examples', batchSize: 8, poolSize: 3, epochs: 3, learningRate: 0.02, bucketByLength: true } as const;
  const make = () => createModel({ architecture: 'many-to-many', ...tokens, layers: 2, dropout: 0.3, seed: 7 });
  const whole = await make();
  await whole.fit(examplesOf(data), options);
  const first = await make();
  const stop = new AbortController();
  const cut = await first.fit(examplesOf(data), { ...options, signal: stop.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 6) stop.abort(); } });
  assert.is(cut.stopReason, 'aborted');
  const second = await createModel({ architecture: 'many-to-many', ...tokens, layers: 2, dropout: 0.3, seed: 1 });
  second.setTrainingState(first.getTrainingState());
  const read: number[] = [];
  await second.fit(examplesOf(data), { ...options, resume: true, onProgress: (p) => { read.push(p.epoch); } });
  checkSame('resumed through a checkpoint', second.getWeights(), whole.getWeights());
  assert.is(read.filter((e) => e === 1).length, 15 - 7, 'epoch 2 continues after its 7th batch');
  await rejectsWith(second.fit(data, { ...options, yields: undefined, resume: true }), RangeError, /resume needs the data and batches of the run it continues/);
  for (const m of [whole, first, second]) m.dispose();
});

Stream('a generator object can be read once: the second epoch says so; bad streams and options are refused', async () => {
  const data = echo(new Random(8), 16, 6, 6, 1);
  const model = await createRNN({ ...tokens, seed: 9 });
  function* once() { yield* batchesOf(data); }
  await rejectsWith(model.fit(once(), { epochs: 2 }), RangeError, /fit: the data stream yielded nothing this epoch; a generator object can be read only once, so give fit a function that returns a new one/);
  await rejectsWith(model.fit([{ x: [[1, 2]] }] as any), TypeError, /fit: item 0 of the data stream must be a batch \{ x: inputs\[\], y: targets\[\] \}, got object/);
  await rejectsWith(model.fit([{ x: 5, y: 3 }] as any), TypeError, /fit: item 0 of the data stream must be a batch .*; its x or y is not an array \(a stream of single examples needs yields: 'examples'\)/);
  await rejectsWith(model.fit([{ x: [1, 2], y: [2, 3] }]), TypeError, /^fit: epoch 1 of 1, batch 1 of the data stream: its x\[0\] must be a sequence \(array or typed array\), got 1 \(wrap a single sequence s as \[s\]\)/);
  await rejectsWith(model.fit([{ x: [[1]], y: [] }]), RangeError, /item 0 of the data stream must hold at least one example and one target per input, got 1 inputs and 0 targets/);
  await rejectsWith(model.fit(() => 42 as any), TypeError, /fit: the data function must return an iterable or async iterable, got 42/);
  await rejectsWith(model.fit(batchesOf(data), { validationSplit: 0.2 }), TypeError, /fit: validationSplit needs a data set to split; with a stream, give validationData/);
  await rejectsWith(model.fit(batchesOf(data), { bucketByLength: true }), TypeError, /bucketByLength groups examples into batches; a stream of batches is trained on as it comes/);
  // a validation stream read once gave NaN losses from the second epoch on, which early
  // stopping took for epochs without improvement
  function* val() { yield* batchesOf(data); }
  await rejectsWith(model.fit(batchesOf(data), { epochs: 3, validationData: val(), earlyStopping: { patience: 1 } }), RangeError,
    /^fit: the validation data stream yielded nothing \(after epoch 2 of 3\); a generator object can be read only once, so give validationData as a function that returns a new one \(or an iterable that starts over\)$/);
  await rejectsWith(model.fit(batchesOf(data), { validationData: [] }), RangeError, /^fit: the validation data stream yielded nothing \(after epoch 1 of 1\)/);
  // a bad batch deep in a stream is refused by the model with the batch and the argument named
  const bad = [...batchesOf(data), { x: [[1, 9]], y: [[1, 2]] }];
  await rejectsWith(model.fit(bad), RangeError, /^fit: epoch 1 of 1, batch 3 of the data stream: its x\[0\]\[1\] = 9 is out of range/);
  model.dispose();
});

Stream('a pass left unfinished is closed (abort, an error), so a stream\'s clean-up runs: a file reader closes its file', async () => {
  const data = echo(new Random(10), 64, 6, 6, 1);
  const counts = { opened: 0, closed: 0 };
  function* tracked() {
    counts.opened++;
    try {
      yield* batchesOf(data);
    } finally {
      counts.closed++;
    }
  }
  const model = await createRNN({ ...tokens, seed: 11 });
  const stop = new AbortController();
  // pools of 2 batches: the stream is read as it goes, not to its end at once
  const r = await model.fit(tracked, { epochs: 3, poolSize: 2, signal: stop.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 2) stop.abort(); } });
  assert.is(r.stopReason, 'aborted');
  assert.equal(counts, { opened: 2, closed: 2 }, 'closed after an abort');
  await rejectsWith(model.fit(tracked, { epochs: 2, poolSize: 2, onProgress: (p) => { if (p.batch === 1) throw new Error('callback failed'); } }), Error, /^callback failed$/);
  assert.equal(counts, { opened: 3, closed: 3 }, 'closed when the run fails');
  // the error that ended the run is the one reported, as a for-of loop does
  function* failing() {
    let read = false;
    try {
      yield* batchesOf(data);
      read = true;
    } finally {
      if (!read) throw new Error('clean-up failed');     // closed early
    }
  }
  await rejectsWith(model.fit(failing, { poolSize: 2, onProgress: () => { throw new Error('callback failed'); } }), Error, /^callback failed$/);
  const aborted = new AbortController();
  await rejectsWith(model.fit(failing, { poolSize: 2, signal: aborted.signal, onProgress: () => aborted.abort() }), Error, /^clean-up failed$/);
  model.dispose();
});

Stream.run();

// Checkpoints: the whole training state in one file; resuming from it reproduces the
// uninterrupted run bit for bit; a bad checkpoint is refused and changes nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, createRNN, decodeSafetensors, encodeSafetensors, loadFromBlob, loadModel, loadRNN, Random, SafetensorsError, type EpochLogs } from '../dist/index.js';
import { checkSame, checkSameState, echo as echoTask, rejectsWith, throwsWith, unsealed, type AbortPoint } from './_utils.js';

const echo = (rng: Random, n: number, T = 12, V = 6, D = 2) => echoTask(rng, n, T, V, D);

// every piece of state at once: Adam moments, a warm-up + cosine schedule, clipping, dropout
// (the generator), shuffling, truncated BPTT, a validation split, metrics, early stopping
const config = { cell: 'lstm', n_x: 6, n_a: 12, n_y: 6, layers: 2, dropout: 0.2, outputDropout: 0.1, input: 'tokens', reduction: 'mean' } as const;
const options = {
  epochs: 4, batchSize: 6, optimizer: { type: 'adamw', weightDecay: 0.01 }, learningRate: 0.01, clipNorm: 1, tbptt: 5,
  schedule: { type: 'cosine', tMax: 60, warmup: { steps: 5 } }, validationSplit: 0.2, metrics: ['accuracy', 'bitsPerChar'],
  earlyStopping: { patience: 10 },
} as const;

const Resume = suite('resume from a checkpoint');

Resume('a fit stopped mid-epoch and resumed in a new model ends with the weights of the uninterrupted run, bit for bit', async () => {
  const data = echo(new Random(1), 40);
  const whole = await createRNN({ ...config, seed: 1 });
  const uninterrupted = await whole.fit(data, options);

  const first = await createRNN({ ...config, seed: 1 });
  const controller = new AbortController();
  const part = await first.fit(data, { ...options, signal: controller.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 2) controller.abort(); } });
  assert.equal([part.stopped, part.stopReason], [true, 'aborted']);
  const bytes = first.getTrainingState();
  first.dispose();

  const second = await createRNN({ ...config, seed: 777 });     // another seed: the checkpoint decides
  second.setTrainingState(bytes);
  const rest = await second.fit(data, { ...options, resume: true });
  checkSame('weights', second.getWeights(), whole.getWeights());
  const logs = (h: EpochLogs) => ({ epoch: h.epoch, loss: h.loss, metrics: h.metrics, val: h.val, learningRate: h.learningRate });
  assert.equal(rest.history.map(logs), uninterrupted.history.slice(1).map(logs), 'the same epoch losses, metrics and validation');
  whole.dispose(); second.dispose();
});

Resume('checkpoints written at epoch ends (onEpochEnd) resume there', async () => {
  const data = echo(new Random(2), 30);
  const whole = await createRNN({ ...config, seed: 2 });
  await whole.fit(data, options);
  const saved: Uint8Array[] = [];
  const first = await createRNN({ ...config, seed: 2 });
  await first.fit(data, { ...options, epochs: 2, onEpochEnd: () => { saved.push(first.getTrainingState()); } });
  first.dispose();
  const second = await createRNN({ ...config, seed: 3 });
  second.setTrainingState(saved[1]);
  await second.fit(data, { ...options, resume: true });
  checkSame('weights', second.getWeights(), whole.getWeights());
  second.dispose(); whole.dispose();
});

Resume('early stopping carries across a resume: the best weights come back from the checkpoint', async () => {
  const rng = new Random(3);
  const data = echo(rng, 24), val = echo(rng, 12, 12, 6, 4);
  const es = { ...options, validationSplit: undefined, validationData: val, earlyStopping: { patience: 2 }, epochs: 12 };
  const whole = await createRNN({ ...config, seed: 4 });
  const a = await whole.fit(data, es);
  assert.is(a.stopReason, 'early-stopping');
  const first = await createRNN({ ...config, seed: 4 });
  const controller = new AbortController();
  await first.fit(data, { ...es, signal: controller.signal, onProgress: (p) => { if (p.epoch === a.bestEpoch! + 1 && p.batch === 1) controller.abort(); } });
  const second = await createRNN({ ...config, seed: 5 });
  second.setTrainingState(first.getTrainingState());
  const b = await second.fit(data, { ...es, resume: true });
  assert.equal([b.stopReason, b.bestEpoch], ['early-stopping', a.bestEpoch]);
  checkSame('restored best weights', second.getWeights(), whole.getWeights());
  whole.dispose(); first.dispose(); second.dispose();
});

Resume('trainStep runs: optimizer moments, step count, schedule position and generator all resume', async () => {
  for (const optimizer of ['sgd', { type: 'sgd', momentum: 0.9, nesterov: true }, 'adam', 'rmsprop', 'adagrad'] as const) {
    const rng = new Random(4);
    const batches = Array.from({ length: 8 }, () => echo(rng, 4));
    const step = { optimizer, learningRate: 0.01, schedule: { type: 'exponential', gamma: 0.9 } } as const;
    const whole = await createRNN({ ...config, seed: 6 });
    for (const b of batches) whole.trainStep(b, step);
    const first = await createRNN({ ...config, seed: 6 });
    for (const b of batches.slice(0, 5)) first.trainStep(b, step);
    const second = await createRNN({ ...config, seed: 8 });
    second.setTrainingState(first.getTrainingState());
    for (const b of batches.slice(5)) second.trainStep(b, step);
    checkSame(`${JSON.stringify(optimizer)}: weights`, second.getWeights(), whole.getWeights());
    assert.is(second.sample({ length: 20 }).join(), whole.sample({ length: 20 }).join(), 'the generator continues');
    whole.dispose(); first.dispose(); second.dispose();
  }
});

Resume('an abort at every batch position (the first, the last, from onEpochEnd) resumes bit for bit, with shuffle on and off', async () => {
  // 11 examples in batches of 4: three batches an epoch, the last one short; dropout draws from
  // the same generator as the shuffling, so any extra or missing draw shows
  const data = echo(new Random(6), 11, 8);
  const small = { cell: 'gru', n_x: 6, n_a: 8, n_y: 6, layers: 2, dropout: 0.25, input: 'tokens', reduction: 'mean' } as const;
  const epochs = 3, batches = 3;
  const points: AbortPoint[] = [{ at: 'start' }];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let batch = 0; batch < batches; batch++) points.push({ at: 'batch', epoch, batch });
    points.push({ at: 'epochEnd', epoch });
  }
  for (const shuffle of [true, false]) {
    const fitOptions = { epochs, batchSize: 4, learningRate: 0.02, shuffle, optimizer: 'adam' } as const;
    const whole = await createRNN({ ...small, seed: 20 });
    await whole.fit(data, fitOptions);
    const expected = whole.getTrainingState();
    whole.dispose();
    for (const point of points) {
      const label = `shuffle ${shuffle}, abort ${JSON.stringify(point)}`;
      const first = await createRNN({ ...small, seed: 20 });
      const controller = new AbortController();
      if (point.at === 'start') controller.abort();
      const part = await first.fit(data, {
        ...fitOptions, signal: controller.signal,
        onProgress: (p) => { if (point.at === 'batch' && p.epoch === point.epoch && p.batch === point.batch) controller.abort(); },
        onEpochEnd: (logs) => { if (point.at === 'epochEnd' && logs.epoch === point.epoch) controller.abort(); },
      });
      // an abort takes effect before the next batch: after the last one, the run is complete
      const last = point.at !== 'start' && point.epoch === epochs - 1 && (point.at === 'epochEnd' || point.batch === batches - 1);
      assert.is(part.stopReason, last ? undefined : 'aborted', `${label}: stop reason`);
      const bytes = first.getTrainingState();
      first.dispose();
      const second = await createRNN({ ...small, seed: 21 });
      second.setTrainingState(bytes);
      await second.fit(data, { ...fitOptions, resume: true });
      checkSameState(label, second.getTrainingState(), expected);
      second.dispose();
    }
  }
});

Resume('a run aborted after every batch and resumed each time in a new model ends as the uninterrupted run', async () => {
  const data = echo(new Random(7), 13, 8);
  const fitOptions = { ...options, validationSplit: undefined, tbptt: undefined, epochs: 3, batchSize: 5 };
  const whole = await createRNN({ ...config, seed: 30 });
  await whole.fit(data, fitOptions);
  let bytes: Uint8Array | undefined;
  for (let leg = 0; leg < 20; leg++) {
    const m = await createRNN({ ...config, seed: 30 + leg });     // the first leg starts as the whole run
    if (bytes) m.setTrainingState(bytes);
    const controller = new AbortController();
    const r = await m.fit(data, { ...fitOptions, resume: bytes !== undefined, signal: controller.signal, onProgress: () => controller.abort() });
    bytes = m.getTrainingState();
    m.dispose();
    if (!r.stopped || r.stopReason === 'early-stopping') break;
  }
  const resumed = await createRNN({ ...config, seed: 99 });
  resumed.setTrainingState(bytes!);
  checkSame('weights', resumed.getWeights(), whole.getWeights());
  checkSameState('training state', bytes!, whole.getTrainingState());
  whole.dispose(); resumed.dispose();
});

Resume('checkpoints written by an earlier version (no pass fields) resume bit for bit, from a stream and from a data set', async () => {
  // written by tests/fixtures/make_old_checkpoints.mjs: the same runs, aborted after batch 3 of epoch 2
  const data = echoTask(new Random(15), 13, 6, 6, 1);
  async function* examples() {
    for (let i = 0; i < data.x.length; i++) yield { x: data.x[i], y: data.y[i] };
  }
  // the SIMD build the files were written with: its bits are the same on every machine
  const small = { cell: 'gru', n_x: 6, n_a: 10, n_y: 6, input: 'tokens', reduction: 'mean', layers: 2, dropout: 0.25, backend: 'simd' } as const;
  const runs = [
    ['stream', examples, { yields: 'examples', poolSize: 2, epochs: 3, batchSize: 2, learningRate: 0.02, optimizer: 'adam' }],
    ['dataset', data, { epochs: 3, batchSize: 2, learningRate: 0.02, optimizer: 'adam' }],
  ] as const;
  for (const [name, train, fitOptions] of runs) {
    const whole = await createRNN({ ...small, seed: 20 });
    await whole.fit(train as never, fitOptions);
    const old = new Uint8Array(readFileSync(join(__dirname, 'fixtures', 'old_checkpoints', `3e87050-${name}.safetensors`)));
    assert.equal(JSON.parse(decodeSafetensors(old).metadata.training).fit.batch, 3, `${name}: stopped inside epoch 2`);
    const resumed = await createRNN({ ...small, seed: 21 });
    resumed.setTrainingState(old);
    await resumed.fit(train as never, { ...fitOptions, resume: true });
    checkSameState(name, resumed.getTrainingState(), whole.getTrainingState());
    whole.dispose(); resumed.dispose();
  }
});

Resume('resume needs the same data and batches', async () => {
  const data = echo(new Random(5), 20);
  const m = await createRNN({ ...config, seed: 9 });
  const controller = new AbortController();
  await m.fit(data, { batchSize: 4, signal: controller.signal, onProgress: () => controller.abort() });
  try {
    await m.fit(data, { batchSize: 5, resume: true });
    assert.unreachable('resumed with other batches');
  } catch (e) {
    assert.instance(e, RangeError);
    assert.match((e as Error).message, /fit: resume needs the data and batches of the run it continues: it had 20 training examples in batches of 4, shuffle true; got 20, 5, shuffle true/);
  }
  m.dispose();
});

Resume('a createRNN model\'s checkpoint restores into the same model loaded with loadModel (a many-to-many) and continues bit for bit', async () => {
  const config = { cell: 'gru' as const, n_x: 5, n_a: 6, n_y: 5, input: 'tokens' as const, seed: 3 };
  const batch = { x: [[1, 2, 3, 4]], y: [[2, 3, 4, 0]] };
  const m = await createRNN(config);
  m.trainStep(batch, { optimizer: 'adam', learningRate: 0.01 });
  const state = m.getTrainingState(), file = m.save();
  for (const make of [() => loadModel(file), () => createModel({ architecture: 'many-to-many', ...config, seed: 9 })]) {
    const r: any = await make();
    r.setTrainingState(state);
    r.setWeights(m.getWeights());
    assert.is(r.architecture, 'many-to-many');
    const a = r.trainStep(batch, { optimizer: 'adam', learningRate: 0.01 });
    const twin = await createRNN(config);
    twin.setTrainingState(state);
    twin.setWeights(m.getWeights());
    assert.is(a.loss, twin.trainStep(batch, { optimizer: 'adam', learningRate: 0.01 }).loss);
    checkSame('weights after a step', r.getWeights(), twin.getWeights());
    r.dispose(); twin.dispose();
  }
  // another architecture is still another configuration
  const other: any = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 5, n_a: 6, n_y: 5, input: 'tokens', seed: 3 });
  assert.throws(() => other.setTrainingState(state), /architecture is "many-to-many" in the checkpoint, "many-to-one" in this model/);
  other.dispose(); m.dispose();
});

Resume.run();

// ---

const File = suite('checkpoint files');

File('a checkpoint holds the weights, the optimizer moments and the training state; it loads as a model file too', async () => {
  const m = await createRNN({ ...config, seed: 10 });
  const batch = echo(new Random(6), 4);
  for (let i = 0; i < 3; i++) m.trainStep(batch, { optimizer: 'adam', learningRate: 0.01 });
  const bytes = m.getTrainingState();
  const file = decodeSafetensors(bytes);
  assert.equal(file.tensors.get('optimizer.m')!.shape, [m.numParams]);
  assert.equal(file.tensors.get('optimizer.v')!.shape, [m.numParams]);
  checkSame('weight_hh_l1', file.tensors.get('weight_hh_l1')!.data, m.getParam('weight_hh_l1'));
  const training = JSON.parse(file.metadata.training);
  assert.is(training.optimizer.step, 3);
  assert.is(training.optimizer.config.type, 'adam');
  assert.is(training.rng.length, 4);
  const copy = await createRNN({ ...config, seed: 11 });
  copy.loadWeights(bytes, { strict: false });
  checkSame('loadWeights', copy.getWeights(), m.getWeights());
  m.dispose(); copy.dispose();
});

File('a checkpoint given where a model file is expected is named as one, with what to do instead', async () => {
  const m = await createRNN({ ...config, seed: 13 });
  m.trainStep(echo(new Random(8), 4), { optimizer: 'adam' });
  const ckpt = m.getTrainingState();
  const what = 'the file is a training checkpoint \\(getTrainingState, saveCheckpoint\\), not a model file; ';
  // loadModel and the loaders built on it take no strict option: they say what to load instead
  const instead = what + 'load the model file saved with it \\(save, saveModel\\), or restore the checkpoint on a model created with its config: ' +
    'setTrainingState\\(bytes\\), or loadCheckpoint in rnn-wasm/node$';
  await rejectsWith(loadModel(ckpt), TypeError, new RegExp(`^loadModel: ${instead}`));
  await rejectsWith(loadFromBlob(new Blob([ckpt])), TypeError, new RegExp(`^loadFromBlob: ${instead}`));
  // those with strict: false can take its weights
  const strict = what + 'pass strict: false to take only its weights, or restore all of it with setTrainingState\\(bytes\\)$';
  await rejectsWith(loadRNN(ckpt), TypeError, new RegExp(`^loadRNN: ${strict}`));
  const copy = await createRNN({ ...config, seed: 14 });
  const before = copy.getWeights();
  throwsWith(() => copy.loadWeights(ckpt), TypeError, new RegExp(`^loadWeights: ${strict}`));
  checkSame('weights unchanged', copy.getWeights(), before);
  const weightsOnly = await loadRNN(ckpt, { strict: false });
  checkSame('loadRNN with strict: false', weightsOnly.getWeights(), m.getWeights());
  weightsOnly.dispose();
  // a model file with a tensor too many: loadModel does not suggest an option it does not have
  const file = decodeSafetensors(m.save());
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  const extra = encodeSafetensors([...tensors, { name: 'extra', shape: [1], data: new Float32Array(1) }], unsealed(file.metadata));
  await rejectsWith(loadModel(extra), RangeError, /^loadModel: the file has tensors this model does not use: extra \(check the config\)$/);
  await rejectsWith(loadRNN(extra), RangeError, /^loadRNN: the file has tensors this model does not use: extra \(check the config, or pass strict: false\)$/);
  m.dispose(); copy.dispose();
});

File('bad checkpoints are refused with the reason, and nothing changes', async () => {
  const m = await createRNN({ ...config, seed: 12 });
  m.trainStep(echo(new Random(7), 4), { optimizer: 'adam' });
  const good = m.getTrainingState();
  const other = await createRNN({ ...config, n_a: 10, seed: 12 });
  const weights = other.getWeights();
  const refuse = (bytes: unknown, type: new (...args: any[]) => Error, pattern: RegExp, target = other) => {
    try {
      target.setTrainingState(bytes as Uint8Array);
    } catch (e) {
      assert.instance(e, type, (e as Error).message);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`accepted: ${pattern}`);
  };
  // another configuration is named as the cause, before any tensor is compared
  const another = /^setTrainingState: the checkpoint was saved from a model with another configuration: /;
  refuse(good, RangeError, new RegExp(another.source + /n_a is 12 in the checkpoint, 10 in this model/.source));
  const gru = await createRNN({ ...config, cell: 'gru', seed: 12 });
  refuse(good, RangeError, new RegExp(another.source + /cell is "lstm" in the checkpoint, "gru" in this model/.source), gru);
  const mean = await createRNN({ ...config, reduction: 'sum', seed: 12 });
  refuse(good, RangeError, new RegExp(another.source + /reduction is "mean" in the checkpoint, "sum" in this model/.source), mean);
  refuse(m.save(), TypeError, /setTrainingState: the file has no training state \(a model file from save\(\)\? load it with loadWeights\)/);
  refuse(good.subarray(0, good.length - 3), SafetensorsError, /^setTrainingState: safetensors: /, m);
  refuse('checkpoint', TypeError, /setTrainingState: bytes must be a Uint8Array or an ArrayBuffer holding a checkpoint, got "checkpoint"/);
  refuse(new Float32Array(4), TypeError, /setTrainingState: bytes must be a Uint8Array or an ArrayBuffer holding a checkpoint, got a Float32Array/);
  // tampered metadata or tensors (changed on purpose: without the checksum)
  const file = decodeSafetensors(good);
  file.metadata = unsealed(file.metadata);
  const rewrite = (meta: Record<string, string>, drop?: string) => encodeSafetensors(
    [...file.tensors].filter(([name]) => name !== drop).map(([name, t]) => ({ name, shape: t.shape, data: t.data })), { ...file.metadata, ...meta });
  const training = JSON.parse(file.metadata.training);
  refuse(rewrite({ training: JSON.stringify({ ...training, rng: [0, 0, 0, 0] }) }), TypeError, /training.rng must be 4 unsigned 32-bit integers, not all 0, got \[0,0,0,0\]/, m);
  refuse(rewrite({ training: '{"optimizer":' }), TypeError, /the checkpoint's "training" metadata is not valid JSON/, m);
  refuse(rewrite({ checkpoint_version: '9' }), RangeError, /the file is checkpoint version "9" of format "rnn-wasm"; this version of rnn-wasm reads version 1/, m);
  refuse(rewrite({}, 'optimizer.v'), RangeError, /optimizer 'adam' keeps 2 moment region\(s\), the checkpoint has 1/, m);
  refuse(rewrite({ training: JSON.stringify({ ...training, optimizer: { ...training.optimizer, step: -1 } }) }), TypeError, /training.optimizer.step must be a whole number ≥ 0, got -1/, m);
  const nan = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: name === 'optimizer.m' ? t.data.map((v, i) => (i === 3 ? NaN : v)) : t.data }));
  refuse(encodeSafetensors(nan, file.metadata), RangeError, /the checkpoint's optimizer.m hold NaN at \[3\]; a checkpoint holds finite values only/, m);
  // the config agrees but a tensor does not: the tensor is named
  const cut = [...file.tensors].map(([name, t]) => (name === 'weight_ih_l0' ? { name, shape: [40, 6], data: t.data.subarray(0, 240) } : { name, shape: t.shape, data: t.data }));
  refuse(encodeSafetensors(cut, file.metadata), RangeError, /^setTrainingState: tensor "weight_ih_l0" has shape \[40, 6\], this model needs \[48, 6\]/, m);
  checkSame('weights unchanged', other.getWeights(), weights);
  m.setTrainingState(good);     // and the good one still loads, from an ArrayBuffer too
  m.setTrainingState(good.slice().buffer);
  m.dispose(); other.dispose(); gru.dispose(); mean.dispose();
});

File.run();

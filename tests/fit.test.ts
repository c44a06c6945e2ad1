// fit() for real runs: validation (a split or a set), metrics, early stopping with the best
// weights restored, callbacks per batch and per epoch, the non-finite guard, tbptt.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createRNN, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, echo as echoTask, rejectsWith, uniforms } from './_utils.js';

const echo = (rng: Random, n: number, T = 10, V = 6, D = 1) => echoTask(rng, n, T, V, D);

const tokens = { n_x: 6, n_a: 16, n_y: 6, input: 'tokens', reduction: 'mean' } as const;

const Val = suite('fit: validation and metrics');

Val('metrics are what they say: accuracy, perplexity and bits per character from the outputs', async () => {
  const m = await createRNN({ ...tokens, seed: 1 });
  const data = echo(new Random(1), 40);
  await m.fit(data, { epochs: 2, batchSize: 8, learningRate: 0.02 });
  const got = m.evaluate(data, { batchSize: 7, metrics: ['accuracy', 'perplexity', 'bitsPerChar'] });
  // by hand, from forward()
  const { yhat } = m.forward({ x: data.x });
  let ce = 0, right = 0, n = 0;
  data.y.forEach((s, b) => s.forEach((c, t) => {
    if (c < 0) return;
    const p = Array.from(yhat.subarray((b * 10 + t) * 6, (b * 10 + t + 1) * 6));
    ce -= Math.log(p[c]);
    right += p.indexOf(Math.max(...p)) === c ? 1 : 0;
    n++;
  }));
  checkClose('loss per token', [got.loss], [ce / n], 1e-5);
  checkClose('perplexity', [got.perplexity!], [Math.exp(ce / n)], 1e-5);
  checkClose('bits per character', [got.bitsPerChar!], [ce / n / Math.LN2], 1e-5);
  assert.is(got.accuracy, right / n);
  m.dispose();
});

Val('sigmoid accuracy counts every output thresholded at 0.5; linear outputs have only the loss', async () => {
  const rng = new Random(2);
  const x = Array.from({ length: 12 }, () => Array.from({ length: 5 }, () => uniforms(rng, 2)));
  const y = x.map((s) => s.map((r) => [r[0] > 0 ? 1 : 0, r[1] > 0 ? 1 : 0]));
  const m = await createRNN({ n_x: 2, n_a: 8, n_y: 2, output: 'sigmoid', seed: 2 });
  const { yhat } = m.forward({ x });
  let right = 0;
  y.forEach((s, b) => s.forEach((r, t) => r.forEach((v, k) => { right += (yhat[(b * 5 + t) * 2 + k] > 0.5 ? 1 : 0) === v ? 1 : 0; })));
  assert.is(m.evaluate({ x, y }, { metrics: ['accuracy'] }).accuracy, right / (12 * 5 * 2));
  const lin = await createRNN({ n_x: 2, n_a: 8, n_y: 2, output: 'linear', seed: 2 });
  assert.throws(() => lin.evaluate({ x, y }, { metrics: ['accuracy'] }), /evaluate: metrics\[0\] 'accuracy' is not available for this model's outputs; it reports only the loss/);
  m.dispose(); lin.dispose();
});

Val('validationSplit holds out the end of the data; epochs report training and validation metrics', async () => {
  const m = await createRNN({ ...tokens, seed: 3 });
  const data = echo(new Random(3), 50);
  const seen: number[][] = [];
  const r = await m.fit(data, {
    epochs: 3, batchSize: 10, learningRate: 0.02, validationSplit: 0.2, metrics: ['accuracy', 'perplexity'],
    onProgress: (p) => { seen.push([p.epoch, p.batch, p.batches]); },
  });
  assert.is(seen.length, 3 * 4, '40 training examples in batches of 10');
  assert.is(r.history.length, 3);
  const last = r.history[2];
  assert.ok(last.val && last.metrics, 'both reported');
  // the validation set is the last 10 examples
  const held = m.evaluate({ x: data.x.slice(40), y: data.y.slice(40) }, { metrics: ['accuracy', 'perplexity'] });
  assert.equal(last.val, held);
  assert.ok(r.history[2].val!.loss < r.history[0].val!.loss, 'validation loss falls');
  assert.ok(last.metrics!.accuracy! > 0.3 && last.metrics!.perplexity! > 1);
  const set = await m.fit(data, { epochs: 1, batchSize: 10, validationData: { x: data.x.slice(0, 5), y: data.y.slice(0, 5) } });
  assert.ok(Number.isFinite(set.history[0].val!.loss));
  m.dispose();
});

Val('options are checked before the first step', async () => {
  const m = await createRNN({ ...tokens, seed: 4 });
  const data = echo(new Random(4), 10);
  const w = m.getWeights();
  await rejectsWith(m.fit(data, { validationSplit: 0.2, validationData: data }), TypeError, /fit: give validationData or validationSplit, not both/);
  await rejectsWith(m.fit(data, { validationSplit: 0.95 }), RangeError, /fit: validationSplit 0.95 of 10 examples leaves 0 to train on and 10 to validate on; both need at least one/);
  await rejectsWith(m.fit(data, { metrics: ['f1' as any] }), TypeError, /fit: metrics\[0\] must be one of 'accuracy', 'perplexity', 'bitsPerChar', got "f1"/);
  await rejectsWith(m.fit(data, { earlyStopping: { patience: 2, monitor: 'val_loss' } }), RangeError, /fit: earlyStopping.monitor 'val_loss' needs validationData or validationSplit/);
  await rejectsWith(m.fit(data, { earlyStopping: { patience: 2, monitor: 'accuracy' } }), TypeError, /earlyStopping.monitor \(the loss, or a metric listed in metrics\) must be one of 'loss', 'val_loss', got "accuracy"/);
  await rejectsWith(m.fit(data, { earlyStopping: { patience: 0 } }), RangeError, /fit: earlyStopping.patience must be an integer ≥ 1, got 0/);
  await rejectsWith(m.fit(data, { onEpochEnd: 'log' as any }), TypeError, /fit: onEpochEnd must be a function, got "log"/);
  await rejectsWith(m.fit(data, { validationData: { x: data.x, y: [] } }), RangeError, /fit: validationData.y must have one target per input \(10\), got 0/);
  await rejectsWith(m.fit(data, { onNonFinite: 'ignore' as any }), TypeError, /fit: onNonFinite must be one of 'throw', 'skip', 'stop', got "ignore"/);
  // a signal that is not one would never stop training
  const signal = /^fit: signal must be an AbortSignal \(an object with a boolean aborted, e\.g\. new AbortController\(\)\.signal\), got /;
  await rejectsWith(m.fit(data, { signal: 5 as any }), TypeError, new RegExp(signal.source + '5$'));
  await rejectsWith(m.fit(data, { signal: {} as any }), TypeError, new RegExp(signal.source + 'an object whose aborted is undefined$'));
  await rejectsWith(m.fit(data, { signal: { aborted: 'yes' } as any }), TypeError, new RegExp(signal.source + 'an object whose aborted is "yes"$'));
  await rejectsWith(m.fit(data, { signal: null as any }), TypeError, new RegExp(signal.source + 'null$'));
  // a name where a name goes: the message says so, and suggests the near one
  await rejectsWith(m.fit(data, { schedule: 'cosin' as any }), TypeError,
    /^fit: schedule must be one of 'constant', 'step', 'multistep', 'exponential', 'cosine', 'linear' \(or \{ type, … \}\), got "cosin"; did you mean 'cosine'\?$/);
  await rejectsWith(m.fit(data, { optimizer: 'adma' as any }), TypeError,
    /^fit: optimizer must be one of 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad' \(or \{ type, … \}\), got "adma"; did you mean 'adam'\?$/);
  await rejectsWith(m.fit(data, { optimizer: { type: 'sgd', momentum: 0.9, nesterov: 'yes' as any } }), TypeError, /^fit: optimizer.nesterov must be true or false, got "yes"$/);
  await rejectsWith(m.fit(data, { workers: 1000 }), RangeError, /^fit: workers must be an integer in \[0, 64\], got 1000$/);
  // anything with a boolean aborted is a signal (AbortSignalLike)
  assert.is((await m.fit(data, { signal: { aborted: true } })).stopReason, 'aborted');
  checkSame('weights', m.getWeights(), w);
  m.dispose();
});

Val.run();

// ---

const Early = suite('fit: early stopping and callbacks');

Early('stops after `patience` epochs without improvement and puts back the best epoch\'s weights', async () => {
  const m = await createRNN({ ...tokens, seed: 5 });
  const rng = new Random(5);
  const data = echo(rng, 40);
  // a validation set the training makes worse: its targets are the inputs of two steps back
  const val = echo(rng, 20, 10, 6, 2);
  const weights: Float32Array[] = [];
  const r = await m.fit(data, {
    epochs: 20, batchSize: 8, learningRate: 0.03, validationData: val,
    earlyStopping: { patience: 2 },
    onEpochEnd: () => { weights.push(m.getWeights()); },
  });
  const losses = r.history.map((h) => h.val!.loss);
  const best = losses.indexOf(Math.min(...losses));
  assert.ok(r.stopped && r.stopReason === 'early-stopping', `stopped: ${r.stopReason}`);
  assert.is(r.bestEpoch, best);
  assert.is(r.history.length, best + 3, `validation losses ${losses.map((l) => l.toFixed(3))}`);
  checkSame('restored weights', m.getWeights(), weights[best]);
  m.dispose();
});

Early('minDelta, a maximised monitor, and restoreBestWeights: false', async () => {
  const m = await createRNN({ ...tokens, seed: 6 });
  const data = echo(new Random(6), 40);
  let lastWeights: Float32Array | undefined;
  const r = await m.fit(data, {
    epochs: 30, batchSize: 8, learningRate: 0.03, validationSplit: 0.25, metrics: ['accuracy'],
    earlyStopping: { patience: 1, monitor: 'val_accuracy', minDelta: 0.5, restoreBestWeights: false },
    onEpochEnd: () => { lastWeights = m.getWeights(); },
  });
  // no epoch can beat the first by half the examples, so training ends after epoch 1
  assert.is(r.history.length, 2);
  assert.is(r.bestEpoch, 0);
  checkSame('the last weights are kept', m.getWeights(), lastWeights!);
  m.dispose();
});

Early('callbacks: every batch and every epoch, in order; async callbacks are awaited', async () => {
  const m = await createRNN({ ...tokens, seed: 7 });
  const data = echo(new Random(7), 24);
  const events: string[] = [];
  await m.fit(data, {
    epochs: 2, batchSize: 8,
    onProgress: async (p) => {
      await new Promise((r) => setTimeout(r, 1));
      events.push(`batch ${p.epoch}.${p.batch} step ${p.step}`);
      assert.ok(Number.isFinite(p.gradNorm) && p.learningRate === 1e-3 && p.applied);
    },
    onEpochEnd: async (logs) => {
      await new Promise((r) => setTimeout(r, 5));
      events.push(`epoch ${logs.epoch} steps ${logs.steps}`);
    },
  });
  assert.equal(events, [
    'batch 0.0 step 1', 'batch 0.1 step 2', 'batch 0.2 step 3', 'epoch 0 steps 3',
    'batch 1.0 step 4', 'batch 1.1 step 5', 'batch 1.2 step 6', 'epoch 1 steps 6',
  ]);
  m.dispose();
});

Early('tbptt in fit: one optimizer step per window', async () => {
  const m = await createRNN({ ...tokens, cell: 'lstm', seed: 8 });
  const data = echo(new Random(8), 16, 12);
  const r = await m.fit(data, { epochs: 2, batchSize: 8, tbptt: 5 });
  assert.is(r.steps, 2 * 2 * 3);
  m.dispose();
});

Early.run();

// ---

const Guard = suite('fit: the non-finite guard');

/** Dense data whose batch 2 (of 4, unshuffled) overflows a ReLU cell. */
async function poisoned() {
  const rng = new Random(9);
  const x = Array.from({ length: 16 }, () => Array.from({ length: 4 }, () => uniforms(rng, 2)));
  const y = x.map((s) => s.map((r) => [r[0] + r[1]]));
  x[9][2] = [3e38, 3e38];
  const m = await createRNN({ n_x: 2, n_a: 4, n_y: 1, output: 'linear', activation: 'relu', seed: 9 });
  m.setParam('W_ax', new Float32Array(8).fill(10));
  return { m, data: { x, y } };
}

Guard('throw (the default): the error names the epoch, batch, step and what was not finite; the last good weights stay', async () => {
  const { m, data } = await poisoned();
  let good: Float32Array | undefined;
  await rejectsWith(
    m.fit(data, { epochs: 2, batchSize: 4, shuffle: false, optimizer: 'sgd', learningRate: 1e-4, onProgress: () => { good = m.getWeights(); } }),
    RangeError,
    /^fit: the (loss is (NaN|Infinity)|gradient of \S+ has \S+ at index \d+) at optimizer step 3 \(epoch 1 of 2, batch 3 of 4\); training stopped with the weights of the last good step/,
  );
  checkSame('weights of step 2', m.getWeights(), good!);
  m.dispose();
});

Guard('stop: training ends cleanly and says why; skip: the bad batch is passed over', async () => {
  const { m, data } = await poisoned();
  const stopped = await m.fit(data, { epochs: 2, batchSize: 4, shuffle: false, optimizer: 'sgd', learningRate: 1e-4, onNonFinite: 'stop' });
  assert.equal([stopped.stopped, stopped.stopReason, stopped.steps, stopped.skippedSteps], [true, 'non-finite', 2, 1]);
  assert.match(stopped.message!, /at optimizer step 3 \(epoch 1 of 2, batch 3 of 4\)/);
  const skipped = await m.fit(data, { epochs: 2, batchSize: 4, shuffle: false, optimizer: 'sgd', learningRate: 1e-4, onNonFinite: 'skip' });
  assert.equal([skipped.stopped, skipped.steps, skipped.skippedSteps], [false, 6, 2]);
  assert.ok(skipped.epochLosses.every(Number.isFinite), 'skipped batches are left out of the epoch loss');
  assert.ok(m.getWeights().every(Number.isFinite));
  m.dispose();
});

Guard('a finite loss with an infinite gradient: the error names the tensor and the index', async () => {
  const m = await createRNN({ n_x: 2, n_a: 3, n_y: 1, output: 'linear', activation: 'relu', seed: 10 });
  m.setParam('W_ax', new Float32Array(6).fill(1e-3));
  const batch = { x: [[[3e38, 3e38], [0.1, 0.2]]], y: [[[0], [1]]] };
  assert.ok(Number.isFinite(m.computeGradients(batch).loss), 'the loss (summed in f64) is finite');
  const w = m.getWeights();
  assert.throws(() => m.trainStep(batch), /^trainStep: the gradient of weight_ih_l0 has Infinity at index 0 at optimizer step 1; the weights were left unchanged/);
  await rejectsWith(m.fit({ x: [batch.x[0], batch.x[0]], y: [batch.y[0], batch.y[0]] }, { batchSize: 1 }), RangeError,
    /^fit: the gradient of weight_ih_l0 has Infinity at index 0 at optimizer step 1 \(epoch 1 of 1, batch 1 of 2\)/);
  checkSame('weights', m.getWeights(), w);
  m.dispose();
});

Guard('onProgress and trainStep report the gradient norm from before clipping', async () => {
  const m = await createRNN({ ...tokens, seed: 11 });
  const data = echo(new Random(11), 8);
  const norm = (g: Record<string, Float32Array>) => Math.sqrt(Object.values(g).reduce((s, t) => s + t.reduce((u, v) => u + v * v, 0), 0));
  const expected = norm(m.computeGradients(data).grads);
  const r = m.trainStep(data, { clipNorm: 1e-3 });
  checkClose('trainStep', [r.gradNorm], [expected], 1e-6);
  const reported: number[] = [];
  await m.fit(data, { batchSize: 8, clipNorm: 1e-3, shuffle: false, onProgress: (p) => { reported.push(p.gradNorm); } });
  assert.ok(reported[0] > 1e-2, `pre-clip norm ${reported[0]}`);
  m.dispose();
});

Guard.run();

// ---

const Busy = suite('fit: one at a time');

const busy = /a fit\(\) is running on this model; wait for it to finish or stop it with its signal/;

/** A fit of `tokens` models on echo data, and the weights it ends with when nothing interferes. */
async function reference(seed: number, options: Record<string, unknown> = {}) {
  const data = echo(new Random(seed), 24);
  const fitOptions = { epochs: 2, batchSize: 6, learningRate: 0.02, ...options };
  const alone = await createRNN({ ...tokens, seed });
  await alone.fit(data, fitOptions);
  const weights = alone.getWeights();
  alone.dispose();
  return { data, fitOptions, weights };
}

Busy('a second fit() on the same model is refused and the first one runs undisturbed', async () => {
  const { data, fitOptions, weights } = await reference(21);
  const m = await createRNN({ ...tokens, seed: 21 });
  const first = m.fit(data, fitOptions);
  await rejectsWith(m.fit(data, fitOptions), TypeError, new RegExp(`^fit: ${busy.source}`));
  await rejectsWith(m.fit(data, { ...fitOptions, resume: true }), TypeError, busy);
  const r = await first;
  assert.equal([r.stopped, r.steps], [false, 8]);
  checkSame('weights of the first fit', m.getWeights(), weights);
  // once it has ended, the model trains again
  await m.fit(data, { ...fitOptions, epochs: 1 });
  m.trainStep(data);
  m.dispose();
});

Busy('training and changing the weights are refused during a fit; reading, running and checkpoints are allowed', async () => {
  const { data, fitOptions, weights } = await reference(22);
  const m = await createRNN({ ...tokens, seed: 22 });
  const batch = { x: data.x.slice(0, 2), y: data.y.slice(0, 2) };
  const other = await createRNN({ ...tokens, seed: 23 });
  const file = other.save(), state = other.getTrainingState();
  const refused: string[] = [];
  const refuse = (name: string, call: () => unknown) => {
    try {
      call();
    } catch (e) {
      assert.instance(e, TypeError);
      assert.match((e as Error).message, new RegExp(`^${name}: ${busy.source}`));
      refused.push(name);
      return;
    }
    assert.unreachable(`${name} was accepted during fit`);
  };
  let checkpoint: Uint8Array | undefined;
  await m.fit(data, {
    ...fitOptions,
    onProgress: (p) => {
      if (p.epoch !== 1 || p.batch !== 1) return;
      refuse('trainStep', () => m.trainStep(batch));
      refuse('computeGradients', () => m.computeGradients(batch));
      refuse('setWeights', () => m.setWeights(new Float32Array(m.numParams)));
      refuse('setParam', () => m.setParam('W_aa', new Float32Array(16 * 16)));
      refuse('params\\.b_a', () => { m.params.b_a = new Float32Array(16); });
      refuse('loadWeights', () => m.loadWeights(file));
      refuse('setTrainingState', () => m.setTrainingState(state));
      // allowed: none of these changes the run
      m.getWeights();
      m.save();
      m.forward({ x: batch.x });
      m.evaluate(batch, { metrics: ['accuracy'] });
      m.sample({ length: 5, seed: 1 });
      checkpoint = m.getTrainingState();
    },
  });
  assert.equal(refused, ['trainStep', 'computeGradients', 'setWeights', 'setParam', 'params\\.b_a', 'loadWeights', 'setTrainingState']);
  checkSame('weights', m.getWeights(), weights);
  // the checkpoint taken mid-fit resumes to the same end
  const resumed = await createRNN({ ...tokens, seed: 24 });
  resumed.setTrainingState(checkpoint!);
  await resumed.fit(data, { ...fitOptions, resume: true });
  checkSame('resumed from the checkpoint taken during the fit', resumed.getWeights(), weights);
  m.dispose(); other.dispose(); resumed.dispose();
});

Busy('the model is released when a fit ends by an error, an abort or early stopping', async () => {
  const m = await createRNN({ ...tokens, seed: 25 });
  const data = echo(new Random(25), 12);
  await rejectsWith(m.fit(data, { batchSize: 0 }), RangeError, /fit: batchSize/);
  await rejectsWith(m.fit(data, { onProgress: () => { throw new TypeError('from the callback'); } }), TypeError, /from the callback/);
  const controller = new AbortController();
  controller.abort();
  assert.is((await m.fit(data, { signal: controller.signal })).stopReason, 'aborted');
  assert.is((await m.fit(data, { epochs: 5, earlyStopping: { patience: 1, minDelta: 100 } })).stopReason, 'early-stopping');
  m.trainStep(data);
  m.setWeights(m.getWeights());
  m.dispose();
});

Busy('two models fit at the same time, each as it would alone', async () => {
  const a = await reference(26), b = await reference(27, { batchSize: 5, shuffle: false });
  const ma = await createRNN({ ...tokens, seed: 26 }), mb = await createRNN({ ...tokens, seed: 27 });
  await Promise.all([ma.fit(a.data, { ...a.fitOptions, yieldEveryMs: 0 }), mb.fit(b.data, { ...b.fitOptions, yieldEveryMs: 0 })]);
  checkSame('first model', ma.getWeights(), a.weights);
  checkSame('second model', mb.getWeights(), b.weights);
  ma.dispose(); mb.dispose();
});

Busy('dispose() during a fit: the fit rejects with an error naming where it stopped, and the memory is returned', async () => {
  for (const when of ['onProgress', 'onEpochEnd'] as const) {
    const m = await createRNN({ ...tokens, seed: 28 });
    const data = echo(new Random(28), 12);
    const stopAt = when === 'onProgress'
      ? { onProgress: (p: { epoch: number; batch: number }) => { if (p.epoch === 0 && p.batch === 0) m.dispose(); } }
      : { onEpochEnd: () => m.dispose() };
    await rejectsWith(m.fit(data, { epochs: 2, batchSize: 4, ...stopAt }), Error,
      when === 'onProgress' ? /^fit: the model was disposed during training \(epoch 1 of 2, before batch 2 of 3\)$/
        : /^fit: the model was disposed during training \(epoch 2 of 2, before batch 1 of 3\)$/);
    assert.ok(m.isDisposed);
    assert.throws(() => m.getWeights(), /this model was disposed/);
    m.dispose();
  }
  // the memory goes back to the allocator: many more such runs do not grow it (an arena keeps
  // the instance alive between the models, which would otherwise drop it)
  const pin = new Arena((await getEngine('simd')).kernels);
  const { kernels } = pin;
  let bytes = 0;
  for (let i = 0; i < 12; i++) {
    if (i === 2) bytes = kernels.memory.buffer.byteLength;
    const m = await createRNN({ ...tokens, n_a: 64, seed: 29 + i });
    await rejectsWith(m.fit(echo(new Random(i), 64, 40), { batchSize: 32, onProgress: () => m.dispose() }), Error, /disposed/);
  }
  assert.is(kernels.memory.buffer.byteLength, bytes, 'memory did not grow');
  pin.dispose();
});

Busy.run();

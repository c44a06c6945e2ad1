// Gradient check of the softmax loss's class weights and label smoothing: every parameter's
// gradient from the wasm forward/backward against central finite differences of the f64
// composition in _reference_arch.ts, whose row loss states the definition on its own
// ((1 − ε) w[y] (−log p[y]) + (ε / C) Σ_c w[c] (−log p[c]); 'mean' divides by Σ w[y]).
// Many-to-many over ragged sequences with skipped steps (bidirectional), many-to-one,
// one-to-many and encoder-decoder; each option alone and both, summed and averaged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, Random } from '../dist/index.js';
import { encDecLoss, finiteDifferences, lastStateLoss, manyToManyLoss, oneToManyLoss, type LossRef } from './_reference_arch.js';
import { checkGradient, randomStep, refParams, worst } from './_utils.js';

const Grad = suite('gradient check: class weights and label smoothing vs finite differences of an f64 reference');

const n_y = 4;
const WEIGHTS = [0.3, 1.7, 0, 1.1];
const OPTIONS: [string, LossRef][] = [
  ['class weights', { classWeights: WEIGHTS }],
  ['label smoothing', { labelSmoothing: 0.3 }],
  ['both', { classWeights: WEIGHTS, labelSmoothing: 0.15 }],
];

/** Ragged target sequences of class ids, with some steps skipped (−1) and class 2 (weight 0) present. */
function targets(rng: Random, lengths: number[]): number[][] {
  return lengths.map((T, b) => Array.from({ length: T }, (_, t) => (t === 1 && b === 0 ? -1 : t === 0 && b === 1 ? 2 : rng.int(n_y))));
}

OPTIONS.forEach(([label, loss], i) => {
  for (const reduction of ['sum', 'mean'] as const) {
    Grad(`many-to-many lstm bidirectional, tokens, lengths 3, 1, 4 with a skipped step: ${label}, ${reduction}`, async () => {
      const n_x = 5, n_a = 3;
      const model = await createModel({ architecture: 'many-to-many', cell: 'lstm', bidirectional: true, input: 'tokens', n_x, n_a, n_y, reduction, ...loss, seed: 80 + i });
      const rng = new Random(90 + i);
      const lengths = [3, 1, 4];
      const x = lengths.map((T) => Array.from({ length: T }, () => rng.int(n_x)));
      const y = targets(rng, lengths);
      const got = model.computeGradients({ x, y });
      const p = refParams(model);
      const ref = { cell: 'lstm', layers: 1, bidirectional: true, input: 'tokens', output: 'softmax', reduction, loss, n_x, n_a, n_y } as const;
      const want = manyToManyLoss(ref, p, x, y);
      assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `loss ${got.loss} vs ${want}`);
      const expected = finiteDifferences(p, () => manyToManyLoss(ref, p, x, y));
      for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
      model.dispose();
    });
  }
});

Grad('many-to-one gru, dense, lengths 2, 4, 1: both options, mean', async () => {
  const n_x = 3, n_a = 3, loss = OPTIONS[2][1];
  const model = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x, n_a, n_y, reduction: 'mean', ...loss, seed: 100 });
  const rng = new Random(101);
  const x = [2, 4, 1].map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x) as number[]));
  const y = [1, 2, 3];
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = { cell: 'gru', layers: 1, bidirectional: false, input: 'dense', output: 'softmax', reduction: 'mean', loss, n_x, n_a, n_y } as const;
  assert.ok(Math.abs(got.loss - lastStateLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('one-to-many gru L=2, teacher forcing over targets of lengths 3, 1, 4: both options, sum', async () => {
  const n_a = 3, loss = OPTIONS[2][1];
  const model = await createModel({ architecture: 'one-to-many', cell: 'gru', layers: 2, n_a, n_y, ...loss, seed: 102 });
  const rng = new Random(103);
  const first = [3, 1, 4].map(() => rng.int(n_y));
  const y = [3, 1, 4].map((T) => Array.from({ length: T }, () => rng.int(n_y)));
  const got = model.computeGradients({ x: first, y });
  const p = refParams(model);
  const ref = { cell: 'gru', layers: 2, n_a, n_y, output: 'softmax', reduction: 'sum', loss } as const;
  assert.ok(Math.abs(got.loss - oneToManyLoss(ref, p, first, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => oneToManyLoss(ref, p, first, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('encoder-decoder lstm → lstm, identity bridge, tokens; target lengths 2, 3, 1: both options, mean', async () => {
  const n_x = 4, n_a = 3, loss = OPTIONS[2][1];
  const model = await createModel({ architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x, n_y, n_a, reduction: 'mean', startToken: 1, ...loss, seed: 104 });
  const rng = new Random(105);
  const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => rng.int(n_x)));
  const y = [2, 3, 1].map((T) => Array.from({ length: T }, () => rng.int(n_y)));
  y[1][1] = 2;
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = {
    encoder: { cell: 'lstm', layers: 1, bidirectional: false, n_x, n_a, input: 'tokens' }, decoder: { cell: 'lstm', layers: 1, n_a, n_y, output: 'softmax', loss },
    bridge: 'identity', start: 1, reduction: 'mean',
  } as const;
  assert.ok(Math.abs(got.loss - encDecLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('the check can fail: smoothing whose every class weighs 1, or a mean over the count of targets, disagrees', async () => {
  // the two subtle parts of PyTorch's definition, each dropped in turn from the reference
  const n_x = 5, n_a = 3, loss = OPTIONS[2][1];
  const model = await createModel({ architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x, n_a, n_y, reduction: 'mean', ...loss, seed: 106 });
  const rng = new Random(107);
  const x = [[1, 2, 3], [4, 0]], y = targets(rng, [3, 2]);
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const base = { cell: 'gru', layers: 1, bidirectional: false, input: 'tokens', output: 'softmax', reduction: 'mean', n_x, n_a, n_y } as const;
  // (1) class weights on the target term only: smoothing over unweighted classes
  const unweightedSmoothing = (): number => {
    const plain = manyToManyLoss({ ...base, reduction: 'sum', loss: { labelSmoothing: loss.labelSmoothing } }, p, x, y);
    const nll = manyToManyLoss({ ...base, reduction: 'sum', loss: { classWeights: WEIGHTS } }, p, x, y);
    const plainNll = manyToManyLoss({ ...base, reduction: 'sum' }, p, x, y);
    const e = loss.labelSmoothing!;
    const terms = y.flat().reduce((s, t) => s + (t < 0 ? 0 : WEIGHTS[t]), 0);
    return ((1 - e) * nll + (plain - (1 - e) * plainNll)) / terms;
  };
  // (2) the mean over the number of targets, not the sum of their weights
  const countedMean = (): number => manyToManyLoss({ ...base, reduction: 'sum', loss }, p, x, y) / y.flat().filter((t) => t >= 0).length;
  for (const wrong of [unweightedSmoothing, countedMean]) {
    assert.ok(Math.abs(got.loss - wrong()) > 1e-3, `${wrong.name}: the loss should disagree`);
    const expected = finiteDifferences(p, wrong);
    const errs = model.layout.entries.map((e) => worst(got.grads[e.name], expected[e.name], 1e-6).err);
    assert.ok(Math.max(...errs) > 1e-2, `${wrong.name}: the gradients should disagree`);
  }
  model.dispose();
});

Grad.run();

// Gradient check of posWeight (the sigmoid's weight on each output's positive term) and
// ignoreIndex: every parameter's gradient from the wasm forward/backward against central finite
// differences of the f64 composition in _reference_arch.ts, whose row loss states the
// definitions on its own (−(p[k] y log σ(z) + (1 − y) log(1 − σ(z))), with log σ written
// directly; rows whose target is the ignoreIndex left out). Many-to-many over ragged sequences
// (bidirectional), many-to-one, one-to-many and encoder-decoder; summed and averaged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, Random } from '../dist/index.js';
import { encDecLoss, finiteDifferences, lastStateLoss, manyToManyLoss, oneToManyLoss, type LossRef } from './_reference_arch.js';
import { checkGradient, randomStep, refParams, uniforms, worst } from './_utils.js';

const Grad = suite('gradient check: posWeight and ignoreIndex vs finite differences of an f64 reference');

const n_y = 3;
const POS = [0.4, 2.5, 0];
const POS_LOSS: LossRef = { posWeight: POS };

/** n_y targets in [0, 1] (hard and soft), exact in float32. */
function unit(rng: Random): number[] {
  return Array.from({ length: n_y }, () => rng.int(5) / 4);
}

for (const reduction of ['sum', 'mean'] as const) {
  Grad(`posWeight: many-to-many lstm bidirectional, tokens, lengths 3, 1, 4, ${reduction}`, async () => {
    const n_x = 5, n_a = 3;
    const model = await createModel({ architecture: 'many-to-many', cell: 'lstm', bidirectional: true, input: 'tokens', output: 'sigmoid', n_x, n_a, n_y, reduction, posWeight: POS, seed: 120 });
    const rng = new Random(121);
    const lengths = [3, 1, 4];
    const x = lengths.map((T) => Array.from({ length: T }, () => rng.int(n_x)));
    const y = lengths.map((T) => Array.from({ length: T }, () => unit(rng)));
    const got = model.computeGradients({ x, y });
    const p = refParams(model);
    const ref = { cell: 'lstm', layers: 1, bidirectional: true, input: 'tokens', output: 'sigmoid', reduction, loss: POS_LOSS, n_x, n_a, n_y } as const;
    const want = manyToManyLoss(ref, p, x, y);
    assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `loss ${got.loss} vs ${want}`);
    const expected = finiteDifferences(p, () => manyToManyLoss(ref, p, x, y));
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
}

Grad('posWeight: many-to-one gru, dense, lengths 2, 4, 1, mean', async () => {
  const n_x = 3, n_a = 3;
  const model = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x, n_a, n_y, output: 'sigmoid', reduction: 'mean', posWeight: POS, seed: 122 });
  const rng = new Random(123);
  const x = [2, 4, 1].map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x) as number[]));
  const y = x.map(() => unit(rng));
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = { cell: 'gru', layers: 1, bidirectional: false, input: 'dense', output: 'sigmoid', reduction: 'mean', loss: POS_LOSS, n_x, n_a, n_y } as const;
  assert.ok(Math.abs(got.loss - lastStateLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('posWeight: one-to-many gru L=2, teacher forcing over targets of lengths 3, 1, 4, sum', async () => {
  const n_a = 3;
  const model = await createModel({ architecture: 'one-to-many', cell: 'gru', layers: 2, n_a, n_y, output: 'sigmoid', posWeight: POS, seed: 124 });
  const rng = new Random(125);
  const first = [3, 1, 4].map(() => uniforms(rng, n_y));
  const y = [3, 1, 4].map((T) => Array.from({ length: T }, () => unit(rng)));
  const got = model.computeGradients({ x: first, y });
  const p = refParams(model);
  const ref = { cell: 'gru', layers: 2, n_a, n_y, output: 'sigmoid', reduction: 'sum', loss: POS_LOSS } as const;
  assert.ok(Math.abs(got.loss - oneToManyLoss(ref, p, first, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => oneToManyLoss(ref, p, first, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('posWeight: encoder-decoder lstm → lstm, linear bridge, dense; target lengths 2, 3, 1, mean', async () => {
  const n_x = 4, n_a = 3;
  const model = await createModel({
    architecture: 'encoder-decoder', cell: 'lstm', n_x, n_y, n_a, output: 'sigmoid', bridge: 'linear', reduction: 'mean', posWeight: POS, seed: 126,
  });
  const rng = new Random(127);
  const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x) as number[]));
  const y = [2, 3, 1].map((T) => Array.from({ length: T }, () => unit(rng)));
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = {
    encoder: { cell: 'lstm', layers: 1, bidirectional: false, n_x, n_a, input: 'dense' }, decoder: { cell: 'lstm', layers: 1, n_a, n_y, output: 'sigmoid', loss: POS_LOSS },
    bridge: 'linear', start: 0, reduction: 'mean',
  } as const;
  assert.ok(Math.abs(got.loss - encDecLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('the check can fail: posWeight ignored, given to the wrong outputs, or a mean over Σ p, disagrees', async () => {
  const n_x = 5, n_a = 3;
  const model = await createModel({ architecture: 'many-to-many', cell: 'gru', input: 'tokens', output: 'sigmoid', n_x, n_a, n_y, reduction: 'mean', posWeight: POS, seed: 128 });
  const rng = new Random(129);
  const x = [[1, 2, 3], [4, 0]], y = x.map((s) => s.map(() => unit(rng)));
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const base = { cell: 'gru', layers: 1, bidirectional: false, input: 'tokens', output: 'sigmoid', reduction: 'mean', n_x, n_a, n_y } as const;
  const ignored = (): number => manyToManyLoss(base, p, x, y);
  const reversed = (): number => manyToManyLoss({ ...base, loss: { posWeight: [...POS].reverse() } }, p, x, y);
  // torch's mean is over the values, whatever their weights
  const weightedMean = (): number => manyToManyLoss({ ...base, reduction: 'sum', loss: POS_LOSS }, p, x, y) / (x.flat().length * POS.reduce((s, v) => s + v, 0));
  for (const wrong of [ignored, reversed, weightedMean]) {
    assert.ok(Math.abs(got.loss - wrong()) > 1e-3 * got.loss, `${wrong.name}: the loss should disagree`);
    const expected = finiteDifferences(p, wrong);
    const errs = model.layout.entries.map((e) => worst(got.grads[e.name], expected[e.name], 1e-6).err);
    assert.ok(Math.max(...errs) > 1e-2, `${wrong.name}: the gradients should disagree`);
  }
  model.dispose();
});

const WEIGHTS = [0.3, 1.7, 0, 1.1];
const IGNORED: [string, LossRef][] = [
  ['ignoreIndex −100', { ignoreIndex: -100 }],
  ['ignoreIndex 1 (a class), class weights and smoothing', { ignoreIndex: 1, classWeights: WEIGHTS, labelSmoothing: 0.15 }],
];

IGNORED.forEach(([label, loss], i) => {
  Grad(`many-to-many lstm bidirectional, tokens, lengths 3, 1, 4, ignored targets inside: ${label}, mean`, async () => {
    const n_x = 5, n_a = 3, C = 4;
    const model = await createModel({ architecture: 'many-to-many', cell: 'lstm', bidirectional: true, input: 'tokens', n_x, n_a, n_y: C, reduction: 'mean', ...loss, seed: 130 + i });
    const rng = new Random(131 + i);
    const lengths = [3, 1, 4];
    const x = lengths.map((T) => Array.from({ length: T }, () => rng.int(n_x)));
    const y = lengths.map((T) => Array.from({ length: T }, () => rng.int(C)));
    y[0][1] = y[2][2] = loss.ignoreIndex === -100 ? -100 : 1;
    y[2][0] = -1;   // skipped whatever the ignoreIndex
    const got = model.computeGradients({ x, y });
    const p = refParams(model);
    const ref = { cell: 'lstm', layers: 1, bidirectional: true, input: 'tokens', output: 'softmax', reduction: 'mean', loss, n_x, n_a, n_y: C } as const;
    const want = manyToManyLoss(ref, p, x, y);
    assert.ok(Math.abs(got.loss - want) < 1e-5 * Math.max(1, want), `loss ${got.loss} vs ${want}`);
    const expected = finiteDifferences(p, () => manyToManyLoss(ref, p, x, y));
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

Grad('one-to-many gru: an ignored class inside a target sequence is skipped as a target and read as the next input; sum', async () => {
  const n_a = 3, C = 4, loss = { ignoreIndex: 2, labelSmoothing: 0.2 };
  const model = await createModel({ architecture: 'one-to-many', cell: 'gru', n_a, n_y: C, ...loss, seed: 134 });
  const first = [1, 3, 0];
  const y = [[2, 1, 2], [0], [3, 2, 2, 1]];
  const got = model.computeGradients({ x: first, y });
  const p = refParams(model);
  const ref = { cell: 'gru', layers: 1, n_a, n_y: C, output: 'softmax', reduction: 'sum', loss } as const;
  assert.ok(Math.abs(got.loss - oneToManyLoss(ref, p, first, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => oneToManyLoss(ref, p, first, y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  // the check can fail: targets of class 2 scored
  const scored = (): number => oneToManyLoss({ ...ref, loss: { labelSmoothing: 0.2 } }, p, first, y);
  assert.ok(Math.abs(got.loss - scored()) > 1e-3, 'scoring the ignored class should disagree');
  model.dispose();
});

Grad.run();

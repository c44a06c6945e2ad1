// Gradient check of the architectures' wiring: every parameter's gradient from the wasm
// forward/backward of each architecture against central finite differences of the f64
// composition in _reference_arch.ts (per sequence, so ragged batches are checked as they are
// meant: each sequence on its own). Covers the last-state head, the teacher-forced decoder,
// the identity and linear bridges, LSTM cell states crossing from encoder to decoder,
// bidirectional encoders, stacked layers, every output and both reductions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, Random, type EncoderDecoderConfig } from '../dist/index.js';
import { encDecLoss, finiteDifferences, lastStateLoss, oneToManyLoss } from './_reference_arch.js';
import { checkGradient, randomStep, randomTarget, refParams, uniforms, worst, modelConfig } from './_utils.js';

type Output = 'softmax' | 'sigmoid' | 'linear';
type Cell = 'rnn' | 'lstm' | 'gru';

const Grad = suite('gradient check: the five architectures vs finite differences of an f64 composition');

const lastStateCases = [
  { cell: 'rnn', layers: 1, bidirectional: false, input: 'dense', output: 'softmax', reduction: 'sum', lengths: [3, 1, 4] },
  { cell: 'lstm', layers: 2, bidirectional: false, input: 'tokens', output: 'sigmoid', reduction: 'mean', lengths: [2, 4] },
  { cell: 'gru', layers: 1, bidirectional: true, input: 'dense', output: 'linear', reduction: 'sum', lengths: [4, 2, 3] },
  { cell: 'lstm', layers: 2, bidirectional: true, input: 'dense', output: 'softmax', reduction: 'mean', lengths: [1, 3] },
] as const;

lastStateCases.forEach((c, i) => {
  Grad(`many-to-one ${c.cell} L=${c.layers}${c.bidirectional ? ' bi' : ''} ${c.input}/${c.output}/${c.reduction}, lengths ${c.lengths}`, async () => {
    const n_x = 3, n_a = 3, n_y = 3;
    const model = await createModel({ architecture: 'many-to-one', ...modelConfig(c), n_x, n_a, n_y, seed: 10 + i });
    const rng = new Random(20 + i);
    const x = c.lengths.map((T) => Array.from({ length: T }, () => randomStep(rng, c.input, n_x)));
    const y = c.lengths.map(() => randomTarget(rng, c.output, n_y));
    const got = model.computeGradients({ x, y } as any);
    const p = refParams(model);
    const ref = { ...c, n_x, n_a, n_y };
    assert.ok(Math.abs(got.loss - lastStateLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
    const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x, y));
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

Grad('one-to-one lstm L=2 dense/softmax: the one step and the head', async () => {
  const n_x = 2, n_a = 4, n_y = 3;
  const model = await createModel({ architecture: 'one-to-one', cell: 'lstm', layers: 2, n_x, n_a, n_y, seed: 3 });
  const rng = new Random(4);
  const x = Array.from({ length: 5 }, () => uniforms(rng, n_x, 1.5));
  const y = x.map(() => rng.int(n_y));
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = { cell: 'lstm', layers: 2, bidirectional: false, input: 'dense', output: 'softmax', reduction: 'sum', n_x, n_a, n_y } as const;
  const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x.map((v) => [v]), y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

const oneToManyCases = [
  { cell: 'gru', layers: 2, output: 'softmax', reduction: 'sum' },
  { cell: 'lstm', layers: 1, output: 'linear', reduction: 'mean' },
  { cell: 'rnn', layers: 1, output: 'sigmoid', reduction: 'sum' },
] as const;

oneToManyCases.forEach((c, i) => {
  Grad(`one-to-many ${c.cell} L=${c.layers} ${c.output}/${c.reduction}: teacher forcing over targets of lengths 3, 1, 4`, async () => {
    const n_a = 3, n_y = 4;
    const model = await createModel({ architecture: 'one-to-many', ...c, n_a, n_y, seed: 30 + i });
    const rng = new Random(40 + i);
    const first = [3, 1, 4].map(() => (c.output === 'softmax' ? rng.int(n_y) : uniforms(rng, n_y)));
    const y = [3, 1, 4].map((T) => Array.from({ length: T }, () => randomTarget(rng, c.output, n_y)));
    const got = model.computeGradients({ x: first, y } as any);
    const p = refParams(model);
    assert.ok(Math.abs(got.loss - oneToManyLoss({ ...c, n_a, n_y }, p, first, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
    const expected = finiteDifferences(p, () => oneToManyLoss({ ...c, n_a, n_y }, p, first, y));
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

const encDecCases = [
  { name: 'gru → gru, identity bridge, tokens → softmax', enc: { cell: 'gru' as Cell, layers: 1, bidirectional: false }, dec: { cell: 'gru' as Cell, layers: 1 }, input: 'tokens', output: 'softmax', reduction: 'sum' },
  { name: 'lstm → lstm L=2, identity bridge (h and c cross), dense → softmax, mean', enc: { cell: 'lstm' as Cell, layers: 2, bidirectional: false }, dec: { cell: 'lstm' as Cell, layers: 2 }, input: 'dense', output: 'softmax', reduction: 'mean' },
  { name: 'bidirectional lstm → lstm, linear bridge, tokens → softmax', enc: { cell: 'lstm' as Cell, layers: 1, bidirectional: true }, dec: { cell: 'lstm' as Cell, layers: 1 }, input: 'tokens', output: 'softmax', reduction: 'sum' },
  { name: 'rnn L=2 → gru, linear bridge, dense → linear', enc: { cell: 'rnn' as Cell, layers: 2, bidirectional: false }, dec: { cell: 'gru' as Cell, layers: 1 }, input: 'dense', output: 'linear', reduction: 'sum' },
  { name: 'gru → lstm, identity bridge (c0 = 0), tokens → sigmoid', enc: { cell: 'gru' as Cell, layers: 1, bidirectional: false }, dec: { cell: 'lstm' as Cell, layers: 1 }, input: 'tokens', output: 'sigmoid', reduction: 'sum' },
] as const;

encDecCases.forEach((c, i) => {
  Grad(`encoder-decoder ${c.name}; source lengths 3, 1, 4 and target lengths 2, 3, 1`, async () => {
    const n_x = 4, n_y = 3, n_a = 3;
    const model = await createModel({
      architecture: 'encoder-decoder', n_x, n_y, n_a, input: c.input, output: c.output, reduction: c.reduction,
      encoder: c.enc, decoder: c.dec, startToken: c.output === 'softmax' ? 1 : undefined, seed: 50 + i,
    } as EncoderDecoderConfig);
    assert.is(model.config.bridge, c.enc.bidirectional || c.enc.layers !== c.dec.layers ? 'linear' : 'identity');
    const rng = new Random(60 + i);
    const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => randomStep(rng, c.input, n_x)));
    const y = [2, 3, 1].map((T) => Array.from({ length: T }, () => randomTarget(rng, c.output, n_y)));
    const got = model.computeGradients({ x, y } as any);
    const p = refParams(model);
    const ref = {
      encoder: { ...c.enc, n_x, n_a, input: c.input }, decoder: { ...c.dec, n_a, n_y, output: c.output },
      bridge: model.config.bridge, start: 1, reduction: c.reduction,
    };
    assert.ok(Math.abs(got.loss - encDecLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), `loss ${got.loss} vs ${encDecLoss(ref, p, x, y)}`);
    const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

Grad('the check can fail: a bridge gradient taken at other weights disagrees with finite differences', async () => {
  // guards the comparison itself, on the longest path (decoder → bridge → encoder)
  const model = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 4, n_y: 3, n_a: 3, encoder: { bidirectional: true }, startToken: 1, seed: 70 });
  const x = [[1, 2, 3], [0]], y = [[2, 0], [1]];
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  p['bridge.weight'][0] += 0.3;
  const ref = {
    encoder: { cell: 'rnn', layers: 1, bidirectional: true, n_x: 4, n_a: 3, input: 'tokens' }, decoder: { cell: 'rnn', layers: 1, n_a: 3, n_y: 3, output: 'softmax' },
    bridge: 'linear', start: 1, reduction: 'sum',
  } as const;
  const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
  const errs = model.layout.entries.map((e) => worst(got.grads[e.name], expected[e.name], 1e-6).err);
  assert.ok(Math.max(...errs) > 1e-3, 'a perturbed reference should disagree');
  model.dispose();
});

Grad.run();

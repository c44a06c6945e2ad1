// Edges: a refused call leaves the training state as it was, batches of more sequences than
// the call stack holds arguments, and messages about unbounded ranges.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN } from '../dist/index.js';
import { curveSVG } from '../dist/cli/curve.js';
import { throwsWith } from './_utils.js';

const Refused = suite('a refused trainStep changes nothing');

Refused('a bad batch with another optimizer keeps the Adam state; a non-finite gradient keeps it too', async () => {
  const m = await createRNN({ n_x: 2, n_a: 4, n_y: 2, output: 'linear', seed: 1 });
  const batch = { x: [[[0, 1], [1, 0]]], y: [[[1, 0], [0, 1]]] };
  for (let i = 0; i < 5; i++) m.trainStep(batch, { optimizer: 'adam' });
  const before = m.getTrainingState();
  // a NaN input, asked for with SGD: refused before the optimizer is touched
  throwsWith(() => m.trainStep({ ...batch, x: [[[0, NaN], [1, 0]]] }, { optimizer: 'sgd' }), RangeError, /x\[0\] step 0 feature 1 is NaN/);
  assert.equal(m.getTrainingState(), before, 'the Adam moments and step count are kept');
  // a gradient that overflows f32, with another optimizer: refused, naming the step that optimizer would have taken
  const w = m.getWeights();
  m.setParam('head.bias', new Float32Array(2).fill(3e38));
  throwsWith(() => m.trainStep({ ...batch, y: [[[-3e38, 0], [0, 1]]] }, { optimizer: 'rmsprop' }), RangeError, /at optimizer step 1; the weights were left unchanged/);
  m.setWeights(w);
  assert.equal(m.getTrainingState(), before, 'still the Adam state');
  m.dispose();
});

Refused('a fresh model refused a batch has no optimizer state afterwards (nothing allocated for it)', async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const bytes = m.memoryBytes, state = m.getTrainingState();
  throwsWith(() => m.trainStep({ x: [[[0, 1]]], y: [2] }), RangeError, /y\[0\] = 2 is out of range/);
  assert.is(m.memoryBytes, bytes);
  assert.equal(m.getTrainingState(), state);
  m.dispose();
});

Refused.run();

// ---

const Many = suite('more sequences than the call stack holds arguments');

Many('forward, trainStep and evaluate take a batch of 200 000 sequences of ragged lengths', async () => {
  const B = 200_000;
  const x = Array.from({ length: B }, (_, b) => b % 3 === 0 ? [0, 1] : [1]);
  const y = x.map((s) => s.map((t) => 1 - t));
  const m = await createRNN({ n_x: 2, n_a: 2, n_y: 2, input: 'tokens', seed: 1 });
  assert.equal(m.forward({ x }).lengths.slice(0, 3), [2, 1, 1]);
  assert.ok(Number.isFinite(m.trainStep({ x, y }).loss));
  assert.ok(Number.isFinite(m.evaluate({ x, y }, { batchSize: B }).loss));
  const o = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 2, n_y: 2, input: 'tokens', seed: 1 });
  assert.ok(Number.isFinite(o.trainStep({ x, y: x.map((s) => s.length - 1) }).loss));
  m.dispose();
  o.dispose();
});

Many("the CLI's learning curve of 200 000 logged steps", () => {
  const rows = Array.from({ length: 200_000 }, (_, i) => ({
    step: i + 1, epoch: 1, tokens: 32 * (i + 1), trainLoss: 2 - i / 2e5, heldOutLoss: 2.1 - i / 2e5, learningRate: 1e-3, tokensPerSecond: 1e4,
  }));
  const svg = curveSVG(rows as any, 'a long run', 'char');
  assert.ok(svg.startsWith('<svg') && svg.includes('200000'), svg.slice(0, 80));
});

Many.run();

// ---

const Messages = suite('messages about ranges without an upper end');

Messages('a number that must be ≥ 0 says so, not "in [0, Infinity]"', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1 });
  const batch = { x: [[0, 1]], y: [[1, 2]] };
  throwsWith(() => m.trainStep(batch, { learningRate: Infinity }), RangeError, /^trainStep: learningRate must be a finite number ≥ 0, got Infinity$/);
  throwsWith(() => m.trainStep(batch, { clipNorm: -1 }), RangeError, /^trainStep: clipNorm must be a finite number ≥ 0, got -1$/);
  throwsWith(() => m.beamSearch({ prefix: [0], maxLength: 2, beamWidth: 2, lengthPenalty: NaN }), RangeError, /lengthPenalty must be a finite number ≥ 0, got NaN$/);
  m.dispose();
});

Messages.run();

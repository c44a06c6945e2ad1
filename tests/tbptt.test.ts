// Truncated BPTT: windows of k steps, one optimizer step each, the state carried across as
// data. A window as long as the batch is full BPTT, bit for bit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { checkClose, checkSame, uniforms } from './_utils.js';

const Tbptt = suite('truncated BPTT');

const cells = ['rnn', 'lstm', 'gru'] as const;
const n_x = 3, n_a = 5, n_y = 4;

/** B dense sequences of the given lengths, with class targets. */
function batchOf(rng: Random, lengths: number[]) {
  return {
    x: lengths.map((T) => Array.from({ length: T }, () => uniforms(rng, n_x))),
    y: lengths.map((T) => Array.from({ length: T }, () => rng.int(n_y))),
  };
}

for (const cell of cells) {
  Tbptt(`${cell}: a window as long as the sequence is full BPTT (same weights, bit for bit)`, async () => {
    for (const lengths of [[12, 12, 12], [12, 5, 9]]) {
      for (const k of [12, 20]) {
        const config = { cell, n_x, n_a, n_y, layers: 2, seed: 3 };
        const full = await createRNN(config), windowed = await createRNN(config);
        const rng = new Random(1);
        for (let step = 0; step < 4; step++) {
          const batch = batchOf(rng, lengths);
          const a = full.trainStep(batch, { learningRate: 0.02, clipNorm: 1 });
          const b = windowed.trainStep(batch, { learningRate: 0.02, clipNorm: 1, tbptt: k });
          assert.is(b.loss, a.loss);
          assert.is(b.steps, 1);
        }
        checkSame(`lengths ${lengths}, k = ${k}`, windowed.getWeights(), full.getWeights());
        full.dispose(); windowed.dispose();
      }
    }
  });

  Tbptt(`${cell}: each window is a step from the state the last one ended in, with no gradient across`, async () => {
    // emulated by hand: forward a window from the carried state to get the next state, then
    // train on that window with the carried state as a constant a0 (and c0)
    const config = { cell, n_x, n_a, n_y, layers: 2, reduction: 'mean', seed: 4 } as const;
    const tbptt = await createRNN(config), manual = await createRNN(config);
    const options = { optimizer: { type: 'sgd', momentum: 0.9 }, learningRate: 0.1 } as const;
    const rng = new Random(2);
    const T = 11, k = 4;
    for (let step = 0; step < 2; step++) {
      const batch = batchOf(rng, [T, T, T]);
      const r = tbptt.trainStep(batch, { ...options, tbptt: k });
      assert.is(r.steps, 3);
      let a0: Float32Array | undefined, c0: Float32Array | undefined;
      for (let t0 = 0; t0 < T; t0 += k) {
        const win = { x: batch.x.map((s) => s.slice(t0, t0 + k)), y: batch.y.map((s) => s.slice(t0, t0 + k)), a0, c0 };
        const f = manual.forward(win);
        manual.trainStep(win, options);
        a0 = f.aT;
        c0 = f.cT;
      }
    }
    checkSame('weights', tbptt.getWeights(), manual.getWeights());
    tbptt.dispose(); manual.dispose();
  });

  Tbptt(`${cell}: the state is carried exactly: with learning rate 0 the windows' losses add up to the whole sequence's (ragged too)`, async () => {
    for (const reduction of ['sum', 'mean'] as const) {
      const m = await createRNN({ cell, n_x, n_a, n_y, layers: 2, reduction, seed: 5 });
      const rng = new Random(3);
      const batch = batchOf(rng, [13, 3, 8, 13]);
      const a0 = uniforms(rng, 2 * 4 * n_a, 0.5);
      const c0 = cell === 'lstm' ? uniforms(rng, 2 * 4 * n_a, 0.5) : undefined;
      const whole = m.forward({ ...batch, a0, c0 }).loss!;
      for (const k of [1, 3, 5]) {
        const r = m.trainStep({ ...batch, a0, c0 }, { optimizer: 'sgd', learningRate: 0, tbptt: k });
        checkClose(`${reduction}, k = ${k}`, [r.loss], [whole], 1e-5);
        assert.is(r.steps, Math.ceil(13 / k));
      }
      m.dispose();
    }
  });
}

Tbptt('a truncated gradient differs from the full one: the window boundary cuts it', async () => {
  const config = { cell: 'rnn', n_x, n_a, n_y, seed: 6 } as const;
  const full = await createRNN(config), cut = await createRNN(config);
  const batch = batchOf(new Random(4), [10, 10]);
  full.trainStep(batch, { optimizer: 'sgd', learningRate: 0.1 });
  // one window of 5 steps, then one more whose gradient must not reach the first five
  cut.trainStep(batch, { optimizer: 'sgd', learningRate: 0.1, tbptt: 5 });
  assert.ok(full.getWeights().some((w, i) => w !== cut.getWeights()[i]));
  full.dispose(); cut.dispose();
});

Tbptt('refused where it has no meaning, before anything runs', async () => {
  const bi = await createRNN({ n_x, n_a, n_y, bidirectional: true, seed: 7 });
  const batch = batchOf(new Random(5), [6, 6]);
  const w = bi.getWeights();
  assert.throws(() => bi.trainStep(batch, { tbptt: 3 }), (e: Error) => e instanceof TypeError && /trainStep: tbptt needs a one-directional model/.test(e.message));
  assert.throws(() => bi.trainStep(batch, { tbptt: 0 }), (e: Error) => e instanceof RangeError && /trainStep: tbptt must be an integer ≥ 1, got 0/.test(e.message));
  checkSame('weights', bi.getWeights(), w);
  bi.dispose();
});

Tbptt('a non-finite window stops the batch there, names the window, and keeps the steps before it', async () => {
  const m = await createRNN({ n_x, n_a, n_y, output: 'linear', activation: 'relu', seed: 8 });
  const rng = new Random(6);
  const batch = { x: [Array.from({ length: 9 }, () => uniforms(rng, n_x))], y: [Array.from({ length: 9 }, () => uniforms(rng, n_y))] };
  batch.x[0][6] = [3e38, 3e38, 3e38];           // overflows in the third window
  m.setParam('W_ax', new Float32Array(n_a * n_x).fill(1e3));
  const before = m.getWeights();
  try {
    m.trainStep(batch, { optimizer: 'sgd', learningRate: 1e-6, tbptt: 3 });
    assert.unreachable('did not throw');
  } catch (e) {
    assert.instance(e, RangeError);
    assert.match((e as Error).message, /trainStep: the (loss is (NaN|Infinity)|gradient of \S+ has (NaN|-?Infinity) at index \d+) at optimizer step 3 \(the window of time steps 6\.\.8\); the weights are those of optimizer step 2, the last good one/);
  }
  const after = m.getWeights();
  assert.ok(after.every(Number.isFinite), 'no weight was poisoned');
  assert.ok(after.some((w, i) => w !== before[i]), 'the first two windows were applied');
  const skipped = m.trainStep(batch, { optimizer: 'sgd', learningRate: 1e-6, tbptt: 3, onNonFinite: 'skip' });
  assert.equal([skipped.steps, skipped.skipped, skipped.applied], [2, 1, false]);
  m.dispose();
});

Tbptt.run();

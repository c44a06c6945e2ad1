// Packed sequences: a ragged batch runs through the recurrent stack longest first, and each step
// computes only the sequences still running (assembly/cells.ts: active_rows; src/stack.ts).
// For every cell, one and two directions, two layers, and every architecture that takes ragged
// input, on lengths in no order: outputs, the loss and every gradient equal the sums over the
// examples run one at a time; the reordering is invisible (a batch the test sorts itself gives
// the same results, example by example); and the kernels compute Σ_b len_b rows per pass, not
// T·B, and M_t rows at step t when the lengths are in no order.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createModel, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, randomStep, randomTarget } from './_utils.js';

type Cell = 'rnn' | 'lstm' | 'gru';
type Data = { x: unknown[]; y: unknown[] };
interface Model {
  forward(batch: Data): { yhat: Float32Array; loss?: number };
  computeGradients(batch: Data): { loss: number; grads: Record<string, Float32Array> };
  dispose(): void;
}

const Packed = suite('packed sequences: ragged batches skip their padding');

const n_x = 5, n_a = 4, n_y = 3;
const lengths = [2, 6, 1, 4, 6, 3];          // in no order, with a tie
const targetLengths = [3, 1, 4, 2, 2, 5];    // the encoder-decoder's and one-to-many's targets

/** Each architecture that reads ragged sequences, its config for a cell, and its examples. */
const architectures = [
  {
    name: 'many-to-many', directions: [false, true],
    config: (cell: Cell, bidirectional: boolean) => ({ architecture: 'many-to-many', cell, layers: 2, bidirectional, n_x, n_a, n_y, input: 'dense', reduction: 'sum' }),
    data: (rng: Random): Data => ({
      x: lengths.map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x))),
      y: lengths.map((T) => Array.from({ length: T }, () => randomTarget(rng, 'softmax', n_y))),
    }),
  },
  {
    name: 'many-to-one', directions: [false, true],
    config: (cell: Cell, bidirectional: boolean) => ({ architecture: 'many-to-one', cell, layers: 2, bidirectional, n_x, n_a, n_y, input: 'tokens', output: 'linear', reduction: 'sum' }),
    data: (rng: Random): Data => ({
      x: lengths.map((T) => Array.from({ length: T }, () => randomStep(rng, 'tokens', n_x))),
      y: lengths.map(() => randomTarget(rng, 'linear', n_y)),
    }),
  },
  {
    name: 'encoder-decoder with attention', directions: [false, true],
    config: (cell: Cell, bidirectional: boolean) => ({
      architecture: 'encoder-decoder', n_x, n_y, n_a, input: 'tokens', output: 'softmax', reduction: 'sum', attention: 'general', startToken: 0,
      encoder: { cell, layers: 2, bidirectional }, decoder: { cell, layers: 2 },
    }),
    data: (rng: Random): Data => ({
      x: lengths.map((T) => Array.from({ length: T }, () => randomStep(rng, 'tokens', n_x))),
      y: targetLengths.map((T) => Array.from({ length: T }, () => randomTarget(rng, 'softmax', n_y))),
    }),
  },
  {
    name: 'one-to-many', directions: [false],
    config: (cell: Cell) => ({ architecture: 'one-to-many', cell, layers: 2, n_a, n_y, output: 'linear', reduction: 'sum' }),
    data: (rng: Random): Data => ({
      x: targetLengths.map(() => randomTarget(rng, 'linear', n_y)),
      y: targetLengths.map((T) => Array.from({ length: T }, () => randomTarget(rng, 'linear', n_y))),
    }),
  },
] as const;

/** The examples at these positions, in this order. */
function pick(data: Data, order: number[]): Data {
  return { x: order.map((b) => data.x[b]), y: order.map((b) => data.y[b]) };
}

/** Example b's outputs in a batch's yhat: the first `n` of its slot (the rest is padding). */
function slot(yhat: Float32Array, B: number, b: number, n: number): Float32Array {
  const per = yhat.length / B;
  return yhat.subarray(b * per, b * per + n);
}

/** Every gradient within rtol of the expected, relative to the tensor's largest entry (f32 sums
 *  of the same terms in another order differ by that much, not elementwise where they cancel). */
function checkGrads(label: string, got: Record<string, Float32Array>, expected: Record<string, ArrayLike<number>>, rtol: number): void {
  assert.equal(Object.keys(got).sort(), Object.keys(expected).sort(), `${label}: the same parameters`);
  for (const name of Object.keys(expected)) {
    const scale = Math.max(...Array.from(expected[name], Math.abs), 1e-6);
    checkClose(`${label}: grad ${name}`, got[name], expected[name], rtol, scale);
  }
}

/** A batch's outputs, its loss and every gradient against the sums over its examples run alone. */
function checkAgainstAlone(label: string, model: Model, data: Data): void {
  const B = data.x.length;
  const batch = model.forward(data);
  const grads = model.computeGradients(data);
  let loss = 0;
  const summed: Record<string, Float64Array> = {};
  for (let b = 0; b < B; b++) {
    const one = pick(data, [b]);
    const alone = model.forward(one);
    checkClose(`${label}: yhat of example ${b}`, slot(batch.yhat, B, b, alone.yhat.length), alone.yhat, 1e-5, 1e-3);
    const g = model.computeGradients(one);
    loss += g.loss;
    for (const [name, values] of Object.entries(g.grads)) {
      summed[name] ??= new Float64Array(values.length);
      values.forEach((u, i) => { summed[name][i] += u; });
    }
  }
  checkClose(`${label}: loss`, [grads.loss, batch.loss!], [loss, loss], 1e-5);
  checkGrads(label, grads.grads, summed, 1e-5);
}

for (const arch of architectures) {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    for (const bidirectional of arch.directions) {
      const label = `${arch.name} ${cell} L=2${bidirectional ? ' bi' : ''}`;

      Packed(`${label}: lengths in no order = each example alone`, async () => {
        const model = await createModel({ ...arch.config(cell, bidirectional), seed: 3 } as never) as unknown as Model;
        checkAgainstAlone(label, model, arch.data(new Random(7)));
        model.dispose();
      });

      Packed(`${label}: the reordering is invisible (a batch sorted by the caller gives the same, example by example)`, async () => {
        const model = await createModel({ ...arch.config(cell, bidirectional), seed: 4 } as never) as unknown as Model;
        const data = arch.data(new Random(8));
        const B = data.x.length;
        const longest = lengths.map((_, b) => b).sort((p, q) => lengths[q] - lengths[p] || p - q);
        const sorted = pick(data, longest);
        const a = model.forward(data), s = model.forward(sorted);
        longest.forEach((b, i) => {
          checkSame(`${label}: yhat of example ${b}`, slot(a.yhat, B, b, a.yhat.length / B), slot(s.yhat, B, i, s.yhat.length / B));
        });
        checkClose(`${label}: loss`, [model.computeGradients(data).loss], [model.computeGradients(sorted).loss], 1e-6);
        checkGrads(label, model.computeGradients(data).grads, model.computeGradients(sorted).grads, 1e-6);
        model.dispose();
      });
    }
  }
}

Packed('many-to-many with dropout between layers and before the head: a seed fixes the masks, drawn in length order', async () => {
  const config = { architecture: 'many-to-many', cell: 'lstm', layers: 2, bidirectional: true, n_x, n_a, n_y, dropout: 0.5, outputDropout: 0.3, reduction: 'sum', seed: 5 };
  const data = architectures[0].data(new Random(9));
  const run = async () => {
    const model = await createModel(config as never) as unknown as Model;
    const g = model.computeGradients(data);
    model.dispose();
    return g;
  };
  const [a, b] = [await run(), await run()];
  checkSame('loss', [a.loss], [b.loss]);
  for (const name of Object.keys(a.grads)) checkSame(`grad ${name}`, a.grads[name], b.grads[name]);
});

Packed('truncated BPTT: each window runs in its own length order, the carried state in the caller\'s order', async () => {
  // windows of 2 steps cut the lengths [2, 6, 1, 4, 6, 3] into [2, 2, 1, 2, 2, 2], [0, 2, 0, 2, 2, 1], …:
  // a different order in every window, so the state carried between them must cross in the caller's order
  const config = { architecture: 'many-to-many', cell: 'lstm', layers: 2, n_x, n_a, n_y, input: 'dense', reduction: 'mean', seed: 6 };
  const data = architectures[0].data(new Random(10));
  const longest = lengths.map((_, b) => b).sort((p, q) => lengths[q] - lengths[p] || p - q);
  const options = { optimizer: 'sgd', learningRate: 0.5, tbptt: 2 };
  type Trainable = Model & { trainStep(batch: Data, options: object): { loss: number; steps: number }; getWeights(): Float32Array };
  const [a, b] = [await createModel(config as never), await createModel(config as never)] as unknown as Trainable[];
  for (let step = 0; step < 2; step++) {
    const ra = a.trainStep(data, options), rb = b.trainStep(pick(data, longest), options);
    assert.is(ra.steps, 3);
    checkClose(`step ${step}: loss`, [ra.loss], [rb.loss], 1e-6);
  }
  checkClose('weights', a.getWeights(), b.getWeights(), 1e-5, 1e-2);
  a.dispose(); b.dispose();
});

Packed('a batch of 70 (past the 64 rows of the dot-product path) with lengths in no order = each example alone', async () => {
  const model = await createModel({ architecture: 'many-to-many', cell: 'gru', layers: 2, bidirectional: true, n_x, n_a, n_y, reduction: 'sum', seed: 8 } as never) as unknown as Model;
  const rng = new Random(11);
  const lens = Array.from({ length: 70 }, () => 1 + rng.int(9));
  const data = {
    x: lens.map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x))),
    y: lens.map((T) => Array.from({ length: T }, () => randomTarget(rng, 'softmax', n_y))),
  };
  checkAgainstAlone('B = 70', model, data);
  model.dispose();
});

// ---

const Kernels = suite('packed sequences: the rows the kernels compute');

Kernels('many-to-many, 2 layers, bidirectional: a pass computes Σ len_b rows per cell, in any order of lengths', async () => {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    const model = await createModel({ ...architectures[0].config(cell, true), seed: 1 } as never) as unknown as Model;
    const { kernels } = model as unknown as { kernels: { recurrent_rows(reset: number): number } };   // the model's own
    const data = architectures[0].data(new Random(2));
    const cells = 2 * 2, real = lengths.reduce((s, n) => s + n, 0);
    kernels.recurrent_rows(1);
    model.forward(data);
    assert.is(kernels.recurrent_rows(1) >>> 0, cells * real, `${cell} forward: ${cells} cells × ${real} real steps (T·B = ${6 * lengths.length})`);
    model.computeGradients(data);
    assert.is(kernels.recurrent_rows(1) >>> 0, 2 * cells * real, `${cell} forward and backward`);
    model.dispose();
  }
});

Kernels('each cell kernel, called with lengths in no order, computes M_t = 1 + the last running row at step t', async () => {
  const { kernels: k } = await getEngine('simd');
  const arena = new Arena(k);
  const lens = [1, 4, 2], T = 4, B = 3, nx = 2, H = 3;
  const expected = [3, 3, 2, 2].reduce((s, m) => s + m, 0);     // t = 0: rows 0..2; t = 2: rows 0..1
  const f32 = (n: number) => { const r = arena.alloc(n, 'test'); k.zero_f32(r.ptr, n); return r; };
  const L = arena.alloc(B, 'test');
  arena.i32(L, 0, B).set(lens);
  const X = f32(T * B * nx), W = f32(4 * H * Math.max(nx, H)), b = f32(4 * H);
  const A = f32((T + 1) * B * H), C = f32((T + 1) * B * H), TC = f32(T * B * H), G = f32(T * B * 4 * H), Hn = f32(T * B * H), S = f32(B * 3 * H);
  const runs: Record<string, () => void> = {
    rnn: () => k.rnn_forward(A.ptr, X.ptr, 0, 0, W.ptr, W.ptr, b.ptr, b.ptr, L.ptr, T, B, nx, H, 0, 0),
    lstm: () => k.lstm_forward(A.ptr, C.ptr, TC.ptr, G.ptr, X.ptr, 0, 0, W.ptr, W.ptr, b.ptr, b.ptr, L.ptr, T, B, nx, H, 0),
    gru: () => k.gru_forward(A.ptr, G.ptr, Hn.ptr, S.ptr, X.ptr, 0, 0, W.ptr, W.ptr, b.ptr, b.ptr, L.ptr, T, B, nx, H, 1, 0),
  };
  for (const [name, run] of Object.entries(runs)) {
    k.recurrent_rows(1);
    run();
    assert.is(k.recurrent_rows(1) >>> 0, expected, name);
  }
  k.recurrent_rows(1);
  k.rnn_forward(A.ptr, X.ptr, 0, 0, W.ptr, W.ptr, b.ptr, b.ptr, 0, T, B, nx, H, 0, 0);
  assert.is(k.recurrent_rows(1) >>> 0, T * B, 'no lengths: every row');
  arena.dispose();
});

Packed.run();
Kernels.run();

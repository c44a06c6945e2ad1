// Padding never reaches a result, whatever the weights. Each case sets weights under which the
// padded steps of a ragged batch overflow — to Inf, and then to NaN through Inf − Inf or 0·Inf
// — while every sequence run alone stays finite; the padded batch's loss and every gradient
// must then be finite and equal to the sums over the sequences alone. For every cell (vanilla
// tanh and ReLU, LSTM, GRU in both forms), stacked and bidirectional, in the sequence model,
// many-to-one and the encoder-decoder. Below the models, the cell kernels themselves: padded
// rows of every forward buffer are exact zeros, and any gradient arriving at a padded row
// (even NaN) changes no result of the backward pass.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createModel, createRNN, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, uniforms } from './_utils.js';

const M = 3e38;     // near the largest f32: two such terms overflow

type CellCase = { cell: 'rnn' | 'lstm' | 'gru'; activation?: 'relu'; resetAfter?: false; name: string };

/** Per-gate values of layer 0's tensors (n_x = 1, n_a = 2), and each sequence's input value.
 *  relu:        a<t> = relu(x + 4 a<t−1>) grows 4× per padded step (x = 0) to Inf.
 *  tanh, lstm:  the input cancels the biases in real steps (x = 1: −M + M + M = M); padded
 *               steps give M + M = Inf, and W_hh a<t−1> = −Inf once a > 0: Inf − Inf = NaN.
 *  gru:         W_hn h overflows once h is large (after the one real step of x = −1: z = 0,
 *               n = tanh(3)); the backward multiplies that Inf by a zero gradient. Longer
 *               sequences (x = 1) have z = 1 exactly, so h stays 0 and no gradient grows.
 *               The reset-before form stores r ⊙ h instead, which cannot overflow; it is
 *               checked all the same. */
function poison(c: CellCase) {
  switch (c.name) {
    case 'rnn relu': return { ih: [1], hh: [2], bih: [0], bhh: [0], input: (len: number) => (len < 60 ? 1 : -1) };
    case 'rnn tanh': return { ih: [-M], hh: [-M], bih: [M], bhh: [M], input: () => 1 };
    case 'lstm': return { ih: [-M, -M, -M, -M], hh: [-M, -M, -M, -M], bih: [M, M, M, M], bhh: [M, M, M, M], input: () => 1 };
    default: return { ih: [0, 100, -3], hh: [0, 0, M], bih: [0, 0, 0], bhh: [0, 0, 0], input: (len: number) => (len === 1 ? -1 : 1) };
  }
}

const cells: CellCase[] = [
  { cell: 'rnn', activation: 'relu', name: 'rnn relu' },
  { cell: 'rnn', name: 'rnn tanh' },
  { cell: 'lstm', name: 'lstm' },
  { cell: 'gru', name: 'gru' },
  { cell: 'gru', resetAfter: false, name: 'gru reset-before' },
];
const shapes = [{ layers: 2, bidirectional: false, label: 'stacked' }, { layers: 1, bidirectional: true, label: 'bidirectional' }] as const;
const lengths = [1, 3, 80];
const n_a = 2;

interface Settable {
  setParam(name: string, values: ArrayLike<number>): void;
  layout: { get(name: string): { shape: readonly number[] } | undefined };
}

/** Layer 0 (both directions) of the stack with this name prefix gets the cell's pattern. */
function setPoison(model: Settable, prefix: string, c: CellCase): void {
  const p = poison(c);
  for (const suffix of ['', '_reverse']) {
    const rows = (name: string, perGate: number[]) => {
      const e = model.layout.get(`${prefix}${name}_l0${suffix}`);
      if (!e) return;
      const cols = e.shape.length > 1 ? e.shape[1] : 1;
      model.setParam(`${prefix}${name}_l0${suffix}`, perGate.flatMap((v) => new Array<number>(n_a * cols).fill(v)));
    };
    rows('weight_ih', p.ih); rows('weight_hh', p.hh); rows('bias_ih', p.bih); rows('bias_hh', p.bhh);
  }
}

/** Dense inputs of one feature: each sequence holds the cell's value at every step. */
function inputs(c: CellCase): number[][][] {
  const v = poison(c).input;
  return lengths.map((len) => Array.from({ length: len }, () => [v(len)]));
}

interface Grads { loss: number; grads: Record<string, Float32Array> }

/** The batch's loss and gradients equal the sums over each sequence alone, and all are finite. */
function checkEqualsAlone(label: string, batch: Grads, alone: Grads[]): void {
  assert.ok(Number.isFinite(batch.loss), `${label}: loss is ${batch.loss}`);
  const lossSum = alone.reduce((s, g) => s + g.loss, 0);
  assert.ok(Number.isFinite(lossSum), `${label}: the sequences alone are finite (the case is valid)`);
  checkClose(`${label}: loss`, [batch.loss], [lossSum], 1e-5, 1);
  for (const [name, got] of Object.entries(batch.grads)) {
    const sum = new Float64Array(got.length);
    for (const g of alone) g.grads[name].forEach((u, i) => { sum[i] += u; });
    assert.ok(sum.every(Number.isFinite), `${label}: grad ${name} of the sequences alone is finite`);
    assert.ok(got.every(Number.isFinite), `${label}: grad ${name} is finite`);
    const scale = Math.max(...Array.from(sum, Math.abs), 1e-6);
    checkClose(`${label}: grad ${name}`, got, sum, 1e-4, 1e-2 * scale);
  }
}

// ---

const Repro = suite('padding: the reported ReLU case');

Repro('a ReLU state that overflows in padded steps changes neither the loss nor any gradient', async () => {
  const m = await createRNN({ cell: 'rnn', activation: 'relu', n_x: 1, n_a: 1, n_y: 1, input: 'dense', output: 'linear' });
  for (const [k, v] of Object.entries({ W_ax: 1, W_aa: 4, b_x: 0, b_a: 0, W_ya: 1, b_y: 0 })) m.setParam(k, [v]);
  const b = { x: [[1], Array(80).fill(-1)], y: [[0], Array(80).fill(0)] };
  const alone = [0, 1].map((i) => m.computeGradients({ x: [b.x[i]], y: [b.y[i]] }));
  assert.is(m.forward(b).loss, alone[0].loss + alone[1].loss);
  checkEqualsAlone('repro', m.computeGradients(b), alone);
  assert.equal(Array.from(m.computeGradients(b).grads['head.bias']), [2]);
  m.dispose();
});

Repro.run();

// ---

const Sequence = suite('padding: the sequence model, every cell, stacked and bidirectional');

for (const c of cells) {
  for (const s of shapes) {
    for (const output of ['linear', 'softmax'] as const) {
      Sequence(`${c.name} ${s.label} ${output}: padded batch = each sequence alone, finite`, async () => {
        const { name, ...cell } = c;
        const model = await createRNN({ ...cell, layers: s.layers, bidirectional: s.bidirectional, n_x: 1, n_a, n_y: 3, output, seed: 7 });
        setPoison(model, '', c);
        const rng = new Random(3);
        const x = inputs(c);
        const y = lengths.map((T) => Array.from({ length: T }, () => (output === 'softmax' ? rng.int(3) : uniforms(rng, 3))));
        const alone = lengths.map((_, b) => model.computeGradients({ x: [x[b]], y: [y[b]] } as any));
        checkEqualsAlone(name, model.computeGradients({ x, y } as any), alone);
        const f = model.forward({ x, y } as any);
        assert.ok(f.yhat.every(Number.isFinite) && f.aT.every(Number.isFinite), 'outputs and final states are finite');
        model.dispose();
      });
    }
  }
}

Sequence.run();

// ---

const Arch = suite('padding: many-to-one and encoder-decoder, every cell, stacked and bidirectional');

for (const c of cells) {
  for (const s of shapes) {
    const { name, ...cell } = c;
    Arch(`many-to-one ${name} ${s.label}: padded batch = each sequence alone, finite`, async () => {
      const model = await createModel({ architecture: 'many-to-one', ...cell, layers: s.layers, bidirectional: s.bidirectional, n_x: 1, n_a, n_y: 3, seed: 4 });
      setPoison(model, '', c);
      const x = inputs(c), y = [2, 0, 1];
      const alone = lengths.map((_, b) => model.computeGradients({ x: [x[b]], y: [y[b]] }));
      checkEqualsAlone(name, model.computeGradients({ x, y }), alone);
      model.dispose();
    });

    Arch(`encoder-decoder ${name} ${s.label} encoder: padded sources and targets = each pair alone, finite`, async () => {
      const model = await createModel({
        architecture: 'encoder-decoder', ...cell, layers: s.layers, n_x: 1, n_y: 2, n_a, output: 'linear', seed: 5,
        encoder: { bidirectional: s.bidirectional },
      });
      setPoison(model, 'encoder.', c);
      const rng = new Random(6);
      const x = inputs(c);
      const y = [4, 1, 2].map((T) => Array.from({ length: T }, () => uniforms(rng, 2)));
      const alone = lengths.map((_, b) => model.computeGradients({ x: [x[b]], y: [y[b]] }));
      checkEqualsAlone(name, model.computeGradients({ x, y }), alone);
      model.dispose();
    });
  }
}

Arch.run();

// ---

const Kernels = suite('padding: the cell kernels, given lengths');

type KernelCell = 'rnn' | 'lstm' | 'gru';

/** Forward then backward of one cell kernel pair on a ragged batch, with ∂L/∂h of padded rows
 *  set to `pad`; returns the forward buffers and every gradient. */
async function runCell(cell: KernelCell, pad: number) {
  const { kernels: k } = await getEngine('simd');
  const arena = new Arena(k);
  const T = 5, B = 3, n_x = 2, H = 3, G = { rnn: 1, lstm: 4, gru: 3 }[cell] * H;
  const lens = [5, 2, 3];
  const rng = new Random(11);
  const f = (n: number, values?: number[]) => { const r = arena.alloc(n, 'test'); if (values) arena.f32(r).set(values); return r; };
  const W_ih = f(G * n_x, uniforms(rng, G * n_x)), W_hh = f(G * H, uniforms(rng, G * H));
  const b_ih = f(G, uniforms(rng, G)), b_hh = f(G, uniforms(rng, G));
  const x = uniforms(rng, T * B * n_x);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lens[b]) x.fill(0, (t * B + b) * n_x, (t * B + b + 1) * n_x);
  const X = f(T * B * n_x, x), L = arena.alloc(B, 'lens');
  arena.i32(L).set(lens);
  const A = f((T + 1) * B * H, [...uniforms(rng, B * H), ...new Array(T * B * H).fill(0)]);
  const C = f((T + 1) * B * H), TC = f(T * B * H), Gt = f(T * B * G), Hn = f(T * B * H), S = f(B * G), D = f(T * B * G), dC = f(B * H), WhT = f(G * H);
  const dW_ih = f(G * n_x), dW_hh = f(G * H), db_ih = f(G), db_hh = f(G), dX = f(T * B * n_x);
  const dh = uniforms(rng, T * B * H);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lens[b]) dh.fill(pad, (t * B + b) * H, (t * B + b + 1) * H);
  const dA = f((T + 1) * B * H, [...new Array(B * H).fill(0), ...dh]);
  if (cell === 'rnn') k.rnn_forward(A.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, b_ih.ptr, b_hh.ptr, L.ptr, T, B, n_x, H, 0, 0);
  if (cell === 'lstm') k.lstm_forward(A.ptr, C.ptr, TC.ptr, Gt.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, b_ih.ptr, b_hh.ptr, L.ptr, T, B, n_x, H, 0);
  if (cell === 'gru') k.gru_forward(A.ptr, Gt.ptr, Hn.ptr, S.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, b_ih.ptr, b_hh.ptr, L.ptr, T, B, n_x, H, 1, 0);
  const forward = { A: arena.f32(A).slice(), C: arena.f32(C).slice(), TC: arena.f32(TC).slice(), Gt: arena.f32(Gt).slice(), Hn: arena.f32(Hn).slice() };
  if (cell === 'rnn') k.rnn_backward(dW_ih.ptr, dW_hh.ptr, db_ih.ptr, db_hh.ptr, dX.ptr, dA.ptr, A.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, WhT.ptr, L.ptr, T, B, n_x, H, 0);
  if (cell === 'lstm') k.lstm_backward(dW_ih.ptr, dW_hh.ptr, db_ih.ptr, db_hh.ptr, dX.ptr, dA.ptr, dC.ptr, A.ptr, C.ptr, TC.ptr, Gt.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, WhT.ptr, 0, L.ptr, T, B, n_x, H);
  if (cell === 'gru') k.gru_backward(dW_ih.ptr, dW_hh.ptr, db_ih.ptr, db_hh.ptr, dX.ptr, dA.ptr, D.ptr, A.ptr, Gt.ptr, Hn.ptr, S.ptr, X.ptr, 0, 0, W_ih.ptr, W_hh.ptr, WhT.ptr, L.ptr, T, B, n_x, H, 1);
  const grads = [dW_ih, dW_hh, db_ih, db_hh, dX, dC].map((r) => arena.f32(r).slice());
  grads.push(arena.f32(dA, 0, B * H).slice());      // ∂L/∂h<0>
  arena.dispose();
  return { forward, grads, lens, T, B, H, G };
}

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  Kernels(`${cell}: padded rows of every forward buffer are +0, and their incoming gradient reaches nothing`, async () => {
    const clean = await runCell(cell, 0);
    const { forward, lens, T, B, H, G } = clean;
    const rowsOf = (buf: Float32Array, n: number, first: number) => {
      const out: number[] = [];
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lens[b]) out.push(...buf.subarray(((t + first) * B + b) * n, ((t + first) * B + b + 1) * n));
      return out;
    };
    const padded = [...rowsOf(forward.A, H, 1), ...(cell === 'lstm' ? [...rowsOf(forward.C, H, 1), ...rowsOf(forward.TC, H, 0)] : []),
      ...(cell !== 'rnn' ? rowsOf(forward.Gt, G, 0) : []), ...(cell === 'gru' ? rowsOf(forward.Hn, H, 0) : [])];
    assert.ok(padded.length > 0 && padded.every((v) => Object.is(v, 0)), 'padded rows are +0');
    for (const pad of [NaN, Infinity, 1e30]) {
      const poisoned = await runCell(cell, pad);
      poisoned.grads.forEach((g, i) => checkSame(`gradient ${i} with ∂L/∂h = ${pad} at padded steps`, g, clean.grads[i]));
    }
  });
}

Kernels.run();

// The backward pass's per-step recurrent product, dh += dz · W_hh, read through W_hhᵀ made once
// per batch in groups of four rows (assembly/gemm.ts: pack_rows4_t, gemm_nn_by_t): the product
// against an f64 one and, bit for bit, against the dot products over a plain transpose, on
// ragged sizes, strides and both write modes, the same bits in the SIMD and scalar builds; the
// scratch rebuilt from the weights of every call (a model trained a step gives the gradient of
// its new weights, layer by layer and direction by direction); and batches above the rows that
// take this path (which pack W_hh instead) agreeing with the halves that take it. And the bias
// gradients of the vanilla and LSTM cells, whose two biases share one column sum of ∂L/∂z.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createRNN, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, randomBatch, uniforms } from './_utils.js';

const Products = suite('recurrent products: dh (+)= dz · W_hh through W_hhᵀ');

/** C (M, N) (+)= A (M, K) · B (K, N) in f64; A rows lda apart, B rows ldb apart. */
function reference(M: number, N: number, K: number, A: number[], lda: number, B: number[], ldb: number, C0: number[], acc: number): number[] {
  const C: number[] = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = acc ? C0[i * N + j] : 0;
    for (let k = 0; k < K; k++) s += A[i * lda + k] * B[k * ldb + j];
    C.push(s);
  }
  return C;
}

/** gemm_nn_by_t on one shape in `backend`: B is the left N columns of a (K, N + pad) matrix, so
 *  its transpose is read at a stride; returns C and the transpose. */
async function run(backend: 'simd' | 'scalar', M: number, N: number, K: number, pad: number, acc: number, seed: number, withT = true) {
  const { kernels: k } = await getEngine(backend);
  const arena = new Arena(k);
  const rng = new Random(seed);
  const ldb = N + pad;
  const A = uniforms(rng, M * K), B = uniforms(rng, K * ldb), C0 = uniforms(rng, M * N);
  const f = (n: number, v?: number[]) => { const r = arena.alloc(n, 'test'); if (v) arena.f32(r).set(v); return r; };
  const rA = f(M * K, A), rB = f(K * ldb, B), rBT = f(K * ldb), rP = f(N * K), rC = f(M * N, C0);
  k.transpose(rBT.ptr, rB.ptr, K, ldb);                                    // (ldb, K)
  k.pack_rows4_t(rP.ptr, rB.ptr, ldb, N, K);                               // Bᵀ (N, K) in groups of four rows
  k.gemm_nn_by_t(M, N, K, rA.ptr, K, rB.ptr, ldb, withT ? rP.ptr : 0, rC.ptr, N, acc);
  // the same product from the plain transpose, as dot products over its rows (gemm A·Bᵀ, M ≤ 64)
  const rD = f(M * N, C0);
  k.gemm(0, 1, M, N, K, rA.ptr, K, rBT.ptr, K, rD.ptr, N, acc);
  const out = { C: arena.f32(rC).slice(), D: arena.f32(rD).slice(), BT: arena.f32(rBT).slice(), expected: reference(M, N, K, A, K, B, ldb, C0, acc), B, ldb };
  arena.dispose();
  return out;
}

const shapes = [[1, 1, 1], [2, 3, 5], [3, 7, 9], [5, 13, 4], [16, 33, 130], [33, 17, 515], [64, 10, 67], [65, 9, 31], [7, 130, 129]];

Products('transpose is exact; gemm_nn_by_t agrees with f64 on ragged M, N, K, strides, write modes', async () => {
  let n = 0;
  for (const [M, N, K] of shapes) {
    for (const acc of [0, 1]) {
      const pad = (M + N) % 3;
      const r = await run('simd', M, N, K, pad, acc, 10 * M + N + acc);
      const BT: number[] = [];
      for (let j = 0; j < r.ldb; j++) for (let k = 0; k < K; k++) BT.push(r.B[k * r.ldb + j]);
      checkSame(`transpose ${K}×${r.ldb}`, r.BT, BT);
      checkClose(`M=${M} N=${N} K=${K} pad=${pad} acc=${acc}`, r.C, r.expected, 1e-4, 1);
      if (M <= 64) checkSame(`M=${M} N=${N} K=${K}: Bᵀ in groups of four rows gives the bits of Bᵀ itself`, r.C, r.D);
      n++;
    }
  }
  assert.is(n, 2 * shapes.length);
});

Products('without Bᵀ it is gemm; with it, the SIMD and scalar builds give the same bits', async () => {
  for (const [M, N, K] of shapes) {
    const a = await run('simd', M, N, K, 1, 1, M * K, false);
    checkClose(`no Bᵀ M=${M} N=${N} K=${K}`, a.C, a.expected, 1e-4, 1);
    const s = await run('simd', M, N, K, 2, 1, M + K), c = await run('scalar', M, N, K, 2, 1, M + K);
    checkSame(`simd vs scalar M=${M} N=${N} K=${K}`, s.C, c.C);
  }
});

// ---

const Fresh = suite('recurrent products: the W_hhᵀ scratch follows the weights');

const cells = [
  { cell: 'rnn' }, { cell: 'lstm' }, { cell: 'gru' }, { cell: 'gru', resetAfter: false },
] as const;

for (const extra of cells) {
  const label = `${extra.cell}${'resetAfter' in extra ? ' (reset before)' : ''}`;
  Fresh(`${label}, 2 layers, bidirectional: after a trainStep, the gradient is that of the new weights`, async () => {
    const spec = { T: 5, B: 3, n_x: 4, n_y: 3, input: 'tokens' as const, output: 'softmax' as const };
    const config = { ...extra, n_x: spec.n_x, n_a: 130, n_y: spec.n_y, layers: 2, bidirectional: true, input: spec.input, output: spec.output, seed: 4 };
    const rng = new Random(9);
    const first = randomBatch(rng, spec), second = randomBatch(rng, spec);
    const trained = await createRNN(config);
    const before = trained.computeGradients(second).grads;
    trained.trainStep(first, { optimizer: 'adam', learningRate: 0.05 });
    const after = trained.computeGradients(second).grads;
    const fresh = await createRNN(config);
    fresh.setWeights(trained.getWeights());
    const expected = fresh.computeGradients(second).grads;
    let moved = 0;
    for (const name of Object.keys(expected)) {
      checkSame(name, after[name], expected[name]);
      if (after[name].some((v, i) => v !== before[name][i])) moved++;
    }
    assert.ok(moved === Object.keys(expected).length, `every gradient changed with the weights (${moved})`);
    trained.dispose(); fresh.dispose();
  });
}

Fresh('a batch above the rows that read W_hhᵀ (66) agrees with its two halves that do', async () => {
  for (const extra of cells) {
    const spec = { T: 4, B: 66, n_x: 5, n_y: 4, input: 'tokens' as const, output: 'softmax' as const };
    const model = await createRNN({ ...extra, n_x: spec.n_x, n_a: 130, n_y: spec.n_y, input: spec.input, output: spec.output, reduction: 'sum', seed: 2 });
    const batch = randomBatch(new Random(3), spec);
    const whole = model.computeGradients(batch).grads;
    const half = (a: number, b: number) => model.computeGradients({ x: batch.x.slice(a, b), y: batch.y.slice(a, b) }).grads;
    const lo = half(0, 33), hi = half(33, 66);
    for (const name of Object.keys(whole)) {
      const sum = Array.from(lo[name], (v, i) => v + hi[name][i]);
      const scale = Math.max(...sum.map(Math.abs), 1e-6);
      checkClose(`${extra.cell} ${name}`, whole[name], sum, 1e-4, 1e-2 * scale);
    }
    model.dispose();
  }
});

Products.run();
Fresh.run();

// ---

const Bias = suite('bias gradients: one column sum for two biases');

Bias('add_col_sums_twice = add_col_sums into each bias (bits from zero, close from any start); SIMD = scalar', async () => {
  const got: Float32Array[] = [];
  for (const backend of ['simd', 'scalar'] as const) {
    const { kernels: k } = await getEngine(backend);
    const arena = new Arena(k);
    const rng = new Random(5);
    for (const [rows, n, ld] of [[1, 1, 1], [3, 5, 7], [7, 16, 16], [33, 23, 29], [130, 37, 40]]) {
      const dX = arena.alloc(rows * ld, 'dX');
      arena.f32(dX).set(uniforms(rng, rows * ld));
      const start = uniforms(rng, n);
      const regions = [0, 1, 2, 3].map(() => arena.alloc(n, 'db'));
      arena.f32(regions[2]).set(start); arena.f32(regions[3]).set(start);
      const [a, b, c, d] = regions;
      k.add_col_sums(a.ptr, dX.ptr, rows, n, ld);
      k.add_col_sums_twice(b.ptr, c.ptr, dX.ptr, rows, n, ld);
      k.add_col_sums(d.ptr, dX.ptr, rows, n, ld);
      checkSame(`${backend} rows=${rows} n=${n}: from zero`, arena.f32(b), arena.f32(a));
      checkClose(`${backend} rows=${rows} n=${n}: from a start`, arena.f32(c), arena.f32(d), 1e-5, 1e-3);
      got.push(arena.f32(b).slice(), arena.f32(c).slice());
    }
    arena.dispose();
  }
  got.slice(0, got.length / 2).forEach((g, i) => checkSame(`simd vs scalar ${i}`, g, got[got.length / 2 + i]));
});

Bias.run();

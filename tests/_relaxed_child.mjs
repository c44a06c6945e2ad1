// Run in a child process that validates relaxed SIMD (tests/relaxed.test.ts starts it with
// node --experimental-wasm-relaxed-simd where the runtime needs the flag). Compares the
// relaxed build with the SIMD build on the same inputs and prints the largest differences as
// JSON: GEMM (every transpose, small and large M), a forward pass, gradients and training
// steps of every cell, and batch-1 steps; and, within the relaxed build, the products over a
// copy of W in groups of four rows against those over W, and each sequence's outputs alone
// against the same sequence's in a batch.
import { Arena, createModel, createRNN, getEngine, Random, relaxedSimdSupported } from '../dist/index.js';

const rng = new Random(5);
const uniforms = (n, s = 1) => Float32Array.from({ length: n }, () => Math.fround((2 * rng.uniform() - 1) * s));
/** Largest |a − b| relative to the largest |b| (one scale per tensor). */
function diff(a, b) {
  let worst = 0, scale = 0;
  for (let i = 0; i < b.length; i++) { worst = Math.max(worst, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])); }
  return Number.isFinite(worst) ? worst / Math.max(scale, 1e-30) : Infinity;
}

const result = { supported: relaxedSimdSupported(), auto: (await getEngine('auto')).backend, gemm: 0, forward: 0, grads: 0, loss: 0, step: 0, packed: 0, rows: 0 };

// within the relaxed build, products over W_hh's copy in groups of four rows (pack_rows4) give
// the bits of the dot products over W_hh itself: the largest difference, 0 when they agree
{
  const { kernels } = await getEngine('relaxed');
  const arena = new Arena(kernels);
  for (const [M, N, K] of [[1, 1024, 256], [2, 515, 130], [7, 40, 33], [64, 96, 64]]) {
    const rA = arena.alloc(M * K, 'A'), rW = arena.alloc(N * K, 'W'), rP = arena.alloc(N * K, 'P'), rC = arena.alloc(M * N, 'C'), rD = arena.alloc(M * N, 'D');
    arena.f32(rA).set(uniforms(M * K)); arena.f32(rW).set(uniforms(N * K));
    kernels.pack_rows4(rP.ptr, rW.ptr, K, N, K);
    kernels.gemm(0, 1, M, N, K, rA.ptr, K, rW.ptr, K, rC.ptr, N, 0);
    kernels.gemm_nt_w(M, N, K, rA.ptr, K, rW.ptr, rP.ptr, rD.ptr, N, 0);
    const C = arena.f32(rC), D = arena.f32(rD);
    for (let i = 0; i < C.length; i++) result.packed = Math.max(result.packed, Math.abs(C[i] - D[i]));
  }
  arena.dispose();
}

// within the relaxed build, a sequence's outputs in a batch have the bits they have alone: the
// number of values that differ, 0 when they agree. A hidden size that is not a multiple of four
// puts each row's last values at other places of a batch's runs of activations (the vanilla
// cell's and attention's tanh run over every row at once).
{
  const T = 40, V = 37;
  const x = Array.from({ length: 8 }, () => Array.from({ length: T }, () => rng.int(V)));
  const count = (batch, alone, b) => {
    const part = batch.subarray(b * alone.length, (b + 1) * alone.length);
    for (let i = 0; i < alone.length; i++) if (part[i] !== alone[i]) result.rows++;
  };
  for (const cell of ['rnn', 'lstm', 'gru']) {
    const m = await createRNN({ cell, n_x: V, n_a: 22, n_y: V, input: 'tokens', seed: 7, backend: 'relaxed' });
    const batch = m.forward({ x }).yhat;
    x.forEach((s, b) => count(batch, m.forward({ x: [s] }).yhat, b));
    m.dispose();
  }
  const m = await createModel({ architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: V, n_a: 22, n_y: V,
    attention: 'dot', seed: 7, backend: 'relaxed' });
  // 7 × 9 decoder rows: W_c's product takes the dot products (at most 64 rows) in the batch too
  const xs = x.slice(0, 7), y = xs.map((s) => s.slice(0, 9));
  const batch = m.forward({ x: xs, y }).yhat;
  xs.forEach((s, b) => count(batch, m.forward({ x: [s], y: [y[b]] }).yhat, b));
  m.dispose();
}

for (const [tA, tB, M, N, K] of [[0, 1, 1, 1024, 256], [0, 1, 32, 512, 128], [0, 0, 3, 70, 513], [0, 0, 64, 128, 512], [1, 0, 512, 128, 2048], [0, 1, 200, 65, 128]]) {
  const A = uniforms(M * K), B = uniforms(K * N);
  const C = {};
  for (const name of ['relaxed', 'simd']) {
    const { kernels } = await getEngine(name);       // an engine whose last arena went is dropped: ask again
    const arena = new Arena(kernels);
    const rA = arena.alloc(M * K, 'A'), rB = arena.alloc(K * N, 'B'), rC = arena.alloc(M * N, 'C');
    arena.f32(rA).set(A); arena.f32(rB).set(B);
    kernels.gemm(tA, tB, M, N, K, rA.ptr, tA ? M : K, rB.ptr, tB ? K : N, rC.ptr, N, 0);
    C[name] = arena.f32(rC).slice();
    arena.dispose();
  }
  result.gemm = Math.max(result.gemm, diff(C.relaxed, C.simd));
}

for (const cell of ['rnn', 'lstm', 'gru']) {
  const models = {};
  for (const backend of ['relaxed', 'simd']) models[backend] = await createRNN({ cell, layers: 2, n_x: 17, n_a: 48, n_y: 17, input: 'tokens', seed: 2, backend });
  const x = Array.from({ length: 6 }, () => Array.from({ length: 40 }, () => rng.int(17)));
  const y = x.map((s) => s.map((t) => (t + 1) % 17));
  result.forward = Math.max(result.forward, diff(models.relaxed.forward({ x, y }).yhat, models.simd.forward({ x, y }).yhat));
  const g = { relaxed: models.relaxed.computeGradients({ x, y }), simd: models.simd.computeGradients({ x, y }) };
  for (const name of Object.keys(g.simd.grads)) result.grads = Math.max(result.grads, diff(g.relaxed.grads[name], g.simd.grads[name]));
  for (let i = 0; i < 5; i++) {
    const l = { relaxed: models.relaxed.trainStep({ x, y }, { learningRate: 1e-2 }).loss, simd: models.simd.trainStep({ x, y }, { learningRate: 1e-2 }).loss };
    result.loss = Math.max(result.loss, Math.abs(l.relaxed - l.simd) / l.simd);
  }
  for (const m of Object.values(models)) m.dispose();
}

const gen = {};
for (const backend of ['relaxed', 'simd']) {
  const m = await createRNN({ cell: 'lstm', n_x: 30, n_a: 256, n_y: 30, input: 'tokens', seed: 3, backend });
  gen[backend] = m.forward({ x: [Array.from({ length: 20 }, (_, t) => (t * 7) % 30)] }).yhat;
  m.dispose();
}
result.step = diff(gen.relaxed, gen.simd);
console.log(JSON.stringify(result));

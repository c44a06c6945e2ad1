// Benchmarks of rnn-wasm against its peers, in one process: validate every contender first,
// then measure the ones that passed with benchmark.js, print tables of ratios against
// rnn-wasm on its 'simd' backend, and write RESULTS.md beside this file.
//
//   1. GEMM  C (M, N) = A (M, K) · B (K, N), in GFLOP/s (2·M·N·K flops per product).
//   2. Vanilla RNN training steps (forward over T steps, BPTT, Adam update), in sequences/s
//      (B sequences per step × steps/s) and tokens/s (× T).
//   3. The same training step with LSTM and GRU cells, at n_a 128 and 512, beside tfjs's.
//   4. W1 and W2 (workloads.js) against PyTorch on one and two threads, when /usr/bin/python3
//      has torch: training a char LM, and generating one token at a time (also with tfjs
//      core ops); medians with min–max of interleaved rounds, by wall clock and CPU time.
//
// Contenders are measured in ROUNDS interleaved rounds and the best round is reported, so a
// burst of load from elsewhere on a shared machine hits one round of one contender, not all.
//
// T = time steps, B = sequences per batch, n_x = input size (vocabulary), n_a = hidden size,
// n_y = output size (vocabulary).
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import Benchmark from 'benchmark';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { Arena, createModel, createRNN, getEngine, pickToken, Random, relaxedSimdSupported, simdSupported } from 'rnn-wasm';
import { cpuModel, rerunWithRelaxedSimd } from './report.js';
import { scratchDir, Torch, torchMissing } from './torch.js';
import { rounds, spread, timed, tokenStream, torchW1, torchW2, W1, W2, w1Batch, w1Model, xorshift } from './workloads.js';

const require = createRequire(import.meta.url);
const brain = tryRequire('brain.js');

const GEMM_SHAPES = [[32, 512, 2048], [2048, 128, 128]];   // [M, K, N]
const GEMM_TOL = 1e-3;                                    // max |C − C_naive| accepted
const RNN = { T: 64, B: 32, n_x: 65, n_a: 128, n_y: 65, lr: 2e-3 };
const CHECK_STEPS = 5;                                    // training steps in the loss check
const ROUNDS = 3;
const GEMM_OPTIONS = { minSamples: 8, maxTime: 1 };       // benchmark.js, per contender and round
const RNN_OPTIONS = { minSamples: 5, maxTime: 2.5 };
const WARMUP = { calls: 3, ms: 300 };                     // before each measurement
// brain.js has no Adam: its RMSProp-style update has no bias correction, so the first steps
// move every weight by about lr·√1000; at lr ≥ 5e-5 its ReLU cell's state usually blows up
// within the first batch on this task (softmax probabilities underflow to 0, loss = Infinity).
const BRAIN_LR = 1e-5;
const RESULTS = new URL('./RESULTS.md', import.meta.url);

// --- helpers ---

/** Deterministic uniform floats in [−1, 1). */
function randomFloats(n, seed) {
  const next = xorshift(seed);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return Number.isNaN(worst) ? Infinity : worst;
}

/** One benchmark.js benchmark after a warm-up (JIT, wasm tier-up); resolves when complete.
 *  `fn` may return a promise, which is then awaited as a deferred benchmark. */
async function measure(name, fn, options, deferred) {
  const start = performance.now();
  for (let i = 0; i < WARMUP.calls || performance.now() - start < WARMUP.ms; i++) await fn();
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      ...options,
      defer: deferred,
      fn: deferred ? (d) => fn().then(() => d.resolve(), (e) => { bench.failure = e; d.resolve(); }) : fn,
      onComplete() {
        const error = this.error ?? bench.failure;
        if (error) reject(error);
        else resolve(this);
      },
    });
    bench.run({ async: true });
  });
}

/** Measure every validated contender ROUNDS times, interleaved; keep each one's best round.
 *  `rate(hz)` turns calls/s into the reported unit. */
async function measureRounds(entries, options, rate, unit) {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const e of entries) {
      await e.impl.enter?.();
      const bench = await measure(e.name, e.impl.run, options, Boolean(e.impl.async));
      const r = { rate: rate(bench.hz), rme: bench.stats.rme, samples: bench.stats.sample.length };
      e.rounds.push(r.rate);
      if (!e.best || r.rate > e.best.rate) e.best = r;
      log(`  round ${round}  ${e.name.padEnd(24)} ${fmt(r.rate)} ${unit} ±${fmt(r.rme, 1)}% (${r.samples} samples)`);
    }
  }
}

function tryRequire(name) {
  try {
    return require(name);
  } catch (e) {
    return { error: e };
  }
}

function fmt(x, digits = 2) {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The result columns shared by both tables: best rate, its margin, every round, ratio. */
function resultCells(e, base, digits, scale = 1) {
  if (!e.best) return ['skipped', '—', '—', '—'];
  return [fmt(e.best.rate * scale, digits), fmt(e.best.rme, 1), e.rounds.map((r) => fmt(r * scale, digits)).join(' / '),
    `${fmt(e.best.rate / base)}×`];
}

const log = (...args) => console.log(...args);
const mark = (ok) => (ok ? '✔' : '✘');

// --- 1. GEMM ---

/** C (M, N) = A (M, K) · B (K, N), i-k-j order over row-major Float32Arrays. */
function jsGemm(M, N, K, A, B, C) {
  C.fill(0);
  for (let i = 0; i < M; i++) {
    const c = i * N;
    for (let k = 0; k < K; k++) {
      const a = A[i * K + k], b = k * N;
      for (let j = 0; j < N; j++) C[c + j] += a * B[b + j];
    }
  }
}

/** A, B and C placed in one engine's memory; kernel is 'gemm' or 'gemm_naive'. */
async function wasmGemm(backend, kernel, M, K, N, A, B) {
  const { kernels } = await getEngine(backend);
  const arena = new Arena(kernels);
  const rA = arena.alloc(M * K, 'A'), rB = arena.alloc(K * N, 'B'), rC = arena.alloc(M * N, 'C');
  arena.f32(rA).set(A);                 // views made after the last allocation
  arena.f32(rB).set(B);
  const run = () => kernels[kernel](0, 0, M, N, K, rA.ptr, K, rB.ptr, N, rC.ptr, N, 0);
  return { run, result: () => arena.f32(rC).slice(), dispose: () => arena.dispose() };
}

/** tfjs matMul on one backend; the operands live on that backend. */
async function tfjsGemm(backend, M, K, N, A, B) {
  await tf.setBackend(backend);
  const a = tf.tensor2d(A, [M, K]), b = tf.tensor2d(B, [K, N]);
  let last;
  const run = () => {
    const c = tf.matMul(a, b);
    last = c.dataSync();
    c.dispose();
  };
  return {
    run, enter: () => tf.setBackend(backend),
    result: () => Float32Array.from(last), dispose: () => { a.dispose(); b.dispose(); },
  };
}

function plainGemm(M, K, N, A, B) {
  const C = new Float32Array(M * N);
  return { run: () => jsGemm(M, N, K, A, B, C), result: () => C.slice(), dispose: () => {} };
}

const GEMM_CONTENDERS = [
  { name: 'rnn-wasm gemm (simd)', make: (...s) => wasmGemm('simd', 'gemm', ...s) },
  { name: 'rnn-wasm gemm (scalar)', make: (...s) => wasmGemm('scalar', 'gemm', ...s) },
  { name: 'rnn-wasm gemm_naive', make: (...s) => wasmGemm('simd', 'gemm_naive', ...s) },
  { name: 'plain JS (i-k-j)', make: plainGemm },
  { name: 'tfjs matMul (cpu)', make: (...s) => tfjsGemm('cpu', ...s) },
  { name: 'tfjs matMul (wasm)', make: (...s) => tfjsGemm('wasm', ...s) },
];

async function benchGemm() {
  const sections = [];
  for (const [M, K, N] of GEMM_SHAPES) {
    const label = `[${M}×${K}]·[${K}×${N}]`;
    const flops = 2 * M * N * K;
    const A = randomFloats(M * K, 1), B = randomFloats(K * N, 2);
    log(`\nGEMM ${label}: validating against rnn-wasm gemm_naive (max |ΔC| ≤ ${GEMM_TOL})`);
    const ref = await wasmGemm('simd', 'gemm_naive', M, K, N, A, B);
    ref.run();
    const C_ref = ref.result();
    ref.dispose();
    const entries = [];
    for (const c of GEMM_CONTENDERS) {
      const impl = await c.make(M, K, N, A, B);
      impl.run();
      const diff = maxAbsDiff(impl.result(), C_ref);
      const ok = diff <= GEMM_TOL;
      log(`  ${mark(ok)} ${c.name.padEnd(24)} max |ΔC| = ${diff.toExponential(2)}`);
      entries.push({ name: c.name, ok, diff, impl, rounds: [] });
    }
    const valid = entries.filter((e) => e.ok);
    await measureRounds(valid, GEMM_OPTIONS, (hz) => (flops * hz) / 1e9, 'GFLOP/s');
    for (const e of entries) e.impl.dispose();
    const base = entries.find((e) => e.name === 'rnn-wasm gemm (simd)')?.best?.rate;
    const text = table(['contender', 'check: max abs diff', 'GFLOP/s (best)', '± %', 'each round', 'vs rnn-wasm simd'],
      entries.map((e) => [e.name, `${mark(e.ok)} ${e.diff.toExponential(1)}`, ...resultCells(e, base, 2)]));
    log(`\n${text}`);
    sections.push({ label, entries, text });
  }
  return sections;
}

// --- 2. RNN training ---

/** The batch every contender trains on: B windows of T+1 tokens from one stream. */
function makeBatch() {
  const { T, B, n_x } = RNN;
  const stream = tokenStream(B * (T + 1), n_x, 7);
  const seqs = Array.from({ length: B }, (_, b) => stream.subarray(b * (T + 1), (b + 1) * (T + 1)));
  return {
    seqs,                                          // B × (T+1) tokens
    x: seqs.map((s) => s.subarray(0, T)),          // B × T input ids
    y: seqs.map((s) => s.subarray(1, T + 1)),      // B × T target ids
  };
}

/** One-hot (B, T, n) tensor data of B id sequences. */
function oneHot(seqs, n) {
  const { T, B } = RNN;
  const out = new Float32Array(B * T * n);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[(b * T + t) * n + seqs[b][t]] = 1;
  return out;
}

async function rnnWasm(backend, batch) {
  const { n_x, n_a, n_y, lr } = RNN;
  const rnn = await createRNN({
    cell: 'rnn', n_x, n_a, n_y, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1, backend,
  });
  const data = { x: batch.x, y: batch.y };
  const options = { optimizer: 'adam', learningRate: lr };
  return { rnn, run: () => rnn.trainStep(data, options).loss, dispose: () => rnn.dispose() };
}

/** tfjs-layers: SimpleRNN(n_a, returnSequences) + Dense(n_y, softmax), initialised from `init`
 *  (an rnn-wasm model) so both start from the same weights. */
async function tfjsRnn(backend, batch, init) {
  const { T, B, n_x, n_a, n_y, lr } = RNN;
  await tf.setBackend(backend);
  const model = tfl.sequential({
    layers: [
      // the initial weights are overwritten below; glorotUniform instead of the default
      // orthogonal initializer, which needs tfjs-core's chained ops (only the @tensorflow/tfjs
      // bundle registers them) and a QR of the 128×128 matrix
      tfl.layers.simpleRNN({ units: n_a, returnSequences: true, inputShape: [T, n_x], recurrentInitializer: 'glorotUniform' }),
      tfl.layers.dense({ units: n_y, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
  // tfjs keeps kernels (in, out) and one bias; rnn-wasm keeps weights (out, in), b_x and b_a
  const p = init.params;                // every read of p.name is a fresh copy: read each once
  const b_a = p.b_a;
  tf.tidy(() => model.setWeights([
    tf.transpose(tf.tensor2d(p.W_ax, [n_a, n_x])), tf.transpose(tf.tensor2d(p.W_aa, [n_a, n_a])),
    tf.tensor1d(p.b_x.map((v, i) => v + b_a[i])),
    tf.transpose(tf.tensor2d(p.W_ya, [n_y, n_a])), tf.tensor1d(p.b_y),
  ]));
  const x = tf.tensor3d(oneHot(batch.x, n_x), [B, T, n_x]);
  const y = tf.tensor3d(oneHot(batch.y, n_y), [B, T, n_y]);
  return {
    async: true,
    enter: () => tf.setBackend(backend),
    initialLoss: () => {
      const loss = model.evaluate(x, y, { batchSize: B });
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    },
    run: async () => Number(await model.trainOnBatch(x, y)),
    dispose: () => { model.dispose(); x.dispose(); y.dispose(); },
  };
}

/** brain.js recurrent.RNN: one sequence per training call, so one "step" here is B calls. */
function brainRnn(batch) {
  const { B, n_x, n_a, n_y } = RNN;
  const net = new brain.recurrent.RNN({ inputSize: n_x, inputRange: n_x, outputSize: n_y, hiddenLayers: [n_a] });
  net.updateTrainingOptions({ learningRate: BRAIN_LR });
  const random = Math.random;
  Math.random = xorshift(3);            // brain.js initialises from Math.random: seed it, for a repeatable check
  try {
    net.initialize();
  } finally {
    Math.random = random;
  }
  const seqs = batch.seqs.map((s) => Array.from(s));
  return {
    run: () => {
      let sum = 0;
      for (let b = 0; b < B; b++) sum += net.trainPattern(seqs[b], true);
      return sum / B;
    },
    dispose: () => {},
  };
}

async function benchRnn() {
  const { T, B } = RNN;
  const batch = makeBatch();
  const checks = [];
  const check = (ok, text) => {
    checks.push(`${mark(ok)} ${text}`);
    log(`  ${checks.at(-1)}`);
  };
  log(`\nRNN training, n_a ${RNN.n_a}, T ${T}, B ${B}, vocabulary ${RNN.n_x}: validating (loss over ${CHECK_STEPS} steps)`);

  // rnn-wasm simd, scalar and tfjs all start from these weights, so their first losses must agree
  const init = await rnnWasm('simd', batch);
  const initLoss = init.rnn.forward({ x: batch.x, y: batch.y }).loss;

  const contenders = [
    { name: 'rnn-wasm (simd)', make: () => rnnWasm('simd', batch) },
    { name: 'rnn-wasm (scalar)', make: () => rnnWasm('scalar', batch) },
    { name: 'tfjs-layers (cpu)', make: () => tfjsRnn('cpu', batch, init.rnn) },
    { name: 'tfjs-layers (wasm)', make: () => tfjsRnn('wasm', batch, init.rnn) },
  ];
  if (brain.error) log(`  ✘ brain.js is not available: ${brain.error.message.split('\n')[0]}`);
  else contenders.push({ name: 'brain.js recurrent.RNN', make: async () => brainRnn(batch), note: ' ¹' });

  const entries = [];
  for (const c of contenders) {
    const e = { name: c.name, note: c.note ?? '', ok: false, rounds: [] };
    entries.push(e);
    try {
      e.impl = await c.make();
      await e.impl.enter?.();
      if (e.impl.initialLoss) {
        const first = e.impl.initialLoss();
        check(Math.abs(first - initLoss) <= 1e-4 * Math.max(1, initLoss),
          `${c.name}: initial loss ${first.toFixed(6)}, rnn-wasm ${initLoss.toFixed(6)}, on the same weights`);
      }
      e.curve = [];
      for (let i = 0; i < CHECK_STEPS; i++) e.curve.push(await e.impl.run());
      e.ok = e.curve.every(Number.isFinite) && e.curve.at(-1) < e.curve[0];
      log(`  ${mark(e.ok)} ${c.name.padEnd(24)} loss ${e.curve.map((l) => l.toFixed(4)).join(' → ')}`);
    } catch (err) {
      e.error = err.message;
      log(`  ✘ ${c.name}: ${err.message}`);
    }
  }
  init.dispose();
  const [simd, scalar] = entries;
  if (simd.curve && scalar.curve) {
    const d = maxAbsDiff(Float32Array.from(simd.curve), Float32Array.from(scalar.curve));
    check(d <= 1e-3, `rnn-wasm simd and scalar: losses over ${CHECK_STEPS} steps differ by at most ${d.toExponential(2)}`);
  }

  await measureRounds(entries.filter((e) => e.ok), RNN_OPTIONS, (hz) => B * hz, 'sequences/s');
  for (const e of entries) e.impl?.dispose();
  const base = simd.best?.rate;
  const text = table(['contender', `check: loss, step 1 → ${CHECK_STEPS}`, 'sequences/s (best)', '± %', 'each round', 'vs rnn-wasm simd', 'tokens/s'],
    entries.map((e) => [
      e.name + e.note,
      e.curve ? `${mark(e.ok)} ${e.curve[0].toFixed(3)} → ${e.curve.at(-1).toFixed(3)}` : `✘ ${e.error}`,
      ...resultCells(e, base, 1),
      e.best ? fmt(e.best.rate * T, 0) : '—',
    ]));
  log(`\n${text}`);
  return { entries, text, checks };
}

// --- 3. cells: vanilla RNN, LSTM and GRU ---

const CELL_SIZES = [128, 512];

/** rnn-wasm training on the same batch with any cell and hidden size. */
async function cellWasm(cell, n_a, batch) {
  const { n_x, n_y, lr } = RNN;
  const rnn = await createRNN({ cell, n_x, n_a, n_y, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1, backend: 'simd' });
  const data = { x: batch.x, y: batch.y };
  return { run: () => rnn.trainStep(data, { optimizer: 'adam', learningRate: lr }).loss, dispose: () => rnn.dispose() };
}

/** tfjs-layers LSTM or GRU (n_a units, returnSequences) + Dense softmax, on its wasm backend.
 *  tfjs's GRU is the reset-before-matmul form (it has no resetAfter), so the work differs a little. */
async function cellTfjs(cell, n_a, batch) {
  const { T, B, n_x, n_y, lr } = RNN;
  await tf.setBackend('wasm');
  const layer = cell === 'lstm' ? tfl.layers.lstm : tfl.layers.gru;
  const model = tfl.sequential({
    layers: [
      layer({ units: n_a, returnSequences: true, inputShape: [T, n_x], recurrentInitializer: 'glorotUniform', recurrentActivation: 'sigmoid' }),
      tfl.layers.dense({ units: n_y, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
  const x = tf.tensor3d(oneHot(batch.x, n_x), [B, T, n_x]);
  const y = tf.tensor3d(oneHot(batch.y, n_y), [B, T, n_y]);
  return {
    async: true,
    enter: () => tf.setBackend('wasm'),
    run: async () => Number(await model.trainOnBatch(x, y)),
    dispose: () => { model.dispose(); x.dispose(); y.dispose(); },
  };
}

async function benchCells() {
  const batch = makeBatch();
  log(`\nCells, T ${RNN.T}, B ${RNN.B}, vocabulary ${RNN.n_x}: validating (loss over ${CHECK_STEPS} steps)`);
  const contenders = [];
  for (const n_a of CELL_SIZES) {
    for (const cell of ['rnn', 'lstm', 'gru']) contenders.push({ name: `rnn-wasm ${cell} n_a ${n_a}`, cell, n_a, make: () => cellWasm(cell, n_a, batch) });
  }
  for (const cell of ['lstm', 'gru']) contenders.push({ name: `tfjs-layers (wasm) ${cell} n_a 128`, cell, n_a: 128, make: () => cellTfjs(cell, 128, batch) });
  const entries = [];
  for (const c of contenders) {
    const e = { name: c.name, note: '', cell: c.cell, n_a: c.n_a, ok: false, rounds: [] };
    entries.push(e);
    try {
      e.impl = await c.make();
      await e.impl.enter?.();
      e.curve = [];
      for (let i = 0; i < CHECK_STEPS; i++) e.curve.push(await e.impl.run());
      // it trains: the loss falls below where it started (Adam at this rate can spike for a step
      // on the largest models, so the last value alone is not the test)
      e.ok = e.curve.every(Number.isFinite) && Math.min(...e.curve.slice(1)) < e.curve[0];
      log(`  ${mark(e.ok)} ${c.name.padEnd(30)} loss ${e.curve.map((l) => l.toFixed(4)).join(' → ')}`);
    } catch (err) {
      e.error = err.message;
      log(`  ✘ ${c.name}: ${err.message}`);
    }
  }
  await measureRounds(entries.filter((e) => e.ok), RNN_OPTIONS, (hz) => RNN.B * hz, 'sequences/s');
  for (const e of entries) e.impl?.dispose();
  // each contender against rnn-wasm's vanilla cell of the same size
  const vanilla = (n_a) => entries.find((e) => e.cell === 'rnn' && e.n_a === n_a && e.name.startsWith('rnn-wasm'))?.best?.rate;
  const sameCell = (e) => entries.find((f) => f.cell === e.cell && f.n_a === e.n_a && f.name.startsWith('rnn-wasm'))?.best?.rate;
  const text = table(['contender', `check: loss, step 1 → ${CHECK_STEPS}`, 'sequences/s (best)', 'tokens/s', 'vs rnn-wasm vanilla, same n_a', 'vs rnn-wasm, same cell and n_a'],
    entries.map((e) => [
      e.name,
      e.curve ? `${mark(e.ok)} ${e.curve[0].toFixed(3)} → ${e.curve.at(-1).toFixed(3)}` : `✘ ${e.error}`,
      e.best ? fmt(e.best.rate, 1) : '—',
      e.best ? fmt(e.best.rate * RNN.T, 0) : '—',
      e.best && vanilla(e.n_a) ? `${fmt(e.best.rate / vanilla(e.n_a))}×` : '—',
      e.best && sameCell(e) ? `${fmt(e.best.rate / sameCell(e))}×` : '—',
    ]));
  log(`\n${text}`);
  return { entries, text };
}

// --- 4. W1 and W2 against PyTorch ---

const W_ROUNDS = 5;

/** rnn-wasm's builds to measure: 'simd', and 'relaxed' where this runtime validates it. */
function wasmBuilds() {
  return relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];
}

const closeTo = (a, b, tol) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** PyTorch on one and on two threads, or the reason it is skipped. */
async function startTorch() {
  const missing = torchMissing();
  if (missing) {
    log(`\nPyTorch is skipped: ${missing}`);
    return { procs: [], skipped: missing };
  }
  const procs = [await Torch.start(1), await Torch.start(2)];
  log(`\nPyTorch ${procs[0].info.torch} (BLAS: ${procs[0].info.blas_libraries.join(', ') || procs[0].info.blas}, CPU capability ${procs[0].info.cpu_capability})`);
  return { procs, info: procs[0].info };
}

const torchName = (t) => `PyTorch, ${t.threads} thread${t.threads > 1 ? 's' : ''}`;

/** A PyTorch workload set up as `id`, as a contender that times `reps` steps per round. */
function torchEntry(t, id, reps) {
  return { name: torchName(t), threads: t.threads, measure: async () => {
    const o = await t.request({ op: 'time', id, samples: 1, reps });
    return { wall: o.ms[0], cpu: o.cpu_ms[0] };
  } };
}

/** W1: each configuration's contenders validated (the loss on rnn-wasm's initial weights and
 *  over W1.check Adam steps equal to rnn-wasm's), then timed in interleaved rounds. */
async function benchW1(torch, dir) {
  const batch = w1Batch();
  const options = { optimizer: 'adam', learningRate: W1.lr };
  const configs = [];
  for (const n_a of W1.sizes) {
    for (const cell of W1.cells) {
      const reps = n_a > 256 ? 1 : 3;
      log(`\nW1 ${cell} n_a ${n_a}: validating (loss on the initial weights, then over ${W1.check} Adam steps)`);
      const entries = [], models = [];
      let ref;
      for (const backend of wasmBuilds()) {
        const m = await w1Model(createRNN, cell, n_a, backend);
        models.push(m);
        const initial = m.forward(batch).loss;
        const losses = Array.from({ length: W1.check }, () => m.trainStep(batch, options).loss);
        ref ??= { initial, losses };
        const ok = closeTo(initial, ref.initial, 1e-5) && losses.every((l, i) => closeTo(l, ref.losses[i], 1e-4));
        entries.push({ name: `rnn-wasm (${backend})`, threads: 1, ok, initial, losses, measure: () => timed(() => m.trainStep(batch, options), reps) });
      }
      for (const t of torch.procs) {
        const id = `w1-${cell}-${n_a}`;
        const init = await w1Model(createRNN, cell, n_a, 'simd');      // the weights rnn-wasm started from
        const r = await torchW1(t, id, init, batch, dir);
        init.dispose();
        const ok = closeTo(r.initial_loss, ref.initial, 1e-4) && r.losses.every((l, i) => closeTo(l, ref.losses[i], 1e-3));
        entries.push({ ...torchEntry(t, id, reps), ok, initial: r.initial_loss, losses: r.losses });
      }
      for (const e of entries) log(`  ${mark(e.ok)} ${e.name.padEnd(26)} loss ${e.initial.toFixed(5)} → ${e.losses.map((l) => l.toFixed(5)).join(' → ')}`);
      await rounds(entries.filter((e) => e.ok), W_ROUNDS, log);
      models.forEach((m) => m.dispose());
      configs.push({ label: `${cell.toUpperCase()} ${n_a}`, entries });
    }
  }
  return configs;
}

/** tfjs core ops on one backend: W2's LSTM step (PyTorch's gate order) from rnn-wasm's weights,
 *  each token a gather, a matMul, the gates, the head and a draw (or argmax), under tf.tidy. */
async function tfjsW2(backend, model) {
  await tf.setBackend(backend);
  const { n_a: H } = model.config, V = W2.V, p = model.params;
  const WihT = tf.tidy(() => tf.transpose(tf.tensor2d(p.weight_ih_l0, [4 * H, V])));
  const WhhT = tf.tidy(() => tf.transpose(tf.tensor2d(p.weight_hh_l0, [4 * H, H])));
  const b_hh = p.bias_hh_l0;
  const bias = tf.tensor1d(p.bias_ih_l0.map((v, i) => v + b_hh[i]));
  const WyT = tf.tidy(() => tf.transpose(tf.tensor2d(p['head.weight'], [V, H])));
  const by = tf.tensor1d(p['head.bias']);
  let h = tf.zeros([1, H]), c = tf.zeros([1, H]);
  const feed = (token, draw) => {
    const [h2, c2, next] = tf.tidy(() => {
      const z = tf.add(tf.add(tf.gather(WihT, [token]), tf.matMul(h, WhhT)), bias);
      const [i, f, g, o] = tf.split(z, 4, 1);
      const cn = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      const hn = tf.mul(tf.sigmoid(o), tf.tanh(cn));
      const logits = tf.add(tf.matMul(hn, WyT), by);
      return [hn, cn, draw ? tf.multinomial(logits, 1) : tf.argMax(logits, 1)];
    });
    h.dispose(); c.dispose();
    h = h2; c = c2;
    const t = next.dataSync()[0];
    next.dispose();
    return t;
  };
  let token;
  for (const t of W2.prime) token = feed(t, false);
  const tokens = [];
  for (let i = 0; i < W2.check; i++) { tokens.push(token); token = feed(token, false); }
  return {
    tokens,
    measure: async () => { await tf.setBackend(backend); return timed(() => { token = feed(token, true); }, W2.tokens); },
    dispose: () => { for (const t of [WihT, WhhT, bias, WyT, by, h, c]) t.dispose(); },
  };
}

/** W2: every contender validated (its greedy tokens after the prime are rnn-wasm's), then
 *  timed per token, drawing each token from the softmax, in interleaved rounds. */
async function benchW2(torch, dir) {
  const { cell, n_a, V } = W2;
  log(`\nW2 ${cell} n_a ${n_a}, batch 1: validating (${W2.check} greedy tokens after the prime, from the same weights)`);
  const make = (backend) => createRNN({ cell, n_x: V, n_a, n_y: V, input: 'tokens', seed: 3, backend });
  const ref = await make('simd');
  const greedy = ref.sample({ length: W2.check, prime: W2.prime, temperature: 0 });
  const entries = [], cleanup = [];
  const same = (tokens) => tokens.length === greedy.length && tokens.every((t, i) => t === greedy[i]);
  for (const backend of wasmBuilds()) {
    const m = backend === 'simd' ? ref : await make(backend);
    if (m !== ref) cleanup.push(() => m.dispose());
    const tokens = m.sample({ length: W2.check, prime: W2.prime, temperature: 0 });
    entries.push({ name: `rnn-wasm sample() (${backend})`, threads: 1, ok: same(tokens), tokens,
      measure: () => timed(() => m.sample({ length: W2.tokens, prime: W2.prime }), 1).then((s) => ({ wall: s.wall / W2.tokens, cpu: s.cpu / W2.tokens })) });
  }
  // step(): the streaming API, one call per token, the draw in JavaScript
  const stream = await createModel({ architecture: 'many-to-many', cell, n_x: V, n_a, n_y: V, input: 'tokens', seed: 3, backend: 'simd' });
  stream.setWeights(ref.getWeights());
  cleanup.push(() => stream.dispose());
  const sampler = { greedy: false, temperature: 1, topK: V, topP: 1, rng: new Random(1) };
  const run = (n, draw) => {
    stream.resetState();
    let p;
    for (const t of W2.prime) p = stream.step(t);
    const out = [];
    for (let i = 0; i < n; i++) {
      const t = draw ? pickToken(p, sampler) : p.indexOf(Math.max(...p));
      out.push(t);
      p = stream.step(t);
    }
    return out;
  };
  const streamTokens = run(W2.check, false);
  entries.push({ name: 'rnn-wasm step() (simd)', threads: 1, ok: same(streamTokens), tokens: streamTokens,
    measure: () => timed(() => run(W2.tokens, true), 1).then((s) => ({ wall: s.wall / W2.tokens, cpu: s.cpu / W2.tokens })) });
  for (const backend of ['wasm', 'cpu']) {
    try {
      const t = await tfjsW2(backend, ref);
      cleanup.push(t.dispose);
      entries.push({ name: `tfjs core ops (${backend})`, threads: 1, ok: same(t.tokens), tokens: t.tokens, measure: t.measure });
    } catch (e) {
      entries.push({ name: `tfjs core ops (${backend})`, ok: false, error: e.message });
    }
  }
  for (const t of torch.procs) {
    const id = 'w2';
    const r = await torchW2(t, id, ref, dir, true);
    entries.push({ ...torchEntry(t, id, W2.tokens), ok: same(r.tokens), tokens: r.tokens });
  }
  for (const e of entries) log(`  ${mark(e.ok)} ${e.name.padEnd(28)} ${e.error ?? (e.tokens ?? []).slice(0, 12).join(' ') + ' …'}`);
  await rounds(entries.filter((e) => e.ok), W_ROUNDS, log);
  cleanup.forEach((f) => f());
  ref.dispose();
  return { entries, greedy };
}

/** "median (min–max)" of one kind of sample. */
function medianCell(e, key, digits) {
  if (!e?.samples) return e && !e.ok ? 'skipped' : '—';
  const s = spread(e.samples.map((x) => x[key]));
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

const median = (e, key) => (e?.samples ? spread(e.samples.map((x) => x[key])).median : NaN);

/** The RESULTS.md section of W1 and W2. */
function versusSection(v) {
  const t = v.torch.info;
  const torchLine = v.torch.skipped ? `PyTorch was not run: ${v.torch.skipped}.`
    : `PyTorch ${t.torch} (Python ${t.python}; BLAS ${t.blas_libraries.join(', ') || t.blas}; CPU capability ${t.cpu_capability}), one process per thread count.`;
  const w1 = w1Tables(v.w1);
  return `## W1 and W2 against PyTorch (bench/workloads.js, bench/torch.js)

${torchLine} Load average (1 min) before W1, between W1 and W2, and after W2: ${v.loads.map((x) => fmt(x)).join(', ')}.
Every contender starts from rnn-wasm's weights and is validated first; then ${W_ROUNDS} interleaved rounds. Each cell gives
the median with the min–max of the rounds. Wall-clock times are what a user waits; CPU times are this process's (or
PyTorch's, all its threads together) and hardly move with load from other processes, so on a busy machine the CPU-time
ratios of one-thread contenders are the ones to trust.

### W1: training a char LM, ms per batch (vocabulary ${W1.V}, T ${W1.T}, B ${W1.B}, softmax on every step, Adam ${W1.lr})

Check: the loss on the initial weights within 1e-4 (PyTorch) / 1e-5 (rnn-wasm builds) of rnn-wasm SIMD's, and over ${W1.check} Adam steps
within 1e-3 / 1e-4. rnn-wasm: token ids gathered from W_ih; PyTorch: one-hot inputs built once outside the timing.

Wall clock, median (min–max):

${w1.timing}

CPU time of one-thread contenders, median (min–max):

${w1.cpu}

Speed against PyTorch on one thread (its median ÷ the contender's; above 1 = faster), wall clock:

${w1.ratioWall}

The same by CPU time:

${w1.ratioCpu}

### W2: generation, ${W2.cell.toUpperCase()} n_a ${W2.n_a}, vocabulary ${W2.V}, batch 1, one token at a time

Check: the ${W2.check} greedy tokens after the prime [${W2.prime}] equal rnn-wasm's. Timed: ${W2.tokens} tokens per round, each drawn from the
softmax (rnn-wasm: \`sample()\`, one wasm call per token; \`step()\` returns ŷ and the draw is pickToken in JavaScript;
tfjs: gather, matMul, gates, head and \`tf.multinomial\` under \`tf.tidy\`, then \`dataSync\` for the token; PyTorch: the
module on a one-hot row, \`torch.multinomial\`).

${w2Table(v.w2)}`;
}

/** W1 as tables: ms per batch, then speed against PyTorch on one thread. */
function w1Tables(configs) {
  const names = [...new Set(configs.flatMap((c) => c.entries.map((e) => e.name)))];
  const find = (c, name) => c.entries.find((e) => e.name === name);
  const timing = table(['system', ...configs.map((c) => c.label)],
    names.map((n) => [n, ...configs.map((c) => medianCell(find(c, n), 'wall', 1))]));
  const cpu = table(['system (one thread)', ...configs.map((c) => c.label)],
    names.filter((n) => !/2 threads/.test(n)).map((n) => [n, ...configs.map((c) => medianCell(find(c, n), 'cpu', 1))]));
  const ratio = (key) => table(['system', ...configs.map((c) => c.label)],
    names.map((n) => [n, ...configs.map((c) => {
      const base = median(find(c, 'PyTorch, 1 thread'), key), own = median(find(c, n), key);
      return Number.isFinite(base) && Number.isFinite(own) ? `${fmt(base / own)}×` : '—';
    })]));
  return { timing, cpu, ratioWall: ratio('wall'), ratioCpu: ratio('cpu') };
}

function w2Table(w2) {
  const base = median(w2.entries[0], 'wall'), baseCpu = median(w2.entries[0], 'cpu');
  return table(['contender', 'check: greedy tokens = rnn-wasm', 'ms/token, wall: median (min–max)', 'ms/token, CPU: median (min–max)', 'vs rnn-wasm sample() (simd), wall', 'vs rnn-wasm sample() (simd), CPU'],
    w2.entries.map((e) => [e.name, e.ok ? '✔' : `✘ ${e.error ?? ''}`, medianCell(e, 'wall', 4), medianCell(e, 'cpu', 4),
      e.samples ? `${fmt(base / median(e, 'wall'))}×` : '—', e.samples ? `${fmt(baseCpu / median(e, 'cpu'))}×` : '—']));
}

// --- report ---

function machine() {
  const model = cpuModel();
  let flags = [];
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const have = new Set(info.match(/^flags\s*:\s*(.*)$/m)?.[1].split(' ') ?? []);
    flags = ['sse4_1', 'sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512vl', 'avx512_vnni', 'asimd'].filter((f) => have.has(f));
  } catch { /* not Linux */ }
  return { model, cores: os.cpus().length, flags, memGiB: os.totalmem() / 2 ** 30 };
}

function version(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'not installed';
  }
}

function commit() {
  try {
    return execSync('git describe --always --dirty', { cwd: new URL('..', import.meta.url), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Sentences computed from the measured numbers. */
function findings(gemm, rnn) {
  const rate = (entries, name) => entries.find((e) => e.name === name)?.best?.rate;
  const lines = [];
  for (const s of gemm) {
    const ranked = s.entries.filter((e) => e.best).sort((a, b) => b.best.rate - a.best.rate);
    const simd = rate(s.entries, 'rnn-wasm gemm (simd)');
    lines.push(`- GEMM ${s.label}: fastest is ${ranked[0]?.name} at ${fmt(ranked[0]?.best.rate)} GFLOP/s. ` +
      `rnn-wasm simd runs at ${fmt(simd)} GFLOP/s: ${fmt(simd / rate(s.entries, 'tfjs matMul (wasm)'))}× tfjs wasm (XNNPACK), ` +
      `${fmt(simd / rate(s.entries, 'rnn-wasm gemm (scalar)'))}× its own scalar build, ` +
      `${fmt(simd / rate(s.entries, 'plain JS (i-k-j)'))}× plain JS.`);
  }
  const ranked = rnn.entries.filter((e) => e.best).sort((a, b) => b.best.rate - a.best.rate);
  const simd = rate(rnn.entries, 'rnn-wasm (simd)');
  if (ranked.length) {
    lines.push(`- RNN training: fastest is ${ranked[0].name} at ${fmt(ranked[0].best.rate, 1)} sequences/s; ` +
      `rnn-wasm simd is ${fmt(simd / rate(rnn.entries, 'tfjs-layers (wasm)'), 1)}× tfjs-layers on its wasm backend ` +
      `and ${fmt(simd / rate(rnn.entries, 'tfjs-layers (cpu)'), 1)}× on its cpu backend.`);
  }
  return lines.join('\n');
}

function writeResults(gemm, rnn, cellsResult, versus, startedAt, seconds, loadAtStart) {
  const m = machine();
  const tfEnv = tf.env().features;
  const text = `# rnn-wasm benchmark results

Written by \`bench/index.js\` (\`npm run bench\` from the repository root); overwritten on every run.

- Date: ${startedAt.toISOString()}
- Machine: ${m.model}, ${m.cores} cores, ${fmt(m.memGiB, 0)} GiB, ${os.platform()} ${os.arch()}; CPU SIMD flags: ${m.flags.join(', ') || 'unknown'};
  WebAssembly here: SIMD ${simdSupported() ? 'yes' : 'no'}, relaxed SIMD ${relaxedSimdSupported() ? 'yes' : 'no (Node 20 needs --experimental-wasm-relaxed-simd)'}
- Node ${process.version} (V8 ${process.versions.v8})${process.execArgv.length ? `, run with ${process.execArgv.join(' ')}` : ''}
- rnn-wasm ${version('rnn-wasm')} (${commit()}); @tensorflow/tfjs-* ${tf.version_core}` +
` (wasm backend: SIMD ${tfEnv.WASM_HAS_SIMD_SUPPORT ? 'on' : 'off'}, threads ${tfEnv.WASM_HAS_MULTITHREAD_SUPPORT ? 'on' : 'off'}); ` +
`brain.js ${version('brain.js')}; benchmark ${Benchmark.version}
- Load average (1 min) at the start and end of the run: ${fmt(loadAtStart)} and ${fmt(os.loadavg()[0])} on ${m.cores} cores
  (above ~1, something else was running: the numbers are then lower bounds).
- Whole run: ${fmt(seconds, 0)} s. Every contender is validated before it is timed; one that fails is shown as skipped.
  Each is then measured in ${ROUNDS} interleaved rounds of benchmark.js (after a ${WARMUP.ms} ms warm-up); the table
  gives the best round, its margin of error ("± %", benchmark.js's relative margin at 95 %) and every round.
  Ratios are best throughput ÷ rnn-wasm simd's (above 1 = faster than rnn-wasm simd).

## GEMM: C = A·B, GFLOP/s

f32, row-major, single-threaded; 2·M·N·K flops per product. Checked against rnn-wasm \`gemm_naive\`.
rnn-wasm times the kernel call alone (operands already in wasm memory); tfjs times \`matMul\` plus
\`dataSync()\` of the result; plain JS is an i-k-j triple loop over Float32Arrays. \`gemm_naive\` is timed
in the SIMD build (the loop is the same in both; it uses no SIMD instructions).

${gemm.map((s) => `### ${s.label}\n\n${s.text}`).join('\n\n')}

## Vanilla RNN training: n_a ${RNN.n_a}, T ${RNN.T}, B ${RNN.B}, vocabulary ${RNN.n_x}, Adam lr ${RNN.lr.toExponential()}

One step = forward over T steps, BPTT, one optimizer update, on one fixed batch of a synthetic token stream
(each token's successor is fixed 80 % of the time). sequences/s = B × steps/s; tokens/s = T × sequences/s.

- rnn-wasm: \`createRNN({ cell: 'rnn', n_x: 65, n_a: 128, n_y: 65, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1, backend })\`,
  then \`trainStep({ x, y }, { optimizer: 'adam', learningRate: 2e-3 })\`. Token inputs are a gather of W_ax's columns, not a
  multiply. \`reduction: 'mean'\` makes its loss Keras's (mean over B·T); it does not change the work.
- tfjs-layers: \`SimpleRNN(128, returnSequences)\` + \`Dense(65, softmax)\`, \`trainOnBatch\` on one-hot inputs [32, 64, 65],
  Adam(2e-3), categorical cross-entropy; started from rnn-wasm's initial weights (kernels transposed, bias = b_x + b_a),
  so its first loss must equal rnn-wasm's. Later losses differ a little by design: rnn-wasm trains b_x and b_a as two
  tensors (as PyTorch does), Keras one bias, and Adam moves each tensor by about lr per step.
- ¹ brain.js \`recurrent.RNN\` (hiddenLayers [128], inputSize = inputRange = outputSize = 65) trains one sequence per
  \`trainPattern\` call: batch size 1, so 32 updates per "step" instead of 1; a ReLU cell, a learned 65-wide input
  embedding, its own RMSProp-style update with clipping (it has no Adam), and T + 1 = 65 steps per sequence (start
  and end tokens). It is trained at learning rate ${BRAIN_LR.toExponential()}, not ${RNN.lr.toExponential()}: from 5e-5 up its state
  usually blew up within the first batch on this task (its update has no bias correction, so early steps move every
  weight by about lr·√1000); the learning rate does not change the work per step. Its loss column is its own
  error measure (perplexity / 100), not cross-entropy. Its rate counts the same B = 32 sequences of T = 64 tokens:
  comparable as work done, not as the same algorithm.

Checks:
${rnn.checks.map((c) => `- ${c}`).join('\n')}

${rnn.text}

## LSTM and GRU beside the vanilla cell: T ${RNN.T}, B ${RNN.B}, vocabulary ${RNN.n_x}, Adam lr ${RNN.lr.toExponential()}

The same batch and training step with \`cell: 'rnn' | 'lstm' | 'gru'\` at n_a 128 and 512 (rnn-wasm, SIMD build), and
tfjs-layers' LSTM and GRU (n_a 128, wasm backend, sigmoid recurrent activation; its GRU is the reset-before-matmul
form) on one-hot inputs. An LSTM step does about 4× and a GRU about 3× the vanilla cell's recurrent work.

${cellsResult.text}

${versusSection(versus)}

## Notes

${findings(gemm, rnn)}
- Everything above runs on one thread: tfjs's wasm backend has no threads in Node here, and rnn-wasm's workers are
  measured on their own ("Training over workers", written by bench/workers.js). tfjs-node
  (native TensorFlow) is not included: it downloads a native library at install time.
- tfjs-layers runs the recurrence as a few small ops per step, forward and backward, so its time includes per-op
  dispatch and autograd-tape overhead, which is what its users pay; rnn-wasm runs a whole sequence per wasm call.
- These are one machine's numbers on a shared 2-core VM. Between runs the same contender has been seen to differ by
  up to 2× when other work shared the machine; compare the rounds and the load average, and compare ratios from
  one run rather than absolute numbers across runs.
`;
  writeFileSync(RESULTS, text);
}

// --- main ---

// Node 20 validates relaxed SIMD only behind a flag: run again with it, so the relaxed build is
// measured beside the SIMD one (Node 22+ and Chrome 114+ have it without a flag).
rerunWithRelaxedSimd(relaxedSimdSupported());

const startedAt = new Date();
const loadAtStart = os.loadavg()[0];
const t0 = performance.now();
log(`rnn-wasm benchmarks — Node ${process.version}, ${machine().model}, ${os.cpus().length} cores`);
// --only=versus runs W1 and W2 alone and prints their tables, leaving RESULTS.md as it is
const versusOnly = process.argv.includes('--only=versus');
const gemm = versusOnly ? [] : await benchGemm();
const rnn = versusOnly ? undefined : await benchRnn();
const cellsResult = versusOnly ? undefined : await benchCells();
const torch = await startTorch();
const { dir, remove } = scratchDir();
const versus = { torch, loads: [os.loadavg()[0]] };
try {
  versus.w1 = await benchW1(torch, dir);
  versus.loads.push(os.loadavg()[0]);
  versus.w2 = await benchW2(torch, dir);
  versus.loads.push(os.loadavg()[0]);
} finally {
  torch.procs.forEach((t) => t.close());
  remove();
}
if (versusOnly) {
  log(`\n${versusSection(versus)}`);
} else {
  writeResults(gemm, rnn, cellsResult, versus, startedAt, (performance.now() - t0) / 1000, loadAtStart);
  log(`\nwrote ${RESULTS.pathname} in ${fmt((performance.now() - t0) / 1000, 0)} s`);
}

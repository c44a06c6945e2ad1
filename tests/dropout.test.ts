// Dropout: the mask kernel (assembly/dropout.ts) and its use between stacked layers and
// before the output layer: seeded, training only, and gradients that hold for a fixed mask.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createRNN, getEngine, Random } from '../dist/index.js';
import { checkSame, randomBatch, modelConfig } from './_utils.js';

const Kernel = suite('dropout kernels');

async function mask(backend: 'simd' | 'scalar', n: number, p: number, seed: number[]) {
  const arena = new Arena((await getEngine(backend)).kernels);
  const M = arena.alloc(n, 'mask');
  arena.kernels.dropout_mask(M.ptr, n, p, 1 / (1 - p), seed[0], seed[1], seed[2], seed[3]);
  const out = arena.f32(M).slice();
  arena.dispose();
  return out;
}

Kernel('a mask drops a fraction p and scales the rest by 1 / (1 − p)', async () => {
  for (const p of [0.1, 0.5, 0.8]) {
    const m = await mask('simd', 100_000, p, [1, 2, 3, 4]);
    const scale = Math.fround(1 / (1 - p));
    const dropped = m.filter((v) => v === 0).length / m.length;
    assert.ok(m.every((v) => v === 0 || v === scale), 'values are 0 or the scale');
    assert.ok(Math.abs(dropped - p) < 0.01, `p = ${p}: dropped ${dropped}`);
  }
});

Kernel('the mask is the JavaScript generator\'s draws: u < p from xoshiro128** started at the seed', async () => {
  const seed = [0x9e3779b9, 12345, 0xdeadbeef, 7];
  const m = await mask('simd', 1000, 0.3, seed);
  const r = new Random(0);
  r.setState(seed);
  for (let i = 0; i < m.length; i++) {
    if ((m[i] === 0) !== (r.uniform() < Math.fround(0.3))) assert.unreachable(`value ${i} differs`);
  }
});

Kernel('same seed, same mask, in both builds; another seed, another mask', async () => {
  const a = await mask('simd', 4099, 0.4, [5, 6, 7, 8]);
  checkSame('simd vs scalar', a, await mask('scalar', 4099, 0.4, [5, 6, 7, 8]));
  checkSame('repeat', a, await mask('simd', 4099, 0.4, [5, 6, 7, 8]));
  const b = await mask('simd', 4099, 0.4, [5, 6, 7, 9]);
  assert.ok(a.some((v, i) => v !== b[i]));
});

Kernel('mul_mask equals its naive reference, in place and for lengths not a multiple of 4', async () => {
  for (const backend of ['simd', 'scalar'] as const) {
    const arena = new Arena((await getEngine(backend)).kernels);
    const rng = new Random(3);
    for (const n of [1, 3, 4, 13, 1024]) {
      const X = arena.alloc(n, 'x'), M = arena.alloc(n, 'm'), Y = arena.alloc(n, 'y'), Z = arena.alloc(n, 'z');
      arena.f32(X).set(Array.from({ length: n }, () => rng.uniform() - 0.5));
      arena.f32(M).set(Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 2)));
      arena.kernels.mul_mask(Y.ptr, X.ptr, M.ptr, n);
      arena.kernels.mul_mask_naive(Z.ptr, X.ptr, M.ptr, n);
      checkSame(`${backend} n=${n}`, arena.f32(Y), arena.f32(Z));
      const expected = arena.f32(X).map((x, i) => x * arena.f32(M)[i]);
      arena.kernels.mul_mask(X.ptr, X.ptr, M.ptr, n);
      checkSame(`${backend} n=${n} in place`, arena.f32(X), expected);
    }
    arena.dispose();
  }
});

Kernel.run();

// ---

const Model = suite('dropout in models');

const cells = ['rnn', 'lstm', 'gru'] as const;
const spec = { T: 6, B: 3, n_x: 3, n_a: 5, n_y: 4, input: 'dense', output: 'softmax' } as const;

Model('inference never drops: forward equals the same model without dropout', async () => {
  for (const cell of cells) {
    const base = { ...modelConfig(spec), cell, layers: 3, seed: 11 };
    const a = await createRNN({ ...base, dropout: 0.5, outputDropout: 0.5 }), b = await createRNN(base);
    const batch = randomBatch(new Random(1), spec);
    const fa = a.forward(batch), fb = b.forward(batch);
    checkSame(`${cell} yhat`, fa.yhat, fb.yhat);
    checkSame(`${cell} aT`, fa.aT, fb.aT);
    assert.is(fa.loss, fb.loss);
    a.dispose(); b.dispose();
  }
});

Model('training drops: a fresh mask per step, and p = 0 is no dropout at all', async () => {
  const batch = randomBatch(new Random(2), spec);
  const m = await createRNN({ ...modelConfig(spec), cell: 'lstm', layers: 2, dropout: 0.4, outputDropout: 0.3, seed: 12 });
  const plain = await createRNN({ ...modelConfig(spec), cell: 'lstm', layers: 2, seed: 12 });
  const zero = await createRNN({ ...modelConfig(spec), cell: 'lstm', layers: 2, dropout: 0, outputDropout: 0, seed: 12 });
  const l1 = m.computeGradients(batch).loss, l2 = m.computeGradients(batch).loss;
  const lp = plain.computeGradients(batch);
  assert.ok(l1 !== l2, 'each step draws new masks');
  assert.ok(l1 !== lp.loss, 'training with dropout differs from training without');
  const lz = zero.computeGradients(batch);
  assert.is(lz.loss, lp.loss);
  for (const name of Object.keys(lp.grads)) checkSame(name, lz.grads[name], lp.grads[name]);
  m.dispose(); plain.dispose(); zero.dispose();
});

/** ∂L/∂θ along a random direction in one tensor, by central differences with the masks held
 *  fixed (the generator restored before each evaluation), against the analytic gradient. */
function directionalCheck(m: any, batch: any, fixMask: boolean) {
  const state = m.getTrainingState();
  const { grads } = m.computeGradients(batch);
  const theta = m.getWeights();
  const rng = new Random(99);
  const errors: Record<string, number> = {};
  for (const e of m.layout.entries) {
    const v = Array.from({ length: e.length }, () => 2 * rng.uniform() - 1);
    const eps = 1e-2;
    const lossAt = (sign: number) => {
      if (fixMask) m.setTrainingState(state);
      const w = theta.slice();
      for (let i = 0; i < e.length; i++) w[e.offset + i] += sign * eps * v[i];
      m.setWeights(w);
      return m.computeGradients(batch).loss;
    };
    const fd = (lossAt(1) - lossAt(-1)) / (2 * eps);
    const exact = grads[e.name].reduce((s: number, g: number, i: number) => s + g * v[i], 0);
    errors[e.name] = Math.abs(fd - exact) / Math.max(Math.abs(exact), 1e-2);
  }
  m.setTrainingState(state);
  return errors;
}

for (const cell of cells) {
  Model(`${cell}, 3 layers, dropout 0.3 between layers and 0.25 before the head: gradients hold with a fixed mask`, async () => {
    const m = await createRNN({ ...modelConfig(spec), cell, layers: 3, dropout: 0.3, outputDropout: 0.25, seed: 21 });
    const batch = randomBatch(new Random(4), spec);
    const errors = directionalCheck(m, batch, true);
    for (const [name, err] of Object.entries(errors)) assert.ok(err < 1e-2, `${name}: relative error ${err.toExponential(2)}`);
    // the check can fail: with a new mask for every evaluation the differences are not the gradient
    const loose = directionalCheck(m, batch, false);
    assert.ok(Math.max(...Object.values(loose)) > 0.1, 'unfixed masks are detected');
    m.dispose();
  });
}

Model('bidirectional, dropout between layers: gradients hold with a fixed mask', async () => {
  const m = await createRNN({ ...modelConfig(spec), cell: 'gru', layers: 2, bidirectional: true, dropout: 0.5, seed: 22 });
  const errors = directionalCheck(m, randomBatch(new Random(5), spec), true);
  for (const [name, err] of Object.entries(errors)) assert.ok(err < 1e-2, `${name}: relative error ${err.toExponential(2)}`);
  m.dispose();
});

Model('the config checks p, needs layers ≥ 2 for dropout, and round-trips through toJSON', async () => {
  const refuse = async (config: any, type: ErrorConstructor, pattern: RegExp) => {
    try {
      await createRNN(config);
    } catch (e) {
      assert.instance(e, type);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(config)}`);
  };
  await refuse({ n_x: 2, n_a: 3, n_y: 2, dropout: 0.2 }, RangeError, /createRNN: dropout acts between stacked layers and needs layers ≥ 2, got layers = 1; use outputDropout/);
  await refuse({ n_x: 2, n_a: 3, n_y: 2, layers: 2, dropout: 1 }, RangeError, /createRNN: dropout must be a number in \[0, 0.99\], got 1/);
  await refuse({ n_x: 2, n_a: 3, n_y: 2, outputDropout: '0.5' }, TypeError, /createRNN: outputDropout must be a number, got "0.5"/);
  const m = await createRNN({ n_x: 2, n_a: 3, n_y: 2, layers: 2, dropout: 0.2, outputDropout: 0.1, seed: 1 });
  const copy = await createRNN(m.toJSON());
  assert.equal(copy.toJSON(), m.toJSON());
  assert.is(copy.config.dropout, 0.2);
  assert.is(copy.config.outputDropout, 0.1);
  m.dispose(); copy.dispose();
});

Model('a 2-layer LSTM with dropout still learns the echo task', async () => {
  const V = 6, T = 10;
  const rng = new Random(8);
  const echo = (n: number) => {
    const x: number[][] = [], y: number[][] = [];
    for (let i = 0; i < n; i++) {
      const s = Array.from({ length: T }, () => rng.int(V));
      x.push(s);
      y.push(s.map((_, t) => (t >= 1 ? s[t - 1] : -1)));
    }
    return { x, y };
  };
  const m = await createRNN({ cell: 'lstm', n_x: V, n_a: 32, n_y: V, layers: 2, dropout: 0.2, outputDropout: 0.1, input: 'tokens', reduction: 'mean', seed: 3 });
  const test = echo(100);
  const first = m.forward(test).loss!;
  for (let i = 0; i < 150; i++) m.trainStep(echo(16), { learningRate: 0.01 });
  const last = m.forward(test).loss!;
  assert.ok(last < first / 5, `loss ${first} → ${last}`);
  m.dispose();
});

Model.run();

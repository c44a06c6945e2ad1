// Optimizer steps and clipping against golden values from torch.optim and
// torch.nn.utils.clip_grad_* (tests/fixtures/make_optim.py wrote tests/fixtures/optim.json).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arena, createModel, getEngine, Random, relaxedSimdSupported } from '../dist/index.js';
import { clipGradients, gradientNorm, Optimizer, resolveOptimizer } from '../dist/optim.js';
import { checkClose, rejectsWith, throwsWith, worst } from './_utils.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'optim.json'), 'utf8'));

/** torch keyword arguments → our config. */
function config(type: string, o: Record<string, any>) {
  return {
    type, learningRate: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov,
    weightDecay: o.weight_decay, beta1: o.betas?.[0], beta2: o.betas?.[1], eps: o.eps, alpha: o.alpha,
    lrDecay: o.lr_decay, initialAccumulatorValue: o.initial_accumulator_value,
  } as any;
}

const Optim = suite('optimizers match torch.optim');

for (const backend of ['simd', 'scalar'] as const) {
  for (const run of golden.runs) {
    Optim(`${backend}: ${run.type} ${JSON.stringify(run.options)}, 6 steps`, async () => {
      const arena = new Arena((await getEngine(backend)).kernels);
      const n = golden.p0.length;
      const params = arena.alloc(n, 'params'), grads = arena.alloc(n, 'grads');
      arena.f32(params).set(golden.p0);
      const opt = new Optimizer(resolveOptimizer('test', config(run.type, run.options)), arena, n);
      run.steps.forEach((expected: number[], k: number) => {
        arena.f32(grads).set(golden.grads[k]);
        opt.apply(params, grads);
        checkClose(`step ${k + 1}`, arena.f32(params), expected, 2e-5, 1e-2);
      });
      assert.is(opt.step, 6);
      arena.dispose();
    });
  }
}

Optim('the golden values can fail: Adam with another beta2 disagrees', async () => {
  const arena = new Arena((await getEngine('simd')).kernels);
  const run = golden.runs.find((r: any) => r.type === 'adam');
  const n = golden.p0.length;
  const params = arena.alloc(n, 'params'), grads = arena.alloc(n, 'grads');
  arena.f32(params).set(golden.p0);
  const opt = new Optimizer(resolveOptimizer('test', { type: 'adam', learningRate: run.options.lr, beta2: 0.99 }), arena, n);
  for (let k = 0; k < 6; k++) { arena.f32(grads).set(golden.grads[k]); opt.apply(params, grads); }
  assert.ok(worst(arena.f32(params), run.steps[5], 1e-2).err > 1e-3, 'a different rule is detected');
  arena.dispose();
});

const OPTIMIZERS = [
  { type: 'sgd' }, { type: 'sgd', momentum: 0.9, nesterov: true }, { type: 'adam' }, { type: 'adamw' },
  { type: 'rmsprop' }, { type: 'rmsprop', momentum: 0.5 }, { type: 'adagrad', initialAccumulatorValue: 0.1 },
] as const;

Optim('an update that would make a value not finite changes nothing and names the first one; the check computes what the step stores', async () => {
  for (const backend of ['simd', 'scalar', ...(relaxedSimdSupported() ? ['relaxed'] as const : [])] as const) {
    const arena = new Arena((await getEngine(backend)).kernels);
    const n = 11;                                   // two blocks of four, then three values one at a time
    const rng = new Random(5);
    for (const cfg of OPTIMIZERS) {
      // one ordinary step, so the moments are not zero; then a huge value at `at`, which the
      // next update carries past the largest f32 (and nothing else)
      for (const at of [6, 9, 1]) {
        const params = arena.alloc(n, 'params'), grads = arena.alloc(n, 'grads');
        arena.f32(params).set(Array.from({ length: n }, () => rng.uniform() - 0.5));
        arena.f32(grads).set(Array.from({ length: n }, () => rng.uniform() + 0.5));   // all > 0: every p goes down
        const opt = new Optimizer(resolveOptimizer('test', { ...cfg, learningRate: 0.5 }), arena, n);
        assert.is(opt.apply(params, grads), -1);
        arena.f32(params)[at] = -3.4e38;
        const before = { p: arena.f32(params).slice(), state: opt.getState() };
        const bad = opt.apply(params, grads, 1e37);
        const label = `${backend} ${JSON.stringify(cfg)}, value ${at}`;
        assert.is(bad, at, label);
        assert.equal(Array.from(arena.f32(params)), Array.from(before.p), `${label}: weights`);
        assert.equal(opt.getState(), before.state, `${label}: moments and step count`);
        // what the step would have stored: a value that is not finite exactly there
        const k = arena.kernels, lr = 1e37, step = opt.step + 1;
        const m = (opt as any).m?.ptr ?? 0, v = (opt as any).v?.ptr ?? 0;
        const c = opt.config as any;
        if (c.type === 'sgd') k.sgd_step(params.ptr, grads.ptr, m, n, lr, c.momentum, c.dampening, c.weightDecay, c.nesterov ? 1 : 0, 0);
        else if (c.type === 'rmsprop') k.rmsprop_step(params.ptr, grads.ptr, m, v, n, lr, c.alpha, c.eps, c.weightDecay, c.momentum);
        else if (c.type === 'adagrad') k.adagrad_step(params.ptr, grads.ptr, m, n, lr, c.eps, c.weightDecay);
        else k.adam_step(params.ptr, grads.ptr, m, v, n, lr, c.beta1, c.beta2, c.eps, c.weightDecay, c.type === 'adamw' ? 1 : 0, lr / (1 - c.beta1 ** step), Math.sqrt(1 - c.beta2 ** step));
        const p = arena.f32(params);
        assert.equal(Array.from(p, (x, i) => Number.isFinite(x) || i), Array.from(p, (_, i) => i !== at || i), `${label}: the step stores a non-finite value there only`);
        opt.dispose();
        arena.release(params); arena.release(grads);
      }
    }
    arena.dispose();
  }
});

Optim.run();

// ---

const Clip = suite('gradient clipping matches torch.nn.utils');

Clip('clip_grad_norm_: the norm reported and the gradients scaled', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  for (const c of golden.clipNorm) {
    const g = arena.alloc(golden.p0.length, 'grads');
    arena.f32(g).set(golden.grads[2]);
    const norm = gradientNorm(kernels, g);
    checkClose(`norm (max ${c.maxNorm})`, [norm], [c.norm], 1e-6);
    clipGradients(kernels, g, norm, c.maxNorm);
    checkClose(`clipped (max ${c.maxNorm})`, arena.f32(g), c.clipped, 1e-6, 1e-3);
  }
  arena.dispose();
});

Clip('clip_grad_value_', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const g = arena.alloc(golden.p0.length, 'grads');
  arena.f32(g).set(golden.grads[3]);
  clipGradients(kernels, g, gradientNorm(kernels, g), undefined, golden.clipValue.clipValue);
  checkClose('clipped', arena.f32(g), golden.clipValue.clipped, 0);
  arena.dispose();
});

Clip('the gradient norm: Σ g² in f64 within 1e-15 of an ordered sum, the same bits in every build, not finite with any non-finite value', async () => {
  const builds = (['simd', 'relaxed', 'scalar'] as const).filter((b) => b !== 'relaxed' || relaxedSimdSupported());
  const arenas = await Promise.all(builds.map(async (b) => new Arena((await getEngine(b)).kernels)));
  const normOf = (arena: Arena, values: Float32Array) => {
    const g = arena.alloc(values.length, 'grads');
    arena.f32(g).set(values);
    const norm = gradientNorm(arena.kernels, g);
    arena.release(g);
    return norm;
  };
  const rng = new Random(5);
  for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 1000, 4099]) {
    const values = Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 2 ** (rng.uniform() * 40 - 20));
    let ordered = 0;
    for (const v of values) ordered += v * v;
    const norms = arenas.map((arena) => normOf(arena, values));
    assert.ok(Math.abs(norms[0] ** 2 - ordered) <= 1e-15 * ordered, `n ${n}: ${norms[0] ** 2} against ${ordered}`);
    for (const norm of norms) assert.ok(Object.is(norm, norms[0]), `n ${n}: ${builds.join(', ')} gave ${norms.join(', ')}`);
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    const values = new Float32Array(21).fill(0.5);
    values[13] = bad;
    for (const arena of arenas) assert.is(Number.isFinite(normOf(arena, values)), false, `${bad} at index 13`);
  }
  for (const arena of arenas) arena.dispose();
});

Clip.run();

// ---

const Eps = suite('eps = 0 and the optimizer hyper-parameters');

Eps('a zero gradient with eps = 0 is refused naming eps, not the learning rate', async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const weights = m.getWeights();
  // the input is all zeros, so weight_ih_l0's gradient is 0: Adam's step is 0 / (0 + eps)
  const batch = { x: [[[0, 0]]], y: [0] };
  for (const type of ['adam', 'adamw', 'rmsprop', 'adagrad'] as const) {
    for (const learningRate of [0, 1e-3]) {
      throwsWith(() => m.trainStep(batch, { optimizer: { type, eps: 0 }, learningRate }), RangeError,
        /^trainStep: the update would make weight_ih_l0\[0\] \(or its optimizer moments\) not finite: its gradient is 0 and optimizer\.eps is 0, so its step divides 0 by 0 at optimizer step 1; the weights were left unchanged \(give optimizer\.eps a value above 0, such as its default, or pass onNonFinite: 'skip'\)$/);
    }
  }
  // an eps that float32 rounds to 0 is named as such; fit gives the same advice
  throwsWith(() => m.trainStep(batch, { optimizer: { type: 'adam', eps: 1e-50 } }), RangeError, /optimizer\.eps is 1e-50, 0 in float32, so/);
  await rejectsWith(m.fit([batch], { optimizer: { type: 'adam', eps: 0 } }), RangeError, /^fit: .*optimizer\.eps is 0.*\(give optimizer\.eps a value above 0/);
  assert.equal(m.getWeights(), weights);
  // a loss that overflows is still met with the learning rate's advice
  const big = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 1, output: 'linear', seed: 1 });
  big.setWeights(new Float32Array(big.numParams).fill(1e20));
  throwsWith(() => big.trainStep({ x: [[[1, 1]]], y: [[0]] }, { optimizer: { type: 'adam', eps: 0 } }), RangeError,
    /^trainStep: the (loss|gradient of) .*\(lower the learning rate, set clipNorm, or pass onNonFinite: 'skip'\)$/);
  big.dispose();
  m.dispose();
});

Eps('hyper-parameters beyond float32 are refused when the optimizer is configured', () => {
  for (const [type, key] of [['adam', 'eps'], ['adam', 'weightDecay'], ['adamw', 'learningRate'], ['sgd', 'momentum'], ['rmsprop', 'eps'], ['adagrad', 'lrDecay']]) {
    throwsWith(() => resolveOptimizer('trainStep', { type, [key]: 1e39 } as never), RangeError,
      new RegExp(`^trainStep: optimizer\\.${key} must be finite in float32, got 1e\\+39 \\(beyond float32's range of ±3\\.4028235e38: it would be Infinity\\)$`));
  }
  assert.is((resolveOptimizer('trainStep', { type: 'adam', eps: 3e38 }) as { eps: number }).eps, 3e38);
});

Eps.run();

// Optimizer steps and clipping against golden values from torch.optim and
// torch.nn.utils.clip_grad_* (tests/fixtures/make_optim.py wrote tests/fixtures/optim.json).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Arena, getEngine, Random, relaxedSimdSupported } from '../dist/index.js';
import { clipGradients, gradientNorm, Optimizer, resolveOptimizer } from '../dist/optim.js';
import { checkClose, worst } from './_utils.js';

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

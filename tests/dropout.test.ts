// Dropout kernels (assembly/dropout.ts): a seeded mask of 0 and 1 / (1 − p), and the mask
// multiply used in the forward and the backward pass.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, getEngine, Random } from '../dist/index.js';
import { checkSame } from './_utils.js';

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

// The fused output + loss kernels against f64 formulas: values, gradients, row weights,
// skipped steps, stability for logits of ±100 (no NaN, no Infinity), and rows of weight 0
// (padding) that contribute nothing even when their logits are not finite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, getEngine, Random } from '../dist/index.js';
import { checkClose, uniforms } from './_utils.js';

const Loss = suite('loss kernels');

type Kind = 'softmax_xent' | 'sigmoid_bce' | 'squared_error';

/** f64 loss per row and ∂L/∂z, straight from the definitions. */
function reference(kind: Kind, z: number[], y: number[], N: number, n: number, w: number[]) {
  let total = 0;
  const dz = new Array(N * n).fill(0), out = new Array(N * n).fill(0);
  for (let r = 0; r < N; r++) {
    const zr = z.slice(r * n, (r + 1) * n);
    if (kind === 'softmax_xent') {
      const m = Math.max(...zr);
      const lse = m + Math.log(zr.reduce((s, v) => s + Math.exp(v - m), 0));
      zr.forEach((v, k) => { out[r * n + k] = Math.exp(v - lse); });
      const t = y[r];
      const wr = t < 0 ? 0 : w[r];
      if (wr) total += wr * (lse - zr[t]);
      zr.forEach((_, k) => { dz[r * n + k] = wr * (out[r * n + k] - (k === t ? 1 : 0)); });
    } else {
      zr.forEach((v, k) => {
        const t = y[r * n + k];
        if (kind === 'sigmoid_bce') {
          const p = 1 / (1 + Math.exp(-v));
          out[r * n + k] = p;
          total += w[r] * (Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v))));
          dz[r * n + k] = w[r] * (p - t);
        } else {
          out[r * n + k] = v;
          total += w[r] * (v - t) ** 2;
          dz[r * n + k] = w[r] * 2 * (v - t);
        }
      });
    }
  }
  return { total, dz, out };
}

for (const kind of ['softmax_xent', 'sigmoid_bce', 'squared_error'] as const) {
  for (const scale of [1, 100]) {
    Loss(`${kind}: loss, outputs and ∂L/∂z with row weights; logits up to ±${scale}`, async () => {
      const { kernels } = await getEngine('simd');
      const arena = new Arena(kernels);
      const rng = new Random(scale);
      const N = 7, n = 5;
      const z = uniforms(rng, N * n, scale);
      if (scale === 100) { z[0] = 100; z[1] = -100; z[7] = -100; z[8] = 100; }
      const w = Array.from({ length: N }, (_, r) => (r === 3 ? 0 : Math.fround(0.5 + rng.uniform())));
      const y = kind === 'softmax_xent'
        ? Array.from({ length: N }, (_, r) => (r === 5 ? -1 : rng.int(n)))
        : kind === 'sigmoid_bce' ? Array.from({ length: N * n }, () => Math.fround(rng.uniform())) : uniforms(rng, N * n, scale);
      const ref = reference(kind, z, y, N, n, w);
      const Z = arena.alloc(N * n, 'z'), Yh = arena.alloc(N * n, 'yhat'), dZ = arena.alloc(N * n, 'dz');
      const Y = arena.alloc(y.length, 'y'), W = arena.alloc(N, 'w');
      arena.f32(Z).set(z); arena.f32(W).set(w);
      if (kind === 'softmax_xent') arena.i32(Y).set(y); else arena.f32(Y).set(y);
      const total = kernels[kind](Yh.ptr, dZ.ptr, Z.ptr, Y.ptr, W.ptr, N, n, 1);
      assert.ok(Number.isFinite(total) && arena.f32(dZ).every(Number.isFinite) && arena.f32(Yh).every(Number.isFinite), 'all finite');
      checkClose('loss', [total], [ref.total], 1e-5);
      checkClose('outputs', arena.f32(Yh), ref.out, 1e-5, 1e-6);
      checkClose('∂L/∂z', arena.f32(dZ), ref.dz, 1e-5, 1e-4);
      // no targets: outputs only, loss 0
      const onlyOut = kernels[kind](Yh.ptr, 0, Z.ptr, 0, 0, N, n, 1);
      assert.is(onlyOut, 0);
      checkClose('outputs without targets', arena.f32(Yh), ref.out, 1e-5, 1e-6);
      arena.dispose();
    });
  }
}

for (const kind of ['softmax_xent', 'sigmoid_bce', 'squared_error'] as const) {
  for (const bad of [Infinity, -Infinity, NaN]) {
    Loss(`${kind}: a row of weight 0 with a logit of ${bad} adds nothing and gets ∂L/∂z = 0`, async () => {
      const { kernels } = await getEngine('simd');
      const arena = new Arena(kernels);
      const rng = new Random(4);
      const N = 3, n = 4;
      const z = uniforms(rng, N * n, 2);
      const y = kind === 'softmax_xent' ? [1, 2, 0] : uniforms(rng, N * n, 0.5).map((v) => v + 0.5);
      const w = [1, 0, 1];
      const ref = reference(kind, z, y, N, n, w);
      z[n + 1] = bad;                                   // row 1 is padding: its logits are garbage
      const Z = arena.alloc(N * n, 'z'), Yh = arena.alloc(N * n, 'yhat'), dZ = arena.alloc(N * n, 'dz');
      const Y = arena.alloc(y.length, 'y'), W = arena.alloc(N, 'w');
      arena.f32(Z).set(z); arena.f32(W).set(w);
      if (kind === 'softmax_xent') arena.i32(Y).set(y); else arena.f32(Y).set(y);
      const total = kernels[kind](Yh.ptr, dZ.ptr, Z.ptr, Y.ptr, W.ptr, N, n, 1);
      checkClose('loss of the real rows', [total], [ref.total], 1e-5);
      const dz = arena.f32(dZ);
      assert.ok(dz.subarray(n, 2 * n).every((v) => Object.is(v, 0)), `padded row: ∂L/∂z is +0, got ${Array.from(dz.subarray(n, 2 * n))}`);
      checkClose('∂L/∂z of the real rows', [...dz.subarray(0, n), ...dz.subarray(2 * n)], [...ref.dz.slice(0, n), ...ref.dz.slice(2 * n)], 1e-5, 1e-4);
      arena.dispose();
    });
  }
}

Loss.run();

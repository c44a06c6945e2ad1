// The vectorised σ and tanh against Math in f64: a few f32 ulps everywhere, exact limits and
// signs, no NaN or Infinity for any finite input, and both builds within an ulp or two.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, getEngine } from '../dist/index.js';

const Act = suite('activations');

// a sweep over the interesting ranges: tiny, around the polynomial switch, large, huge
const xs: number[] = [0, -0, 1e-30, -1e-30, 1e-7, -3e-5, 0.624, 0.625, 0.626, -0.625, 88, -88, 100, -100, 1e30, -1e30];
for (let x = -20; x <= 20; x += 0.0137) xs.push(x);
for (let e = -12; e <= 2; e += 0.05) xs.push(10 ** e, -(10 ** e));
const input = Float32Array.from(xs);

const reference = {
  tanh_to: (x: number) => Math.tanh(x),
  sigmoid_to: (x: number) => 1 / (1 + Math.exp(-x)),
};

for (const backend of ['simd', 'scalar'] as const) {
  for (const kernel of ['tanh_to', 'sigmoid_to'] as const) {
    Act(`${backend} ${kernel}: within 4 ulp of Math (relative 5e-7), finite, odd / bounded as it should be`, async () => {
      const { kernels } = await getEngine(backend);
      const arena = new Arena(kernels);
      const src = arena.alloc(input.length, 'x'), dst = arena.alloc(input.length, 'y');
      arena.f32(src).set(input);
      kernels[kernel](dst.ptr, src.ptr, input.length);
      const out = arena.f32(dst).slice();
      let worst = 0, at = -1;
      for (let i = 0; i < input.length; i++) {
        const y = out[i], e = reference[kernel](input[i]);
        assert.ok(Number.isFinite(y), `${kernel}(${input[i]}) = ${y}`);
        // relative error; results below 1e-30 (σ of very negative x) are measured against 1e-30
        const err = Math.abs(y - e) / Math.max(Math.abs(e), 1e-30);
        if (err > worst) { worst = err; at = i; }
        if (kernel === 'tanh_to') assert.ok(Math.abs(y) <= 1 && (input[i] === 0 || Math.sign(y) === Math.sign(input[i])), `tanh(${input[i]}) = ${y}`);
        else assert.ok(y >= 0 && y <= 1, `σ(${input[i]}) = ${y}`);
      }
      assert.ok(worst < 5e-7, `worst relative error ${worst.toExponential(2)} at x = ${input[at]}: got ${out[at]}, Math ${reference[kernel](input[at])}`);
      // in place, and a length that is not a multiple of four (the scalar tail)
      kernels[kernel](src.ptr, src.ptr, 7);
      for (let i = 0; i < 7; i++) assert.is(arena.f32(src)[i], out[i], 'in place = out of place');
      arena.dispose();
    });
  }

  Act(`${backend}: NaN stays NaN and ±∞ give the limits, in the four-lane path and the scalar tail`, async () => {
    // the clamp before e^x must not turn a NaN into a number: the non-finite guard of training
    // sees a diverged step only through NaN reaching the loss
    const { kernels } = await getEngine(backend);
    const arena = new Arena(kernels);
    const special = [NaN, Infinity, -Infinity, 0.5, NaN, -Infinity, Infinity];   // lanes 0–3, then the tail
    const src = arena.alloc(special.length, 'x'), dst = arena.alloc(special.length, 'y');
    arena.f32(src).set(special);
    for (const kernel of ['tanh_to', 'sigmoid_to'] as const) {
      kernels[kernel](dst.ptr, src.ptr, special.length);
      const out = arena.f32(dst);
      special.forEach((x, i) => {
        const y = out[i];
        const at = `${kernel}(${x}) at index ${i} = ${y}`;
        if (Number.isNaN(x)) assert.ok(Number.isNaN(y), at);
        else if (x === Infinity) assert.is(y, 1, at);
        else if (x === -Infinity) assert.ok(kernel === 'tanh_to' ? y === -1 : y >= 0 && y < 1e-30, at);
        else assert.ok(Math.abs(y - reference[kernel](x)) < 1e-6, at);
      });
    }
    arena.dispose();
  });
}

Act.run();

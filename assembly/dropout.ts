// Dropout (inverted, as torch.nn.Dropout in training mode): each activation is kept with
// probability 1 − p and scaled by 1 / (1 − p), or set to 0. The mask M is drawn once per
// forward pass and kept, so the backward pass multiplies ∂L/∂output by the same M.
// n = number of f32 values. M holds 0 or scale = 1 / (1 − p) per value.
//
//   forward:  Y = X ⊙ M            backward:  dX = dY ⊙ M
//
// Generator: xoshiro128** (as src/random.ts), started from four 32-bit words the caller
// draws from the model's seeded generator; a mask is a pure function of (seed, n, p).
// see: https://prng.di.unimi.it/xoshiro128starstar.c

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/** M (n) = 0 with probability p, else scale; uniforms from xoshiro128** seeded with s0..s3
 *  (not all zero). u = top 24 bits / 2^24 is exact in f32, so u < p is the same test in
 *  every build. */
export function dropout_mask(M: usize, n: i32, p: f32, scale: f32, s0: u32, s1: u32, s2: u32, s3: u32): void {
  let a = s0, b = s1, c = s2, d = s3;
  for (let i = 0; i < n; i++) {
    const r = rotl<u32>(b * 5, 7) * 9;          // the output function
    const t = b << 9;                           // the state transition
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl<u32>(d, 11);
    const u = <f32>(r >>> 8) / 16777216;        // uniform in [0, 1)
    put(M, i, u < p ? 0 : scale);
  }
}

/** Y = X ⊙ M over n values (Y may be X): dropout forward (X = activations) and backward
 *  (X = ∂L/∂Y, giving ∂L/∂X). Naive reference of the loop. */
export function mul_mask_naive(Y: usize, X: usize, M: usize, n: i32): void {
  for (let i = 0; i < n; i++) put(Y, i, at(X, i) * at(M, i));
}

/** Y = X ⊙ M over n values (Y may be X), four at a time where SIMD is built in. */
export function mul_mask(Y: usize, X: usize, M: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(Y + o, f32x4.mul(v128.load(X + o), v128.load(M + o)));
    }
  }
  for (; i < n; i++) put(Y, i, at(X, i) * at(M, i));
}

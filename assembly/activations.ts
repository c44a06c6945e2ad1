// Element-wise non-linearities over runs of f32 values: σ and tanh, four lanes at a time.
//
// The recurrent cells spend most of their non-GEMM time here (an LSTM step takes five of
// these per unit), so they are vectorised rather than calling Mathf per element. exp is
// Cephes' expf (range reduction by ln 2, a degree-6 polynomial, the exponent set directly),
// tanh is Cephes' tanhf (an odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above);
// both are accurate to a few units in the last place of f32. The scalar build and the tail
// of each run use the same formulas one value at a time, so both builds agree closely.
// The relaxed-SIMD build evaluates the polynomials with fused multiply-adds (simd.ts).
// see: S. L. Moshier, Cephes Math Library, expf.c and tanhf.c.

import { madd } from "./simd";

// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.3;   // e^x stays a normal f32 above this
// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.0;    // and finite below this (2^n with n ≤ 127)

/** e^x, x clamped to [EXP_LO, EXP_HI]. */
// @ts-ignore: decorator
@inline export function exp_scalar(x: f32): f32 {
  x = min(max(x, EXP_LO), EXP_HI);
  const n = Mathf.floor(x * <f32>1.44269504088896341 + <f32>0.5);   // x = n ln2 + r
  let r = x - n * <f32>0.693359375;
  r = r - n * <f32>-2.12194440e-4;
  const z = r * r;
  let y: f32 = <f32>1.9875691500e-4;
  y = y * r + <f32>1.3981999507e-3;
  y = y * r + <f32>8.3334519073e-3;
  y = y * r + <f32>4.1665795894e-2;
  y = y * r + <f32>1.6666665459e-1;
  y = y * r + <f32>5.0000001201e-1;
  y = y * z + r + 1;
  return y * reinterpret<f32>((<i32>n + 127) << 23);               // × 2^n
}

// @ts-ignore: decorator
@inline export function sigmoid_scalar(x: f32): f32 {
  return <f32>1 / (<f32>1 + exp_scalar(-x));
}

// @ts-ignore: decorator
@inline export function tanh_scalar(x: f32): f32 {
  const a = Mathf.abs(x);
  let t: f32;
  if (a < <f32>0.625) {
    const z = a * a;
    let p: f32 = <f32>-5.70498872745e-3;
    p = p * z + <f32>2.06390887954e-2;
    p = p * z - <f32>5.37397155531e-2;
    p = p * z + <f32>1.33314422036e-1;
    p = p * z - <f32>3.33332819422e-1;
    t = a + a * z * p;
  } else {
    t = <f32>1 - <f32>2 / (exp_scalar(a + a) + <f32>1);
  }
  return x < 0 ? -t : t;
}

/** e^x on four lanes. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = madd(y, r, f32x4.splat(1.3981999507e-3));
  y = madd(y, r, f32x4.splat(8.3334519073e-3));
  y = madd(y, r, f32x4.splat(4.1665795894e-2));
  y = madd(y, r, f32x4.splat(1.6666665459e-1));
  y = madd(y, r, f32x4.splat(5.0000001201e-1));
  y = f32x4.add(madd(y, z, r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  let p = f32x4.splat(-5.70498872745e-3);
  p = madd(p, z, f32x4.splat(2.06390887954e-2));
  p = madd(p, z, f32x4.splat(-5.37397155531e-2));
  p = madd(p, z, f32x4.splat(1.33314422036e-1));
  p = madd(p, z, f32x4.splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(a, z), p, a);
  const one = f32x4.splat(1);
  const large = f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(exp4(f32x4.add(a, a)), one)));
  const t = v128.bitselect(small, large, f32x4.lt(a, f32x4.splat(0.625)));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));           // the sign of x
}

/** dst[i] = σ(src[i]) for n values (dst may be src). */
export function sigmoid_to(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, sigmoid4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, sigmoid_scalar(load<f32>(src + o)));
  }
}

/** dst[i] = tanh(src[i]) for n values (dst may be src). */
export function tanh_to(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, tanh4(v128.load(src + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, tanh_scalar(load<f32>(src + o)));
  }
}

// Element-wise non-linearities over runs of f32 values: σ and tanh, four lanes at a time.
//
// The recurrent cells spend most of their non-GEMM time here (an LSTM step takes five of
// these per unit), so they are vectorised rather than calling Mathf per element. exp is
// Cephes' expf (range reduction by ln 2, a degree-6 polynomial, the exponent set directly),
// tanh is Cephes' tanhf (an odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above);
// both are accurate to a few units in the last place of f32. The scalar build uses the same
// formulas one value at a time, with the same bits as the SIMD build. The relaxed-SIMD build
// evaluates the polynomials with fused multiply-adds (simd.ts).
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

// The vector forms read their constants from a table in memory. V8 rebuilds a v128.const at each
// use inside a loop (a 64-bit move and a shuffle, after a move into a general register), while
// v128.load32_splat is one broadcast from L1: an LSTM step's five activations per unit went
// from about 130 instructions per four values to about 70. The clamp uses pmin/pmax (one
// minps/maxps each; f32x4.min/max add NaN and ±0 handling, seven instructions), with x first
// so a NaN still propagates, and 2^n is built from n + 1.5·2²³, whose low bits are n (the
// saturating conversion takes six instructions). Every lane gets the same bits as before.

const C_EXP_LO = 0, C_EXP_HI = 1, C_LOG2E = 2, C_HALF = 3, C_LN2_HI = 4, C_LN2_LO = 5;
const C_E0 = 6, C_E1 = 7, C_E2 = 8, C_E3 = 9, C_E4 = 10, C_E5 = 11, C_ONE = 12, C_ROUND = 13;
const C_T0 = 14, C_T1 = 15, C_T2 = 16, C_T3 = 17, C_T4 = 18, C_SMALL = 19, C_TWO = 20;
const CONSTANTS: usize = memory.data<f32>([
  EXP_LO, EXP_HI, 1.44269504088896341, 0.5, 0.693359375, -2.12194440e-4,
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1, 12582912,
  -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1, 0.625, 2,
], 16);
const BITS: usize = memory.data<i32>([127 - 0x4B400000, -0x80000000], 16);  // exponent bias − 1.5·2²³'s bits; sign bit
const B_BIAS = 0, B_SIGN = 1;

/** Constant i of the table on four lanes. */
// @ts-ignore: decorator
@inline function c4(i: i32): v128 {
  return v128.load32_splat(CONSTANTS + (<usize>i << 2));
}

/** Bit pattern i of BITS on four lanes. */
// @ts-ignore: decorator
@inline function b4(i: i32): v128 {
  return v128.load32_splat(BITS + (<usize>i << 2));
}

/** 1 on four lanes, from the table: a kernel takes it once, before its loop, and V8 keeps the
 *  loaded value where a v128.const would be rebuilt at each use. */
// @ts-ignore: decorator
@inline export function one4(): v128 {
  return c4(C_ONE);
}

/** e^x on four lanes. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, c4(C_EXP_LO)), c4(C_EXP_HI));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, c4(C_LOG2E)), c4(C_HALF)));
  let r = f32x4.sub(x, f32x4.mul(n, c4(C_LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, c4(C_LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = c4(C_E0);
  y = madd(y, r, c4(C_E1));
  y = madd(y, r, c4(C_E2));
  y = madd(y, r, c4(C_E3));
  y = madd(y, r, c4(C_E4));
  y = madd(y, r, c4(C_E5));
  y = f32x4.add(madd(y, z, r), c4(C_ONE));
  // n + 1.5·2²³ holds n (|n| ≤ 127) in its low bits: its bits are 0x4B400000 + n
  const bits = i32x4.add(f32x4.add(n, c4(C_ROUND)), b4(B_BIAS));
  return f32x4.mul(y, i32x4.shl(bits, 23));
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = c4(C_ONE);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  let p = c4(C_T0);
  p = madd(p, z, c4(C_T1));
  p = madd(p, z, c4(C_T2));
  p = madd(p, z, c4(C_T3));
  p = madd(p, z, c4(C_T4));
  const small = madd(f32x4.mul(a, z), p, a);
  const one = c4(C_ONE);
  const large = f32x4.sub(one, f32x4.div(c4(C_TWO), f32x4.add(exp4(f32x4.add(a, a)), one)));
  const t = v128.bitselect(small, large, f32x4.lt(a, c4(C_SMALL)));
  return v128.or(t, v128.and(x, b4(B_SIGN)));           // the sign of x
}

// A run's last 1–3 values go through the vector formula too, from a zero-padded copy: the
// relaxed-SIMD build fuses the vector polynomials' multiply-adds and not the scalar ones, so a
// value's bits would otherwise depend on where it falls in its run (a row of a batch of 4 or
// more rows against the same row alone). In the SIMD build both forms give the same bits.
const TAIL: usize = memory.data(16, 16);

/** The `bytes` (4, 8 or 12) at p, zero-padded to four lanes (through TAIL). */
// @ts-ignore: decorator
@inline function tail_in(p: usize, bytes: usize): v128 {
  v128.store(TAIL, f32x4.splat(0));
  memory.copy(TAIL, p, bytes);
  return v128.load(TAIL);
}

/** dst[i] = σ(src[i]) for n values (dst may be src). */
export function sigmoid_to(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, sigmoid4(v128.load(src + o)));
    }
    if (i < n) {
      const o = <usize>i << 2, bytes = <usize>(n - i) << 2;
      v128.store(TAIL, sigmoid4(tail_in(src + o, bytes)));
      memory.copy(dst + o, TAIL, bytes);
    }
    return;
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
    if (i < n) {
      const o = <usize>i << 2, bytes = <usize>(n - i) << 2;
      v128.store(TAIL, tanh4(tail_in(src + o, bytes)));
      memory.copy(dst + o, TAIL, bytes);
    }
    return;
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, tanh_scalar(load<f32>(src + o)));
  }
}

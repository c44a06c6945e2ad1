// The one f32x4 operation whose result depends on the build: a·b + c. The relaxed-SIMD build
// uses f32x4.relaxed_madd, which is fused (one rounding) where the CPU has FMA and a multiply
// then an add elsewhere, so its results can differ across machines in the last bits. The SIMD
// build always rounds twice: its results are the same bits on every machine.

/** a·b + c on four lanes (fused in the relaxed-SIMD build where the CPU can). */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

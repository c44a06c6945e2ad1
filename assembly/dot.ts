// Dot products for C = A·Bᵀ with few rows of A: the matrix-vector product of batch-1 inference.
//
//   C[i, j] (+)= Σ_k A[i, k] · B[j, k]      A (M, K) rows lda apart, B (N, K) rows ldb apart
//
// B is a weight stored (out, in), streamed row by row as it lies (never packed); a block of four
// of its rows stays in L1 while every row of A (M ≤ 4) meets it. Each dot product keeps four
// partial sums, one per k mod 4 (the lanes of an f32x4; four scalars in the scalar build),
// adds them as (s0 + s1) + (s2 + s3), then the tail k ≥ K − K mod 4 in order: the same bits in
// the SIMD and scalar builds and for every M (the relaxed-SIMD build fuses each multiply-add,
// simd.ts). Byte pointers; lda, ldb, ldc in elements.

const BLOCK_VALUES: i32 = 16384;   // values of B per block: 64 KB, well inside L2

import { madd } from "./simd";

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** a · b over K values, in the lane order above. */
function dot(a: usize, b: usize, K: i32): f32 {
  let k = 0, r: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let s = f32x4.splat(0);
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      s = madd(v128.load(a + o), v128.load(b + o), s);
    }
    r = hsum(s);
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      s0 += load<f32>(a + o) * load<f32>(b + o);
      s1 += load<f32>(a + o, 4) * load<f32>(b + o, 4);
      s2 += load<f32>(a + o, 8) * load<f32>(b + o, 8);
      s3 += load<f32>(a + o, 12) * load<f32>(b + o, 12);
    }
    r = (s0 + s1) + (s2 + s3);
  }
  for (; k < K; k++) r += load<f32>(a + (<usize>k << 2)) * load<f32>(b + (<usize>k << 2));
  return r;
}

// @ts-ignore: decorator
@inline function put(c: usize, j: i32, v: f32, add: bool): void {
  const q = c + (<usize>j << 2);
  store<f32>(q, add ? load<f32>(q) + v : v);
}

/** c[j .. j+4) (+)= a · rows j .. j+4 of B (the first at b, ldb bytes apart): four dot
 *  products sharing each load of a. Equal to four calls of dot(). */
function dots4(a: usize, b: usize, ldb: usize, K: i32, c: usize, j: i32, add: bool): void {
  if (!ASC_FEATURE_SIMD) {
    for (let q = 0; q < 4; q++) put(c, j + q, dot(a, b + <usize>q * ldb, K), add);
    return;
  }
  const b0 = b, b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a + o);
    s0 = madd(x, v128.load(b0 + o), s0);
    s1 = madd(x, v128.load(b1 + o), s1);
    s2 = madd(x, v128.load(b2 + o), s2);
    s3 = madd(x, v128.load(b3 + o), s3);
  }
  let r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const x = load<f32>(a + o);
    r0 += x * load<f32>(b0 + o); r1 += x * load<f32>(b1 + o);
    r2 += x * load<f32>(b2 + o); r3 += x * load<f32>(b3 + o);
  }
  put(c, j, r0, add); put(c, j + 1, r1, add); put(c, j + 2, r2, add); put(c, j + 3, r3, add);
}

/** Rows a0 and a1 (of C rows c0, c1) against rows j .. j+4 of B: eight dot products sharing
 *  every load. Equal to dots4 on each row. */
function dots2x4(a0: usize, a1: usize, b: usize, ldb: usize, K: i32, c0: usize, c1: usize, j: i32, add: bool): void {
  if (!ASC_FEATURE_SIMD) {
    dots4(a0, b, ldb, K, c0, j, add);
    dots4(a1, b, ldb, K, c1, j, add);
    return;
  }
  const b0 = b, b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a0 + o), y = v128.load(a1 + o);
    let w = v128.load(b0 + o);
    s00 = madd(x, w, s00); s10 = madd(y, w, s10);
    w = v128.load(b1 + o);
    s01 = madd(x, w, s01); s11 = madd(y, w, s11);
    w = v128.load(b2 + o);
    s02 = madd(x, w, s02); s12 = madd(y, w, s12);
    w = v128.load(b3 + o);
    s03 = madd(x, w, s03); s13 = madd(y, w, s13);
  }
  let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
  let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
  for (; k < K; k++) {
    const o = <usize>k << 2;
    const x = load<f32>(a0 + o), y = load<f32>(a1 + o);
    let w = load<f32>(b0 + o); r00 += x * w; r10 += y * w;
    w = load<f32>(b1 + o); r01 += x * w; r11 += y * w;
    w = load<f32>(b2 + o); r02 += x * w; r12 += y * w;
    w = load<f32>(b3 + o); r03 += x * w; r13 += y * w;
  }
  put(c0, j, r00, add); put(c0, j + 1, r01, add); put(c0, j + 2, r02, add); put(c0, j + 3, r03, add);
  put(c1, j, r10, add); put(c1, j + 1, r11, add); put(c1, j + 2, r12, add); put(c1, j + 3, r13, add);
}

/** C (M, N) (+)= A (M, K) · Bᵀ, B stored (N, K), by dot products. B is taken in blocks of
 *  rows that stay in L2 while every pair of rows of A meets them. */
export function gemm_nt_dots(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
                             C: usize, ldc: i32, accumulate: i32): void {
  const add = accumulate != 0;
  const rowA = <usize>lda << 2, rowB = <usize>ldb << 2, rowC = <usize>ldc << 2;
  const JB = max(4, (BLOCK_VALUES / max(K, 1)) & ~3);       // rows of B per block
  for (let j0 = 0; j0 < N; j0 += JB) {
    const j1 = min(N, j0 + JB);
    for (let i = 0; i < M; i += 2) {
      const a = A + <usize>i * rowA, c = C + <usize>i * rowC;
      const pair = i + 1 < M;
      let j = j0;
      for (; j + 4 <= j1; j += 4) {
        if (pair) dots2x4(a, a + rowA, B + <usize>j * rowB, rowB, K, c, c + rowC, j, add);
        else dots4(a, B + <usize>j * rowB, rowB, K, c, j, add);
      }
      for (; j < j1; j++) {
        const b = B + <usize>j * rowB;
        put(c, j, dot(a, b, K), add);
        if (pair) put(c + rowC, j, dot(a + rowA, b, K), add);
      }
    }
  }
}

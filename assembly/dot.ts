// Dot products for C = A·Bᵀ with few rows of A: the matrix-vector product of batch-1 inference.
//
//   C[i, j] (+)= Σ_k A[i, k] · B[j, k]      A (M, K) rows lda apart, B (N, K) rows ldb apart
//
// B is a weight stored (out, in), streamed row by row as it lies (never packed); a block of four
// of its rows stays in L1 while every row of A (M ≤ 4) meets it. A weight read for many calls in
// a row may instead be copied once into groups of four rows (pack_rows4, at the end of this
// file), read by gemm_nt_packed with the same bits. Each dot product keeps four
// partial sums, one per k mod 4 (the lanes of an f32x4; four scalars in the scalar build),
// adds them as (s0 + s1) + (s2 + s3), then the tail k ≥ K − K mod 4 in order: the same bits in
// the SIMD and scalar builds and for every M (the relaxed-SIMD build fuses each multiply-add,
// simd.ts). Byte pointers; lda, ldb, ldc in elements.

const BLOCK_VALUES: i32 = 16384;   // values of B per block: 64 KB, well inside L2

import { madd } from "./simd";
import { copy_bytes } from "./memory";

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
 *  rows that stay in L2 while every pair of rows of A meets them. With `grouped`, B is a copy
 *  made by pack_rows4 (ldb = K): a group of four rows then starts where its first row would, and
 *  the rows past the last group lie as they are, so only the kernel for a group differs. */
export function gemm_nt_dots(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
                             C: usize, ldc: i32, accumulate: i32, grouped: bool = false): void {
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
        const b = B + <usize>j * rowB;
        if (grouped) {
          if (pair) dots2x4p(a, a + rowA, b, K, c, c + rowC, j, add);
          else dots4p(a, b, K, c, j, add);
        } else {
          if (pair) dots2x4(a, a + rowA, b, rowB, K, c, c + rowC, j, add);
          else dots4(a, b, rowB, K, c, j, add);
        }
      }
      for (; j < j1; j++) {
        const b = B + <usize>j * rowB;
        put(c, j, dot(a, b, K), add);
        if (pair) put(c + rowC, j, dot(a + rowA, b, K), add);
      }
    }
  }
}

// --- B copied into groups of four rows: the same dot products read from one stream ---
//
// A weight read many times over (every token of a generation) can be copied once by
// pack_rows4 into groups of four rows. Group g holds rows 4g .. 4g+3: for each chunk of four
// depths k < K4 = K − K mod 4, the four rows' chunks side by side (64 bytes), then each row's
// tail k ≥ K4, row after row. Rows past the last whole group follow as they are. A group is
// 4·K values, so row j ≥ N − N mod 4 sits at j·K, and the copy is N·K values. gemm_nt_packed
// reads a group as one stream at constant offsets (where dots4 reads four rows from four
// pointers): the same products summed in the same order, so the same bits as gemm_nt_dots.

/** P (N·K values) = B (N, K; rows ldb apart) in groups of four rows, as above. */
export function pack_rows4(P: usize, B: usize, ldb: i32, N: i32, K: i32): void {
  const K4 = K & ~3, rowB = <usize>ldb << 2, tail = <usize>(K - K4) << 2;
  let q = P, j = 0;
  for (; j + 4 <= N; j += 4) {
    const b = B + <usize>j * rowB;
    for (let k = 0; k < K4; k += 4) {
      const o = <usize>k << 2;
      for (let r = 0; r < 4; r++) {
        if (ASC_FEATURE_SIMD) v128.store(q, v128.load(b + <usize>r * rowB + o));
        else memory.copy(q, b + <usize>r * rowB + o, 16);
        q += 16;
      }
    }
    for (let r = 0; r < 4; r++) {
      memory.copy(q, b + <usize>r * rowB + (<usize>K4 << 2), tail);
      q += tail;
    }
  }
  for (; j < N; j++) {
    copy_bytes(q, B + <usize>j * rowB, <usize>K << 2);
    q += <usize>K << 2;
  }
}

/** Scalar build: a · row r of a group's chunks (at p, 64 bytes a chunk) over K4 values, summed
 *  as dot() sums them. */
function chunks_dot(a: usize, p: usize, r: i32, K4: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let q = p + (<usize>r << 4);
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    s0 += load<f32>(a + o) * load<f32>(q);
    s1 += load<f32>(a + o, 4) * load<f32>(q, 4);
    s2 += load<f32>(a + o, 8) * load<f32>(q, 8);
    s3 += load<f32>(a + o, 12) * load<f32>(q, 12);
    q += 64;
  }
  return (s0 + s1) + (s2 + s3);
}

/** c[j .. j+4) (+)= a · the four rows of the group at p. Equal to dots4 on those rows. */
function dots4p(a: usize, p: usize, K: i32, c: usize, j: i32, add: bool): void {
  const K4 = K & ~3;
  let r0: f32, r1: f32, r2: f32, r3: f32;
  if (ASC_FEATURE_SIMD) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let q = p;
    for (let k = 0; k < K4; k += 4) {
      const x = v128.load(a + (<usize>k << 2));
      s0 = madd(x, v128.load(q), s0);
      s1 = madd(x, v128.load(q, 16), s1);
      s2 = madd(x, v128.load(q, 32), s2);
      s3 = madd(x, v128.load(q, 48), s3);
      q += 64;
    }
    r0 = hsum(s0); r1 = hsum(s1); r2 = hsum(s2); r3 = hsum(s3);
  } else {
    r0 = chunks_dot(a, p, 0, K4); r1 = chunks_dot(a, p, 1, K4);
    r2 = chunks_dot(a, p, 2, K4); r3 = chunks_dot(a, p, 3, K4);
  }
  const tail = K - K4;
  const t = p + (<usize>K4 << 4), rt = <usize>tail << 2;     // the rows' tails, one after another
  for (let k = 0; k < tail; k++) {
    const o = <usize>k << 2;
    const x = load<f32>(a + (<usize>(K4 + k) << 2));
    r0 += x * load<f32>(t + o); r1 += x * load<f32>(t + rt + o);
    r2 += x * load<f32>(t + 2 * rt + o); r3 += x * load<f32>(t + 3 * rt + o);
  }
  put(c, j, r0, add); put(c, j + 1, r1, add); put(c, j + 2, r2, add); put(c, j + 3, r3, add);
}

/** Rows a0 and a1 (of C rows c0, c1) against the group at p: eight dot products sharing every
 *  load. Equal to dots4p on each row. */
function dots2x4p(a0: usize, a1: usize, p: usize, K: i32, c0: usize, c1: usize, j: i32, add: bool): void {
  if (!ASC_FEATURE_SIMD) {
    dots4p(a0, p, K, c0, j, add);
    dots4p(a1, p, K, c1, j, add);
    return;
  }
  const K4 = K & ~3;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let q = p;
  for (let k = 0; k < K4; k += 4) {
    const o = <usize>k << 2;
    const x = v128.load(a0 + o), y = v128.load(a1 + o);
    let w = v128.load(q);
    s00 = madd(x, w, s00); s10 = madd(y, w, s10);
    w = v128.load(q, 16);
    s01 = madd(x, w, s01); s11 = madd(y, w, s11);
    w = v128.load(q, 32);
    s02 = madd(x, w, s02); s12 = madd(y, w, s12);
    w = v128.load(q, 48);
    s03 = madd(x, w, s03); s13 = madd(y, w, s13);
    q += 64;
  }
  let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
  let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
  const tail = K - K4, rt = <usize>tail << 2;               // q is at the rows' tails
  for (let k = 0; k < tail; k++) {
    const o = <usize>k << 2, ko = <usize>(K4 + k) << 2;
    const x = load<f32>(a0 + ko), y = load<f32>(a1 + ko);
    let w = load<f32>(q + o); r00 += x * w; r10 += y * w;
    w = load<f32>(q + rt + o); r01 += x * w; r11 += y * w;
    w = load<f32>(q + 2 * rt + o); r02 += x * w; r12 += y * w;
    w = load<f32>(q + 3 * rt + o); r03 += x * w; r13 += y * w;
  }
  put(c0, j, r00, add); put(c0, j + 1, r01, add); put(c0, j + 2, r02, add); put(c0, j + 3, r03, add);
  put(c1, j, r10, add); put(c1, j + 1, r11, add); put(c1, j + 2, r12, add); put(c1, j + 3, r13, add);
}

/** C (M, N) (+)= A (M, K) · Bᵀ from P, B packed by pack_rows4: the bits of gemm_nt_dots on B. */
export function gemm_nt_packed(M: i32, N: i32, K: i32, A: usize, lda: i32, P: usize,
                               C: usize, ldc: i32, accumulate: i32): void {
  gemm_nt_dots(M, N, K, A, lda, P, K, C, ldc, accumulate, true);
}

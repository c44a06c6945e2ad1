// General matrix multiply over row-major f32 matrices: the one product every layer uses.
//
//   C (M, N)  =  op(A) (M, K) · op(B) (K, N)        (or += when accumulate != 0)
//   op(A)(i, k) = transA ? A[k·lda + i] : A[i·lda + k]
//   op(B)(k, j) = transB ? B[j·ldb + k] : B[k·ldb + j]
//
// With transposes this covers what BPTT needs: A·B (nn), A·Bᵀ (nt, projections by a
// weight stored (out, in)) and Aᵀ·B (tn, weight gradients summed over all steps).
// All pointers are byte offsets; lda, ldb, ldc are row strides in elements.
//
// gemm() is register-blocked: a panel of B (KC × NR) is packed contiguous, then 4 rows of C
// × NR = 8 columns are kept in registers (eight f32x4 accumulators) over the panel, for a block
// of MC rows of A at a time. A transposed A (Aᵀ·B: the weight gradients over all steps) is
// packed too, MC × KC at a time, since its rows are a power-of-two stride apart in memory.
// Few rows of A reuse a packed panel too little to pay for packing, so the weights are streamed
// as they lie. A·Bᵀ (a weight stored (out, in)) with M ≤ DOT_M — a batch-1 step, a beam, the
// per-step recurrent product of training — is one dot product per C entry over two contiguous
// rows (dot.ts): no transposing copy, and faster than the packed path at every such shape
// measured (the transposing pack costs most at K = 512). A·B with M ≤ SMALL_M reads the panel
// from B in place. Each C entry is then summed in an order that does not depend on M, so a row
// of A gives the same bits alone as in a batch (up to DOT_M rows for A·Bᵀ).
// A·B with few rows of A and Bᵀ at hand too (the backward recurrent product, dh += dz·W_hh, with
// W_hhᵀ made once per batch by transpose_for_rows) is the same dot products over Bᵀ's rows:
// gemm_nn_by_t. gemm_tn_rows is Aᵀ·B whose depth walks a list of rows of A and B (the rows of
// a ragged batch that run, cells.ts: outer_rows): the same packed blocks, each depth k packed
// from row rows[k], so a weight gradient over scattered rows is one product, not one per run.
// gemm_nt_w is A·Wᵀ for a weight W that reads W's copy in groups of four rows (dot.ts:
// pack_rows4) when its caller made one: W_hh in a training forward pass and in a whole
// generation's steps, the head's W_y over many rows and in generation.
// gemm_naive() is the plain triple loop, kept as the reference the tests compare against.
// see: Goto & van de Geijn, "Anatomy of high-performance matrix multiplication" (2008).

import { gemm_nt_dots, gemm_nt_packed } from "./dot";
import { madd } from "./simd";

export const KC: i32 = 256;  // depth of one packed panel of B
const NR: i32 = 8;       // columns of C per micro-tile (two f32x4)
const MR: i32 = 4;       // rows of C per micro-tile
const SMALL_M: i32 = 4;  // A·B with up to this many rows of A reads B's panel in place
const DOT_M: i32 = 64;   // A·Bᵀ with up to this many rows of A is dot products (dot.ts)
const TILE: i32 = 32;    // rows and columns of a block of transpose()
const MC: i32 = 128;     // rows of op(A) per block (a packed Aᵀ block: 128 KB, in L2)
const PACK: usize = memory.data(KC * NR * 4, 16);  // (KC, NR) packed panel of op(B)
const APACK: usize = memory.data(MC * KC * 4, 16); // (MC, KC) packed block of op(A) = Aᵀ
const EDGE: usize = memory.data(MR * NR * 4, 16);  // (MR, NR) tile for ragged right edges

/** C (M, N) = or += op(A) (M, K) · op(B) (K, N), register-blocked. */
export function gemm(transA: i32, transB: i32, M: i32, N: i32, K: i32,
                     A: usize, lda: i32, B: usize, ldb: i32,
                     C: usize, ldc: i32, accumulate: i32): void {
  if (empty(M, N, K, C, ldc, accumulate)) return;
  if (!transA && transB && M <= DOT_M) {
    gemm_nt_dots(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  blocked(transA, transB, M, N, K, 0, A, lda, B, ldb, C, ldc, accumulate);
}

/** C (M, N) = or += Σ_k A[rows[k]]ᵀ B[rows[k]]: op(A)(i, k) = A[rows[k]·lda + i] and
 *  op(B)(k, j) = B[rows[k]·ldb + j], rows (K) i32 row indices. One product over the listed rows,
 *  summed in the order gemm(1, 0) sums K contiguous rows (so a list split at multiples of KC
 *  into calls that accumulate gives the same bits as one call). */
export function gemm_tn_rows(M: i32, N: i32, K: i32, rows: usize, A: usize, lda: i32, B: usize, ldb: i32,
                             C: usize, ldc: i32, accumulate: i32): void {
  if (empty(M, N, K, C, ldc, accumulate)) return;
  blocked(1, 0, M, N, K, rows, A, lda, B, ldb, C, ldc, accumulate);
}

/** Whether the product has no terms (M, N or K ≤ 0), having done what it means then: C = 0 for
 *  K ≤ 0 unless accumulating. */
function empty(M: i32, N: i32, K: i32, C: usize, ldc: i32, accumulate: i32): bool {
  if (M <= 0 || N <= 0) return true;
  if (K > 0) return false;
  if (!accumulate) for (let i = 0; i < M; i++) memory.fill(C + (<usize>i * ldc << 2), 0, <usize>N << 2);
  return true;
}

/** The register-blocked product of gemm() (K > 0); rows != 0 lists the depth's rows of A and B
 *  (transA, !transB only), and then the rows of op(A) past the last whole tile are packed too. */
function blocked(transA: i32, transB: i32, M: i32, N: i32, K: i32, rows: usize,
                 A: usize, lda: i32, B: usize, ldb: i32, C: usize, ldc: i32, accumulate: i32): void {
  // element strides of op(A) along its rows (i) and its depth (k)
  const sai: usize = transA ? 1 : <usize>lda;
  const sak: usize = transA ? <usize>lda : 1;
  const direct = M <= SMALL_M && !transB && !rows;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const add = accumulate != 0 || k0 > 0;
    const list = rows ? rows + (<usize>k0 << 2) : 0;    // the rows of depths k0 .., or 0
    for (let i1 = 0; i1 < M; i1 += MC) {
      // a block of MC rows of op(A); Aᵀ is packed, as its rows are a power-of-two stride apart
      const mc = min(MC, M - i1), tiles = transA ? mc / MR : 0;
      const part = list ? mc - tiles * MR : 0;         // listed rows past the whole tiles
      if (tiles || part) pack_at(A, lda, list, i1, tiles, part, k0, kc);
      for (let j0 = 0; j0 < N; j0 += NR) {
        const nr = min(NR, N - j0);
        // the (kc, NR) panel of op(B): B itself when few rows of A read it, else packed
        let p = PACK, pstep: usize = NR << 2;
        if (direct && nr == NR) {
          p = B + ((<usize>k0 * ldb + j0) << 2);
          pstep = <usize>ldb << 2;
        } else {
          pack_b(transB, B, ldb, list, k0, kc, j0, nr);
        }
        let i0 = i1;
        for (let t = 0; t < tiles; t++, i0 += MR) {
          const a = APACK + (<usize>(t * kc * MR) << 2);
          tile_4x8(a, 1, MR, kc, p, pstep, C + ((<usize>i0 * ldc + j0) << 2), ldc, nr, add);
        }
        for (let r = 0; r < part; r++, i0++) {
          const a = APACK + (<usize>(tiles * kc * MR + r) << 2);
          tile_1x8(a, MR, kc, p, pstep, C + ((<usize>i0 * ldc + j0) << 2), nr, add);
        }
        for (; i0 + MR <= i1 + mc; i0 += MR) {
          const a = A + ((<usize>i0 * sai + <usize>k0 * sak) << 2);
          tile_4x8(a, sai, sak, kc, p, pstep, C + ((<usize>i0 * ldc + j0) << 2), ldc, nr, add);
        }
        for (; i0 < i1 + mc; i0++) {
          const a = A + ((<usize>i0 * sai + <usize>k0 * sak) << 2);
          tile_1x8(a, sak, kc, p, pstep, C + ((<usize>i0 * ldc + j0) << 2), nr, add);
        }
      }
    }
  }
}

/** C (M, N) (+)= A (M, K) · B (K, N), given also BT = Bᵀ (N, K) in groups of four rows
 *  (pack_rows4_t), or 0: with few rows of A, the dot products over Bᵀ's rows (dot.ts:
 *  gemm_nt_packed; no panel packed per call); else gemm(). */
export function gemm_nn_by_t(M: i32, N: i32, K: i32, A: usize, lda: i32, B: usize, ldb: i32,
                             BT: usize, C: usize, ldc: i32, accumulate: i32): void {
  if (reads_copy(BT, M, N, K)) gemm_nt_packed(M, N, K, A, lda, BT, C, ldc, accumulate);
  else gemm(0, 0, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

/** Whether a product with a copy P in groups of four rows (0: none) reads it: the dot products
 *  take M ≤ DOT_M rows, and a product with no terms is gemm()'s to settle. */
// @ts-ignore: decorator
@inline function reads_copy(P: usize, M: i32, N: i32, K: i32): bool {
  return P != 0 && M <= DOT_M && M > 0 && N > 0 && K > 0;
}

/** C (M, N) (+)= A (M, K) · Wᵀ for a weight W (N, K) stored (out, in), rows K apart: from PW, W
 *  copied by pack_rows4 (dot.ts), when the caller has one and M ≤ DOT_M (the same bits as the
 *  dot products over W); else gemm(). */
export function gemm_nt_w(M: i32, N: i32, K: i32, A: usize, lda: i32, W: usize, PW: usize,
                          C: usize, ldc: i32, accumulate: i32): void {
  if (reads_copy(PW, M, N, K)) gemm_nt_packed(M, N, K, A, lda, PW, C, ldc, accumulate);
  else gemm(0, 1, M, N, K, A, lda, W, K, C, ldc, accumulate);
}

/** P (N·K values) = Wᵀ (N, K) in groups of four rows, laid out as pack_rows4 (dot.ts) lays out a
 *  matrix: W is (K, N), its rows ldw apart, read by columns. The 4 × 4 blocks of whole groups
 *  and chunks are transposed four lanes at a time; the tails one value at a time. */
export function pack_rows4_t(P: usize, W: usize, ldw: i32, N: i32, K: i32): void {
  const K4 = K & ~3, N4 = N & ~3, tail = K - K4, group = <usize>K << 4, rw = <usize>ldw << 2;
  for (let j = 0; j < N4; j += 4) {
    const g = P + <usize>(j >> 2) * group;
    for (let k = 0; k < K4; k += 4) {
      const s = W + ((<usize>k * ldw + j) << 2), d = g + (<usize>k << 4);    // rows k.., columns j.. of W
      if (ASC_FEATURE_SIMD) {
        transpose_4x4(d, 4, s, ldw);
      } else {
        for (let r = 0; r < 4; r++) {
          for (let q = 0; q < 4; q++) store<f32>(d + (<usize>(4 * r + q) << 2), load<f32>(s + <usize>q * rw + (<usize>r << 2)));
        }
      }
    }
    const t = g + (<usize>K4 << 4);                                           // the four rows' tails
    for (let r = 0; r < 4; r++) {
      for (let q = 0; q < tail; q++) store<f32>(t + (<usize>(r * tail + q) << 2), load<f32>(W + ((<usize>(K4 + q) * ldw + j + r) << 2)));
    }
  }
  for (let j = N4; j < N; j++) {                                              // rows past the last group
    const row = P + (<usize>j * K << 2);
    for (let k = 0; k < K; k++) store<f32>(row + (<usize>k << 2), load<f32>(W + ((<usize>k * ldw + j) << 2)));
  }
}

/** P = Wᵀ (H, G) in groups of four rows from W (G, H) (pack_rows4_t) when P != 0 and the batch's
 *  B rows per step take gemm_nn_by_t's dot products; returns P then, else 0 (the products pack
 *  W themselves). */
export function transpose_for_rows(P: usize, W: usize, G: i32, H: i32, B: i32): usize {
  if (!P || B > DOT_M) return 0;
  pack_rows4_t(P, W, H, H, G);
  return P;
}

/** dst (cols, rows) = src (rows, cols) transposed, in TILE × TILE blocks (both sides in L1),
 *  4 × 4 at a time where both sizes allow. */
export function transpose(dst: usize, src: usize, rows: i32, cols: i32): void {
  const r4 = ASC_FEATURE_SIMD ? rows & ~3 : 0, c4 = ASC_FEATURE_SIMD ? cols & ~3 : 0;
  if (ASC_FEATURE_SIMD) {
    for (let i0 = 0; i0 < r4; i0 += TILE) {
      const i1 = min(r4, i0 + TILE);
      for (let j0 = 0; j0 < c4; j0 += TILE) {
        const j1 = min(c4, j0 + TILE);
        for (let i = i0; i < i1; i += 4) {
          for (let j = j0; j < j1; j += 4) transpose_4x4(dst + ((<usize>j * rows + i) << 2), rows, src + ((<usize>i * cols + j) << 2), cols);
        }
      }
    }
  }
  transpose_rect(dst, src, rows, cols, 0, r4, c4, cols);      // the right edge of the 4 × 4 part
  transpose_rect(dst, src, rows, cols, r4, rows, 0, cols);    // the rows below it
}

/** dst[j, i] = src[i, j] for i in [i0, i1), j in [j0, j1), one value at a time, in TILE blocks. */
function transpose_rect(dst: usize, src: usize, rows: i32, cols: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  for (let ib = i0; ib < i1; ib += TILE) {
    const ie = min(i1, ib + TILE);
    for (let jb = j0; jb < j1; jb += TILE) {
      const je = min(j1, jb + TILE);
      for (let i = ib; i < ie; i++) {
        const s = src + (<usize>i * cols << 2);
        for (let j = jb; j < je; j++) store<f32>(dst + ((<usize>j * rows + i) << 2), load<f32>(s + (<usize>j << 2)));
      }
    }
  }
}

/** The 4 × 4 block at s (rows lds values apart) transposed into d (rows ldd apart). */
// @ts-ignore: decorator
@inline function transpose_4x4(d: usize, ldd: i32, s: usize, lds: i32): void {
  const rs = <usize>lds << 2, rd = <usize>ldd << 2;
  const r0 = v128.load(s), r1 = v128.load(s + rs), r2 = v128.load(s + 2 * rs), r3 = v128.load(s + 3 * rs);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(d + rd, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(d + 2 * rd, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(d + 3 * rd, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** Copy `tiles` tiles of MR rows of op(A) = Aᵀ, rows i1 .. and depths k0 .. k0+kc, into APACK:
 *  tile t holds (kc, MR), op(A)(i1 + t·MR + r, k0 + k) at (t·kc + k)·MR + r; then `part` < MR
 *  more rows into tile `tiles` the same way (its other rows are left as they are). Depth k reads
 *  row list[k] of A when list != 0 (i32 row indices for depths k0 ..), else row k0 + k; a row
 *  gives MR·tiles + part contiguous values. */
function pack_at(A: usize, lda: i32, list: usize, i1: i32, tiles: i32, part: i32, k0: i32, kc: i32): void {
  const step: usize = <usize>(kc * MR) << 2;
  for (let k = 0; k < kc; k++) {
    let src = A + ((<usize>depth_row(list, k0, k) * lda + i1) << 2);
    let dst = APACK + (<usize>(k * MR) << 2);
    for (let t = 0; t < tiles; t++) {
      if (ASC_FEATURE_SIMD) v128.store(dst, v128.load(src));
      else memory.copy(dst, src, MR << 2);
      src += MR << 2;
      dst += step;
    }
    if (part) memory.copy(dst, src, <usize>part << 2);
  }
}

/** The row of A and B that depth k0 + k reads: list[k] when list != 0, else k0 + k. */
// @ts-ignore: decorator
@inline function depth_row(list: usize, k0: i32, k: i32): i32 {
  return list ? load<i32>(list + (<usize>k << 2)) : k0 + k;
}

/** Copy op(B)[k0 .. k0+kc, j0 .. j0+nr] into PACK as (kc, NR), zero-padding columns ≥ nr.
 *  With list != 0 (only for B not transposed) depth k reads row list[k] of B (depth_row). */
function pack_b(transB: i32, B: usize, ldb: i32, list: usize, k0: i32, kc: i32, j0: i32, nr: i32): void {
  if (nr < NR) memory.fill(PACK, 0, <usize>(kc * NR) << 2);
  if (transB) {
    for (let c = 0; c < nr; c++) {
      const src = B + ((<usize>(j0 + c) * ldb + k0) << 2);
      for (let k = 0; k < kc; k++) {
        store<f32>(PACK + ((<usize>(k * NR + c)) << 2), load<f32>(src + (<usize>k << 2)));
      }
    }
  } else if (ASC_FEATURE_SIMD && nr == NR) {
    let dst = PACK;
    for (let k = 0; k < kc; k++) {
      const src = B + ((<usize>depth_row(list, k0, k) * ldb + j0) << 2);
      v128.store(dst, v128.load(src)); v128.store(dst, v128.load(src, 16), 16);
      dst += NR << 2;
    }
  } else {
    for (let k = 0; k < kc; k++) {
      memory.copy(PACK + (<usize>(k * NR) << 2), B + ((<usize>depth_row(list, k0, k) * ldb + j0) << 2), <usize>nr << 2);
    }
  }
}

/** C[0..4, 0..nr] (+)= a (4, kc) · panel (kc, NR). a(r, k) is at a + (r·sai + k·sak)·4; panel
 *  row k is NR values at p0 + k·pstep bytes. */
// @ts-ignore: decorator
@inline function tile_4x8(a: usize, sai: usize, sak: usize, kc: i32, p0: usize, pstep: usize,
                          c: usize, ldc: i32, nr: i32, add: bool): void {
  const a0 = a, a1 = a + (sai << 2), a2 = a + (sai << 3), a3 = a + (sai * 12);
  const step: usize = sak << 2;
  if (ASC_FEATURE_SIMD) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
    let p = p0, off: usize = 0;
    for (let k = 0; k < kc; k++) {
      const b0 = v128.load(p), b1 = v128.load(p, 16);
      let s = v128.load32_splat(a0 + off);
      c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
      s = v128.load32_splat(a1 + off);
      c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
      s = v128.load32_splat(a2 + off);
      c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
      s = v128.load32_splat(a3 + off);
      c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
      p += pstep;
      off += step;
    }
    const rowc = <usize>ldc << 2;
    if (nr == NR) {
      let r = c;
      if (add) { c00 = f32x4.add(c00, v128.load(r)); c01 = f32x4.add(c01, v128.load(r, 16)); }
      v128.store(r, c00); v128.store(r, c01, 16); r += rowc;
      if (add) { c10 = f32x4.add(c10, v128.load(r)); c11 = f32x4.add(c11, v128.load(r, 16)); }
      v128.store(r, c10); v128.store(r, c11, 16); r += rowc;
      if (add) { c20 = f32x4.add(c20, v128.load(r)); c21 = f32x4.add(c21, v128.load(r, 16)); }
      v128.store(r, c20); v128.store(r, c21, 16); r += rowc;
      if (add) { c30 = f32x4.add(c30, v128.load(r)); c31 = f32x4.add(c31, v128.load(r, 16)); }
      v128.store(r, c30); v128.store(r, c31, 16);
    } else {
      v128.store(EDGE, c00); v128.store(EDGE, c01, 16);
      v128.store(EDGE, c10, 32); v128.store(EDGE, c11, 48);
      v128.store(EDGE, c20, 64); v128.store(EDGE, c21, 80);
      v128.store(EDGE, c30, 96); v128.store(EDGE, c31, 112);
      store_edge(c, ldc, MR, nr, add);
    }
  } else {
    for (let r = 0; r < MR; r++) {
      tile_1x8(a + (<usize>r * sai << 2), sak, kc, p0, pstep, c + (<usize>r * ldc << 2), nr, add);
    }
  }
}

/** C[0, 0..nr] (+)= a (1, kc) · panel (kc, NR). a(0, k) is at a + k·sak·4; panel row k at
 *  p0 + k·pstep bytes. */
function tile_1x8(a: usize, sak: usize, kc: i32, p0: usize, pstep: usize, c: usize, nr: i32, add: bool): void {
  const step: usize = sak << 2;
  if (ASC_FEATURE_SIMD) {
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    let p = p0, off: usize = 0;
    for (let k = 0; k < kc; k++) {
      const s = v128.load32_splat(a + off);
      c0 = madd(s, v128.load(p), c0);
      c1 = madd(s, v128.load(p, 16), c1);
      p += pstep;
      off += step;
    }
    v128.store(EDGE, c0); v128.store(EDGE, c1, 16);
  } else {
    let c0: f32 = 0, c1: f32 = 0, c2: f32 = 0, c3: f32 = 0;
    let c4: f32 = 0, c5: f32 = 0, c6: f32 = 0, c7: f32 = 0;
    let p = p0, off: usize = 0;
    for (let k = 0; k < kc; k++) {
      const s = load<f32>(a + off);
      c0 += s * load<f32>(p);      c1 += s * load<f32>(p, 4);
      c2 += s * load<f32>(p, 8);   c3 += s * load<f32>(p, 12);
      c4 += s * load<f32>(p, 16);  c5 += s * load<f32>(p, 20);
      c6 += s * load<f32>(p, 24);  c7 += s * load<f32>(p, 28);
      p += pstep;
      off += step;
    }
    store<f32>(EDGE, c0);      store<f32>(EDGE, c1, 4);
    store<f32>(EDGE, c2, 8);   store<f32>(EDGE, c3, 12);
    store<f32>(EDGE, c4, 16);  store<f32>(EDGE, c5, 20);
    store<f32>(EDGE, c6, 24);  store<f32>(EDGE, c7, 28);
  }
  store_edge(c, 0, 1, nr, add);
}

/** Write the first `rows` × `nr` values of EDGE (row stride NR) into C (row stride ldc). */
function store_edge(c: usize, ldc: i32, rows: i32, nr: i32, add: bool): void {
  for (let r = 0; r < rows; r++) {
    const dst = c + (<usize>r * ldc << 2);
    const src = EDGE + (<usize>(r * NR) << 2);
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(src + (<usize>j << 2));
      const q = dst + (<usize>j << 2);
      store<f32>(q, add ? load<f32>(q) + v : v);
    }
  }
}

/** Reference: C (M, N) = or += op(A) · op(B) by the definition, one dot product per entry. */
export function gemm_naive(transA: i32, transB: i32, M: i32, N: i32, K: i32,
                           A: usize, lda: i32, B: usize, ldb: i32,
                           C: usize, ldc: i32, accumulate: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f32 = 0;
      for (let k = 0; k < K; k++) {
        const a = load<f32>(A + ((transA ? <usize>k * lda + i : <usize>i * lda + k) << 2));
        const b = load<f32>(B + ((transB ? <usize>j * ldb + k : <usize>k * ldb + j) << 2));
        s += a * b;
      }
      const q = C + ((<usize>i * ldc + j) << 2);
      store<f32>(q, accumulate ? load<f32>(q) + s : s);
    }
  }
}

// Pieces every cell shares: the input projection of all steps, the weight gradients summed
// over all steps, the row copies that stack, reverse and reorder sequences, the clearing of
// padded rows, and the count of rows each step computes.
//
// T = time steps, B = batch, n_x = input size, n_a = hidden size, G = gates · n_a (rows of
// W_ih and W_hh). Step-major layout: row t·B + b is step t of sequence b. Byte pointers.
// lens (B) i32 holds each sequence's length, or is 0 when every sequence runs all T steps.
//
// Padding: step t (0-based) of sequence b is padding when t ≥ len_b. The forward kernels
// write exact zeros into every per-step buffer row of a padded step (never a product with 0,
// which is NaN for an overflowed value), and the backward kernels clear the incoming gradient
// of padded rows, so whatever the weights make of a padded step, it reaches no result.
// Skipping: step t computes only rows 0 .. M_t − 1, M_t = active_rows(lens, t, B); every row
// from M_t on is padding there, and is only cleared. With the batch sorted by length, longest
// first (src/stack.ts does that), no padded row is computed at all. The products over all steps
// at once (the input projection, the weight gradients, ∂L/∂x) run over the same rows, as runs
// of contiguous rows (run_end): steps where every row runs join one run, so equal lengths (or
// lens = 0) make one product over all T·B rows, as without lengths.
//
// Token input comes in two kinds (the kernels' `tokens` argument): 1, one-hot ids, columns of
// W_ih (n_x = the vocabulary); 2, slots into a table WT (n_x rows of G) that the caller has
// filled with W_ih x for each distinct input x of the batch (an embedding's distinct tokens,
// src/embedding-rows.ts). A slot row is a gather plus the biases; its gradient is the sum of
// dz<t> over the rows of that slot, left in WT for the caller to turn into dW_ih and ∂L/∂x.

import { gemm, gemm_tn_rows, KC, transpose } from "./gemm";
import { pack_rows4 } from "./dot";
import { copy_bytes } from "./memory";

const COLS: i32 = 16;   // columns add_col_sums_twice sums at once (four f32x4 in registers)
const ROWS: i32 = 4 * KC;   // running rows listed per gemm_tn_rows call (a multiple of KC: same sums as one call)
const RUNNING: usize = memory.data(ROWS * 4, 16);   // (ROWS) i32 indices of rows that run

// @ts-ignore: decorator
@inline export function f32_at(p: usize, i: usize): f32 { return load<f32>(p + (i << 2)); }
// @ts-ignore: decorator
@inline export function set_f32(p: usize, i: usize, v: f32): void { store<f32>(p + (i << 2), v); }
// @ts-ignore: decorator
@inline export function sigmoid(z: f32): f32 {
  const e = Mathf.exp(-Mathf.abs(z));      // exp of a non-positive number only: no overflow
  return z >= 0 ? <f32>1 / (1 + e) : e / (1 + e);
}

/** Zero row b of a step block (B rows, n values apart) for every sequence b for which step
 *  t is padding (t ≥ len_b). Nothing to do when lens = 0. */
export function clear_padded(block: usize, lens: usize, t: i32, B: i32, n: i32): void {
  if (!lens) return;
  for (let b = 0; b < B; b++) {
    if (load<i32>(lens + (<usize>b << 2)) <= t) memory.fill(block + (<usize>b * n << 2), 0, <usize>n << 2);
  }
}

/** Rows computed by the recurrence since the last recurrent_rows(1): Σ over calls and steps of
 *  M_t (wraps at 2³²). A counter for tests, so they can see the padding skipped. */
let stepped_rows: u32 = 0;

/** M_t: 1 + the largest b with len_b > t (0 when there is none), or B when lens = 0. Never
 *  grows with t. */
// @ts-ignore: decorator
@inline function running(lens: usize, t: i32, B: i32): i32 {
  let m = B;
  if (lens) while (m > 0 && load<i32>(lens + (<usize>(m - 1) << 2)) <= t) m--;
  return m;
}

/** The rows the recurrence computes at step t, M_t; counted into stepped_rows. */
export function active_rows(lens: usize, t: i32, B: i32): i32 {
  const m = running(lens, t, B);
  stepped_rows += <u32>m;
  return m;
}

/** End row (exclusive) of the run of rows from row t·B that the products over all steps
 *  compute: step t's rows 0 .. M_t − 1, and on through the next steps while every row of a
 *  step runs (M = B). The next run starts at step ceil(end / B); end = t·B means no row runs
 *  from step t on. */
export function run_end(lens: usize, t: i32, T: i32, B: i32): i32 {
  let end = t * B;
  for (; t < T; t++) {
    const m = running(lens, t, B);
    end = t * B + m;
    if (m < B) break;
  }
  return end;
}

/** dW (n, H) += Σ_rows dZᵀ A over the rows that run: the recurrent weights' gradient from dZ
 *  ((T·B) rows ldz apart) and the states A ((T·B, H), h<t-1> beside dz<t>). One run (run_end:
 *  equal lengths, or lens = 0) is one gemm over its contiguous rows; more runs are one product
 *  over the listed rows (gemm_tn_rows), the list built ROWS at a time into RUNNING. */
export function outer_rows(dW: usize, dZ: usize, ldz: i32, A: usize, n: i32, H: i32, lens: usize, T: i32, B: i32): void {
  const end = run_end(lens, 0, T, B), next = (end + B - 1) / B;
  if (next >= T || run_end(lens, next, T, B) == next * B) {
    if (end > 0) gemm(1, 0, n, H, end, dZ, ldz, A, H, dW, H, 1);
    return;
  }
  let k = 0;
  for (let t = 0; t < T; t++) {
    const m = running(lens, t, B);
    for (let b = 0; b < m; b++) {
      store<i32>(RUNNING + (<usize>k << 2), t * B + b);
      if (++k == ROWS) { gemm_tn_rows(n, H, k, RUNNING, dZ, ldz, A, H, dW, H, 1); k = 0; }
    }
  }
  if (k) gemm_tn_rows(n, H, k, RUNNING, dZ, ldz, A, H, dW, H, 1);
}

/** PW (G·H values) = W_hh (G, H) of a cell (0 rnn, 1 lstm, 2 gru) copied in groups of four rows
 *  (dot.ts: pack_rows4) as the cell's forward reads it: one matrix for the vanilla and LSTM
 *  cells; for GRU, its rows r and z, then its rows n (W_hn), each a matrix of its own, since the
 *  reset-before cell multiplies W_hn by r ⊙ h<t-1>. */
export function pack_recurrent(PW: usize, W_hh: usize, cell: i32, H: i32): void {
  if (cell == 2) {
    const n = <usize>(2 * H * H) << 2;
    pack_rows4(PW, W_hh, H, 2 * H, H);
    pack_rows4(PW + n, W_hh + n, H, H, H);
  } else {
    pack_rows4(PW, W_hh, H, cell == 1 ? 4 * H : H, H);
  }
}

/** Rows the recurrent kernels computed (Σ M_t over calls and steps); reset = 1 starts the
 *  count again from 0. */
export function recurrent_rows(reset: i32): u32 {
  const n = stepped_rows;
  if (reset) stepped_rows = 0;
  return n;
}

/** dst[i] += src[i] for n values, four at a time. */
// @ts-ignore: decorator
@inline function add_into(dst: usize, src: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
  }
  for (; i < n; i++) set_f32(dst, i, f32_at(dst, i) + f32_at(src, i));
}

/** Add b (n) to every row of X (rows, n), rows ld apart. */
export function add_bias_rows(X: usize, b: usize, rows: i32, n: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) add_into(X + (<usize>r * ld << 2), b, n);
}

/** db (n) += column sums of dX (rows, n), dX rows ld apart. */
export function add_col_sums(db: usize, dX: usize, rows: i32, n: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) add_into(db, dX + (<usize>r * ld << 2), n);
}

/** db_a (n) and db_b (n) += the column sums of dX (rows, n), rows ld apart, each sum taken once
 *  (the two biases of the vanilla and LSTM cells see the same ∂L/∂z): COLS columns at a time,
 *  summed down all rows in row order, then added into both. */
export function add_col_sums_twice(db_a: usize, db_b: usize, dX: usize, rows: i32, n: i32, ld: i32): void {
  const row = <usize>ld << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + COLS <= n; j += COLS) {
      let p = dX + (<usize>j << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let r = 0; r < rows; r++, p += row) {
        s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
      }
      const o = <usize>j << 2;
      add_sums(db_a + o, s0, s1, s2, s3);
      add_sums(db_b + o, s0, s1, s2, s3);
    }
  }
  for (; j + 4 <= n; j += 4) {                        // the scalar build: four columns at a time
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, p = dX + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += row) {
      s0 += load<f32>(p); s1 += load<f32>(p, 4); s2 += load<f32>(p, 8); s3 += load<f32>(p, 12);
    }
    add_four(db_a + (<usize>j << 2), s0, s1, s2, s3);
    add_four(db_b + (<usize>j << 2), s0, s1, s2, s3);
  }
  for (; j < n; j++) {
    let s: f32 = 0, p = dX + (<usize>j << 2);
    for (let r = 0; r < rows; r++, p += row) s += load<f32>(p);
    set_f32(db_a, j, f32_at(db_a, j) + s);
    set_f32(db_b, j, f32_at(db_b, j) + s);
  }
}

/** db[0 .. 16) += s0 s1 s2 s3. */
// @ts-ignore: decorator
@inline function add_sums(db: usize, s0: v128, s1: v128, s2: v128, s3: v128): void {
  v128.store(db, f32x4.add(v128.load(db), s0)); v128.store(db, f32x4.add(v128.load(db, 16), s1), 16);
  v128.store(db, f32x4.add(v128.load(db, 32), s2), 32); v128.store(db, f32x4.add(v128.load(db, 48), s3), 48);
}

/** db[0 .. 4) += s0 s1 s2 s3. */
// @ts-ignore: decorator
@inline function add_four(db: usize, s0: f32, s1: f32, s2: f32, s3: f32): void {
  store<f32>(db, load<f32>(db) + s0); store<f32>(db, load<f32>(db, 4) + s1, 4);
  store<f32>(db, load<f32>(db, 8) + s2, 8); store<f32>(db, load<f32>(db, 12) + s3, 12);
}

/** Whether the token rows go through W_ihᵀ in WT (contiguous rows) rather than gather W_ih's
 *  columns at a stride: with scratch, and more rows than transposing costs. */
// @ts-ignore: decorator
@inline function via_transpose(WT: usize, rows: i32, n_x: i32): bool {
  return WT != 0 && rows > n_x;
}

/** Whether token rows read the contiguous rows of WT: slots (tokens = 2) always; one-hot ids
 *  (tokens = 1) when the caller gives WT as scratch for W_ihᵀ and there are more rows than
 *  transposing costs. */
// @ts-ignore: decorator
@inline function reads_table(tokens: i32, WT: usize, rows: i32, n_x: i32): bool {
  return tokens == 2 || (tokens == 1 && via_transpose(WT, rows, n_x));
}

/** The input projection of every step at once: H (T·B, G) = W_ih x<t> + b_ih (+ b_hh when
 *  b_hh != 0), over the rows that run (run_end; the rest are left as they are). Dense X is
 *  (T·B, n_x) f32 and costs one GEMM per run; token X is (T·B) i32 ids and is a gather, never a
 *  multiply: one-hot ids (tokens = 1) gather W_ih's columns, from WT = W_ihᵀ (n_x, G) when the
 *  caller gives that scratch (0: none), so each row is one contiguous read; slots (tokens = 2)
 *  gather the rows of WT (n_x, G) = W_ih x as the caller filled it. */
export function input_projection(H: usize, X: usize, tokens: i32, WT: usize, W_ih: usize, b_ih: usize, b_hh: usize,
                                 lens: usize, T: i32, B: i32, n_x: i32, G: i32): void {
  const table = reads_table(tokens, WT, T * B, n_x);
  if (table && tokens == 1) transpose(WT, W_ih, G, n_x);         // WT (n_x, G) = W_ihᵀ
  const width = tokens ? 1 : n_x;
  for (let t = 0; t < T;) {
    const r0 = t * B, r1 = run_end(lens, t, T, B);
    if (r1 == r0) break;
    project_rows(H + (<usize>r0 * G << 2), X + (<usize>r0 * width << 2), tokens, table ? WT : 0, W_ih, b_ih, b_hh, r1 - r0, n_x, G);
    t = (r1 + B - 1) / B;
  }
}

/** input_projection over `rows` contiguous rows; WT holds W_ihᵀ or the slots' rows, or is 0. */
function project_rows(H: usize, X: usize, tokens: i32, WT: usize, W_ih: usize, b_ih: usize, b_hh: usize,
                      rows: i32, n_x: i32, G: i32): void {
  if (tokens && WT) {
    for (let r = 0; r < rows; r++) {
      const id = <usize>load<i32>(X + (<usize>r << 2));
      const h = H + (<usize>r * G << 2);
      copy_bytes(h, WT + (id * G << 2), <usize>G << 2);
      add_into(h, b_ih, G);
    }
  } else if (tokens) {
    for (let r = 0; r < rows; r++) {
      const id = <usize>load<i32>(X + (<usize>r << 2));
      const h = H + (<usize>r * G << 2);
      for (let i = 0; i < G; i++) set_f32(h, i, f32_at(W_ih, <usize>i * n_x + id) + f32_at(b_ih, i));
    }
  } else {
    gemm(0, 1, rows, G, n_x, X, n_x, W_ih, n_x, H, G, 0);
    add_bias_rows(H, b_ih, rows, G, G);
  }
  if (b_hh) add_bias_rows(H, b_hh, rows, G, G);
}

/** Gradients of the input side over all steps, from dZ (T·B, G) = ∂L/∂(W_ih x<t> + b_ih), over
 *  the rows that run (run_end; the rest of dZ is zero): dW_ih += dZᵀ X, db_ih += Σ dZ (and
 *  db_hh += the same sums of dZ's first `shared` columns, whose gradient both biases share), and
 *  dX (T·B, n_x) += dZ W_ih when dX != 0 (dense only). One-hot ids with scratch WT (n_x, G):
 *  each row adds into its token's contiguous row of WT, which is added into dW_ih transposed
 *  at the end. Slots (tokens = 2): WT (n_x, G) ends as Σ dz<t> over each slot's rows, and
 *  dW_ih is left to the caller. */
export function input_grads(dW_ih: usize, db_ih: usize, db_hh: usize, shared: i32, dX: usize, dZ: usize, X: usize, tokens: i32, WT: usize,
                            W_ih: usize, lens: usize, T: i32, B: i32, n_x: i32, G: i32): void {
  const table = reads_table(tokens, WT, T * B, n_x), transposed = table && tokens == 1;
  if (table) memory.fill(WT, 0, <usize>n_x * G << 2);
  const width = tokens ? 1 : n_x;
  for (let t = 0; t < T;) {
    const r0 = t * B, r1 = run_end(lens, t, T, B);
    if (r1 == r0) break;
    grads_rows(dW_ih, dX ? dX + (<usize>r0 * n_x << 2) : 0, dZ + (<usize>r0 * G << 2), X + (<usize>r0 * width << 2),
      tokens, table ? WT : 0, W_ih, r1 - r0, n_x, G);
    t = (r1 + B - 1) / B;
  }
  if (transposed) {
    for (let i = 0; i < G; i++) {
      for (let v = 0; v < n_x; v++) {
        const o = <usize>i * n_x + v;
        set_f32(dW_ih, o, f32_at(dW_ih, o) + f32_at(WT, <usize>v * G + i));
      }
    }
  }
  const s = <usize>shared << 2;
  add_col_sums_twice(db_ih, db_hh, dZ, T * B, shared, G);
  add_col_sums(db_ih + s, dZ + s, T * B, G - shared, G);
}

/** input_grads' weight and input gradients over `rows` contiguous rows; WT (zeroed before the
 *  first run) sums the token or slot rows, or is 0. */
function grads_rows(dW_ih: usize, dX: usize, dZ: usize, X: usize, tokens: i32, WT: usize,
                    W_ih: usize, rows: i32, n_x: i32, G: i32): void {
  if (tokens && WT) {
    for (let r = 0; r < rows; r++) {                                  // dW_ihᵀ[x<t>, :] += dz<t>
      const id = <usize>load<i32>(X + (<usize>r << 2));
      add_into(WT + (id * G << 2), dZ + (<usize>r * G << 2), G);
    }
  } else if (tokens) {
    for (let r = 0; r < rows; r++) {                                  // dW_ih[:, x<t>] += dz<t>
      const id = <usize>load<i32>(X + (<usize>r << 2));
      const d = dZ + (<usize>r * G << 2);
      for (let i = 0; i < G; i++) {
        const o = <usize>i * n_x + id;
        set_f32(dW_ih, o, f32_at(dW_ih, o) + f32_at(d, i));
      }
    }
  } else {
    gemm(1, 0, G, n_x, rows, dZ, G, X, n_x, dW_ih, n_x, 1);           // dW_ih += Σ_t dz<t> x<t>ᵀ
    if (dX) gemm(0, 0, rows, n_x, G, dZ, G, W_ih, n_x, dX, n_x, 1);   // dx<t> += W_ihᵀ dz<t>
  }
}

/** Copy rows: dst row r (+)= src row r for r < rows, n values each, rows ldd / lds apart. */
export function copy_rows(dst: usize, ldd: i32, src: usize, lds: i32, rows: i32, n: i32, accumulate: i32): void {
  for (let r = 0; r < rows; r++) {
    const d = dst + (<usize>r * ldd << 2), s = src + (<usize>r * lds << 2);
    if (accumulate) add_into(d, s, n);
    else copy_bytes(d, s, <usize>n << 2);
  }
}

/** Reorder the sequences of every step: dst row t·B + i = src row t·B + order_i, for t < T and
 *  i < B; order (B) i32 holds sequence indices. Rows are n 4-byte values (f32 or i32 ids). */
export function gather_steps(dst: usize, src: usize, order: usize, T: i32, B: i32, n: i32): void {
  const row = <usize>n << 2;
  for (let t = 0; t < T; t++) {
    const base = <usize>t * B;
    for (let i = 0; i < B; i++) {
      const from = base + <usize>load<i32>(order + (<usize>i << 2));
      copy_bytes(dst + (base + i) * row, src + from * row, row);
    }
  }
}

/** Reverse each sequence in time: dst step t of sequence b (+)= src step len_b − 1 − t, for
 *  t < len_b; steps past len_b (padding) are copied in place. lens (B) i32, or 0 for all T.
 *  Rows are n values (4-byte elements: f32 features or i32 ids), ldd / lds apart. */
export function reverse_steps(dst: usize, ldd: i32, src: usize, lds: i32, lens: usize,
                              T: i32, B: i32, n: i32, accumulate: i32): void {
  for (let b = 0; b < B; b++) {
    const len = lens ? min(load<i32>(lens + (<usize>b << 2)), T) : T;
    for (let t = 0; t < T; t++) {
      const from = t < len ? len - 1 - t : t;
      copy_rows(dst + (<usize>(t * B + b) * ldd << 2), ldd, src + (<usize>(from * B + b) * lds << 2), lds, 1, n, accumulate);
    }
  }
}

// Pieces every cell shares: the input projection of all steps, the weight gradients summed
// over all steps, the row copies that stack and reverse sequences, and the clearing of padded
// rows.
//
// T = time steps, B = batch, n_x = input size, n_a = hidden size, G = gates · n_a (rows of
// W_ih and W_hh). Step-major layout: row t·B + b is step t of sequence b. Byte pointers.
// lens (B) i32 holds each sequence's length, or is 0 when every sequence runs all T steps.
//
// Padding: step t (0-based) of sequence b is padding when t ≥ len_b. The forward kernels
// write exact zeros into every per-step buffer row of a padded step (never a product with 0,
// which is NaN for an overflowed value), and the backward kernels clear the incoming gradient
// of padded rows, so whatever the weights make of a padded step, it reaches no result.

import { gemm } from "./gemm";

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

/** Add b (n) to every row of X (rows, n), rows ld apart. */
export function add_bias_rows(X: usize, b: usize, rows: i32, n: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) {
    const x = X + (<usize>r * ld << 2);
    for (let i = 0; i < n; i++) set_f32(x, i, f32_at(x, i) + f32_at(b, i));
  }
}

/** db (n) += column sums of dX (rows, n), dX rows ld apart. */
export function add_col_sums(db: usize, dX: usize, rows: i32, n: i32, ld: i32): void {
  for (let r = 0; r < rows; r++) {
    const d = dX + (<usize>r * ld << 2);
    for (let i = 0; i < n; i++) set_f32(db, i, f32_at(db, i) + f32_at(d, i));
  }
}

/** The input projection of every step at once: H (rows, G) = W_ih x<t> + b_ih (+ b_hh when
 *  b_hh != 0). Dense X is (rows, n_x) f32 and costs one GEMM; token X is (rows) i32 ids and
 *  is a gather of W_ih's columns (x<t> is one-hot), never a multiply. */
export function input_projection(H: usize, X: usize, tokens: i32, W_ih: usize, b_ih: usize, b_hh: usize,
                                 rows: i32, n_x: i32, G: i32): void {
  if (tokens) {
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

/** Gradients of the input side over all steps, from dZ (rows, G) = ∂L/∂(W_ih x<t> + b_ih):
 *  dW_ih += dZᵀ X, db_ih += Σ dZ, and dX (rows, n_x) += dZ W_ih when dX != 0 (dense only). */
export function input_grads(dW_ih: usize, db_ih: usize, dX: usize, dZ: usize, X: usize, tokens: i32,
                            W_ih: usize, rows: i32, n_x: i32, G: i32): void {
  if (tokens) {
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
  add_col_sums(db_ih, dZ, rows, G, G);
}

/** Copy rows: dst row r (+)= src row r for r < rows, n values each, rows ldd / lds apart. */
export function copy_rows(dst: usize, ldd: i32, src: usize, lds: i32, rows: i32, n: i32, accumulate: i32): void {
  for (let r = 0; r < rows; r++) {
    const d = dst + (<usize>r * ldd << 2), s = src + (<usize>r * lds << 2);
    if (accumulate) for (let i = 0; i < n; i++) set_f32(d, i, f32_at(d, i) + f32_at(s, i));
    else memory.copy(d, s, <usize>n << 2);
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

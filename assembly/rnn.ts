// The vanilla (Elman) recurrent cell over a whole sequence, and the dense output layer.
//
//   a<t> = act(W_aa a<t-1> + b_a + W_ax x<t> + b_x)        act = tanh (or relu)
//   ŷ<t> = g(W_ya a<t> + b_y)                               (g and the loss: loss.ts)
//
// T = time steps, B = sequences in the batch, n_x = input size, n_a = hidden size,
// n_y = output size. Weights are row-major (out, in): W_ax (n_a, n_x), W_aa (n_a, n_a),
// W_ya (n_y, n_a). Activations are time-major: step t of the batch is one (B, n) block.
// One call runs all T steps; backward passes ADD into gradient buffers (zeroing is the
// caller's), so stacked layers and several losses can share them.
// Token input (tokens = 1) may pass WT, scratch for W_ihᵀ (n_x, G = gates · n_a), or 0;
// slots (tokens = 2) pass WT holding W_ih x for each of n_x distinct inputs (cells.ts:
// input_projection). Backward may pass WhT, scratch for W_hhᵀ (n_a, G), or 0: it is made from
// W_hh at every call and read by the per-step products (gemm.ts: gemm_nn_by_t).
// Forward may pass PW, W_hh as cells.ts: pack_recurrent copies it, or 0: the per-step products
// read that copy (gemm.ts: gemm_nt_w), with the same bits.
// see: Elman (1990); PyTorch nn.RNN (same parameters: weight_ih = W_ax, weight_hh = W_aa,
// bias_ih = b_x, bias_hh = b_a); min-char-rnn for the BPTT loop.

import { gemm, gemm_nn_by_t, gemm_nt_w, transpose_for_rows } from "./gemm";
import { tanh_to, one4 } from "./activations";
import { active_rows, add_bias_rows, add_col_sums, clear_padded, f32_at, input_grads, input_projection, outer_rows, set_f32 } from "./cells";

/** In place: h = tanh(h) (relu = 0) or max(h, 0) (relu = 1), n values. */
export function activation_forward(h: usize, n: i32, relu: i32): void {
  if (!relu) {
    tanh_to(h, h, n);
    return;
  }
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(h + o, f32x4.max(v128.load(h + o), zero));
    }
  }
  for (; i < n; i++) set_f32(h, i, max(f32_at(h, i), <f32>0));
}

/** In place: dh = dh · act'(·), written in terms of the output a = act(z), n values. */
export function activation_backward(dh: usize, a: usize, n: i32, relu: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0), one = one4();
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const ai = v128.load(a + o), d = v128.load(dh + o);
      // relu: 0 where a ≤ 0; tanh: dz = (1 − a²) · da
      v128.store(dh + o, relu ? v128.andnot(d, f32x4.le(ai, zero)) : f32x4.mul(d, f32x4.sub(one, f32x4.mul(ai, ai))));
    }
  }
  for (; i < n; i++) {
    const ai = f32_at(a, i);
    if (relu) { if (ai <= 0) set_f32(dh, i, 0); }
    else set_f32(dh, i, f32_at(dh, i) * (1 - ai * ai));   // backprop through tanh
  }
}

/** Forward over all T steps.
 *  A ((T+1)·B, n_a): block 0 holds a<0> on entry; blocks 1..T receive a<1>..a<T>, zero at
 *  padded steps (lens, see cells.ts). */
export function rnn_forward(A: usize, X: usize, tokens: i32, WT: usize,
                            W_ax: usize, W_aa: usize, b_x: usize, b_a: usize, lens: usize,
                            T: i32, B: i32, n_x: i32, n_a: i32, relu: i32, PW: usize): void {
  const block = <usize>B * n_a << 2;       // bytes in one (B, n_a) step
  input_projection(A + block, X, tokens, WT, W_ax, b_x, b_a, lens, T, B, n_x, n_a);   // W_ax x<t> + b_x + b_a
  for (let t = 0; t < T; t++) {
    const prev = A + <usize>t * block, next = prev + block;
    const m = active_rows(lens, t, B);                                // rows m.. are padding
    gemm_nt_w(m, n_a, n_a, prev, n_a, W_aa, PW, next, n_a, 1);      // += W_aa a<t-1>
    activation_forward(next, m * n_a, relu);                          // a<t> = act(·)
    clear_padded(next, lens, t, B, n_a);                              // padding: a<t> = 0
  }
}

/** Backprop through time over all T steps.
 *  dA ((T+1)·B, n_a): on entry blocks 1..T hold ∂L/∂a<t> from above (the output layer or the
 *  next layer), not yet through the recurrence; on exit they hold ∂L/∂z<t> (pre-activation),
 *  zero at padded steps, and block 0 has ∂L/∂a<0> added. Adds into dW_ax, dW_aa, db_x, db_a,
 *  and into dX (T·B, n_x) when dX != 0 (dense input only). */
export function rnn_backward(dW_ax: usize, dW_aa: usize, db_x: usize, db_a: usize, dX: usize,
                             dA: usize, A: usize, X: usize, tokens: i32, WT: usize,
                             W_ax: usize, W_aa: usize, WhT: usize, lens: usize,
                             T: i32, B: i32, n_x: i32, n_a: i32, relu: i32): void {
  const block = <usize>B * n_a << 2;
  const W_aaT = transpose_for_rows(WhT, W_aa, n_a, n_a, B);       // W_aaᵀ of these weights, or 0
  for (let t = T; t >= 1; t--) {
    const dz = dA + <usize>t * block;
    const m = active_rows(lens, t - 1, B);                          // rows m.. are padding
    clear_padded(dz, lens, t - 1, B, n_a);                          // padding takes no gradient
    activation_backward(dz, A + <usize>t * block, m * n_a, relu);  // backprop through act
    gemm_nn_by_t(m, n_a, n_a, dz, n_a, W_aa, n_a, W_aaT, dz - block, n_a, 1);   // da<t-1> += W_aaᵀ dz<t>
  }
  const dZ = dA + block;                   // (T·B, n_a), all steps
  outer_rows(dW_aa, dZ, n_a, A, n_a, n_a, lens, T, B);                 // dW_aa += Σ_t dz<t> a<t-1>ᵀ
  input_grads(dW_ax, db_x, db_a, n_a, dX, dZ, X, tokens, WT, W_ax, lens, T, B, n_x, n_a);  // dW_ax, db_x = db_a, dx<t>
}

/** Dense layer on every row: Y (rows, n_out) = X (rows, n_in) · Wᵀ + b, W (n_out, n_in). */
export function linear_forward(Y: usize, X: usize, W: usize, b: usize, rows: i32, n_in: i32, n_out: i32): void {
  linear_rows(Y, X, W, 0, b, rows, n_in, n_out);
}

/** linear_forward, reading PW, W copied in groups of four rows (dot.ts: pack_rows4), when the
 *  caller made one (0: none): the same bits. */
export function linear_rows(Y: usize, X: usize, W: usize, PW: usize, b: usize, rows: i32, n_in: i32, n_out: i32): void {
  gemm_nt_w(rows, n_out, n_in, X, n_in, W, PW, Y, n_out, 0);
  add_bias_rows(Y, b, rows, n_out, n_out);
}

/** Backward of linear_forward: dW += dYᵀ X, db += Σ_rows dY; dX = or += dY W when dX != 0. */
export function linear_backward(dX: usize, dW: usize, db: usize, dY: usize, X: usize, W: usize,
                                rows: i32, n_in: i32, n_out: i32, accumulate_dX: i32): void {
  gemm(1, 0, n_out, n_in, rows, dY, n_out, X, n_in, dW, n_in, 1);
  add_col_sums(db, dY, rows, n_out, n_out);
  if (dX) gemm(0, 0, rows, n_in, n_out, dY, n_out, W, n_in, dX, n_in, accumulate_dX);
}

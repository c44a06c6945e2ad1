// Long short-term memory over a whole sequence, PyTorch's formulation (gate order i, f, g, o).
//
//   i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
//   g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
//   c<t> = f ⊙ c<t-1> + i ⊙ g                 h<t> = o ⊙ tanh(c<t>)
//
// T = time steps, B = batch, n_x = input size, n_a = hidden size. W_ih (4·n_a, n_x),
// W_hh (4·n_a, n_a), b_ih and b_hh (4·n_a); rows are the gates i, f, g, o in that order.
// Step-major buffers: A and C ((T+1)·B, n_a) with block 0 = h<0>, c<0>; TC (T·B, n_a) holds
// tanh(c<t>) for the backward pass; Gt (T·B, 4·n_a).
// Token input (tokens = 1) may pass WT, scratch for W_ihᵀ (n_x, G = gates · n_a), or 0;
// slots (tokens = 2) pass WT holding W_ih x for each of n_x distinct inputs (cells.ts:
// input_projection). Backward may pass WhT, scratch for W_hhᵀ (n_a, 4·n_a), or 0: it is made
// from W_hh at every call and read by the per-step products (gemm.ts: gemm_nn_by_t).
// Forward may pass PW, W_hh as cells.ts: pack_recurrent copies it, or 0: the per-step products
// read that copy (gemm.ts: gemm_nt_w), with the same bits.
// see: Hochreiter & Schmidhuber (1997); PyTorch nn.LSTM.

import { gemm, gemm_nn_by_t, gemm_nt_w, transpose_for_rows } from "./gemm";
import { sigmoid4, sigmoid_scalar, tanh4, tanh_scalar, one4 } from "./activations";
import { active_rows, clear_padded, f32_at, input_grads, input_projection, outer_rows, set_f32 } from "./cells";
import { madd } from "./simd";

/** One row of one step, in one pass: the gates gr (4·H; pre-activations in, activated out),
 *  c = f c_prev + i g, tc = tanh(c), h = o tc. Four units at a time, the rest one by one. */
// @ts-ignore: decorator
@inline function lstm_row(gr: usize, cp: usize, c: usize, tc: usize, h: usize, H: i32): void {
  const hb = <usize>H << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2, q = gr + o;
      const i_ = sigmoid4(v128.load(q)), f_ = sigmoid4(v128.load(q + hb));
      const g_ = tanh4(v128.load(q + 2 * hb)), o_ = sigmoid4(v128.load(q + 3 * hb));
      v128.store(q, i_); v128.store(q + hb, f_); v128.store(q + 2 * hb, g_); v128.store(q + 3 * hb, o_);
      const cn = madd(f_, v128.load(cp + o), f32x4.mul(i_, g_));      // c<t> = f c<t-1> + i g
      const t = tanh4(cn);
      v128.store(c + o, cn);
      v128.store(tc + o, t);
      v128.store(h + o, f32x4.mul(o_, t));                             // h<t> = o tanh(c<t>)
    }
  }
  for (; j < H; j++) {
    const i_ = sigmoid_scalar(f32_at(gr, j)), f_ = sigmoid_scalar(f32_at(gr, H + j));
    const g_ = tanh_scalar(f32_at(gr, 2 * H + j)), o_ = sigmoid_scalar(f32_at(gr, 3 * H + j));
    set_f32(gr, j, i_); set_f32(gr, H + j, f_); set_f32(gr, 2 * H + j, g_); set_f32(gr, 3 * H + j, o_);
    const cn = f_ * f32_at(cp, j) + i_ * g_;
    const t = tanh_scalar(cn);
    set_f32(c, j, cn);
    set_f32(tc, j, t);
    set_f32(h, j, o_ * t);
  }
}

/** One row of the backward step: from ∂L/∂h (dh) and the carried ∂L/∂c (dC, updated to
 *  ∂L/∂c<t-1>), the gates gr become ∂L/∂(pre-activations). cp = c<t-1>, tcs = tanh(c<t>). */
// @ts-ignore: decorator
@inline function lstm_row_backward(gr: usize, dh: usize, dC: usize, cp: usize, tcs: usize, H: i32): void {
  const hb = <usize>H << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = one4();
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2, q = gr + o;
      const i_ = v128.load(q), f_ = v128.load(q + hb), g_ = v128.load(q + 2 * hb), o_ = v128.load(q + 3 * hb);
      const tc = v128.load(tcs + o), dh_ = v128.load(dh + o);
      const dc = madd(f32x4.mul(dh_, o_), f32x4.sub(one, f32x4.mul(tc, tc)), v128.load(dC + o));   // through h = o tanh(c)
      v128.store(dC + o, f32x4.mul(dc, f_));                                                          // ∂L/∂c<t-1>
      v128.store(q, f32x4.mul(f32x4.mul(f32x4.mul(dc, g_), i_), f32x4.sub(one, i_)));                  // input gate
      v128.store(q + hb, f32x4.mul(f32x4.mul(f32x4.mul(dc, v128.load(cp + o)), f_), f32x4.sub(one, f_)));   // forget gate
      v128.store(q + 2 * hb, f32x4.mul(f32x4.mul(dc, i_), f32x4.sub(one, f32x4.mul(g_, g_))));         // candidate
      v128.store(q + 3 * hb, f32x4.mul(f32x4.mul(f32x4.mul(dh_, tc), o_), f32x4.sub(one, o_)));        // output gate
    }
  }
  for (; j < H; j++) {
    const i_ = f32_at(gr, j), f_ = f32_at(gr, H + j), g_ = f32_at(gr, 2 * H + j), o_ = f32_at(gr, 3 * H + j);
    const tc = f32_at(tcs, j);
    const dh_ = f32_at(dh, j);
    const dc = f32_at(dC, j) + dh_ * o_ * (1 - tc * tc);
    set_f32(dC, j, dc * f_);
    set_f32(gr, j, dc * g_ * i_ * (1 - i_));
    set_f32(gr, H + j, dc * f32_at(cp, j) * f_ * (1 - f_));
    set_f32(gr, 2 * H + j, dc * i_ * (1 - g_ * g_));
    set_f32(gr, 3 * H + j, dh_ * tc * o_ * (1 - o_));
  }
}

/** Forward over all T steps: fills A and C blocks 1..T, TC (T·B, n_a) with tanh(c<t>) and Gt
 *  with the activated gates; every row of a padded step is zero (lens, see cells.ts). */
export function lstm_forward(A: usize, C: usize, TC: usize, Gt: usize, X: usize, tokens: i32, WT: usize,
                             W_ih: usize, W_hh: usize, b_ih: usize, b_hh: usize, lens: usize,
                             T: i32, B: i32, n_x: i32, n_a: i32, PW: usize): void {
  const H = n_a, G = 4 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  input_projection(Gt, X, tokens, WT, W_ih, b_ih, b_hh, lens, T, B, n_x, G);   // W_ih x<t> + b_ih + b_hh
  for (let t = 0; t < T; t++) {
    const hp = A + <usize>t * block, cp = C + <usize>t * block;
    const g = Gt + <usize>t * gblock;
    const m = active_rows(lens, t, B);                                  // rows m.. are padding
    gemm_nt_w(m, G, H, hp, H, W_hh, PW, g, G, 1);                       // += W_hh h<t-1>
    for (let b = 0; b < m; b++) {
      const row = <usize>b * H << 2;
      lstm_row(g + (<usize>b * G << 2), cp + row, cp + block + row, TC + <usize>t * block + row, hp + block + row, H);
    }
    // padding: h, c, tanh(c) and the gates of padded rows are zero
    clear_padded(hp + block, lens, t, B, H);
    clear_padded(cp + block, lens, t, B, H);
    clear_padded(TC + <usize>t * block, lens, t, B, H);
    clear_padded(g, lens, t, B, G);
  }
}

/** Backprop through time over all T steps.
 *  dA ((T+1)·B, n_a): blocks 1..T hold ∂L/∂h<t> from above (cleared at padded steps); block 0
 *  receives ∂L/∂h<0> (added). dC (B, n_a): zeros on entry; on exit ∂L/∂c<0>. dcT (B, n_a),
 *  when != 0, is ∂L/∂c at each sequence's last step: len_b from lens (B) i32, or T when
 *  lens = 0.
 *  Gt: on entry the gates from lstm_forward; on exit ∂L/∂(pre-activations) per step.
 *  Adds into dW_ih, dW_hh, db_ih, db_hh and dX (T·B, n_x) when dX != 0. */
export function lstm_backward(dW_ih: usize, dW_hh: usize, db_ih: usize, db_hh: usize, dX: usize,
                              dA: usize, dC: usize, A: usize, C: usize, TC: usize, Gt: usize, X: usize, tokens: i32, WT: usize,
                              W_ih: usize, W_hh: usize, WhT: usize, dcT: usize, lens: usize,
                              T: i32, B: i32, n_x: i32, n_a: i32): void {
  const H = n_a, G = 4 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const W_hhT = transpose_for_rows(WhT, W_hh, G, H, B);                 // W_hhᵀ of these weights, or 0
  for (let t = T; t >= 1; t--) {
    if (dcT) {
      // ∂L/∂c at each sequence's last step (len_b, or T) enters the carried gradient there
      for (let b = 0; b < B; b++) {
        if ((lens ? load<i32>(lens + (<usize>b << 2)) : T) != t) continue;
        for (let j = 0; j < H; j++) {
          const o = <usize>b * H + j;
          set_f32(dC, o, f32_at(dC, o) + f32_at(dcT, o));
        }
      }
    }
    const dh = dA + <usize>t * block;
    clear_padded(dh, lens, t - 1, B, H);                               // padding takes no gradient
    const cp = C + <usize>(t - 1) * block, tcs = TC + <usize>(t - 1) * block;
    const g = Gt + <usize>(t - 1) * gblock;
    const m = active_rows(lens, t - 1, B);     // rows m.. are padding: zero gates, dC stays 0
    for (let b = 0; b < m; b++) {
      const row = <usize>b * H << 2;
      lstm_row_backward(g + (<usize>b * G << 2), dh + row, dC + row, cp + row, tcs + row, H);
    }
    gemm_nn_by_t(m, H, G, g, G, W_hh, H, W_hhT, dh - block, H, 1);  // dh<t-1> += W_hhᵀ dz<t>
  }
  outer_rows(dW_hh, Gt, G, A, G, H, lens, T, B);                       // dW_hh += Σ_t dz<t> h<t-1>ᵀ
  input_grads(dW_ih, db_ih, db_hh, G, dX, Gt, X, tokens, WT, W_ih, lens, T, B, n_x, G);
}

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
// see: Hochreiter & Schmidhuber (1997); PyTorch nn.LSTM.

import { gemm } from "./gemm";
import { sigmoid_to, tanh_to } from "./activations";
import { add_col_sums, clear_padded, f32_at, input_grads, input_projection, set_f32 } from "./cells";

/** Forward over all T steps: fills A and C blocks 1..T, TC (T·B, n_a) with tanh(c<t>) and Gt
 *  with the activated gates; every row of a padded step is zero (lens, see cells.ts). */
export function lstm_forward(A: usize, C: usize, TC: usize, Gt: usize, X: usize, tokens: i32,
                             W_ih: usize, W_hh: usize, b_ih: usize, b_hh: usize, lens: usize,
                             T: i32, B: i32, n_x: i32, n_a: i32): void {
  const H = n_a, G = 4 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const hb = <usize>H << 2;                                            // bytes in one gate block of a row
  input_projection(Gt, X, tokens, W_ih, b_ih, b_hh, T * B, n_x, G);   // W_ih x<t> + b_ih + b_hh
  for (let t = 0; t < T; t++) {
    const hp = A + <usize>t * block, cp = C + <usize>t * block;
    const g = Gt + <usize>t * gblock;
    gemm(0, 1, B, G, H, hp, H, W_hh, H, g, G, 1);                       // += W_hh h<t-1>
    for (let b = 0; b < B; b++) {
      const gr = g + (<usize>b * G << 2);
      const row = <usize>b * H << 2;
      sigmoid_to(gr, gr, 2 * H);                                        // i, f
      tanh_to(gr + 2 * hb, gr + 2 * hb, H);                             // g
      sigmoid_to(gr + 3 * hb, gr + 3 * hb, H);                          // o
      const c = cp + block + row, tc = TC + <usize>t * block + row, h = hp + block + row;
      for (let j = 0; j < H; j++) {                                     // c<t> = f c<t-1> + i g
        set_f32(c, j, f32_at(gr, H + j) * f32_at(cp + row, j) + f32_at(gr, j) * f32_at(gr, 2 * H + j));
      }
      tanh_to(tc, c, H);
      for (let j = 0; j < H; j++) set_f32(h, j, f32_at(gr, 3 * H + j) * f32_at(tc, j));   // h<t> = o tanh(c<t>)
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
                              dA: usize, dC: usize, A: usize, C: usize, TC: usize, Gt: usize, X: usize, tokens: i32,
                              W_ih: usize, W_hh: usize, dcT: usize, lens: usize,
                              T: i32, B: i32, n_x: i32, n_a: i32): void {
  const H = n_a, G = 4 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
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
    for (let b = 0; b < B; b++) {
      const gr = g + (<usize>b * G << 2);
      const row = <usize>b * H;
      for (let j = 0; j < H; j++) {
        const i_ = f32_at(gr, j), f_ = f32_at(gr, H + j), g_ = f32_at(gr, 2 * H + j), o_ = f32_at(gr, 3 * H + j);
        const tc = f32_at(tcs, row + j);
        const dh_ = f32_at(dh, row + j);
        const dc = f32_at(dC, row + j) + dh_ * o_ * (1 - tc * tc);     // through h = o tanh(c)
        set_f32(dC, row + j, dc * f_);                                   // ∂L/∂c<t-1>
        set_f32(gr, j, dc * g_ * i_ * (1 - i_));                         // input gate
        set_f32(gr, H + j, dc * f32_at(cp, row + j) * f_ * (1 - f_));    // forget gate
        set_f32(gr, 2 * H + j, dc * i_ * (1 - g_ * g_));                 // candidate
        set_f32(gr, 3 * H + j, dh_ * tc * o_ * (1 - o_));                // output gate
      }
    }
    gemm(0, 0, B, H, G, g, G, W_hh, H, dh - block, H, 1);              // dh<t-1> += W_hhᵀ dz<t>
  }
  const rows = T * B;
  gemm(1, 0, G, H, rows, Gt, G, A, H, dW_hh, H, 1);                    // dW_hh += Σ_t dz<t> h<t-1>ᵀ
  add_col_sums(db_hh, Gt, rows, G, G);
  input_grads(dW_ih, db_ih, dX, Gt, X, tokens, W_ih, rows, n_x, G);
}

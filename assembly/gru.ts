// Gated recurrent unit over a whole sequence (gate order r, z, n), in PyTorch's form
// (reset_after = 1: r scales W_hn h + b_hn) or the reset-before-matmul form (reset_after = 0:
// Keras reset_after=False, n uses W_hn (r ⊙ h)). Same parameter shapes either way.
//
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))        (reset_after = 1)
//   n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)        (reset_after = 0)
//   h<t> = (1 − z) ⊙ n + z ⊙ h<t-1>
//
// T = time steps, B = batch, n_x = input size, n_a = hidden size. W_ih (3·n_a, n_x),
// W_hh (3·n_a, n_a), b_ih and b_hh (3·n_a). Step-major buffers: A ((T+1)·B, n_a) with
// block 0 = h<0>; Gt (T·B, 3·n_a) the gates r, z, n; Hn (T·B, n_a) holds W_hn h<t-1> + b_hn
// (reset_after) or r ⊙ h<t-1> (reset before); S (B, 3·n_a) is scratch.
// see: Cho et al. (2014); PyTorch nn.GRU; Keras GRU(reset_after=False).

import { gemm } from "./gemm";
import { sigmoid_to, tanh_to } from "./activations";
import { add_bias_rows, add_col_sums, clear_padded, f32_at, input_grads, input_projection, set_f32 } from "./cells";

/** Forward over all T steps: fills A blocks 1..T, Gt with r, z, n, and Hn; every row of a
 *  padded step is zero (lens, see cells.ts). */
export function gru_forward(A: usize, Gt: usize, Hn: usize, S: usize, X: usize, tokens: i32,
                            W_ih: usize, W_hh: usize, b_ih: usize, b_hh: usize, lens: usize,
                            T: i32, B: i32, n_x: i32, n_a: i32, reset_after: i32): void {
  const H = n_a, G = 3 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const nOff = <usize>(2 * H) << 2;                                      // bytes to the n part of a row
  const W_hn = W_hh + (<usize>(2 * H * H) << 2);
  input_projection(Gt, X, tokens, W_ih, b_ih, 0, T * B, n_x, G);         // W_ih x<t> + b_ih
  for (let t = 0; t < T; t++) {
    const hp = A + <usize>t * block, hn = Hn + <usize>t * block;
    const g = Gt + <usize>t * gblock;
    // S[:, r z] = W_h{r,z} h<t-1> + b_h{r,z}; reset_after: also S[:, n] = W_hn h<t-1> + b_hn
    const m = reset_after ? G : 2 * H;
    gemm(0, 1, B, m, H, hp, H, W_hh, H, S, G, 0);
    add_bias_rows(S, b_hh, B, m, G);
    for (let b = 0; b < B; b++) {
      const gr = g + (<usize>b * G << 2), sr = S + (<usize>b * G << 2);
      const row = <usize>b * H;
      for (let j = 0; j < 2 * H; j++) set_f32(gr, j, f32_at(gr, j) + f32_at(sr, j));
      sigmoid_to(gr, gr, 2 * H);                                        // reset and update gates
      for (let j = 0; j < H; j++) {
        set_f32(hn, row + j, reset_after ? f32_at(sr, 2 * H + j) : f32_at(gr, j) * f32_at(hp, row + j));
      }
    }
    if (!reset_after) {
      gemm(0, 1, B, H, H, hn, H, W_hn, H, S + nOff, G, 0);               // S[:, n] = W_hn (r ⊙ h)
      add_bias_rows(S + nOff, b_hh + nOff, B, H, G);                      //          + b_hn
    }
    for (let b = 0; b < B; b++) {
      const gr = g + (<usize>b * G << 2), sr = S + (<usize>b * G << 2);
      const row = <usize>b * H;
      const n = gr + (<usize>(2 * H) << 2);
      for (let j = 0; j < H; j++) {
        const rec = reset_after ? f32_at(gr, j) * f32_at(hn, row + j) : f32_at(sr, 2 * H + j);
        set_f32(n, j, f32_at(n, j) + rec);
      }
      tanh_to(n, n, H);                                                 // candidate
      for (let j = 0; j < H; j++) {
        const z = f32_at(gr, H + j);
        set_f32(hp + block, row + j, (1 - z) * f32_at(n, j) + z * f32_at(hp, row + j));   // h<t>
      }
    }
    // padding: h, the gates and Hn of padded rows are zero
    clear_padded(hp + block, lens, t, B, H);
    clear_padded(g, lens, t, B, G);
    clear_padded(hn, lens, t, B, H);
  }
}

/** Backprop through time over all T steps.
 *  dA ((T+1)·B, n_a): blocks 1..T hold ∂L/∂h<t> from above (cleared at padded steps); block 0
 *  receives ∂L/∂h<0> (added).
 *  On exit Gt holds ∂L/∂(W_ih x<t> + b_ih) and D (T·B, 3·n_a) ∂L/∂(W_hh-side terms) per step.
 *  Adds into dW_ih, dW_hh, db_ih, db_hh and dX (T·B, n_x) when dX != 0. */
export function gru_backward(dW_ih: usize, dW_hh: usize, db_ih: usize, db_hh: usize, dX: usize,
                             dA: usize, D: usize, A: usize, Gt: usize, Hn: usize, S: usize, X: usize, tokens: i32,
                             W_ih: usize, W_hh: usize, lens: usize, T: i32, B: i32, n_x: i32, n_a: i32, reset_after: i32): void {
  const H = n_a, G = 3 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const nOff = <usize>(2 * H) << 2;
  const W_hn = W_hh + (<usize>(2 * H * H) << 2);
  for (let t = T; t >= 1; t--) {
    const dh = dA + <usize>t * block, dhp = dh - block;
    clear_padded(dh, lens, t - 1, B, H);                                   // padding takes no gradient
    const hp = A + <usize>(t - 1) * block, hn = Hn + <usize>(t - 1) * block;
    const g = Gt + <usize>(t - 1) * gblock, d = D + <usize>(t - 1) * gblock;
    for (let b = 0; b < B; b++) {
      const gr = g + (<usize>b * G << 2), dr = d + (<usize>b * G << 2);
      const row = <usize>b * H;
      for (let j = 0; j < H; j++) {
        const r = f32_at(gr, j), z = f32_at(gr, H + j), n = f32_at(gr, 2 * H + j);
        const dh_ = f32_at(dh, row + j), h_ = f32_at(hp, row + j);
        set_f32(dhp, row + j, f32_at(dhp, row + j) + dh_ * z);           // through z ⊙ h<t-1>
        const dzn = dh_ * (1 - z) * (1 - n * n);                           // candidate pre-activation
        const dzz = dh_ * (h_ - n) * z * (1 - z);                          // update gate
        set_f32(gr, H + j, dzz); set_f32(dr, H + j, dzz);
        set_f32(gr, 2 * H + j, dzn);
        if (reset_after) {
          const dzr = dzn * f32_at(hn, row + j) * r * (1 - r);            // reset gate
          set_f32(gr, j, dzr); set_f32(dr, j, dzr);
          set_f32(dr, 2 * H + j, dzn * r);                                 // ∂L/∂(W_hn h + b_hn)
        } else {
          set_f32(dr, 2 * H + j, dzn);                                     // ∂L/∂(W_hn (r h) + b_hn)
        }
      }
    }
    if (reset_after) {
      gemm(0, 0, B, H, G, d, G, W_hh, H, dhp, H, 1);                       // dh<t-1> += W_hhᵀ d
    } else {
      gemm(0, 0, B, H, H, d + nOff, G, W_hn, H, S, H, 0);                  // S = ∂L/∂(r ⊙ h<t-1>)
      for (let b = 0; b < B; b++) {
        const gr = g + (<usize>b * G << 2), dr = d + (<usize>b * G << 2);
        const row = <usize>b * H;
        for (let j = 0; j < H; j++) {
          const r = f32_at(gr, j), drh = f32_at(S, row + j);
          set_f32(dhp, row + j, f32_at(dhp, row + j) + drh * r);         // through r ⊙ h<t-1>
          const dzr = drh * f32_at(hp, row + j) * r * (1 - r);             // reset gate
          set_f32(gr, j, dzr); set_f32(dr, j, dzr);
        }
      }
      gemm(0, 0, B, H, 2 * H, d, G, W_hh, H, dhp, H, 1);                   // dh<t-1> += W_h{r,z}ᵀ d
    }
  }
  const rows = T * B;
  if (reset_after) {
    gemm(1, 0, G, H, rows, D, G, A, H, dW_hh, H, 1);                       // dW_hh += Σ_t d<t> h<t-1>ᵀ
  } else {
    gemm(1, 0, 2 * H, H, rows, D, G, A, H, dW_hh, H, 1);                   // dW_h{r,z}
    gemm(1, 0, H, H, rows, D + nOff, G, Hn, H, dW_hh + (<usize>(2 * H * H) << 2), H, 1); // dW_hn += Σ d (r h)ᵀ
  }
  add_col_sums(db_hh, D, rows, G, G);
  input_grads(dW_ih, db_ih, dX, Gt, X, tokens, W_ih, rows, n_x, G);
}

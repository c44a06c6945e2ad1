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
// Token input (tokens = 1) may pass WT, scratch for W_ihᵀ (n_x, G = gates · n_a), or 0;
// slots (tokens = 2) pass WT holding W_ih x for each of n_x distinct inputs (cells.ts:
// input_projection). Backward may pass WhT, scratch for W_hhᵀ (n_a, 3·n_a), or 0: it is made
// from W_hh at every call and read by the per-step products (gemm.ts: gemm_nn_by_t).
// Forward may pass PW, W_hh as cells.ts: pack_recurrent copies it, or 0: the per-step products
// read that copy (gemm.ts: gemm_nt_w), with the same bits.
// see: Cho et al. (2014); PyTorch nn.GRU; Keras GRU(reset_after=False).

import { gemm_nn_by_t, gemm_nt_w, transpose_for_rows } from "./gemm";
import { sigmoid4, sigmoid_scalar, tanh4, tanh_scalar, one4 } from "./activations";
import { active_rows, add_bias_rows, add_col_sums, clear_padded, f32_at, input_grads, input_projection, outer_rows, set_f32 } from "./cells";
import { madd } from "./simd";
import { copy_bytes } from "./memory";

/** The reset and update gates of one row, r z = σ(input part + recurrent part), from gr and
 *  sr (2·H each, gr overwritten); then Hn's row: W_hn h + b_hn (reset_after, from sr) or r ⊙ h. */
// @ts-ignore: decorator
@inline function gru_gates(gr: usize, sr: usize, hn: usize, hp: usize, H: i32, reset_after: i32): void {
  const n2 = 2 * H;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= n2; j += 4) {
      const o = <usize>j << 2;
      v128.store(gr + o, sigmoid4(f32x4.add(v128.load(gr + o), v128.load(sr + o))));
    }
  }
  for (; j < n2; j++) set_f32(gr, j, sigmoid_scalar(f32_at(gr, j) + f32_at(sr, j)));
  if (reset_after) {
    copy_bytes(hn, sr + (<usize>n2 << 2), <usize>H << 2);
    return;
  }
  j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      v128.store(hn + o, f32x4.mul(v128.load(gr + o), v128.load(hp + o)));
    }
  }
  for (; j < H; j++) set_f32(hn, j, f32_at(gr, j) * f32_at(hp, j));
}

/** The candidate and the new state of one row: n = tanh(n + r ⊙ Hn) (reset_after) or
 *  tanh(n + sn) (sn = S's n part), h = (1 − z) n + z h_prev into h. */
// @ts-ignore: decorator
@inline function gru_state(gr: usize, sn: usize, hn: usize, hp: usize, h: usize, H: i32, reset_after: i32): void {
  const hb = <usize>H << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = one4();
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const rec = reset_after ? f32x4.mul(v128.load(gr + o), v128.load(hn + o)) : v128.load(sn + o);
      const n = tanh4(f32x4.add(v128.load(gr + 2 * hb + o), rec));        // candidate
      v128.store(gr + 2 * hb + o, n);
      const z = v128.load(gr + hb + o);
      v128.store(h + o, madd(f32x4.sub(one, z), n, f32x4.mul(z, v128.load(hp + o))));   // h<t>
    }
  }
  for (; j < H; j++) {
    const rec = reset_after ? f32_at(gr, j) * f32_at(hn, j) : f32_at(sn, j);
    const n = tanh_scalar(f32_at(gr, 2 * H + j) + rec);
    set_f32(gr, 2 * H + j, n);
    const z = f32_at(gr, H + j);
    set_f32(h, j, (1 - z) * n + z * f32_at(hp, j));
  }
}

/** One row of the backward step: from ∂L/∂h (dh), adds ∂L/∂h<t-1> through z ⊙ h<t-1> into dhp;
 *  the gates gr become ∂L/∂(input-side pre-activations) and dr ∂L/∂(recurrent-side terms)
 *  (reset-before: the reset gate's come from gru_reset_backward). */
// @ts-ignore: decorator
@inline function gru_row_backward(gr: usize, dr: usize, dh: usize, dhp: usize, hp: usize, hn: usize, H: i32, reset_after: i32): void {
  const hb = <usize>H << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = one4();
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(gr + o), z = v128.load(gr + hb + o), n = v128.load(gr + 2 * hb + o);
      const dh_ = v128.load(dh + o), h_ = v128.load(hp + o);
      v128.store(dhp + o, madd(dh_, z, v128.load(dhp + o)));                                    // through z ⊙ h<t-1>
      const dzn = f32x4.mul(f32x4.mul(dh_, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));   // candidate
      const dzz = f32x4.mul(f32x4.mul(f32x4.mul(dh_, f32x4.sub(h_, n)), z), f32x4.sub(one, z));   // update gate
      v128.store(gr + hb + o, dzz); v128.store(dr + hb + o, dzz);
      v128.store(gr + 2 * hb + o, dzn);
      if (reset_after) {
        const dzr = f32x4.mul(f32x4.mul(f32x4.mul(dzn, v128.load(hn + o)), r), f32x4.sub(one, r));   // reset gate
        v128.store(gr + o, dzr); v128.store(dr + o, dzr);
        v128.store(dr + 2 * hb + o, f32x4.mul(dzn, r));                                          // ∂L/∂(W_hn h + b_hn)
      } else {
        v128.store(dr + 2 * hb + o, dzn);                                                        // ∂L/∂(W_hn (r h) + b_hn)
      }
    }
  }
  for (; j < H; j++) {
    const r = f32_at(gr, j), z = f32_at(gr, H + j), n = f32_at(gr, 2 * H + j);
    const dh_ = f32_at(dh, j), h_ = f32_at(hp, j);
    set_f32(dhp, j, f32_at(dhp, j) + dh_ * z);
    const dzn = dh_ * (1 - z) * (1 - n * n);
    const dzz = dh_ * (h_ - n) * z * (1 - z);
    set_f32(gr, H + j, dzz); set_f32(dr, H + j, dzz);
    set_f32(gr, 2 * H + j, dzn);
    if (reset_after) {
      const dzr = dzn * f32_at(hn, j) * r * (1 - r);
      set_f32(gr, j, dzr); set_f32(dr, j, dzr);
      set_f32(dr, 2 * H + j, dzn * r);
    } else {
      set_f32(dr, 2 * H + j, dzn);
    }
  }
}

/** Reset-before form, one row: from drh = ∂L/∂(r ⊙ h<t-1>), adds drh ⊙ r into dhp and writes the
 *  reset gate's gradient into gr and dr. */
// @ts-ignore: decorator
@inline function gru_reset_backward(gr: usize, dr: usize, drh: usize, dhp: usize, hp: usize, H: i32): void {
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const one = one4();
    for (; j + 4 <= H; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(gr + o), d = v128.load(drh + o);
      v128.store(dhp + o, madd(d, r, v128.load(dhp + o)));                                      // through r ⊙ h<t-1>
      const dzr = f32x4.mul(f32x4.mul(f32x4.mul(d, v128.load(hp + o)), r), f32x4.sub(one, r));  // reset gate
      v128.store(gr + o, dzr); v128.store(dr + o, dzr);
    }
  }
  for (; j < H; j++) {
    const r = f32_at(gr, j), d = f32_at(drh, j);
    set_f32(dhp, j, f32_at(dhp, j) + d * r);
    const dzr = d * f32_at(hp, j) * r * (1 - r);
    set_f32(gr, j, dzr); set_f32(dr, j, dzr);
  }
}

/** Forward over all T steps: fills A blocks 1..T, Gt with r, z, n, and Hn; every row of a
 *  padded step is zero (lens, see cells.ts). */
export function gru_forward(A: usize, Gt: usize, Hn: usize, S: usize, X: usize, tokens: i32, WT: usize,
                            W_ih: usize, W_hh: usize, b_ih: usize, b_hh: usize, lens: usize,
                            T: i32, B: i32, n_x: i32, n_a: i32, reset_after: i32, PW: usize): void {
  const H = n_a, G = 3 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const nOff = <usize>(2 * H) << 2;                                      // bytes to the n part of a row
  const W_hn = W_hh + (<usize>(2 * H * H) << 2);
  const PWn = PW ? PW + (<usize>(2 * H * H) << 2) : 0;                  // W_hn's own copy (cells.ts: pack_recurrent)
  input_projection(Gt, X, tokens, WT, W_ih, b_ih, 0, lens, T, B, n_x, G);         // W_ih x<t> + b_ih
  for (let t = 0; t < T; t++) {
    const hp = A + <usize>t * block, hn = Hn + <usize>t * block;
    const g = Gt + <usize>t * gblock;
    // S[:, r z] = W_h{r,z} h<t-1> + b_h{r,z}; reset_after: also S[:, n] = W_hn h<t-1> + b_hn
    const rows = active_rows(lens, t, B);                               // rows `rows`.. are padding
    const m = reset_after ? G : 2 * H;
    // r, z, then n as a product of its own (W_hn's copy is a matrix of its own): each entry is
    // the same dot product as in one product over all m rows of W_hh
    gemm_nt_w(rows, 2 * H, H, hp, H, W_hh, PW, S, G, 0);
    if (reset_after) gemm_nt_w(rows, H, H, hp, H, W_hn, PWn, S + nOff, G, 0);
    add_bias_rows(S, b_hh, rows, m, G);
    for (let b = 0; b < rows; b++) {
      const row = <usize>b * H << 2;
      gru_gates(g + (<usize>b * G << 2), S + (<usize>b * G << 2), hn + row, hp + row, H, reset_after);   // r, z; Hn
    }
    if (!reset_after) {
      gemm_nt_w(rows, H, H, hn, H, W_hn, PWn, S + nOff, G, 0);            // S[:, n] = W_hn (r ⊙ h)
      add_bias_rows(S + nOff, b_hh + nOff, rows, H, G);                   //          + b_hn
    }
    for (let b = 0; b < rows; b++) {
      const row = <usize>b * H << 2;
      gru_state(g + (<usize>b * G << 2), S + (<usize>b * G << 2) + nOff, hn + row, hp + row, hp + block + row, H, reset_after);
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
                             dA: usize, D: usize, A: usize, Gt: usize, Hn: usize, S: usize, X: usize, tokens: i32, WT: usize,
                             W_ih: usize, W_hh: usize, WhT: usize, lens: usize, T: i32, B: i32, n_x: i32, n_a: i32, reset_after: i32): void {
  const H = n_a, G = 3 * n_a;
  const block = <usize>B * H << 2, gblock = <usize>B * G << 2;
  const nOff = <usize>(2 * H) << 2;
  const W_hn = W_hh + (<usize>(2 * H * H) << 2);
  // W_hhᵀ (H, G) of these weights in groups of four rows, or 0; reset before: W_{r,z}ᵀ (H, 2H),
  // then W_hnᵀ (H, H), each a matrix of its own, since W_hn's product comes first
  const W_hhT = transpose_for_rows(WhT, W_hh, reset_after ? G : 2 * H, H, B);
  const W_hnT = W_hhT && !reset_after ? transpose_for_rows(WhT + (<usize>(2 * H * H) << 2), W_hn, H, H, B) : 0;
  for (let t = T; t >= 1; t--) {
    const dh = dA + <usize>t * block, dhp = dh - block;
    clear_padded(dh, lens, t - 1, B, H);                                   // padding takes no gradient
    const hp = A + <usize>(t - 1) * block, hn = Hn + <usize>(t - 1) * block;
    const g = Gt + <usize>(t - 1) * gblock, d = D + <usize>(t - 1) * gblock;
    const m = active_rows(lens, t - 1, B);                                 // rows m.. are padding
    for (let b = 0; b < m; b++) {
      const row = <usize>b * H << 2;
      gru_row_backward(g + (<usize>b * G << 2), d + (<usize>b * G << 2), dh + row, dhp + row, hp + row, hn + row, H, reset_after);
    }
    memory.fill(d + <usize>m * (<usize>G << 2), 0, <usize>(B - m) * (<usize>G << 2));   // their D rows: zero
    if (reset_after) {
      gemm_nn_by_t(m, H, G, d, G, W_hh, H, W_hhT, dhp, H, 1);             // dh<t-1> += W_hhᵀ d
    } else {
      gemm_nn_by_t(m, H, H, d + nOff, G, W_hn, H, W_hnT, S, H, 0);        // S = ∂L/∂(r ⊙ h<t-1>)
      for (let b = 0; b < m; b++) {
        const row = <usize>b * H << 2;
        gru_reset_backward(g + (<usize>b * G << 2), d + (<usize>b * G << 2), S + row, dhp + row, hp + row, H);
      }
      gemm_nn_by_t(m, H, 2 * H, d, G, W_hh, H, W_hhT, dhp, H, 1);         // dh<t-1> += W_h{r,z}ᵀ d
    }
  }
  if (reset_after) {
    outer_rows(dW_hh, D, G, A, G, H, lens, T, B);                          // dW_hh += Σ_t d<t> h<t-1>ᵀ
  } else {
    outer_rows(dW_hh, D, G, A, 2 * H, H, lens, T, B);                      // dW_h{r,z}
    outer_rows(dW_hh + (<usize>(2 * H * H) << 2), D + nOff, G, Hn, H, H, lens, T, B);   // dW_hn += Σ d (r h)ᵀ
  }
  add_col_sums(db_hh + nOff, D + nOff, T * B, H, G);                     // db_hn += Σ d[:, n]
  // D and Gt hold the same r and z columns: db_h{r,z} takes input_grads' sums of them
  input_grads(dW_ih, db_ih, db_hh, 2 * H, dX, Gt, X, tokens, WT, W_ih, lens, T, B, n_x, G);
}

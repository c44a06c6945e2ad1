// The output layer with its non-linearity and loss, over N rows in blocks of ROWS: each block's
// logits (a GEMM of ROWS rows, dot products: gemm.ts) are turned into ŷ, the loss and ∂L/∂z
// while they are still in cache, in one call for all rows. A row gives the same bits in any
// block, so a batch-1 step (step.ts) gives the bits of the same row in a training batch.
//
//   z = W x + b      ŷ, L, ∂L/∂z as loss.ts (output 0 softmax, 1 sigmoid, 2 linear)
//
// X (N, n_in), W (n_y, n_in), b (n_y); Z, yhat, dz (N, n_y); y (N) ids or (N, n_y) targets, or 0;
// w (N) row weights or 0; cw (n_y) class weights or 0, or for sigmoid_bce_pw its positive
// weights. Returns Σ w·L over the rows (f64), as the loss kernels do.

import { linear_rows } from "./rnn";
import { softmax_xent, softmax_xent_ls, sigmoid_bce, sigmoid_bce_pw, squared_error } from "./loss";

const ROWS: i32 = 32;   // rows per block: ROWS × n_y logits stay in L1
const SOFTMAX_LS: i32 = 3;   // head_rows's output for softmax_xent_ls
const SIGMOID_PW: i32 = 4;   // head_rows's output for sigmoid_bce_pw

export function head_loss(yhat: usize, dz: usize, Z: usize, X: usize, W: usize, b: usize, y: usize, w: usize,
                          N: i32, n_in: i32, n_y: i32, scale: f32, output: i32): f64 {
  return head_loss_w(yhat, dz, Z, X, W, 0, b, y, w, N, n_in, n_y, scale, output);
}

/** head_loss reading PW, W copied in groups of four rows (dot.ts: pack_rows4) by a caller whose
 *  blocks all read W (a batch of many rows, a generation run), or W itself when PW = 0 (as
 *  gemm_nt_w): the same bits either way. */
export function head_loss_w(yhat: usize, dz: usize, Z: usize, X: usize, W: usize, PW: usize, b: usize, y: usize, w: usize,
                            N: i32, n_in: i32, n_y: i32, scale: f32, output: i32): f64 {
  return head_rows(yhat, dz, Z, X, W, PW, b, y, w, 0, N, n_in, n_y, scale, 0, output, 0);
}

/** head_loss_w for a softmax whose loss has class weights cw (n_y, or 0) and label smoothing
 *  eps (loss.ts: softmax_xent_ls); ŷ has the bits head_loss_w gives. Adds the plain
 *  cross-entropy Σ w (−log ŷ[y]) to the f64 at plain, when plain != 0. */
export function head_loss_ls(yhat: usize, dz: usize, Z: usize, X: usize, W: usize, PW: usize, b: usize, y: usize, w: usize,
                             cw: usize, N: i32, n_in: i32, n_y: i32, scale: f32, eps: f32, plain: usize): f64 {
  return head_rows(yhat, dz, Z, X, W, PW, b, y, w, cw, N, n_in, n_y, scale, eps, SOFTMAX_LS, plain);
}

/** head_loss_w for a sigmoid whose loss weighs each output's positive term by pw (n_y; loss.ts:
 *  sigmoid_bce_pw); ŷ has the bits head_loss_w gives. */
export function head_loss_pw(yhat: usize, dz: usize, Z: usize, X: usize, W: usize, PW: usize, b: usize, y: usize, w: usize,
                             pw: usize, N: i32, n_in: i32, n_y: i32, scale: f32): f64 {
  return head_rows(yhat, dz, Z, X, W, PW, b, y, w, pw, N, n_in, n_y, scale, 0, SIGMOID_PW, 0);
}

/** The block loop of all three: output 0 softmax, 1 sigmoid, 2 linear, SOFTMAX_LS
 *  softmax_xent_ls, SIGMOID_PW sigmoid_bce_pw. */
// @ts-ignore: decorator
@inline function head_rows(yhat: usize, dz: usize, Z: usize, X: usize, W: usize, PW: usize, b: usize, y: usize, w: usize,
                           cw: usize, N: i32, n_in: i32, n_y: i32, scale: f32, eps: f32, output: i32, plain: usize): f64 {
  let total: f64 = 0;
  for (let r0 = 0; r0 < N; r0 += ROWS) {
    const rows = min(ROWS, N - r0);
    const o = <usize>r0 * n_y << 2;
    linear_rows(Z + o, X + (<usize>r0 * n_in << 2), W, PW, b, rows, n_in, n_y);
    const dzr = dz ? dz + o : 0, wr = w ? w + (<usize>r0 << 2) : 0;
    if (output == 0) total += softmax_xent(yhat + o, dzr, Z + o, y ? y + (<usize>r0 << 2) : 0, wr, rows, n_y, scale);
    else if (output == 1) total += sigmoid_bce(yhat + o, dzr, Z + o, y ? y + o : 0, wr, rows, n_y, scale);
    else if (output == 2) total += squared_error(yhat + o, dzr, Z + o, y ? y + o : 0, wr, rows, n_y, scale);
    else if (output == SOFTMAX_LS) total += softmax_xent_ls(yhat + o, dzr, Z + o, y ? y + (<usize>r0 << 2) : 0, wr, cw, rows, n_y, scale, eps, plain);
    else total += sigmoid_bce_pw(yhat + o, dzr, Z + o, y ? y + o : 0, wr, cw, rows, n_y, scale);
  }
  return total;
}

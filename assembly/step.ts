// One step of a one-direction recurrent stack and its output layer for B rows, in one call:
// the fast path of generation and streaming (B = 1, or the rows of a beam). Token ids go to
// layer 0 as one-hot columns, or through an embedding table (a gather of rows). Each layer runs the
// same cell kernel as training with T = 1 (so a step gives the bits forward() gives at that
// step), its new state overwrites the old, and the head turns the top state into outputs;
// plan_token also feeds the token and chooses the next one (sample.ts) in the same call.
//
// A plan is an i32 table that src/stepper.ts writes once: the header, then one record per layer.
// Pointers in it are byte offsets. Per layer, A and C hold 2·cap rows of n_a: rows [0, B) are the
// state h<t-1> (c<t-1>), rows [B, 2B) receive h<t>, which is then copied over the state; rows
// [cap, 2·cap) are scratch for reordering. cap = the most rows the plan was made for.
// see: src/stepper.ts (the writer of the table, with the same field numbers).

import { rnn_forward } from "./rnn";
import { lstm_forward } from "./lstm";
import { gru_forward } from "./gru";
import { head_loss_w } from "./head";
import { pack_rows4 } from "./dot";
import { embedding_forward } from "./embedding";
import { sample_token } from "./sample";
import { pack_recurrent } from "./cells";
import { transpose } from "./gemm";
import { copy_bytes } from "./memory";

// header fields
const L_: i32 = 0;         // layers
const TOKENS: i32 = 1;     // 1: layer 0 reads token ids
const OUTPUT: i32 = 2;     // −1 no head, 0 softmax, 1 sigmoid, 2 linear
const N_Y: i32 = 3;        // outputs per row
const W_Y: i32 = 4;        // head weight (n_y, n_a of the top layer)
const B_Y: i32 = 5;        // head bias (n_y)
const X_: i32 = 6;         // inputs: (B) ids or (B, n_x) features
const Z_: i32 = 7;         // (cap, n_y) logits
const P_: i32 = 8;         // (cap, n_y) outputs
const WS: i32 = 9;         // (n_y) f64 sampling scratch
const OS: i32 = 10;        // (2·n_y + 256) i32 sampling scratch
const R_: i32 = 11;        // (cap) i32 rows for plan_select
const CAP: i32 = 12;       // rows the buffers hold
const EMB: i32 = 13;       // an embedding table (V, E) the ids are read through, or 0 (one-hot)
const EW: i32 = 14;        // E, its width
const EX: i32 = 15;        // (cap, E) the ids' rows: layer 0's input
const PWY: i32 = 16;       // W_Y copied by pack_rows4 (n_y · n_a), or 0: read while this field is set
const HEADER: i32 = 17;
// layer fields
const CELL: i32 = 0;       // 0 rnn, 1 lstm, 2 gru
const FLAG: i32 = 1;       // rnn: relu; gru: reset_after
const N_IN: i32 = 2;
const N_A: i32 = 3;
const W_IH: i32 = 4;
const W_HH: i32 = 5;
const B_IH: i32 = 6;
const B_HH: i32 = 7;
const A_: i32 = 8;         // (2·cap, n_a)
const C_: i32 = 9;         // LSTM (2·cap, n_a)
const TC: i32 = 10;        // LSTM (cap, n_a)
const GT: i32 = 11;        // LSTM (cap, 4·n_a), GRU (cap, 3·n_a)
const HN: i32 = 12;        // GRU (cap, n_a)
const S_: i32 = 13;        // GRU (cap, 3·n_a)
const PW_: i32 = 14;       // W_hh copied by pack_recurrent (G·n_a), or 0: read while this field is set
const WT_: i32 = 15;       // layer 0 of token ids: W_ihᵀ (n_in, G) copied by transpose, or 0: read while set
const LAYER: i32 = 16;

// @ts-ignore: decorator
@inline function field(plan: usize, i: i32): i32 { return load<i32>(plan + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function ptr(plan: usize, i: i32): usize { return <usize>load<u32>(plan + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function layer_at(plan: usize, l: i32): usize { return plan + (<usize>(HEADER + l * LAYER) << 2); }

/** One step of layer `p` for B rows from input X (ids when tokens = 1); the state advances.
 *  Ids read W_ihᵀ's rows when the layer's WT copy is set (slots, tokens = 2, whose rows are
 *  W_ih's columns: the same values, one contiguous read instead of a column's G strided ones). */
function layer_step(p: usize, X: usize, tokens: i32, B: i32): void {
  const n_a = field(p, N_A), n_in = field(p, N_IN);
  const A = ptr(p, A_), block = <usize>B * n_a << 2;
  const W_ih = ptr(p, W_IH), W_hh = ptr(p, W_HH), b_ih = ptr(p, B_IH), b_hh = ptr(p, B_HH);
  const cell = field(p, CELL), PW = ptr(p, PW_);
  const WT = tokens == 1 ? ptr(p, WT_) : 0, input = WT ? 2 : tokens;
  if (cell == 0) {
    rnn_forward(A, X, input, WT, W_ih, W_hh, b_ih, b_hh, 0, 1, B, n_in, n_a, field(p, FLAG), PW);
  } else if (cell == 1) {
    lstm_forward(A, ptr(p, C_), ptr(p, TC), ptr(p, GT), X, input, WT, W_ih, W_hh, b_ih, b_hh, 0, 1, B, n_in, n_a, PW);
    copy_bytes(ptr(p, C_), ptr(p, C_) + block, block);              // c<t-1> ← c<t>
  } else {
    gru_forward(A, ptr(p, GT), ptr(p, HN), ptr(p, S_), X, input, WT, W_ih, W_hh, b_ih, b_hh, 0, 1, B, n_in, n_a, field(p, FLAG), PW);
  }
  copy_bytes(A, A + block, block);                                  // h<t-1> ← h<t>
}

/** Every layer one step for B rows from the inputs at X_, then the head's outputs into P_. */
export function plan_step(plan: usize, B: i32): void {
  const L = field(plan, L_);
  let X = ptr(plan, X_), tokens = field(plan, TOKENS);
  const table = ptr(plan, EMB);
  if (table) {
    embedding_forward(ptr(plan, EX), X, table, B, field(plan, EW));   // ids → their rows of the table
    X = ptr(plan, EX);
    tokens = 0;
  }
  let n_top = 0;
  for (let l = 0; l < L; l++) {
    const p = layer_at(plan, l);
    layer_step(p, X, tokens, B);
    X = ptr(p, A_);                      // the next layer reads this one's new state
    tokens = 0;
    n_top = field(p, N_A);
  }
  const output = field(plan, OUTPUT), n_y = field(plan, N_Y);
  if (output < 0) return;
  head_loss_w(ptr(plan, P_), 0, ptr(plan, Z_), X, ptr(plan, W_Y), ptr(plan, PWY), ptr(plan, B_Y), 0, 0, B, n_top, n_y, 1, output);
}

/** Every layer with a PW field: W_hh copied into it now (cells.ts: pack_recurrent); with a WT
 *  field, W_ihᵀ into it; and W_Y into PWY, when set. A copy is read until the caller clears its
 *  field, so the caller makes it where the weights cannot change before then (one generation
 *  run to its end in one call). */
export function plan_pack(plan: usize): void {
  const L = field(plan, L_);
  let n_top = 0;
  for (let l = 0; l < L; l++) {
    const p = layer_at(plan, l), PW = ptr(p, PW_), WT = ptr(p, WT_);
    const cell = field(p, CELL);
    n_top = field(p, N_A);
    if (PW) pack_recurrent(PW, ptr(p, W_HH), cell, n_top);
    if (WT) transpose(WT, ptr(p, W_IH), (cell == 0 ? 1 : cell == 1 ? 4 : 3) * n_top, field(p, N_IN));
  }
  const PY = ptr(plan, PWY);
  if (PY) pack_rows4(PY, ptr(plan, W_Y), n_top, field(plan, N_Y), n_top);
}

/** The token chosen from row `row` of the outputs (softmax heads), by sample.ts's rules. */
export function plan_choose(plan: usize, row: i32, greedy: i32, temperature: f64, topK: i32, topP: f64, u: f64): i32 {
  const n_y = field(plan, N_Y);
  return sample_token(ptr(plan, P_) + (<usize>row * n_y << 2), n_y, greedy, temperature, topK, topP, u,
    ptr(plan, WS), ptr(plan, OS));
}

/** B = 1, token input: feed `token` and step. */
export function plan_feed(plan: usize, token: i32): void {
  store<i32>(ptr(plan, X_), token);
  plan_step(plan, 1);
}

/** B = 1, token input: feed `token`, step, and choose the next token. */
export function plan_token(plan: usize, token: i32, greedy: i32, temperature: f64, topK: i32, topP: f64, u: f64): i32 {
  plan_feed(plan, token);
  return plan_choose(plan, 0, greedy, temperature, topK, topP, u);
}

/** Rows [0, B) of `buf` (rows of n values) become rows R[0..B) of it, through rows [cap, cap + B). */
function gather(buf: usize, R: usize, B: i32, n: i32, cap: i32): void {
  const row = <usize>n << 2, scratch = buf + <usize>cap * row;
  for (let r = 0; r < B; r++) copy_bytes(scratch + <usize>r * row, buf + <usize>load<i32>(R + (<usize>r << 2)) * row, row);
  copy_bytes(buf, scratch, <usize>B * row);
}

/** The state keeps rows R[0..B) (ids of current rows, repeats allowed) as its new B rows. */
export function plan_select(plan: usize, B: i32): void {
  const L = field(plan, L_), R = ptr(plan, R_), cap = field(plan, CAP);
  for (let l = 0; l < L; l++) {
    const p = layer_at(plan, l), n_a = field(p, N_A);
    gather(ptr(p, A_), R, B, n_a, cap);
    if (field(p, CELL) == 1) gather(ptr(p, C_), R, B, n_a, cap);
  }
}

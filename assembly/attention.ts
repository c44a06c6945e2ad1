// Luong's global attention over encoder outputs, for every decoder row at once.
//
//   score(h_t, s)  = q<t> · k<s>        q = h_t (the decoder's output); k = h_s ('dot') or
//                                       W_a h_s ('general', formed by the caller)
//   α<t>           = softmax over the source's own steps s < len (padded steps weigh 0)
//   c<t>           = Σ_s α<t,s> v<s>    v = h_s (the encoder's outputs)
//   h̃<t>           = tanh(W_c [c<t>; h_t])
//
// T_y = decoder steps, T_x = source steps, B = decoder sequences, B_s = source sequences,
// n_q = decoder width (n_a of the decoder), E = encoder width (directions · n_a). Decoder rows
// are time-major: row t·B + b; source rows s·B_s + j. Decoder sequence b attends to source
// src[b] (src = 0: source b, B_s = B). lens (B_s) i32 holds each source's length (0: all
// T_x). P holds α as (B, T_y, T_x): sequence b's block is T_y rows of T_x. Byte pointers;
// backward kernels add into their gradient buffers.
// see: Luong, Pham & Manning, "Effective Approaches to Attention-based NMT" (2015), §3.1.

import { gemm } from "./gemm";
import { tanh_to } from "./activations";
import { activation_backward } from "./rnn";
import { f32_at, set_f32 } from "./cells";

// @ts-ignore: decorator
@inline function source_of(src: usize, b: i32): i32 {
  return src ? load<i32>(src + (<usize>b << 2)) : b;
}

// @ts-ignore: decorator
@inline function length_of(lens: usize, j: i32, T_x: i32): i32 {
  return lens ? min(max(load<i32>(lens + (<usize>j << 2)), 0), T_x) : T_x;
}

/** In place, each of `rows` rows (n apart): softmax over its first len values, 0 after. */
export function masked_softmax_rows(P: usize, rows: i32, n: i32, len: i32): void {
  for (let r = 0; r < rows; r++) {
    const p = P + (<usize>r * n << 2);
    if (len > 0) {
      // subtract the max score so exp never overflows
      let m = f32_at(p, 0);
      for (let s = 1; s < len; s++) m = max(m, f32_at(p, s));
      let sum: f32 = 0;
      for (let s = 0; s < len; s++) {
        const e = Mathf.exp(f32_at(p, s) - m);
        set_f32(p, s, e);
        sum += e;
      }
      const inv = <f32>1 / sum;
      for (let s = 0; s < len; s++) set_f32(p, s, f32_at(p, s) * inv);
    }
    for (let s = max(len, 0); s < n; s++) set_f32(p, s, 0);
  }
}

/** In place, dP → ∂L/∂scores: dS = P ⊙ (dP − Σ_s P dP) per row, over the first len values. */
export function masked_softmax_rows_backward(dP: usize, P: usize, rows: i32, n: i32, len: i32): void {
  for (let r = 0; r < rows; r++) {
    const p = P + (<usize>r * n << 2), d = dP + (<usize>r * n << 2);
    let dot: f32 = 0;
    for (let s = 0; s < len; s++) dot += f32_at(p, s) * f32_at(d, s);
    for (let s = 0; s < len; s++) set_f32(d, s, f32_at(p, s) * (f32_at(d, s) - dot));
    for (let s = max(len, 0); s < n; s++) set_f32(d, s, 0);
  }
}

/** Weights α into P (B, T_y, T_x) and contexts c into C (T_y·B, E) for every decoder row Q
 *  (T_y·B, n_q), against keys K (T_x·B_s, n_q) and values V (T_x·B_s, E). */
export function attention_forward(P: usize, C: usize, Q: usize, K: usize, V: usize, lens: usize, src: usize,
                                  T_y: i32, T_x: i32, B: i32, B_s: i32, n_q: i32, E: i32): void {
  for (let b = 0; b < B; b++) {
    const j = source_of(src, b), len = length_of(lens, j, T_x);
    const Pb = P + (<usize>b * T_y * T_x << 2);
    const Qb = Q + (<usize>b * n_q << 2), Cb = C + (<usize>b * E << 2);
    const Kj = K + (<usize>j * n_q << 2), Vj = V + (<usize>j * E << 2);
    gemm(0, 1, T_y, len, n_q, Qb, B * n_q, Kj, B_s * n_q, Pb, T_x, 0);   // scores q<t> · k<s>
    masked_softmax_rows(Pb, T_y, T_x, len);                              // α<t> over s < len
    gemm(0, 0, T_y, E, len, Pb, T_x, Vj, B_s * E, Cb, B * E, 0);         // c<t> = Σ_s α<t,s> v<s>
  }
}

/** Backward of attention_forward from dC (T_y·B, E): adds ∂L/∂Q into dQ, ∂L/∂K into dK and
 *  ∂L/∂V into dV (dK may be dV when K is V). dP (B, T_y, T_x) is scratch. */
export function attention_backward(dQ: usize, dK: usize, dV: usize, dP: usize, P: usize, dC: usize,
                                   Q: usize, K: usize, V: usize, lens: usize, src: usize,
                                   T_y: i32, T_x: i32, B: i32, B_s: i32, n_q: i32, E: i32): void {
  for (let b = 0; b < B; b++) {
    const j = source_of(src, b), len = length_of(lens, j, T_x);
    const o = <usize>b * T_y * T_x << 2;
    const Pb = P + o, dPb = dP + o;
    const Qb = Q + (<usize>b * n_q << 2), dQb = dQ + (<usize>b * n_q << 2), dCb = dC + (<usize>b * E << 2);
    const Kj = K + (<usize>j * n_q << 2), dKj = dK + (<usize>j * n_q << 2);
    const Vj = V + (<usize>j * E << 2), dVj = dV + (<usize>j * E << 2);
    gemm(0, 1, T_y, len, E, dCb, B * E, Vj, B_s * E, dPb, T_x, 0);        // ∂L/∂α<t,s> = dc<t> · v<s>
    gemm(1, 0, len, E, T_y, Pb, T_x, dCb, B * E, dVj, B_s * E, 1);        // dv<s> += Σ_t α<t,s> dc<t>
    masked_softmax_rows_backward(dPb, Pb, T_y, T_x, len);                  // backprop through softmax
    gemm(0, 0, T_y, n_q, len, dPb, T_x, Kj, B_s * n_q, dQb, B * n_q, 1);  // dq<t> += Σ_s ds<t,s> k<s>
    gemm(1, 0, len, n_q, T_y, dPb, T_x, Qb, B * n_q, dKj, B_s * n_q, 1);  // dk<s> += Σ_t ds<t,s> q<t>
  }
}

/** h̃ (rows, n_q) = tanh(W_c [c; q]) for contexts C (rows, E) and decoder rows Q (rows, n_q);
 *  W_c is (n_q, E + n_q), no bias. */
export function attention_combine_forward(Ht: usize, C: usize, Q: usize, W_c: usize, rows: i32, E: i32, n_q: i32): void {
  const ld = E + n_q;
  gemm(0, 1, rows, n_q, E, C, E, W_c, ld, Ht, n_q, 0);                          // W_c[:, :E] c
  gemm(0, 1, rows, n_q, n_q, Q, n_q, W_c + (<usize>E << 2), ld, Ht, n_q, 1);     // + W_c[:, E:] q
  tanh_to(Ht, Ht, rows * n_q);                                                   // h̃ = tanh(·)
}

/** Backward of attention_combine_forward. dHt (rows, n_q) holds ∂L/∂h̃ and becomes ∂L/∂z.
 *  Adds into dW_c; writes (overwrites) dC (rows, E) and dQ (rows, n_q). */
export function attention_combine_backward(dC: usize, dQ: usize, dW_c: usize, dHt: usize, Ht: usize,
                                           C: usize, Q: usize, W_c: usize, rows: i32, E: i32, n_q: i32): void {
  const ld = E + n_q;
  activation_backward(dHt, Ht, rows * n_q, 0);                                    // backprop through tanh
  gemm(1, 0, n_q, E, rows, dHt, n_q, C, E, dW_c, ld, 1);                          // dW_c[:, :E] += dzᵀ c
  gemm(1, 0, n_q, n_q, rows, dHt, n_q, Q, n_q, dW_c + (<usize>E << 2), ld, 1);    // dW_c[:, E:] += dzᵀ q
  gemm(0, 0, rows, E, n_q, dHt, n_q, W_c, ld, dC, E, 0);                          // dc = W_c[:, :E]ᵀ dz
  gemm(0, 0, rows, n_q, n_q, dHt, n_q, W_c + (<usize>E << 2), ld, dQ, n_q, 0);    // dq = W_c[:, E:]ᵀ dz
}

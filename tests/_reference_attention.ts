// An f64 reference of the encoder-decoder with Luong global attention, written straight from
// the equations, one sequence at a time (ragged sources need no padding), composed from the
// stack reference of _reference_arch.ts. Shares no code with src/ or assembly/.
// see: Luong, Pham & Manning, "Effective Approaches to Attention-based NMT" (2015), §3.1.
//
//   H_s (T_x, E)      the encoder's top-layer outputs of the source (E = D·n_a_enc)
//   h_t (n_q)         the decoder's top-layer output at target step t (teacher forced)
//   score(t, s)       h_tᵀ h_s ('dot')  or  h_tᵀ W_a h_s ('general'), W_a = attention.weight (n_q, E)
//   α_t               softmax over s = 0 … T_x − 1 (the source's own steps)
//   c_t               Σ_s α_ts h_s
//   h̃_t               tanh(W_c [c_t; h_t]), W_c = attention.combine.weight (n_q, E + n_q)
//   ŷ_t               g(W_ya h̃_t + b_y), the loss as in _reference_arch.ts

import { linear, rowLoss, runStack, type EncDecRef } from './_reference_arch.js';
import type { CellsParams } from './_reference_cells.js';

export interface AttentionRef extends EncDecRef {
  attention: 'dot' | 'general';
}

/** Attention of one decoder output h (n_q) over encoder outputs H (T_x, E): h̃ (n_q) and α (T_x). */
export function attend(kind: 'dot' | 'general', p: CellsParams, h: ArrayLike<number>, H: Float64Array, T_x: number, E: number) {
  const n_q = h.length;
  const W_a = p['attention.weight'], W_c = p['attention.combine.weight'];
  // q = h ('dot') or W_aᵀ h ('general'), so that score(s) = q · h_s
  const q = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    if (kind === 'dot') q[e] = h[e];
    else for (let i = 0; i < n_q; i++) q[e] += h[i] * W_a[i * E + e];
  }
  const scores = Array.from({ length: T_x }, (_, s) => {
    let v = 0;
    for (let e = 0; e < E; e++) v += q[e] * H[s * E + e];
    return v;
  });
  const m = Math.max(...scores);
  const ex = scores.map((v) => Math.exp(v - m));
  const sum = ex.reduce((a, b) => a + b, 0);
  const alpha = ex.map((v) => v / sum);
  const c = new Float64Array(E);
  for (let s = 0; s < T_x; s++) for (let e = 0; e < E; e++) c[e] += alpha[s] * H[s * E + e];
  // h̃ = tanh(W_c [c; h])
  const ht = new Float64Array(n_q);
  for (let i = 0; i < n_q; i++) {
    let v = 0;
    for (let e = 0; e < E; e++) v += W_c[i * (E + n_q) + e] * c[e];
    for (let j = 0; j < n_q; j++) v += W_c[i * (E + n_q) + E + j] * h[j];
    ht[i] = Math.tanh(v);
  }
  return { ht, alpha };
}

/** Loss over every pair, the logits of each target step, (B)(T_y, n_y), and the attention
 *  weights of each, (B)(T_y, T_x) over each sequence's own source steps. */
export function attentionEncDec(c: AttentionRef, p: CellsParams, x: (number | number[])[][], y: (number | number[])[][]) {
  const D = c.encoder.bidirectional ? 2 : 1, E = D * c.encoder.n_a, d = c.decoder;
  let loss = 0, terms = 0;
  const logits: number[][][] = [];
  const alphas: number[][][] = [];
  x.forEach((src, b) => {
    const enc = runStack(c.encoder, p, 'encoder.', src);
    let h0: Float64Array, c0: Float64Array | undefined;
    if (c.bridge === 'linear') {
      h0 = Float64Array.from(linear(p, 'bridge', enc.hT), Math.tanh);
      c0 = d.cell === 'lstm' ? new Float64Array(h0.length) : undefined;
    } else {
      h0 = enc.hT;
      c0 = d.cell === 'lstm' ? (c.encoder.cell === 'lstm' ? enc.cT! : new Float64Array(enc.hT.length)) : undefined;
    }
    const first = d.output === 'softmax' ? c.start : new Array(d.n_y).fill(0);
    const s = { cell: d.cell, n_x: d.n_y, n_a: d.n_a, layers: d.layers, bidirectional: false, input: d.output === 'softmax' ? 'tokens' : 'dense' } as const;
    const dec = runStack(s, p, 'decoder.', [first, ...y[b].slice(0, -1)], h0, c0);
    const rows: number[][] = [], weights: number[][] = [];
    y[b].forEach((target, t) => {
      const { ht, alpha } = attend(c.attention, p, dec.out.subarray(t * d.n_a, (t + 1) * d.n_a), enc.out, src.length, E);
      const z = linear(p, 'head', ht);
      rows.push(z);
      weights.push(alpha);
      const r = rowLoss(d.output, z, target);
      loss += r.loss;
      terms += r.terms;
    });
    logits.push(rows);
    alphas.push(weights);
  });
  return { loss: c.reduction === 'mean' ? loss / terms : loss, logits, alphas };
}

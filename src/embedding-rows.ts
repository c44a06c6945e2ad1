// Layer 0 over an embedding, one input projection per distinct token of a batch.
//
// Every row of the same id reads the same input x = W_e[id], so W_ih x is the same for all of
// them. A batch of word ids holds far fewer distinct ids than rows (about half, for sentences in
// batches of 32), and the three products of the input side, W_ih x forward, dW_ih and ∂L/∂x
// backward, run over the U distinct ids instead of the T·B rows:
//
//   uniq (U) the distinct ids of the rows that run, slot (T·B) row → index into uniq
//   Emb (U, E) = W_e[uniq]                          the embedding's gather (embedding.ts)
//   P (U, G) = Emb W_ihᵀ                            per direction; the layer's kernel gathers
//                                                   P[slot<t>] + biases (assembly/cells.ts)
//   dP (U, G) = Σ_{t: slot<t> = u} dz<t>            summed by the kernel into the same scratch
//   dW_ih += dPᵀ Emb      dEmb (U, E) += dP W_ih    then dW_e[uniq] += dEmb (embedding.ts)
//
// which are the gather and the sums over T·B rows with the rows of one id added first: the
// same gradients up to float summation order.
//
// T·B = rows of a batch, V = vocabulary, E = values per token, G = gates · n_a.
import type { Kernels } from './wasm.js';

/** The distinct ids of a batch, and each row's slot among them. */
export class TokenSlots {
  /** id → its slot in the current batch, −1 when unseen (V). Reset after each batch. */
  private readonly seen: Int32Array;

  constructor(V: number) {
    this.seen = new Int32Array(V).fill(-1);
  }

  /** Each row's slot (T·B) and the U distinct ids, in order of first use (uniq), with the rows
   *  in run order: row i of a step runs the caller's sequence order[i] (src/length-order.ts;
   *  undefined: the caller's order). ids are step-major in the caller's order, sequence b running
   *  len_b steps (lens, B; undefined: all T); padded rows (t ≥ len_b) run nowhere, so their ids
   *  are not counted and their slot is 0. */
  assign(ids: Int32Array, lens: Int32Array | undefined, T: number, B: number, order?: Int32Array): { U: number; slot: Int32Array; uniq: Int32Array } {
    const seen = this.seen;
    const slot = new Int32Array(T * B), uniq = new Int32Array(T * B);
    let U = 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < B; i++) {
        const b = order ? order[i] : i;
        if (lens && t >= lens[b]) continue;
        const id = ids[t * B + b];
        let s = seen[id];
        if (s < 0) { s = seen[id] = U; uniq[U++] = id; }
        slot[t * B + i] = s;
      }
    }
    for (let u = 0; u < U; u++) seen[uniq[u]] = -1;
    return { U, slot, uniq: uniq.subarray(0, U) };
  }
}

/** P (U, G) = Emb (U, E) W_ihᵀ, W_ih (G, E): each distinct token's input projection, no bias. */
export function projectSlots(kernels: Kernels, P: number, Emb: number, W_ih: number, U: number, E: number, G: number): void {
  kernels.gemm(0, 1, U, G, E, Emb, E, W_ih, E, P, G, 0);
}

/** From dP (U, G), each distinct token's summed ∂L/∂(W_ih x): dW_ih (G, E) += dPᵀ Emb, and
 *  dEmb (U, E) = (or += when accumulate) dP W_ih when dEmb != 0 (a trainable table). */
export function slotGrads(kernels: Kernels, dW_ih: number, dEmb: number, dP: number, Emb: number, W_ih: number,
                          U: number, E: number, G: number, accumulate: boolean): void {
  kernels.gemm(1, 0, G, E, U, dP, G, Emb, E, dW_ih, E, 1);
  if (dEmb) kernels.gemm(0, 0, U, E, G, dP, G, W_ih, E, dEmb, E, accumulate ? 1 : 0);
}

// Luong-style global attention between an encoder-decoder's decoder and its encoder outputs:
// the decoder's output h_t at every step looks at every step h_s of its own source.
//
//   score(h_t, h_s) = h_tᵀ h_s ('dot')  or  h_tᵀ W_a h_s ('general')
//   α<t>            = softmax of the scores over the source's own steps (padding weighs 0)
//   c<t>            = Σ_s α<t,s> h_s
//   h̃<t>            = tanh(W_c [c<t>; h_t])            the head reads h̃<t> instead of h_t
//
// Parameters (bias-free, in the model's one region): W_a = 'attention.weight' (n_q, E),
// 'general' only; W_c = 'attention.combine.weight' (n_q, E + n_q).
// Training runs over all (T_y, B) decoder rows at once (assembly/attention.ts); stepping runs
// one decoder step of B rows against stored encoder outputs (an AttentionMemory). Either way α
// stays in the workspace (backward reads it), so returning it is one copy, made when asked.
//
// T_y / T_x = target / source steps, B = sequences, B_s = stored sources, n_q = decoder n_a,
// E = encoder width (directions · n_a). Rows are time-major: row t·B + b.
// see: Luong, Pham & Manning, "Effective Approaches to Attention-based NMT" (2015), §3.1.

import type { Arena, Region } from '../arena.js';
import type { Layout, TensorEntry } from '../layout.js';
import type { Kernels } from '../wasm.js';

/** How the decoder attends to the encoder: not at all, by dot product, or through W_a. */
export type AttentionKind = 'none' | 'dot' | 'general';

/** Encoder outputs of B sources, kept for decoding one step at a time. */
export interface AttentionMemory {
  /** (T·B, E) encoder outputs, time-major. */
  readonly H: Float32Array;
  readonly T: number;
  readonly B: number;
  /** (B) each source's length. */
  readonly lens: Int32Array;
}

/** Encoder outputs already in wasm memory (a training or teacher-forced batch). */
export interface AttentionSource {
  /** Byte pointer of the encoder's top-layer outputs (T·B, E). */
  readonly ptr: number;
  readonly T: number;
  /** (B) each source's length; undefined when all are T. */
  readonly lens?: Int32Array;
}

/** The tensor names attention adds to a layout, with their shapes (n_out, n_in). */
export function attentionMatrices(kind: AttentionKind, n_q: number, E: number): { name: string; n_in: number; n_out: number }[] {
  if (kind === 'none') return [];
  const combine = { name: 'attention.combine.weight', n_in: E + n_q, n_out: n_q };
  return kind === 'general' ? [{ name: 'attention.weight', n_in: E, n_out: n_q }, combine] : [combine];
}

interface Work {
  rows: number;     // capacity: decoder rows T_y·B
  scores: number;   // capacity: B·T_y·T_x
  keys: number;     // capacity: source rows T_x·B_s
  batch: number;    // capacity: max(B, B_s)
  P: Region;        // (B, T_y, T_x) α
  dP: Region;       // (B, T_y, T_x) scratch
  C: Region;        // (rows, E) contexts
  dC: Region;       // (rows, E)
  Ht: Region;       // (rows, n_q) h̃
  dHt: Region;      // (rows, n_q)
  K?: Region;       // 'general': (keys, n_q) W_a h_s
  dK?: Region;      // 'general': (keys, n_q)
  M: Region;        // (keys, E) a stored memory, when stepping
  lens: Region;     // (batch) i32
  src: Region;      // (batch) i32: the source of each decoder row, when stepping
}

export class Attention {
  private ws?: Work;
  private readonly W_a?: TensorEntry;
  private readonly W_c: TensorEntry;
  /** The memory whose outputs are in ws.M. */
  private loaded?: AttentionMemory;
  /** The last batch forward, for backward. */
  private last?: { Q: number; V: number; T_y: number; T_x: number; B: number; lens: boolean };

  constructor(private readonly kernels: Kernels, private readonly arena: Arena, layout: Layout,
              readonly kind: 'dot' | 'general', readonly n_q: number, readonly E: number) {
    this.W_c = layout.get('attention.combine.weight')!;
    if (kind === 'general') this.W_a = layout.get('attention.weight')!;
  }

  /** h̃ for every decoder row Q (T_y·B, n_q) against the encoder outputs of `source`; returns
   *  the pointer of h̃ (T_y·B, n_q), valid until the next call. */
  forward(params: Region, Q: number, T_y: number, B: number, source: AttentionSource): number {
    const T_x = source.T, rows = T_y * B;
    const ws = this.ensure(rows, B * T_y * T_x, T_x * B, B);     // allocations first
    const lens = source.lens ? ws.lens.ptr : 0;
    if (source.lens) this.arena.i32(ws.lens, 0, B).set(source.lens);
    const K = this.keys(params, source.ptr, T_x * B);
    this.kernels.attention_forward(ws.P.ptr, ws.C.ptr, Q, K, source.ptr, lens, 0, T_y, T_x, B, B, this.n_q, this.E);
    this.kernels.attention_combine_forward(ws.Ht.ptr, ws.C.ptr, Q, params.ptr + 4 * this.W_c.offset, rows, this.E, this.n_q);
    this.last = { Q, V: source.ptr, T_y, T_x, B, lens: source.lens !== undefined };
    return ws.Ht.ptr;
  }

  /** α of the last forward, (B, T_y, T_x): a copy, 0 past each source's end. */
  weights(): Float32Array<ArrayBuffer> {
    const { T_y, T_x, B } = this.last!;
    return this.arena.f32(this.ws!.P, 0, B * T_y * T_x).slice();
  }

  /** α of the last step(), (B, T_x): a view of wasm memory, valid until the next call. */
  weightsView(B: number, T_x: number): Float32Array<ArrayBuffer> {
    return this.arena.f32(this.ws!.P, 0, B * T_x);
  }

  /** Where the caller writes ∂L/∂h̃ (T_y·B, n_q) before backward(). */
  dOutPtr(): number {
    return this.ws!.dHt.ptr;
  }

  /** Backward of the last forward: adds ∂L/∂W_c (and ∂L/∂W_a) into grads, WRITES ∂L/∂Q to dQ
   *  (T_y·B, n_q) and ADDS ∂L/∂(encoder outputs) into dV (T_x·B, E). */
  backward(params: Region, grads: Region, dQ: number, dV: number): void {
    const ws = this.ws!, k = this.kernels, { Q, V, T_y, T_x, B } = this.last!;
    const w = params.ptr, g = grads.ptr, rows = T_y * B, n_q = this.n_q, E = this.E;
    const lens = this.last!.lens ? ws.lens.ptr : 0;
    k.attention_combine_backward(ws.dC.ptr, dQ, g + 4 * this.W_c.offset, ws.dHt.ptr, ws.Ht.ptr, ws.C.ptr, Q,
      w + 4 * this.W_c.offset, rows, E, n_q);
    if (this.W_a) {
      const keys = T_x * B, W_a = w + 4 * this.W_a.offset;
      k.zero_f32(ws.dK!.ptr, keys * n_q);
      k.attention_backward(dQ, ws.dK!.ptr, dV, ws.dP.ptr, ws.P.ptr, ws.dC.ptr, Q, ws.K!.ptr, V, lens, 0, T_y, T_x, B, B, n_q, E);
      k.gemm(1, 0, n_q, E, keys, ws.dK!.ptr, n_q, V, E, g + 4 * this.W_a.offset, E, 1);   // dW_a += Σ_s dk<s> h_sᵀ
      k.gemm(0, 0, keys, E, n_q, ws.dK!.ptr, n_q, W_a, E, dV, E, 1);                        // dh_s += W_aᵀ dk<s>
    } else {
      k.attention_backward(dQ, dV, dV, ws.dP.ptr, ws.P.ptr, ws.dC.ptr, Q, V, V, lens, 0, T_y, T_x, B, B, n_q, E);
    }
  }

  /** One decoder step: h̃ for B rows Q (B, n_q), row b attending to source src[b] of
   *  `memory`; returns the pointer of h̃ (B, n_q), valid until the next call. */
  step(params: Region, Q: number, B: number, memory: AttentionMemory, src: Int32Array): number {
    const T_x = memory.T, B_s = memory.B;
    const ws = this.ensure(B, B * T_x, T_x * B_s, Math.max(B, B_s));   // allocations first
    if (this.loaded !== memory) {
      this.arena.f32(ws.M, 0, memory.H.length).set(memory.H);
      this.loaded = memory;
    }
    this.arena.i32(ws.lens, 0, B_s).set(memory.lens);
    this.arena.i32(ws.src, 0, B).set(src);
    this.last = undefined;
    const K = this.keys(params, ws.M.ptr, T_x * B_s);
    this.kernels.attention_forward(ws.P.ptr, ws.C.ptr, Q, K, ws.M.ptr, ws.lens.ptr, ws.src.ptr, 1, T_x, B, B_s, this.n_q, this.E);
    this.kernels.attention_combine_forward(ws.Ht.ptr, ws.C.ptr, Q, params.ptr + 4 * this.W_c.offset, B, this.E, this.n_q);
    return ws.Ht.ptr;
  }

  /** Refuse, before anything is encoded or reserved, a step of B rows against B_s stored
   *  sources of T_x steps whose workspace has a region larger than one region holds (what
   *  step() would reserve: α (B, T_x), the memory (T_x·B_s, E) and its keys). */
  checkStep(B: number, T_x: number, B_s: number): void {
    const what = 'the attention workspace';
    this.arena.checkSize(B * T_x, what);
    this.arena.checkSize(T_x * B_s * Math.max(this.E, this.W_a ? this.n_q : 0), what);
  }

  release(): void {
    const ws = this.ws;
    if (!ws) return;
    for (const r of [ws.P, ws.dP, ws.C, ws.dC, ws.Ht, ws.dHt, ws.K, ws.dK, ws.M, ws.lens, ws.src]) this.arena.release(r);
    this.ws = undefined;
    this.loaded = undefined;
    this.last = undefined;
  }

  // --- internals ---

  /** Keys of `n` source rows at V: V itself ('dot') or V W_aᵀ ('general', into ws.K). */
  private keys(params: Region, V: number, n: number): number {
    if (!this.W_a) return V;
    const K = this.ws!.K!.ptr;
    this.kernels.gemm(0, 1, n, this.n_q, this.E, V, this.E, params.ptr + 4 * this.W_a.offset, this.E, K, this.n_q, 0);   // k<s> = W_a h_s
    return K;
  }

  private ensure(rows: number, scores: number, keys: number, batch: number): Work {
    const old = this.ws;
    if (old && old.rows >= rows && old.scores >= scores && old.keys >= keys && old.batch >= batch) return old;
    rows = Math.max(rows, old?.rows ?? 0);
    scores = Math.max(scores, old?.scores ?? 0);
    keys = Math.max(keys, old?.keys ?? 0);
    batch = Math.max(batch, old?.batch ?? 0);
    const { loaded, last } = this;
    // a refused call puts the workspace back (arena.ts: atomic)
    this.arena.replacing(() => { this.ws = old; this.loaded = loaded; this.last = last; });
    this.release();
    // a failed allocation frees the regions already made
    this.ws = this.arena.allocAll((reserve) => {
      const alloc = (n: number): Region => reserve(n, 'the attention workspace');
      const { n_q, E } = this;
      const general = this.kind === 'general';
      return {
        rows, scores, keys, batch,
        P: alloc(scores), dP: alloc(scores), C: alloc(rows * E), dC: alloc(rows * E),
        Ht: alloc(rows * n_q), dHt: alloc(rows * n_q),
        K: general ? alloc(keys * n_q) : undefined, dK: general ? alloc(keys * n_q) : undefined,
        M: alloc(keys * E), lens: alloc(batch), src: alloc(batch),
      };
    });
    return this.ws;
  }
}

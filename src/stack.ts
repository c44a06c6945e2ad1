// A recurrent stack: `layers` layers of one cell kind, one or two directions, run over whole
// sequences in wasm, with its own BPTT workspace. Models are built from stacks and a head.
//
// T = time steps, B = batch, n_x = input size, n_a = hidden size, D = directions (1 or 2),
// L = layers. Step-major layout: row t·B + b is step t of sequence b. Layer l > 0 reads the
// output of layer l−1, which for D = 2 is [forward h<t>, backward h<t>] per step, as PyTorch.
// The reverse direction runs the same kernel over each sequence reversed in time (within its
// length), and its outputs are reversed back. States h0 / c0 / hT / cT are (L·D, B, n_a) with
// index l·D + d, PyTorch's order.
//
// Token input reaches layer 0 as one-hot columns of W_ih, or through an embedding table: the
// batch's distinct ids are gathered into a dense (U, E) input Emb, layer 0 projects each of them
// once and gathers the projections by row, and BPTT's ∂L/∂Emb is scattered back into the
// table's rows (src/embedding-rows.ts, src/embedding.ts).
//
// Dropout between layers (PyTorch's `dropout` argument): in training, layer l > 0 reads
// Xd = M ⊙ (output of layer l−1) with a fresh mask M per forward pass, and BPTT sends
// ∂L/∂Xd ⊙ M down to layer l−1 (assembly/dropout.ts).
//
// A stack without biases (PyTorch's bias=False) has no bias tensors in the layout. Its cell
// kernels, which always add b_ih and b_hh, read them from a zeroed region of its workspace and
// add their bias gradients into another that nothing reads: the arithmetic is that of zero
// biases, and nothing trains them. A stack with biases runs exactly as before.
//
// Ragged batches run longest first: when the lengths are not in non-increasing order, the
// sequences are reordered by length (stable) on the way in — the input, the lengths, h0 / c0,
// and in backward ∂L/∂output and dhT / dcT — and put back in the caller's order on the way out
// (outputs, final states, ∂L/∂x, ∂L/∂h0 / c0), so each step's kernels skip the finished
// sequences (src/length-order.ts). Everything between, dropout masks included, is in run order.
import type { Arena, Region } from './arena.js';
import { embeddingBackward, embeddingForward, type EmbeddingTable } from './embedding.js';
import { projectSlots, slotGrads, TokenSlots } from './embedding-rows.js';
import type { CellKind, CellParams, Layout } from './layout.js';
import { copyRowsBy, invertOrder, lengthOrder } from './length-order.js';
import type { Random } from './random.js';
import { CELL_KIND, type Kernels } from './wasm.js';

export interface StackConfig {
  cell: CellKind;
  n_x: number;
  n_a: number;
  layers: number;
  bidirectional: boolean;
  /** Vanilla cell non-linearity. */
  activation: 'tanh' | 'relu';
  /** GRU: PyTorch's form (true) or reset before the matmul (false). */
  resetAfter: boolean;
  /** Layer 0 input is token ids rather than feature vectors. */
  tokens: boolean;
  /** Token input read through this embedding table (E values per id) instead of one-hot. */
  embedding?: EmbeddingTable;
  /** Probability of zeroing each output of every layer but the last, in training (forward
   *  given a generator). Default 0. */
  dropout?: number;
  /** false: the cells have no biases (the layout has no bias_ih / bias_hh). Default true. */
  bias?: boolean;
}

/** Buffers of one cell (one layer, one direction) for a given T·B. */
interface CellWork {
  A: Region;      // ((T+1)·B, n_a)  h<0..T>
  dA: Region;     // ((T+1)·B, n_a)
  C?: Region;     // LSTM ((T+1)·B, n_a)  c<0..T>
  TC?: Region;    // LSTM (T·B, n_a)  tanh(c<1..T>)
  dC?: Region;    // LSTM (B, n_a)
  Gt?: Region;    // LSTM (T·B, 4·n_a), GRU (T·B, 3·n_a)
  Hn?: Region;    // GRU (T·B, n_a)
  D?: Region;     // GRU (T·B, 3·n_a)
  S?: Region;     // GRU (B, 3·n_a)
}

interface LayerWork {
  cells: CellWork[];        // one per direction
  O?: Region;               // D = 2: (T·B, 2·n_a) output; D = 1 uses cells[0].A blocks 1..T
  dO?: Region;              // D = 2: (T·B, 2·n_a)
  Xr?: Region;              // D = 2: input reversed in time, (T·B, n_in) (ids for tokens)
  dXr?: Region;             // D = 2: its gradient
  M?: Region;               // l > 0 with dropout: mask, (T·B, D·n_a)
  Xd?: Region;              // l > 0 with dropout: the input after dropout, (T·B, D·n_a)
  dXd?: Region;             // l > 0 with dropout: its gradient
}

/** A batch run in length order: the caller's-order side of what enters and leaves the stack. */
interface Reorder {
  Xin: Region;              // (T·B) ids or (T·B, n_x) features, in the caller's order
  Out: Region;              // (T·B, D·n_a) the top layer's output, in the caller's order
  dOut: Region;             // (T·B, D·n_a) ∂L/∂output, in the caller's order
  order: Region;            // (B) i32: row i runs the caller's sequence order[i]
  inverse: Region;          // (B) i32: the caller's sequence b runs at row inverse[b]
}

interface Workspace {
  T: number;
  B: number;
  rows: number;             // capacity: T·B
  blocks: number;           // capacity: (T+1)·B
  batch: number;            // capacity: B
  X: Region;                // (T·B) ids or (T·B, n_x) features
  Emb?: Region;             // embedding: (U, E) the distinct ids' rows, U ≤ min(T·B, V)
  dX?: Region;              // dense input: (T·B, n_x); embedding: (U, E)
  slot?: Region;            // embedding: (T·B) i32, each row's index into uniq
  uniq?: Region;            // embedding: (U) i32, the distinct ids of the rows that run
  P?: Region;               // embedding: (U, G) W_ih x per distinct id, then its gradient
  U?: number;               // embedding: distinct ids of the last forward pass
  distinct: number;         // embedding: capacity in distinct ids
  lens: Region;             // (B) i32 sequence lengths
  dcT?: Region;             // LSTM (B, n_a), per cell when given
  zeroBias?: Region;        // no biases: (gates · n_a) zeros, every cell's b_ih and b_hh
  biasSink?: Region;        // no biases: (gates · n_a), where every cell's db_ih and db_hh go; never read
  WT?: Region;              // token input: W_ihᵀ of layer 0 (n_x, gates · n_a), scratch
  WhT?: Region;             // backward: W_hhᵀ (n_a, gates · n_a) of the cell in hand; forward: W_hh in groups of four rows; scratch
  reorder?: Reorder;        // made on the first batch that needs reordering
  layers: LayerWork[];
}

/** Most values of the W_ihᵀ scratch for token input (4 MB); beyond it, rows gather W_ih's columns. */
const TRANSPOSE_LIMIT = 1 << 20;

/** Most rows per step whose recurrent products read the scratch, forward W_hh's copy and backward
 *  W_hhᵀ (assembly/gemm.ts: DOT_M); larger batches pack W_hh on every step instead, and need none. */
const TRANSPOSED_ROWS = 64;
/** Most values of a W_hh whose backward product packs it rather than read a W_hhᵀ: 64 KB pack
 *  from L2 for less than the dot products gain (bench/recurrent.js, n_a 128 vanilla cell). */
const PACKED_VALUES = 16384;
/** Fewest steps of a forward pass that copies W_hh for its per-step products (the copy costs
 *  about one step's reads of W_hh). */
const PACKED_STEPS = 4;

export class Stack {
  readonly D: number;
  private ws?: Workspace;
  private hasLens = false;
  /** Whether the last forward pass applied dropout (so backward applies the same masks). */
  private dropped = false;
  /** The last forward pass's length order and its inverse (lengthOrder), when it reordered. */
  private order?: Int32Array;
  private inverse?: Int32Array;

  /** Layer 0 reads one-hot ids (tokens without an embedding). */
  private readonly oneHot: boolean;
  /** Width of layer 0's input: n_x, or E with an embedding. */
  private readonly n_in0: number;
  /** The distinct ids of a batch read through an embedding. */
  private readonly slots?: TokenSlots;

  constructor(private kernels: Kernels, private arena: Arena, private layout: Layout,
              private index: number, readonly config: StackConfig) {
    this.D = config.bidirectional ? 2 : 1;
    this.oneHot = config.tokens && !config.embedding;
    this.n_in0 = config.embedding ? config.embedding.entry.shape[1] : config.n_x;
    if (config.embedding) this.slots = new TokenSlots(config.embedding.entry.shape[0]);
  }

  /** Width of the output per step: D·n_a. */
  get n_out(): number {
    return this.D * this.config.n_a;
  }

  /** Number of state vectors per sequence: L·D. */
  get states(): number {
    return this.config.layers * this.D;
  }

  /** Forward over all layers and steps. x is packed time-major; lens (B) gives each
   *  sequence's length (all T when omitted); h0 / c0 are (L·D, B, n_a). Training: pass the
   *  generator that dropout masks are drawn from (inference, the default, applies none; masks
   *  are drawn over the rows in length order). */
  forward(params: Region, x: Int32Array | Float32Array, T: number, B: number,
          lens?: Int32Array, h0?: Float32Array, c0?: Float32Array, rng?: Random): void {
    const order = lens && lengthOrder(lens);
    const slots = this.slots?.assign(x as Int32Array, lens, T, B, order);
    const ws = this.ensure(T, B, slots?.U ?? 0);    // the only allocations: views are made after them
    if (order) this.ensureReorder(ws);
    const c = this.config, k = this.kernels, a = this.arena;
    const H = c.n_a, rows = T * B;
    ws.T = T; ws.B = B;
    this.order = order;
    this.inverse = order && invertOrder(order);
    this.dropped = rng !== undefined && (c.dropout ?? 0) > 0 && c.layers > 1;
    this.writeInput(ws, x, T, B);
    this.hasLens = lens !== undefined;
    if (lens) a.i32(ws.lens, 0, B).set(order ? Array.from(order, (b) => lens[b]) : lens);
    const lensPtr = lens ? ws.lens.ptr : 0;
    if (slots) this.embedDistinct(params, ws, c.embedding!, slots);
    for (let l = 0; l < c.layers; l++) {
      const lw = ws.layers[l];
      const n_in = l === 0 ? this.n_in0 : this.n_out;
      if (l > 0 && this.dropped) {
        // Xd = M ⊙ output of the layer below, with a fresh mask
        dropoutMask(k, lw.M!.ptr, rows * n_in, c.dropout!, rng!);
        k.mul_mask(lw.Xd!.ptr, this.outPtrOf(l - 1), lw.M!.ptr, rows * n_in);
      }
      const input = this.inputPtrOf(l);
      const tokens = this.tokenKind(l);
      const width = tokens ? 1 : n_in;
      for (let d = 0; d < this.D; d++) {
        const s = l * this.D + d;
        const cw = lw.cells[d];
        const h = a.f32(cw.A, 0, B * H), cs = cw.C && a.f32(cw.C, 0, B * H);
        if (h0) copyRowsBy(h, 0, h0, s * B, B, H, order); else h.fill(0);
        if (cs) { if (c0) copyRowsBy(cs, 0, c0, s * B, B, H, order); else cs.fill(0); }
        let X = input;
        if (d === 1) {
          k.reverse_steps(lw.Xr!.ptr, width, input, width, lensPtr, T, B, width, 0);
          X = lw.Xr!.ptr;
        }
        const cell = this.layout.cell(this.index, l, d);
        if (tokens === 2) projectSlots(k, ws.P!.ptr, ws.Emb!.ptr, params.ptr + 4 * cell.weight_ih.offset, ws.U!, n_in, this.gates * H);
        this.cellForward(cell, params.ptr, cw, X, tokens, lensPtr, T, B, tokens === 2 ? ws.U! : n_in);
      }
      if (this.D === 2) {
        const block = 4 * B * H;
        k.copy_rows(lw.O!.ptr, 2 * H, lw.cells[0].A.ptr + block, H, rows, H, 0);
        k.reverse_steps(lw.O!.ptr + 4 * H, 2 * H, lw.cells[1].A.ptr + block, H, lensPtr, T, B, H, 0);
      }
    }
    if (ws.reorder && this.inverse) {   // the output, back in the caller's order
      k.gather_steps(ws.reorder.Out.ptr, this.outPtrOf(c.layers - 1), ws.reorder.inverse.ptr, T, B, this.n_out);
    }
  }

  /** Pointer to the top layer's output, (T·B, D·n_a), in the caller's order. */
  outPtr(): number {
    return this.order ? this.ws!.reorder!.Out.ptr : this.outPtrOf(this.config.layers - 1);
  }

  /** Pointer where the caller writes ∂L/∂output of the top layer, (T·B, D·n_a), in the
   *  caller's order, before backward(). */
  dOutPtr(): number {
    return this.order ? this.ws!.reorder!.dOut.ptr : this.dOutPtrOf(this.config.layers - 1);
  }

  /** Final states hT (and cT for LSTM) at each sequence's last step, (L·D, B, n_a). */
  finalStates(): { hT: Float32Array<ArrayBuffer>; cT?: Float32Array<ArrayBuffer> } {
    const ws = this.ws!;
    const c = this.config, H = c.n_a, B = ws.B;
    const lens = this.hasLens ? this.arena.i32(ws.lens, 0, B).slice() : undefined;
    const inverse = this.inverse;
    const read = (key: 'A' | 'C'): Float32Array<ArrayBuffer> => {
      const out = new Float32Array(this.states * B * H);
      for (let l = 0; l < c.layers; l++) {
        for (let d = 0; d < this.D; d++) {
          const region = ws.layers[l].cells[d][key]!;
          for (let b = 0; b < B; b++) {
            const i = inverse ? inverse[b] : b, t = lens ? lens[i] : ws.T;
            out.set(this.arena.f32(region, (t * B + i) * H, H), ((l * this.D + d) * B + b) * H);
          }
        }
      }
      return out;
    };
    return { hT: read('A'), cT: c.cell === 'lstm' ? read('C') : undefined };
  }

  /** Zero the gradient-of-output buffer (before a caller accumulates into it). */
  zeroDOut(): void {
    const ws = this.ws!;
    this.kernels.zero_f32(this.dOutPtr(), ws.T * ws.B * this.n_out);
  }

  /** BPTT through every layer. ∂L/∂output must be in dOutPtr(); dhT / dcT, (L·D, B, n_a), are
   *  gradients arriving at the final states, in the caller's order. Adds into the gradient
   *  region. */
  backward(params: Region, grads: Region, dhT?: Float32Array, dcT?: Float32Array): void {
    const ws = this.ws!;
    this.ensureTransposed(ws);       // the only allocation: views are made after it
    const c = this.config, k = this.kernels, a = this.arena;
    const { T, B } = ws;
    const H = c.n_a, rows = T * B, block = 4 * B * H;
    const lensPtr = this.hasLens ? ws.lens.ptr : 0;
    const lens = this.hasLens ? a.i32(ws.lens, 0, B).slice() : undefined;
    const order = this.order;
    // what the bias gradients of a stack without biases add up to is never read: cleared per
    // call so that it stays finite
    if (ws.biasSink) k.zero_f32(ws.biasSink.ptr, ws.biasSink.length);
    if (ws.reorder && order) {          // ∂L/∂output, into length order
      k.gather_steps(this.dOutPtrOf(c.layers - 1), ws.reorder.dOut.ptr, ws.reorder.order.ptr, T, B, this.n_out);
    }
    for (let l = c.layers - 1; l >= 0; l--) {
      const lw = ws.layers[l];
      if (this.D === 2) {
        k.copy_rows(lw.cells[0].dA.ptr + block, H, lw.dO!.ptr, 2 * H, rows, H, 0);
        k.reverse_steps(lw.cells[1].dA.ptr + block, H, lw.dO!.ptr + 4 * H, 2 * H, lensPtr, T, B, H, 0);
      }
      const n_in = l === 0 ? this.n_in0 : this.n_out;
      const tokens = this.tokenKind(l);
      // where ∂L/∂input goes: the layer below's output gradient (through the dropout mask),
      // or dX for dense input (an embedding's comes from its distinct ids, below)
      let dIn = 0;
      if (l > 0 && this.dropped) {
        dIn = lw.dXd!.ptr;
        k.zero_f32(dIn, rows * n_in);
      } else if (l > 0) {
        dIn = this.dOutPtrOf(l - 1);
        if (this.D === 1) k.zero_f32(ws.layers[l - 1].cells[0].dA.ptr, (T + 1) * B * H);
        else k.zero_f32(dIn, rows * n_in);
      } else if (ws.dX && !tokens) {
        dIn = ws.dX.ptr;
        k.zero_f32(dIn, rows * n_in);
      }
      for (let d = 0; d < this.D; d++) {
        const s = l * this.D + d;
        const cw = lw.cells[d];
        k.zero_f32(cw.dA.ptr, B * H);
        if (dhT) {
          const dA = a.f32(cw.dA);
          for (let i = 0; i < B; i++) {
            const b = order ? order[i] : i, t = lens ? lens[i] : T;
            for (let j = 0; j < H; j++) dA[(t * B + i) * H + j] += dhT[(s * B + b) * H + j];
          }
        }
        let dcTPtr = 0;
        if (cw.dC) {
          k.zero_f32(cw.dC.ptr, B * H);
          if (dcT) {
            copyRowsBy(a.f32(ws.dcT!, 0, B * H), 0, dcT, s * B, B, H, order);
            dcTPtr = ws.dcT!.ptr;
          }
        }
        const X = d === 0 ? this.inputPtrOf(l) : lw.Xr!.ptr;
        let dX = dIn;
        if (d === 1 && dIn) {
          dX = lw.dXr!.ptr;
          k.zero_f32(dX, rows * n_in);
        }
        const cell = this.layout.cell(this.index, l, d);
        this.cellBackward(cell, params.ptr, grads.ptr, cw, X, tokens, dX, dcTPtr, lensPtr, T, B, tokens === 2 ? ws.U! : n_in);
        if (d === 1 && dIn) k.reverse_steps(dIn, n_in, dX, n_in, lensPtr, T, B, n_in, 1);
        if (tokens === 2) {
          slotGrads(k, grads.ptr + 4 * cell.weight_ih.offset, ws.dX?.ptr ?? 0, ws.P!.ptr, ws.Emb!.ptr,
            params.ptr + 4 * cell.weight_ih.offset, ws.U!, n_in, this.gates * H, d > 0);
        }
      }
      // ∂L/∂(output of layer l−1) = ∂L/∂Xd ⊙ M (overwrites the layer below's dOut)
      if (l > 0 && this.dropped) k.mul_mask(this.dOutPtrOf(l - 1), dIn, lw.M!.ptr, rows * n_in);
    }
    // ∂L/∂W_e[id] += ∂L/∂x summed over the rows of id: into the rows the batch used
    if (ws.dX && c.embedding) embeddingBackward(k, grads, c.embedding, ws.dX.ptr, ws.uniq!.ptr, ws.U!);
  }

  /** ∂L/∂x for dense input, batch-major (B, T, n_x). Valid after backward(). */
  readInputGrad(): Float32Array<ArrayBuffer> | undefined {
    const ws = this.ws!;
    if (!ws.dX || this.config.tokens) return undefined;
    return toBatchMajor(this.arena.f32(ws.dX, 0, ws.T * ws.B * this.config.n_x), ws.T, ws.B, this.config.n_x, this.inverse);
  }

  /** ∂L/∂h0 (and ∂L/∂c0), (L·D, B, n_a). Valid after backward(). */
  readStateGrads(): { dh0: Float32Array<ArrayBuffer>; dc0?: Float32Array<ArrayBuffer> } {
    const ws = this.ws!;
    const c = this.config, H = c.n_a, B = ws.B;
    const dh0 = new Float32Array(this.states * B * H);
    const dc0 = c.cell === 'lstm' ? new Float32Array(this.states * B * H) : undefined;
    for (let l = 0; l < c.layers; l++) {
      for (let d = 0; d < this.D; d++) {
        const s = l * this.D + d, cw = ws.layers[l].cells[d];
        copyRowsBy(dh0, s * B, this.arena.f32(cw.dA, 0, B * H), 0, B, H, this.inverse);
        if (dc0) copyRowsBy(dc0, s * B, this.arena.f32(cw.dC!, 0, B * H), 0, B, H, this.inverse);
      }
    }
    return { dh0, dc0 };
  }

  /** The top layer's outputs, batch-major (B, T, D·n_a). */
  readOutput(): Float32Array<ArrayBuffer> {
    const ws = this.ws!;
    const rows = ws.T * ws.B;
    return toBatchMajor(this.arena.f32At(this.outPtr(), rows * this.n_out), ws.T, ws.B, this.n_out);
  }

  /** Return the workspace to the allocator. */
  release(): void {
    const ws = this.ws;
    if (!ws) return;
    const a = this.arena;
    for (const r of [ws.X, ws.Emb, ws.dX, ws.slot, ws.uniq, ws.P, ws.lens, ws.dcT, ws.zeroBias, ws.biasSink, ws.WT, ws.WhT]) a.release(r);
    if (ws.reorder) for (const r of Object.values(ws.reorder)) a.release(r);
    for (const lw of ws.layers) {
      for (const r of [lw.O, lw.dO, lw.Xr, lw.dXr, lw.M, lw.Xd, lw.dXd]) a.release(r);
      for (const cw of lw.cells) for (const r of Object.values(cw)) a.release(r);
    }
    this.ws = undefined;
  }

  // --- internals ---

  /** Write x into the input workspace: as it is, or in length order through the caller's-order
   *  copy (with the order and its inverse, for the kernels). */
  private writeInput(ws: Workspace, x: Int32Array | Float32Array, T: number, B: number): void {
    const c = this.config, a = this.arena, rows = T * B;
    const r = this.order && ws.reorder;
    const dst = r ? r.Xin : ws.X;
    if (c.tokens) a.i32(dst, 0, rows).set(x);
    else a.f32(dst, 0, rows * c.n_x).set(x);
    if (!r) return;
    a.i32(r.order, 0, B).set(this.order!);
    a.i32(r.inverse, 0, B).set(this.inverse!);
    this.kernels.gather_steps(ws.X.ptr, r.Xin.ptr, r.order.ptr, T, B, c.tokens ? 1 : c.n_x);
  }

  /** Make the regions a batch run in length order needs, once per workspace; a failed
   *  allocation frees those already made. */
  private ensureReorder(ws: Workspace): void {
    if (ws.reorder) return;
    this.arena.replacing(() => { ws.reorder = undefined; });
    ws.reorder = this.arena.allocAll((alloc) => ({
      Xin: alloc(ws.rows * (this.config.tokens ? 1 : this.config.n_x), 'the input workspace'),
      Out: alloc(ws.rows * this.n_out, 'the output workspace'),
      dOut: alloc(ws.rows * this.n_out, 'the output workspace'),
      order: alloc(ws.batch, 'the length order'),
      inverse: alloc(ws.batch, 'the length order'),
    }));
  }

  /** Make the scratch the per-step products read, once per workspace and only for training: the
   *  forward pass's copy of W_hh in groups of four rows, then the backward pass's W_hhᵀ, which
   *  every cell's backward call rewrites from its own W_hh (transposed only for a W_hh of more
   *  than PACKED_VALUES values: recurrentTransposed). */
  private ensureTransposed(ws: Workspace): void {
    if (ws.B > TRANSPOSED_ROWS || ws.WhT) return;
    this.arena.replacing(() => { ws.WhT = undefined; });
    ws.WhT = this.arena.alloc(this.gates * this.config.n_a ** 2, 'the BPTT workspace');
  }

  /** The W_hhᵀ scratch for a backward call, or 0: a W_hh of at most PACKED_VALUES values is
   *  packed per step instead, from L2. */
  private recurrentTransposed(): number {
    return this.gates * this.config.n_a ** 2 > PACKED_VALUES ? this.ws!.WhT?.ptr ?? 0 : 0;
  }

  /** The pointer of W_hh copied in groups of four rows (assembly/cells.ts: pack_recurrent) for
   *  one cell's forward over T steps, or 0. The copy goes into the W_hhᵀ scratch, which a
   *  training workspace has and which no forward reads otherwise (each backward call rewrites it),
   *  and is made when T steps repay it: the per-step products then read one stream with the
   *  same bits. */
  private packedRecurrent(W_hh: number, T: number): number {
    const PW = this.ws!.WhT?.ptr ?? 0;
    if (!PW || T < PACKED_STEPS) return 0;
    this.kernels.pack_recurrent(PW, W_hh, CELL_KIND[this.config.cell], this.config.n_a);
    return PW;
  }

  /** Note each row's slot and gather the rows of the batch's distinct ids into Emb (slots from
   *  TokenSlots.assign, in run order). */
  private embedDistinct(params: Region, ws: Workspace, table: EmbeddingTable, slots: { U: number; slot: Int32Array; uniq: Int32Array }): void {
    const a = this.arena;
    ws.U = slots.U;
    a.i32(ws.slot!, 0, slots.slot.length).set(slots.slot);
    a.i32(ws.uniq!, 0, ws.U).set(slots.uniq);
    embeddingForward(this.kernels, params, table, ws.Emb!.ptr, ws.uniq!.ptr, ws.U);
  }

  /** How layer l reads its input, as the cell kernels' `tokens`: 0 dense, 1 one-hot ids,
   *  2 slots into the projections of an embedding's distinct ids. */
  private tokenKind(l: number): 0 | 1 | 2 {
    if (l > 0) return 0;
    return this.oneHot ? 1 : this.config.embedding ? 2 : 0;
  }

  /** Gates per hidden unit (W_ih and W_hh have gates · n_a rows): 4 LSTM, 3 GRU, 1 vanilla. */
  private get gates(): number {
    const cell = this.config.cell;
    return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  }

  /** What layer l reads: the input (ids, or an embedding's slots), or the output of layer
   *  l − 1 (after dropout, if applied). */
  private inputPtrOf(l: number): number {
    if (l === 0) return this.ws!.slot?.ptr ?? this.ws!.X.ptr;
    return this.dropped ? this.ws!.layers[l].Xd!.ptr : this.outPtrOf(l - 1);
  }

  private outPtrOf(l: number): number {
    const lw = this.ws!.layers[l];
    return this.D === 2 ? lw.O!.ptr : lw.cells[0].A.ptr + 4 * this.ws!.B * this.config.n_a;
  }

  private dOutPtrOf(l: number): number {
    const lw = this.ws!.layers[l];
    return this.D === 2 ? lw.dO!.ptr : lw.cells[0].dA.ptr + 4 * this.ws!.B * this.config.n_a;
  }

  private ensure(T: number, B: number, U: number): Workspace {
    const rows = T * B, blocks = (T + 1) * B;
    const old = this.ws;
    if (old && old.batch >= B && old.rows >= rows && old.blocks >= blocks && old.distinct >= U) return old;
    this.arena.replacing(() => { this.ws = old; });   // a refused call puts it back (arena.ts: atomic)
    this.release();
    const c = this.config, H = c.n_a;
    // a failed allocation frees the regions already made and leaves no half-built workspace
    // behind (the next call starts again from nothing)
    const ws = this.arena.allocAll((alloc): Workspace => {
      const cap = Math.max(rows, old?.rows ?? 0), capBlocks = Math.max(blocks, old?.blocks ?? 0);
      B = Math.max(B, old?.batch ?? 0);
      // an embedding's distinct ids: as many as the largest batch so far held
      const distinct = Math.max(U, old?.distinct ?? 0);
      const ws: Workspace = {
        T, B, rows: cap, blocks: capBlocks, batch: B, distinct,
        X: alloc(cap * (c.tokens ? 1 : c.n_x), 'the input workspace'),
        lens: alloc(B, 'sequence lengths'),
        layers: [],
      };
      const gates = this.gates;
      if (c.embedding) {
        ws.Emb = alloc(distinct * this.n_in0, 'the embedding workspace');
        ws.slot = alloc(cap, 'the embedding workspace');
        ws.uniq = alloc(distinct, 'the embedding workspace');
        ws.P = alloc(distinct * gates * H, 'the embedding workspace');
      }
      if (!this.oneHot && !c.embedding?.frozen) ws.dX = alloc((c.embedding ? distinct : cap) * this.n_in0, 'the input-gradient workspace');
      // one-hot rows read W_ihᵀ's contiguous rows instead of W_ih's columns (assembly/cells.ts),
      // up to TRANSPOSE_LIMIT values; a larger vocabulary keeps the strided gather
      if (this.oneHot && c.n_x * gates * H <= TRANSPOSE_LIMIT) ws.WT = alloc(c.n_x * gates * H, 'the input workspace');
      if (c.cell === 'lstm') ws.dcT = alloc(B * H, 'the BPTT workspace');
      if (c.bias === false) {
        // regions come zeroed (Arena.alloc), and no kernel writes a bias
        ws.zeroBias = alloc(gates * H, 'the BPTT workspace');
        ws.biasSink = alloc(gates * H, 'the BPTT workspace');
      }
      for (let l = 0; l < c.layers; l++) {
        const n_in = l === 0 ? this.n_in0 : this.n_out;
        const lw: LayerWork = { cells: [] };
        ws.layers.push(lw);
        for (let d = 0; d < this.D; d++) {
          const cw: CellWork = { A: alloc(capBlocks * H, 'the BPTT workspace'), dA: alloc(capBlocks * H, 'the BPTT workspace') };
          lw.cells.push(cw);
          if (c.cell === 'lstm') {
            cw.C = alloc(capBlocks * H, 'the BPTT workspace');
            cw.TC = alloc(cap * H, 'the BPTT workspace');
            cw.dC = alloc(B * H, 'the BPTT workspace');
          }
          if (c.cell !== 'rnn') cw.Gt = alloc(cap * gates * H, 'the BPTT workspace');
          if (c.cell === 'gru') {
            cw.Hn = alloc(cap * H, 'the BPTT workspace');
            cw.D = alloc(cap * 3 * H, 'the BPTT workspace');
            cw.S = alloc(B * 3 * H, 'the BPTT workspace');
          }
        }
        if (this.D === 2) {
          lw.O = alloc(cap * 2 * H, 'the BPTT workspace');
          lw.dO = alloc(cap * 2 * H, 'the BPTT workspace');
          lw.Xr = alloc(cap * (l === 0 && c.tokens ? 1 : n_in), 'the BPTT workspace');
          if (!(l === 0 && c.tokens)) lw.dXr = alloc(cap * n_in, 'the BPTT workspace');
        }
        if (l > 0 && (c.dropout ?? 0) > 0) {
          lw.M = alloc(cap * n_in, 'the dropout workspace');
          lw.Xd = alloc(cap * n_in, 'the dropout workspace');
          lw.dXd = alloc(cap * n_in, 'the dropout workspace');
        }
      }
      return ws;
    });
    this.ws = ws;
    return ws;
  }

  /** The table token rows read (cells.ts): W_ihᵀ scratch for one-hot ids (0: none), the
   *  distinct ids' projections for slots. */
  private tokenTable(tokens: number): number {
    if (tokens === 2) return this.ws!.P!.ptr;
    return tokens ? this.ws!.WT?.ptr ?? 0 : 0;
  }

  private cellForward(p: CellParams, w: number, cw: CellWork, X: number, tokens: number, lens: number,
                      T: number, B: number, n_in: number): void {
    const k = this.kernels, c = this.config;
    const W_ih = w + 4 * p.weight_ih.offset, W_hh = w + 4 * p.weight_hh.offset;
    const zero = this.ws!.zeroBias?.ptr ?? 0;
    const b_ih = p.bias_ih ? w + 4 * p.bias_ih.offset : zero, b_hh = p.bias_hh ? w + 4 * p.bias_hh.offset : zero;
    const WT = this.tokenTable(tokens), PW = this.packedRecurrent(W_hh, T);
    switch (c.cell) {
      case 'rnn':
        k.rnn_forward(cw.A.ptr, X, tokens, WT, W_ih, W_hh, b_ih, b_hh, lens, T, B, n_in, c.n_a, c.activation === 'relu' ? 1 : 0, PW);
        break;
      case 'lstm':
        k.lstm_forward(cw.A.ptr, cw.C!.ptr, cw.TC!.ptr, cw.Gt!.ptr, X, tokens, WT, W_ih, W_hh, b_ih, b_hh, lens, T, B, n_in, c.n_a, PW);
        break;
      case 'gru':
        k.gru_forward(cw.A.ptr, cw.Gt!.ptr, cw.Hn!.ptr, cw.S!.ptr, X, tokens, WT, W_ih, W_hh, b_ih, b_hh, lens, T, B, n_in, c.n_a, c.resetAfter ? 1 : 0, PW);
        break;
    }
  }

  private cellBackward(p: CellParams, w: number, g: number, cw: CellWork, X: number, tokens: number, dX: number,
                       dcT: number, lens: number, T: number, B: number, n_in: number): void {
    const k = this.kernels, c = this.config;
    const W_ih = w + 4 * p.weight_ih.offset, W_hh = w + 4 * p.weight_hh.offset;
    const dW_ih = g + 4 * p.weight_ih.offset, dW_hh = g + 4 * p.weight_hh.offset;
    const sink = this.ws!.biasSink?.ptr ?? 0;
    const db_ih = p.bias_ih ? g + 4 * p.bias_ih.offset : sink, db_hh = p.bias_hh ? g + 4 * p.bias_hh.offset : sink;
    const WT = this.tokenTable(tokens), WhT = this.recurrentTransposed();
    switch (c.cell) {
      case 'rnn':
        k.rnn_backward(dW_ih, dW_hh, db_ih, db_hh, dX, cw.dA.ptr, cw.A.ptr, X, tokens, WT, W_ih, W_hh, WhT, lens, T, B, n_in, c.n_a, c.activation === 'relu' ? 1 : 0);
        break;
      case 'lstm':
        k.lstm_backward(dW_ih, dW_hh, db_ih, db_hh, dX, cw.dA.ptr, cw.dC!.ptr, cw.A.ptr, cw.C!.ptr, cw.TC!.ptr, cw.Gt!.ptr, X, tokens, WT,
          W_ih, W_hh, WhT, dcT, lens, T, B, n_in, c.n_a);
        break;
      case 'gru':
        k.gru_backward(dW_ih, dW_hh, db_ih, db_hh, dX, cw.dA.ptr, cw.D!.ptr, cw.A.ptr, cw.Gt!.ptr, cw.Hn!.ptr, cw.S!.ptr, X, tokens, WT,
          W_ih, W_hh, WhT, lens, T, B, n_in, c.n_a, c.resetAfter ? 1 : 0);
        break;
    }
  }
}

/** Draw a dropout mask of n values (0 with probability p, else 1 / (1 − p)) into M, seeded
 *  by four words from rng. */
export function dropoutMask(kernels: Kernels, M: number, n: number, p: number, rng: Random): void {
  const s = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;     // xoshiro's one forbidden state
  kernels.dropout_mask(M, n, p, 1 / (1 - p), s[0], s[1], s[2], s[3]);
}

/** (T, B, n) time-major → (B, T, n) batch-major copy; sequence b read from column rows[b] of
 *  src when rows is given. */
export function toBatchMajor(src: Float32Array, T: number, B: number, n: number, rows?: Int32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(T * B * n);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const from = (t * B + (rows ? rows[b] : b)) * n;
      out.set(src.subarray(from, from + n), (b * T + t) * n);
    }
  }
  return out;
}

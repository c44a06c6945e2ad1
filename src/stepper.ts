// The fast path of generation and streaming: a one-direction recurrent stack and its output
// layer stepped for B rows (1 for a stream, a few for a beam), the state kept in wasm memory.
// Token ids reach layer 0 as one-hot columns or through the stack's embedding table.
// One wasm call advances every layer and the head (assembly/step.ts); for one token stream one
// call also chooses the next token, so generating allocates nothing per token. A generation run
// to its end in one call (sample(), generate() without onToken, generateMany(), beam search)
// first copies each W_hh, and the head's W_y, into groups of four rows, which the per-token
// products read as one stream, and layer 0's W_ih of one-hot ids transposed, so that an id's
// column is one contiguous row (withPackedWeights). A pool hands each generation in progress a
// stepper of its own, so generations never share a state.
//
// A stack without biases points every layer's b_ih and b_hh at one zeroed region of the
// workspace (the kernels add them; nothing writes them), as src/stack.ts does in training; a
// head without a bias reads its b_y from another zeroed region, as src/head.ts does.
//
// The kernels read a plan, an i32 table written here once per workspace: pointers to every
// weight and buffer, and the sizes. The field numbers below are assembly/step.ts's.
// B = rows stepped, cap = rows the workspace holds, L = layers, n_a = hidden size,
// n_y = outputs per row. States are (L, B, n_a), as the stack's h0 / hT.
import { disposedError, type Arena, type Region } from './arena.js';
import type { Sampler, TokenSource } from './decode.js';
import { GATES, type Layout, type TensorEntry } from './layout.js';
import type { StackConfig } from './stack.js';
import { CELL_KIND, copiesHead, copiesWeight, OUTPUT_KIND, type Kernels } from './wasm.js';

const HEADER = 17, LAYER = 16;
const H = { L: 0, TOKENS: 1, OUTPUT: 2, N_Y: 3, W_Y: 4, B_Y: 5, X: 6, Z: 7, P: 8, WS: 9, OS: 10, R: 11, CAP: 12, EMB: 13, EW: 14, EX: 15, PWY: 16 } as const;
const F = { CELL: 0, FLAG: 1, N_IN: 2, N_A: 3, W_IH: 4, W_HH: 5, B_IH: 6, B_HH: 7, A: 8, C: 9, TC: 10, GT: 11, HN: 12, S: 13, PW: 14, WT: 15 } as const;
/** Steps from which a run copies W_hh (and the head's W_y) for withPackedWeights: the copy
 *  costs about one. */
const PACK_STEPS = 8;
/** A run copies W_ihᵀ for one-hot ids when its steps × this reach the vocabulary: transposing
 *  W_ih cost about as much as V / 5 column reads (a column is G strided loads, a row of W_ihᵀ
 *  one stream; measured at V 65 to 10 000, G 1024 and 2048). */
const TRANSPOSE_STEPS = 4;

/** The output layer a stepper runs after the stack. */
export interface StepperHead {
  weight: TensorEntry;
  /** Absent: the layer has no bias (the kernels read zeros). */
  bias?: TensorEntry;
  output: keyof typeof OUTPUT_KIND;
}

interface Work {
  cap: number;
  plan: Region;
  regions: Region[];
  A: Region[];             // per layer (2·cap, n_a)
  C: (Region | undefined)[];
  X: Region;
  P?: Region;
  R: Region;
  PW?: Region[];           // per layer, W_hh copied in groups of four rows (made on first use)
  PWY?: Region;            // the head's W_y copied the same way, with a head (made with PW)
  WT?: Region;             // one-hot ids: layer 0's W_ihᵀ (n_x, G), whose rows are W_ih's columns (made by a long enough run)
}

export class Stepper implements TokenSource {
  private ws?: Work;
  private B = 0;

  /** params: the model's parameter region (its pointer never changes). Without a head, only
   *  the stack steps (a caller adds attention and its own head). */
  constructor(private readonly kernels: Kernels, private readonly arena: Arena, private readonly layout: Layout,
              private readonly index: number, private readonly config: StackConfig,
              private readonly params: Region, private readonly head?: StepperHead) {
    if (config.bidirectional) throw new TypeError('a bidirectional stack cannot be stepped one step at a time');
  }

  /** Rows being stepped. */
  get rows(): number {
    return this.B;
  }

  /** Outputs per row. */
  get n_y(): number {
    return this.head ? this.head.weight.shape[0] : 0;
  }

  /** Start B rows from states h, c (L, B, n_a), or zeros; room for up to `capacity` rows. */
  reset(B: number, h?: Float32Array, c?: Float32Array, capacity = B): void {
    const ws = this.ensure(Math.max(B, capacity));       // allocations first; views only after them
    const n = B * this.config.n_a;
    ws.A.forEach((r, l) => { if (h) this.arena.f32(r, 0, n).set(h.subarray(l * n, (l + 1) * n)); else this.arena.f32(r, 0, n).fill(0); });
    ws.C.forEach((r, l) => { if (r) { if (c) this.arena.f32(r, 0, n).set(c.subarray(l * n, (l + 1) * n)); else this.arena.f32(r, 0, n).fill(0); } });
    this.B = B;
  }

  /** Keep rows `rows` (indices of current rows, repeats allowed) as the new rows, in order. */
  select(rows: ArrayLike<number>): void {
    const ws = this.work();
    if (rows.length > ws.cap) throw new RangeError(`Stepper.select: ${rows.length} rows, room for ${ws.cap}`);
    this.arena.i32(ws.R, 0, rows.length).set(rows);
    this.kernels.plan_select(ws.plan.ptr, rows.length);
    this.B = rows.length;
  }

  /** fn(), a run of about `steps` steps, with every layer's recurrent product reading a copy of
   *  W_hh made now, in groups of four rows (assembly/dot.ts: pack_rows4), the head reading one
   *  of W_y, and one-hot ids reading W_ih's columns as the rows of W_ihᵀ: the same bits, read as
   *  streams instead of four rows (or a column) at a time. A run shorter than PACK_STEPS reads
   *  the weights themselves. Copies over 2^24 values are not made (copiesWeight).
   *  The copy is read only inside fn, so fn must run the generation to its end without a chance
   *  for the weights to change: no user code, no await. The copy's region stays with the
   *  workspace for the next call. */
  withPackedWeights<T>(steps: number, fn: () => T): T {
    if (steps < PACK_STEPS) return fn();
    const ws = this.work(), c = this.config, L = c.layers, G = GATES[c.cell] * c.n_a;
    const made: Region[] = [];
    const alloc = (n: number): Region => { const r = this.arena.alloc(n, 'the generation workspace'); made.push(r); return r; };
    // W_ihᵀ only for a run that reads enough of W_ih's columns to repay the transpose
    const transposes = c.tokens && !c.embedding && steps * TRANSPOSE_STEPS >= c.n_x && copiesWeight(c.n_x * G);
    let { PW, PWY, WT } = ws;
    try {
      if (!PW) {
        PW = Array.from({ length: L }, () => alloc(G * c.n_a));
        const Wy = this.head ? this.head.weight.shape[0] * this.head.weight.shape[1] : 0;
        PWY = this.head && copiesHead(Infinity, Wy) ? alloc(Wy) : undefined;
      }
      if (transposes && !WT) WT = alloc(c.n_x * G);
    } catch (e) {
      for (const r of made) this.arena.release(r);
      throw e;
    }
    if (made.length > 0) {
      const before = { PW: ws.PW, PWY: ws.PWY, WT: ws.WT }, n = ws.regions.length;
      this.arena.replacing(() => { Object.assign(ws, before); ws.regions.length = n; });
    }
    ws.regions.push(...made);
    Object.assign(ws, { PW, PWY, WT });
    const fields = (on: boolean) => {
      const plan = this.arena.i32(ws.plan);
      ws.PW!.forEach((r, l) => { plan[HEADER + l * LAYER + F.PW] = on ? r.ptr : 0; });
      if (ws.PWY) plan[H.PWY] = on ? ws.PWY.ptr : 0;
      if (ws.WT) plan[HEADER + F.WT] = on && transposes ? ws.WT.ptr : 0;
    };
    fields(true);
    try {
      this.kernels.plan_pack(ws.plan.ptr);
      return fn();
    } finally {
      if (this.ws === ws) fields(false);
    }
  }

  /** One step for every row: x holds B token ids or B vectors of n_x values. */
  feedRows(x: Int32Array | Float32Array): void {
    const ws = this.work();
    if (this.config.tokens) this.arena.i32(ws.X, 0, x.length).set(x);
    else this.arena.f32(ws.X, 0, x.length).set(x);
    this.kernels.plan_step(ws.plan.ptr, this.B);
  }

  /** One step of a single row (B = 1) from token id `token`. */
  feed(token: number): void {
    this.kernels.plan_feed(this.work().plan.ptr, token);
  }

  /** The next token of row `row`, chosen from its outputs (softmax head) as decode.ts's
   *  pickToken would: one draw from sampler.rng when sampling. */
  choose(sampler: Sampler, row = 0): number {
    const u = sampler.greedy ? 0 : sampler.rng.uniform();
    return this.kernels.plan_choose(this.work().plan.ptr, row, sampler.greedy ? 1 : 0, sampler.temperature, sampler.topK, sampler.topP, u);
  }

  /** feed(token) then choose(sampler), in one wasm call. */
  feedAndChoose(token: number, sampler: Sampler): number {
    const u = sampler.greedy ? 0 : sampler.rng.uniform();
    return this.kernels.plan_token(this.work().plan.ptr, token, sampler.greedy ? 1 : 0, sampler.temperature, sampler.topK, sampler.topP, u);
  }

  /** The outputs of the last step, (B, n_y): a view of wasm memory, valid until the next
   *  step or allocation. */
  outputsView(): Float32Array<ArrayBuffer> {
    return this.arena.f32(this.work().P!, 0, this.B * this.n_y);
  }

  /** Pointer of the top layer's state after the last step, (B, n_a). */
  topPtr(): number {
    return this.work().A[this.config.layers - 1].ptr;
  }

  /** Return the workspace to the allocator. */
  release(): void {
    for (const r of this.ws?.regions ?? []) this.arena.release(r);
    this.ws = undefined;
    this.B = 0;
  }

  /** The workspace; after the model's dispose there is none. */
  private work(): Work {
    if (!this.ws) throw disposedError();
    return this.ws;
  }

  private ensure(cap: number): Work {
    if (this.ws && this.ws.cap >= cap) return this.ws;
    const { ws: old, B } = this;
    // a refused call puts the workspace and its rows back (arena.ts: atomic)
    this.arena.replacing(() => { this.ws = old; this.B = B; });
    this.release();
    const c = this.config, L = c.layers, G = GATES[c.cell] * c.n_a;
    const regions: Region[] = [];
    const alloc = (n: number): Region => { const r = this.arena.alloc(n, 'the generation workspace'); regions.push(r); return r; };
    try {
      const n_y = this.n_y;
      const ws: Work = {
        cap, plan: alloc(HEADER + LAYER * L), regions, A: [], C: [],
        X: alloc(cap * (c.tokens ? 1 : c.n_x)), R: alloc(cap),
      };
      const fields: number[][] = [];
      // regions come zeroed (Arena.alloc): the biases of a stack that has none
      const zero = c.bias === false ? alloc(G).ptr : 0;
      for (let l = 0; l < L; l++) {
        const A = alloc(2 * cap * c.n_a), C = c.cell === 'lstm' ? alloc(2 * cap * c.n_a) : undefined;
        ws.A.push(A); ws.C.push(C);
        const p = this.layout.cell(this.index, l, 0), w = (e: TensorEntry) => this.params.ptr + 4 * e.offset;
        const f = new Array<number>(LAYER).fill(0);
        f[F.CELL] = CELL_KIND[c.cell];
        f[F.FLAG] = c.cell === 'rnn' ? (c.activation === 'relu' ? 1 : 0) : c.cell === 'gru' ? (c.resetAfter ? 1 : 0) : 0;
        f[F.N_IN] = l > 0 ? c.n_a : c.embedding ? c.embedding.entry.shape[1] : c.n_x;
        f[F.N_A] = c.n_a;
        f[F.W_IH] = w(p.weight_ih); f[F.W_HH] = w(p.weight_hh);
        f[F.B_IH] = p.bias_ih ? w(p.bias_ih) : zero; f[F.B_HH] = p.bias_hh ? w(p.bias_hh) : zero;
        f[F.A] = A.ptr;
        f[F.C] = C?.ptr ?? 0;
        f[F.TC] = c.cell === 'lstm' ? alloc(cap * c.n_a).ptr : 0;
        f[F.GT] = c.cell === 'rnn' ? 0 : alloc(cap * G).ptr;
        f[F.HN] = c.cell === 'gru' ? alloc(cap * c.n_a).ptr : 0;
        f[F.S] = c.cell === 'gru' ? alloc(cap * G).ptr : 0;
        fields.push(f);
      }
      const h = new Array<number>(HEADER).fill(0);
      h[H.L] = L; h[H.TOKENS] = c.tokens ? 1 : 0; h[H.OUTPUT] = -1; h[H.X] = ws.X.ptr; h[H.R] = ws.R.ptr; h[H.CAP] = cap;
      if (c.embedding) {
        const E = c.embedding.entry.shape[1];
        h[H.EMB] = this.params.ptr + 4 * c.embedding.entry.offset; h[H.EW] = E; h[H.EX] = alloc(cap * E).ptr;
      }
      if (this.head) {
        ws.P = alloc(cap * n_y);
        h[H.OUTPUT] = OUTPUT_KIND[this.head.output]; h[H.N_Y] = n_y;
        h[H.W_Y] = this.params.ptr + 4 * this.head.weight.offset;
        h[H.B_Y] = this.head.bias ? this.params.ptr + 4 * this.head.bias.offset : alloc(n_y).ptr;   // zeroed, as above
        h[H.Z] = alloc(cap * n_y).ptr; h[H.P] = ws.P.ptr; h[H.WS] = alloc(2 * n_y).ptr; h[H.OS] = alloc(2 * n_y + 256).ptr;
      }
      this.arena.i32(ws.plan).set([...h, ...fields.flat()]);
      this.ws = ws;
      return ws;
    } catch (e) {
      for (const r of regions) this.arena.release(r);
      throw e;
    }
  }
}

/** Lazy generations dropped unfinished (neither run to their end nor returned): once one is
 *  garbage-collected, the stepper it held is freed; else every such stream would keep a
 *  workspace until the model is disposed. The held value never refers to the generator. */
const abandoned = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<{ pool: StepperPool; held: { s?: Stepper } }>(({ pool, held }) => { if (held.s) pool.discard(held.s); })
  : undefined;

/** Steppers for generations in progress: take() one for a generation, give() it back when the
 *  generation ends; release() frees them all (the model's dispose). */
export class StepperPool {
  private readonly free: Stepper[] = [];
  private readonly all: Stepper[] = [];

  constructor(private readonly make: () => Stepper) {}

  take(): Stepper {
    const s = this.free.pop();
    if (s) return s;
    const made = this.make();
    this.all.push(made);
    return made;
  }

  give(s: Stepper): void {
    this.free.push(s);
  }

  /** Free a stepper taken and never given back (one released with the pool already is). */
  discard(s: Stepper): void {
    const i = this.all.indexOf(s);
    if (i < 0) return;
    this.all.splice(i, 1);
    s.release();
  }

  /** Run fn with a stepper of its own. */
  use<T>(fn: (s: Stepper) => T): T {
    const s = this.take();
    try {
      return fn(s);
    } finally {
      this.give(s);
    }
  }

  /** A lazy generation with a stepper of its own, given back when it ends, is returned, or is
   *  garbage-collected unfinished. */
  stream<T>(gen: (s: Stepper) => Generator<T, void, unknown>): Generator<T, void, unknown> {
    const held: { s?: Stepper } = {};
    const run = this.run(held, gen);
    abandoned?.register(run, { pool: this, held }, held);
    return run;
  }

  private *run<T>(held: { s?: Stepper }, gen: (s: Stepper) => Generator<T, void, unknown>): Generator<T, void, unknown> {
    const s = held.s = this.take();
    try {
      yield* gen(s);
    } finally {
      held.s = undefined;
      abandoned?.unregister(held);
      this.give(s);
    }
  }

  release(): void {
    for (const s of this.all) s.release();
    this.free.length = 0;
    this.all.length = 0;
  }
}

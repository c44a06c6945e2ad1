// The output layer ŷ = g(W x + b) and its loss over rows of inputs, with its workspace: the
// head of every model (the RNN's per-step head, the architectures' heads over last states and
// decoder steps). Logits, outputs, the loss and ∂L/∂logits come from one kernel call over blocks
// of rows (assembly/head.ts); a forward of many rows first copies W into groups of four rows
// (headCopy, wasm.ts), read with the same bits.
//
// A softmax head whose loss has class weights or label smoothing (src/loss.ts) runs
// head_loss_ls, a sigmoid head whose loss has positive weights head_loss_pw; every other head
// runs head_loss_w, as before those options existed. (Ignored targets never reach a head: they
// are packed as −1, the skip every softmax kernel knows.)
//
// A head without a bias (nn.Linear's bias=False, the config's headBias: false) points the
// kernels' b at a zeroed region of its workspace and their db at another that nothing reads,
// as a stack without biases does (src/stack.ts): the arithmetic of a zero bias, and a head
// with a bias runs the code and allocations it ran before.
//
// rows = inputs (steps × sequences, or sequences), n_in = input width, n_y = outputs per row.
import type { Arena, Region } from './arena.js';
import type { StatSums } from './checkpoint.js';
import type { OutputKind } from './data.js';
import type { ResolvedLoss } from './loss.js';
import type { TensorEntry } from './layout.js';
import { copiesHead, headCopy, OUTPUT_KIND, type Kernels } from './wasm.js';

interface HeadWork {
  rows: number;
  X?: Region;    // (rows, n_in) staged inputs (inputs not already in wasm memory), when staged
  dX?: Region;   // (rows, n_in)
  Z: Region;     // (rows, n_y) logits
  Yhat: Region;  // (rows, n_y) outputs
  dZ: Region;    // (rows, n_y) ∂L/∂logits
  Y: Region;     // (rows) ids or (rows, n_y) targets
  W: Region;     // (rows) loss weight per row: 0 for padding
  CW?: Region;   // (n_y) class weights, when the loss has them
  POS?: Region;  // (n_y) weights of the sigmoid's positive terms, when the loss has them
  NLL?: Region;  // (2) one f64: the plain cross-entropy Σ w (−log ŷ[y]), when the loss is not plain
  PW?: Region;   // (n_y, n_in) W in groups of four rows, for many rows
  B0?: Region;   // (n_y) no bias: zeros, read as b (nothing writes them)
  dB0?: Region;  // (n_y) no bias: where ∂L/∂b goes; never read, cleared by each backward
}

/** The output layer ŷ = g(W x + b) and its loss, on rows of inputs; owns its workspace.
 *  g and the loss follow `output`: softmax + cross-entropy, sigmoid + binary cross-entropy,
 *  identity + squared error. */
export class Head {
  /** Set on a training worker's thread (workers/entry.ts): there a batch is one shard of many,
   *  so truncated BPTT sends every window, those with no terms too (model.ts), and a mean of no
   *  terms whose smoothing terms have a gradient (every target of class weight 0) returns that
   *  gradient summed (scale 1), which the reduction weights by 1 / N (workers/replicas.ts),
   *  rather than dropping it with scale 0. */
  static shardOfMany = false;
  private ws?: HeadWork;
  /** Σ w·L of the last forward with targets, unscaled. */
  private lastTotal = 0;
  /** Σ w (−log ŷ[y]) of the last forward with targets, when the loss is not plain. */
  private lastNll = 0;
  /** The loss's class weights as float32 (the kernel's), if any, and its label smoothing. */
  private readonly classWeights?: Float32Array;
  private readonly smoothing: number;
  /** The sigmoid loss's positive weights as float32, if any. */
  private readonly posWeight?: Float32Array;

  /** `staged`: whether callers stage inputs that are not in wasm memory (stage(), and the
   *  gradient of what was staged); a head over a stack's outputs reads them where they are. */
  constructor(private readonly kernels: Kernels, private readonly arena: Arena,
              private readonly weight: TensorEntry, private readonly bias: TensorEntry | undefined,
              readonly n_in: number, readonly n_y: number, readonly output: OutputKind,
              private readonly staged = true, readonly loss: ResolvedLoss = {}) {
    if (loss.classWeights) this.classWeights = Float32Array.from(loss.classWeights);
    this.smoothing = loss.labelSmoothing ?? 0;
    if (loss.posWeight) this.posWeight = Float32Array.from(loss.posWeight);
  }

  /** Whether the softmax loss is the plain cross-entropy (no class weights, no smoothing); a
   *  sigmoid loss with positive weights is plain in this sense, having no other sum to report. */
  private get plain(): boolean {
    return !this.classWeights && this.smoothing === 0;
  }

  /** What reduction 'mean' divides the summed loss by: Σ of the predicted targets' class
   *  weights (softmax: the number of targets ≥ 0 without class weights), or validRows · n_y. */
  terms(targets: Int32Array | Float32Array, validRows: number): number {
    if (this.output !== 'softmax') return validRows * this.n_y;
    const cw = this.classWeights;
    let n = 0;
    for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) n += cw ? cw[targets[i]] : 1;
    return n;
  }

  /** The factor the summed loss is multiplied by: 1 ('sum') or 1 / terms ('mean'); 0 for a
   *  mean of no terms, whose gradient is zero and whose loss forward() reports as NaN (as
   *  PyTorch). */
  scale(reduction: 'sum' | 'mean', targets: Int32Array | Float32Array, validRows: number): number {
    if (reduction === 'sum') return 1;
    return this.meanScale(this.terms(targets, validRows));
  }

  /** The factor of reduction 'mean' over `terms` terms: 1 / terms; for no terms 0, or 1 for a
   *  shard with smoothing on a worker (Head.shardOfMany). */
  meanScale(terms: number): number {
    if (terms > 0) return 1 / terms;
    return Head.shardOfMany && this.smoothing > 0 ? 1 : 0;
  }

  /** Σ w·L of the last forward with targets (before any scale of the reduction). */
  get total(): number {
    return this.lastTotal;
  }

  /** Reserve room for `rows` rows. Allocates: take views only after it. */
  ensure(rows: number): void {
    if (this.ws && this.ws.rows >= rows) return;
    const old = this.ws;
    this.arena.replacing(() => { this.ws = old; });   // a refused call puts it back (arena.ts: atomic)
    this.release();
    const a = this.arena, n = this.n_y;
    const ws = { rows } as HeadWork;
    this.ws = ws;   // registered first, so a failed allocation below is released with it
    if (this.staged) {
      ws.X = a.alloc(rows * this.n_in, 'the output workspace');
      ws.dX = a.alloc(rows * this.n_in, 'the output workspace');
    }
    ws.Z = a.alloc(rows * n, 'the output workspace');
    ws.Yhat = a.alloc(rows * n, 'the output workspace');
    ws.dZ = a.alloc(rows * n, 'the output workspace');
    ws.Y = a.alloc(rows * (this.output === 'softmax' ? 1 : n), 'the target workspace');
    ws.W = a.alloc(rows, 'the target workspace');
    if (this.classWeights) {
      ws.CW = a.alloc(n, 'the target workspace');
      a.f32(ws.CW).set(this.classWeights);
    }
    if (this.posWeight) {
      ws.POS = a.alloc(n, 'the target workspace');
      a.f32(ws.POS).set(this.posWeight);
    }
    if (!this.plain) ws.NLL = a.alloc(2, 'the target workspace');
    if (copiesHead(rows, n * this.n_in)) ws.PW = a.alloc(n * this.n_in, 'the output workspace');
    if (!this.bias) {
      // regions come zeroed (Arena.alloc), and no kernel writes a bias
      ws.B0 = a.alloc(n, 'the output workspace');
      ws.dB0 = a.alloc(n, 'the output workspace');
    }
  }

  /** Copy inputs (rows, n_in) into the staged-input buffer; returns its pointer. */
  stage(values: Float32Array): number {
    this.arena.f32(this.ws!.X!, 0, values.length).set(values);
    return this.ws!.X!.ptr;
  }

  /** Pointer of ∂L/∂(staged inputs), valid after backward(…, stagedGrad()). */
  stagedGrad(): number {
    return this.ws!.dX!.ptr;
  }

  /** Read ∂L/∂(staged inputs), (rows, n_in). */
  readStagedGrad(rows: number): Float32Array {
    return this.arena.f32(this.ws!.dX!, 0, rows * this.n_in).slice();
  }

  /** ŷ for `rows` input rows at X; with targets, the loss Σ w·L · scale, and ∂(scale·L)/∂z
   *  kept for backward when training. mask (rows): per-row weights (0 = padding). Returns
   *  NaN without targets, and for a mean of no terms (scale 0). */
  forward(params: Region, X: number, rows: number, targets?: Int32Array | Float32Array,
          mask?: Float32Array, scale = 1, training = false): number {
    const ws = this.ws!, k = this.kernels, w = params.ptr, n = this.n_y;
    let Y = 0, W = 0;
    if (targets) {
      if (this.output === 'softmax') this.arena.i32(ws.Y, 0, rows).set(targets);
      else this.arena.f32(ws.Y, 0, rows * n).set(targets);
      Y = ws.Y.ptr;
      if (mask) {
        this.arena.f32(ws.W, 0, rows).set(mask);
        W = ws.W.ptr;
      }
    }
    const Wy = w + 4 * this.weight.offset, PW = headCopy(k, ws.PW, Wy, n, this.n_in, rows);
    const dZ = training ? ws.dZ.ptr : 0, b = this.bias ? w + 4 * this.bias.offset : ws.B0!.ptr;
    let total: number;
    if (this.posWeight) {
      total = k.head_loss_pw(ws.Yhat.ptr, dZ, ws.Z.ptr, X, Wy, PW, b, Y, W, ws.POS!.ptr, rows, this.n_in, n, scale);
    } else if (this.plain) {
      total = k.head_loss_w(ws.Yhat.ptr, dZ, ws.Z.ptr, X, Wy, PW, b, Y, W, rows, this.n_in, n, scale, OUTPUT_KIND[this.output]);
    } else {
      this.arena.f32(ws.NLL!).fill(0);
      total = k.head_loss_ls(ws.Yhat.ptr, dZ, ws.Z.ptr, X, Wy, PW, b, Y, W, ws.CW ? ws.CW.ptr : 0, rows, this.n_in, n, scale, this.smoothing, ws.NLL!.ptr);
      this.lastNll = this.arena.f64(ws.NLL!);
    }
    this.lastTotal = total;
    return targets && scale !== 0 ? total * scale : NaN;
  }

  /** Metric sums of the last forward with targets: the summed loss and its number of terms
   *  (target ids ≥ 0 for softmax, each counted as its class weight; rows of weight > 0, × n_y,
   *  otherwise); with class weights or smoothing, the plain cross-entropy and its targets
   *  (perplexity's); and, if wanted, the right answers (argmax = target; sigmoid: each
   *  output > 0.5 as its target), unweighted. */
  stats(rows: number, targets: Int32Array | Float32Array, mask: Float32Array | undefined, accuracy: boolean): StatSums {
    const n = this.n_y, softmax = this.output === 'softmax', cw = this.classWeights, plain = this.plain;
    const s: StatSums = { lossSum: this.lastTotal, terms: 0, correct: 0, counted: 0 };
    if (!plain) Object.assign(s, { nllSum: this.lastNll, nllTerms: 0 });
    const p = accuracy && this.output !== 'linear' ? this.arena.f32(this.ws!.Yhat, 0, rows * n) : undefined;
    for (let r = 0; r < rows; r++) {
      if (softmax ? targets[r] < 0 : mask !== undefined && !(mask[r] > 0)) continue;
      s.terms += softmax ? (cw ? cw[targets[r]] : 1) : n;
      if (!plain) s.nllTerms!++;
      if (!p) continue;
      if (softmax) {
        let best = 0;
        for (let k = 1; k < n; k++) if (p[r * n + k] > p[r * n + best]) best = k;
        s.correct += best === targets[r] ? 1 : 0;
        s.counted++;
      } else {
        for (let k = 0; k < n; k++) s.correct += (p[r * n + k] > 0.5) === (targets[r * n + k] > 0.5) ? 1 : 0;
        s.counted += n;
      }
    }
    return s;
  }

  /** Backward of forward(): adds ∂L/∂W, ∂L/∂b into grads; writes ∂L/∂X to dX (0: skip). */
  backward(params: Region, grads: Region, X: number, dX: number, rows: number): void {
    const ws = this.ws!, w = params.ptr, g = grads.ptr, k = this.kernels;
    // without a bias, its sums go to the sink, cleared so they stay finite
    if (ws.dB0) k.zero_f32(ws.dB0.ptr, ws.dB0.length);
    k.linear_backward(dX, g + 4 * this.weight.offset, this.bias ? g + 4 * this.bias.offset : ws.dB0!.ptr, ws.dZ.ptr,
      X, w + 4 * this.weight.offset, rows, this.n_in, this.n_y, 0);
  }

  /** The outputs ŷ, (rows, n_y): a view of wasm memory, valid until the next forward or
   *  allocation. */
  outputsView(rows: number): Float32Array<ArrayBuffer> {
    return this.arena.f32(this.ws!.Yhat, 0, rows * this.n_y);
  }

  /** A copy of the outputs ŷ, (rows, n_y). */
  outputs(rows: number): Float32Array<ArrayBuffer> {
    return this.arena.f32(this.ws!.Yhat, 0, rows * this.n_y).slice();
  }

  release(): void {
    const ws = this.ws;
    if (!ws) return;
    for (const r of [ws.X, ws.dX, ws.Z, ws.Yhat, ws.dZ, ws.Y, ws.W, ws.CW, ws.POS, ws.NLL, ws.PW, ws.B0, ws.dB0]) this.arena.release(r);
    this.ws = undefined;
  }
}

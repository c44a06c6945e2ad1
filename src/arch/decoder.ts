// The decoder shared by one-to-many and encoder-decoder models: a recurrent stack whose input
// at step t+1 is the output at step t, and an output layer on every step.
//
//   x<1> = the first input (a start token, or a vector)      x<t+1> = y<t> (training) or ŷ<t>
//   a<t> = cell(a<t-1>, x<t>)                                ŷ<t> = g(W_ya a<t> + b_y)
//
// Training uses teacher forcing: the inputs are [x<1>, y<1>, …, y<T−1>] and the targets
// [y<1>, …, y<T>], so the whole target sequence runs in one call per layer. A skipped target is
// also the next step's input: an ignoreIndex that is a class id is read as that token, while −1
// (or an ignoreIndex that is no class) stands for no token, so only a sequence's last targets
// may be such: they are padding, and the sequence ends before them. Generation feeds
// each chosen ŷ<t> back, one step per call. Softmax decoders read tokens (the output
// vocabulary, n_y ids), one-hot or through an embedding table; sigmoid and linear decoders
// read vectors of n_y values.
//
// With attention (encoder-decoder), the head reads h̃<t> = attention(a<t>, encoder outputs)
// instead of a<t> (src/arch/attention.ts); decoding hands α of each step to a watcher when
// one is given (returnAttention).
//
// T = steps, B = sequences, n_y = output size, n_a = hidden size, S = layers (state vectors).

import type { Arena, Region } from '../arena.js';
import type { StatSums } from '../checkpoint.js';
import type { OutputKind, PackedInput } from '../data.js';
import {
  beamSearch, decodeBatch, generateTokens, pickToken, resolveSampling,
  type Hypothesis, type Sampler, type SamplingOptions, type TokenSource, type TokenStepper,
} from '../decode.js';
import type { EmbeddingTable } from '../embedding.js';
import type { Layout } from '../layout.js';
import type { Random } from '../random.js';
import { Stack, toBatchMajor } from '../stack.js';
import { Stepper, StepperPool } from '../stepper.js';
import type { Kernels } from '../wasm.js';
import type { Attention, AttentionMemory, AttentionSource } from './attention.js';
import { Head } from '../head.js';
import { packSequences, stackConfig, type PackedSequences, type ResolvedCell, type State } from './common.js';
import { largest } from '../validate.js';
import type { ResolvedLoss } from '../loss.js';

/** A batch ready for teacher forcing. */
export interface TeacherForced {
  /** Decoder inputs [x<1>, y<1..T−1>], time-major, with each sequence's length. */
  packed: PackedInput;
  /** Targets y<1..T>: (T·B) ids, −1 past each end, or (T·B, n_y) values. */
  targets: Int32Array | Float32Array;
  /** Row weights (T·B): 0 past each end; undefined when no sequence is padded. */
  mask?: Float32Array;
}

/** Sees α of every decoding step with attention: alpha (B, T_x), a view of wasm memory valid
 *  until the next step (copy what you keep); src[b] is the source in the memory row b read. */
export type AttentionWatch = (alpha: Float32Array<ArrayBuffer>, src: Int32Array) => void;

export class Decoder {
  readonly stack: Stack;
  readonly head: Head;
  private last?: { rows: number; tf: TeacherForced; X: number };
  /** With attention: a memory of no source steps, for stepping without a source. */
  private readonly empty?: AttentionMemory;
  /** Steppers of generations in progress, and of the step() stream (made on first use). */
  private pool?: StepperPool;
  private streamer?: Stepper;
  /** Softmax targets equal to it (or to −1) are skipped. */
  private readonly ignoreIndex: number;

  constructor(private readonly kernels: Kernels, private readonly arena: Arena, private readonly layout: Layout,
              private readonly index: number, readonly cell: ResolvedCell, readonly n_y: number, readonly output: OutputKind,
              readonly attention?: Attention, embedding?: EmbeddingTable, loss: ResolvedLoss = {}) {
    if (attention) this.empty = { H: new Float32Array(attention.E), T: 1, B: 1, lens: Int32Array.of(0) };
    this.ignoreIndex = loss.ignoreIndex ?? -1;
    this.stack = new Stack(kernels, arena, layout, index, stackConfig(cell, n_y, output === 'softmax', false, embedding));
    const head = layout.head()!;
    this.head = new Head(kernels, arena, head.weight, head.bias, cell.n_a, n_y, output, false, loss);
  }

  /** State vectors per sequence (layers). */
  get states(): number {
    return this.cell.layers;
  }

  /** Validate targets y (B sequences) and build the teacher-forced inputs from the first
   *  inputs `first`: (B) token ids or (B, n_y) values, already checked. */
  teacherForce(where: string, first: Int32Array | Float32Array, y: unknown): TeacherForced {
    const n = this.n_y;
    const B = this.output === 'softmax' ? first.length : first.length / n;
    const softmax = this.output === 'softmax';
    let seqs = packSequences(where, 'y', y, softmax ? 'ids' : 'vectors', n, 'n_y', this.output === 'sigmoid', softmax ? this.ignoreIndex : undefined);
    if (seqs.B !== B) throw new RangeError(`${where}: y must have one target sequence per example (B = ${B}), got ${seqs.B}`);
    let targets = seqs.data;
    if (softmax) {
      seqs = endBeforeSkips(where, seqs, y as ArrayLike<number>[]);
      // an ignored class is an input as it is, and a skipped target (−1) as packed
      const ignored = this.ignoreIndex;
      targets = ignored >= 0 && ignored < n ? Int32Array.from(seqs.data, (id) => (id === ignored ? -1 : id)) : seqs.data;
    }
    const { T, lens } = seqs;
    const len = (b: number) => (lens ? lens[b] : T);
    let x: Int32Array | Float32Array;
    if (this.output === 'softmax') {
      const ids = seqs.data as Int32Array;
      x = new Int32Array(T * B);
      for (let b = 0; b < B; b++) {
        x[b] = first[b];
        for (let t = 1; t < len(b); t++) x[t * B + b] = ids[(t - 1) * B + b];
      }
    } else {
      const v = seqs.data as Float32Array;
      x = new Float32Array(T * B * n);
      for (let b = 0; b < B; b++) {
        x.set(first.subarray(b * n, (b + 1) * n), b * n);
        for (let t = 1; t < len(b); t++) x.set(v.subarray(((t - 1) * B + b) * n, ((t - 1) * B + b + 1) * n), (t * B + b) * n);
      }
    }
    let mask: Float32Array | undefined;
    if (lens) {
      mask = new Float32Array(T * B);
      for (let b = 0; b < B; b++) for (let t = 0; t < lens[b]; t++) mask[t * B + b] = 1;
    }
    return { packed: { T, B, x, lens }, targets, mask };
  }

  /** Teacher-forced forward from initial states h0 / c0 (S, B, n_a); returns the loss.
   *  Training: pass the generator dropout masks are drawn from. With attention, `source`
   *  holds the encoder outputs the decoder attends to. */
  forward(params: Region, tf: TeacherForced, h0: Float32Array | undefined, c0: Float32Array | undefined,
          reduction: 'sum' | 'mean', training: boolean, rng?: Random, source?: AttentionSource): number {
    const { T, B, lens } = tf.packed;
    const rows = T * B;
    this.head.ensure(rows);                     // allocations first; views only after them
    this.stack.forward(params, tf.packed.x, T, B, lens, h0, c0, training ? rng : undefined);
    const valid = lens ? lens.reduce((s, n) => s + n, 0) : rows;
    const scale = this.head.scale(reduction, tf.targets, valid);
    // the head reads a<t>, or h̃<t> with attention
    const X = this.attention ? this.attention.forward(params, this.stack.outPtr(), T, B, source!) : this.stack.outPtr();
    this.last = { rows, tf, X };
    return this.head.forward(params, X, rows, tf.targets, tf.mask, scale, training);
  }

  /** BPTT after a training forward; adds into grads and returns ∂L/∂h0 (and ∂L/∂c0). With
   *  attention, ∂L/∂(encoder outputs) is ADDED at dSource (T_x·B, E). */
  backward(params: Region, grads: Region, dSource?: number): { dh0: Float32Array; dc0?: Float32Array } {
    const { rows, X } = this.last!;
    if (this.attention) {
      // ∂L/∂h̃ from the output layer, then ∂L/∂a<t> (overwriting the stack's dOut) and ∂L/∂h_s
      this.head.backward(params, grads, X, this.attention.dOutPtr(), rows);
      this.attention.backward(params, grads, this.stack.dOutPtr(), dSource!);
    } else {
      // ∂L/∂a<t> of the top layer from the output layer (overwrites the stack's dOut)
      this.head.backward(params, grads, X, this.stack.dOutPtr(), rows);
    }
    this.stack.backward(params, grads);
    return this.stack.readStateGrads();
  }

  /** Metric sums of the last forward (see Head.stats). */
  stats(accuracy: boolean): StatSums | undefined {
    if (!this.last) return undefined;
    const { rows, tf } = this.last;
    return this.head.stats(rows, tf.targets, tf.mask, accuracy);
  }

  /** ŷ of the last forward, batch-major (B, T, n_y), zero past each sequence's end. */
  readOutputs(tf: TeacherForced): Float32Array<ArrayBuffer> {
    const { T, B, lens } = tf.packed;
    const n = this.n_y;
    const yhat = toBatchMajor(this.head.outputs(T * B), T, B, n);
    if (lens) for (let b = 0; b < B; b++) yhat.fill(0, (b * T + lens[b]) * n, (b + 1) * T * n);
    return yhat;
  }

  /** α of the last forward (with attention), batch-major (B, T, T_x): a copy, 0 past each
   *  target's end and each source's end. */
  readAttention(tf: TeacherForced): Float32Array<ArrayBuffer> {
    const { T, B, lens } = tf.packed;
    const alpha = this.attention!.weights();
    const T_x = alpha.length / (B * T);
    // rows past a target's end attended from padded decoder steps
    if (lens) for (let b = 0; b < B; b++) alpha.fill(0, (b * T + lens[b]) * T_x, (b + 1) * T * T_x);
    return alpha;
  }

  /** Rows decoded on `stepper` from state (layers, B, n_a); room for `capacity` rows. With
   *  attention, the rows read `memory` (none: a memory of no steps, so the context is zero),
   *  and `watch` (if any) sees α of every step. */
  rows(params: Region, stepper: Stepper, state: State, B: number, capacity = B, memory?: AttentionMemory, watch?: AttentionWatch): DecodeRows {
    stepper.reset(B, state.h, state.c, capacity);
    if (!this.attention) return new DecodeRows(params, stepper);
    const m = memory ?? this.empty!;
    // row b reads source b, or the one source when the memory holds one
    const src = m.B === 1 ? new Int32Array(B) : Int32Array.from({ length: B }, (_, b) => b);
    return new DecodeRows(params, stepper, { attention: this.attention, head: this.head, memory: m, src, watch, clear: () => { this.last = undefined; } });
  }

  /** The rows of a step() stream (one row, its own stepper), from `state`. */
  stream(params: Region, state: State, memory?: AttentionMemory): DecodeRows {
    this.streamer ??= this.makeStepper(params);
    return this.rows(params, this.streamer, state, 1, 1, memory);
  }

  /** Tokens generated lazily for one sequence from `state`: decode.ts's generateTokens on a
   *  stepper of its own. */
  tokens(params: Region, state: State, start: number, prefix: readonly number[], maxLength: number, stop: number | null,
         sampler: Sampler, memory?: AttentionMemory, watch?: AttentionWatch): Generator<number, void, unknown> {
    return this.steppers(params).stream((s) => generateTokens(this.rows(params, s, state, 1, 1, memory, watch), start, prefix, maxLength, stop, sampler));
  }

  /** The tokens of one sequence from `state`, generated to the end in this call (no user code
   *  runs in between, so a long run reads W_hh's copy: Stepper.withPackedWeights). */
  tokensNow(params: Region, state: State, start: number, prefix: readonly number[], maxLength: number, stop: number | null,
            sampler: Sampler, memory?: AttentionMemory, watch?: AttentionWatch): number[] {
    return this.steppers(params).use((s) => {
      const rows = this.rows(params, s, state, 1, 1, memory, watch);
      return s.withPackedWeights(prefix.length + maxLength, () => Array.from(generateTokens(rows, start, prefix, maxLength, stop, sampler)));
    });
  }

  /** B sequences decoded in lockstep from `state` (decode.ts's decodeBatch). */
  batch(params: Region, state: State, starts: readonly number[], maxLength: number, stop: number | null, sampler: Sampler,
        memory?: AttentionMemory, watch?: AttentionWatch): number[][] {
    return this.steppers(params).use((s) => {
      const rows = this.rows(params, s, state, starts.length, starts.length, memory, watch);
      return s.withPackedWeights(maxLength, () => decodeBatch(rowStepper(this.n_y), rows, starts, maxLength, stop, sampler));
    });
  }

  /** Beam search from one sequence's `state` (decode.ts's beamSearch); with `watch`, the
   *  hypotheses carry their backpointers (TracedHypothesis.from). */
  beam(params: Region, state: State, start: number, prefix: readonly number[], width: number, maxLength: number,
       stop: number | null, lengthPenalty: number, memory?: AttentionMemory, watch?: AttentionWatch): Hypothesis[] {
    return this.steppers(params).use((s) => {
      const rows = this.rows(params, s, state, 1, width, memory, watch);
      return s.withPackedWeights(prefix.length + maxLength,
        () => beamSearch(rowStepper(this.n_y), rows, start, prefix, width, maxLength, stop, lengthPenalty, watch !== undefined));
    });
  }

  /** Zero state for B sequences. */
  zeroState(B: number): State {
    const n = this.states * B * this.cell.n_a;
    return this.cell.cell === 'lstm' ? { h: new Float32Array(n), c: new Float32Array(n) } : { h: new Float32Array(n) };
  }

  /** Generate B vector sequences (sigmoid or linear decoders) in lockstep, each from its first
   *  input row (B, n_y): ŷ<t> is fed back as is (linear) or as 0/1 draws (sigmoid: p > 0.5 when
   *  greedy, Bernoulli(p) when sampling). Returns the fed-back values per step. */
  generateVectors(where: string, params: Region, first: Float32Array, state: State, prefix: Float32Array[],
                  length: number, options: SamplingOptions, rng: Random,
                  onStep?: (value: Float32Array<ArrayBuffer>, index: number) => void | boolean, memory?: AttentionMemory,
                  watch?: AttentionWatch): Float32Array<ArrayBuffer>[][] {
    const n = this.n_y, B = first.length / n;
    const sampler = this.vectorSampler(where, options, rng);
    return this.steppers(params).use((s) => {
      const rows = this.rows(params, s, state, B, B, memory, watch);
      const out: Float32Array<ArrayBuffer>[][] = Array.from({ length: B }, () => []);
      // feed the first input and the prefix; the last of them is fed by the first step below
      const inputs = [first, ...prefix];
      for (const p of inputs.slice(0, -1)) rows.step(p);
      let x = inputs[inputs.length - 1];
      for (let i = 0; i < length; i++) {
        const yhat = rows.step(x);
        x = new Float32Array(B * n);
        for (let j = 0; j < B * n; j++) x[j] = this.output === 'linear' ? yhat[j] : drawBit(yhat[j], sampler);
        let go = true;
        for (let b = 0; b < B; b++) {
          const v = x.slice(b * n, (b + 1) * n);
          out[b].push(v);
          if (onStep && onStep(v, i) === false) go = false;
        }
        if (!go) break;
      }
      return out;
    });
  }

  release(): void {
    this.head.release();
    this.stack.release();
    this.attention?.release();
    this.pool?.release();
    this.streamer?.release();
    this.streamer = undefined;
  }

  /** The pool of generation steppers, made on first use. */
  private steppers(params: Region): StepperPool {
    return this.pool ??= new StepperPool(() => this.makeStepper(params));
  }

  /** A stepper of the decoder's stack; with its head unless attention sits between them. */
  private makeStepper(params: Region): Stepper {
    const head = this.layout.head()!;
    return new Stepper(this.kernels, this.arena, this.layout, this.index, this.stack.config, params,
      this.attention ? undefined : { weight: head.weight, bias: head.bias, output: this.output });
  }

  private vectorSampler(where: string, options: SamplingOptions, rng: Random): Sampler {
    const s = resolveSampling(where, options, 2, rng);
    if (this.output === 'linear' && !s.greedy) {
      throw new TypeError(`${where}: a linear output has no distribution to sample; its ŷ is fed back as is (leave strategy 'greedy')`);
    }
    if (options.topK !== undefined || options.topP !== undefined) {
      throw new TypeError(`${where}: topK and topP choose among tokens; a ${this.output} output draws each value on its own (use temperature)`);
    }
    return s;
  }
}

/** Attention between a stepper's stack and the decoder's head. */
interface Attending {
  attention: Attention;
  head: Head;
  memory: AttentionMemory;
  /** (B) the source in the memory each row attends to. */
  src: Int32Array;
  /** Sees α of every step (returnAttention); undefined: α is not read. */
  watch?: AttentionWatch;
  /** Called when the head's outputs stop being a teacher-forced batch's. */
  clear: () => void;
}

/** B rows being decoded on a stepper of their own. Without attention the stack and the head
 *  step in one wasm call, and one token stream also samples in it; with attention, row b
 *  attends to source src[b] of the memory between the stack and the head, and tokens are
 *  chosen by pickToken from the head's outputs. */
export class DecodeRows implements TokenSource {
  constructor(private readonly params: Region, private readonly stepper: Stepper, private readonly att?: Attending) {}

  /** One step for every row: x holds B ids or B vectors of n_y values. Returns ŷ (B, n_y), a
   *  view of wasm memory valid until the next step. */
  step(x: Int32Array | Float32Array): Float32Array<ArrayBuffer> {
    this.stepper.feedRows(x);
    return this.attend();
  }

  /** Keep rows `rows` (indices of current rows, repeats allowed), in that order. */
  select(rows: readonly number[]): void {
    this.stepper.select(rows);
    if (this.att) this.att.src = Int32Array.from(rows, (r) => this.att!.src[r]);
  }

  feed(token: number): void {
    if (this.att) this.step(Int32Array.of(token));
    else this.stepper.feed(token);
  }

  choose(sampler: Sampler): number {
    if (!this.att) return this.stepper.choose(sampler);
    return pickToken(this.att.head.outputsView(this.stepper.rows), sampler);
  }

  feedAndChoose(token: number, sampler: Sampler): number {
    if (!this.att) return this.stepper.feedAndChoose(token, sampler);
    this.feed(token);
    return this.choose(sampler);
  }

  /** ŷ of the last step: the stepper's, or the head's on h̃ with attention. */
  private attend(): Float32Array<ArrayBuffer> {
    const a = this.att;
    if (!a) return this.stepper.outputsView();
    const B = this.stepper.rows;
    a.clear();
    a.head.ensure(B);                                 // allocations first; views only after them
    const X = a.attention.step(this.params, this.stepper.topPtr(), B, a.memory, a.src);
    if (a.watch) a.watch(a.attention.weightsView(B, a.memory.T), a.src);
    a.head.forward(this.params, X, B);
    return a.head.outputsView(B);
  }
}

/** Decoding rows as decode.ts's TokenStepper: the state is the rows, advanced in place. */
function rowStepper(V: number): TokenStepper<DecodeRows> {
  return {
    vocab: V,
    step: (tokens, rows) => ({ probs: rows.step(tokens), state: rows }),
    select: (rows, picked) => { rows.select(picked); return rows; },
  };
}

/** A 0/1 value from a sigmoid output p: p > 0.5 (greedy), or Bernoulli(σ(logit(p) / τ)). */
function drawBit(p: number, s: Sampler): number {
  if (s.greedy) return p > 0.5 ? 1 : 0;
  const q = s.temperature === 1 ? p : 1 / (1 + Math.pow((1 - p) / p, 1 / s.temperature));
  return s.rng.uniform() < q ? 1 : 0;
}

/** Target ids whose sequences end before their skipped last targets (packed −1): such a
 *  target would be the next step's input, which no token stands for, so one followed by a
 *  target is refused. A sequence skipped throughout keeps its first step, whose input is the
 *  given first one and whose target is skipped. T shrinks to the longest sequence left. */
function endBeforeSkips(where: string, seqs: PackedSequences, y: ArrayLike<number>[]): PackedSequences {
  const { T, B } = seqs, ids = seqs.data as Int32Array;
  const lens = Int32Array.from({ length: B }, (_, b) => (seqs.lens ? seqs.lens[b] : T));
  let cut = false;
  for (let b = 0; b < B; b++) {
    let last = lens[b] - 1;
    while (last >= 0 && ids[last * B + b] < 0) last--;
    for (let t = 0; t < last; t++) {
      if (ids[t * B + b] < 0) {
        throw new RangeError(`${where}: y[${b}][${t}] = ${y[b][t]} skips its step, but y[${b}][${last}] = ${y[b][last]} comes after it; a decoder's target is its next step's input (teacher forcing) and ${y[b][t]} is no token, so it can only pad the end of a sequence`);
      }
    }
    const keep = Math.max(1, last + 1);
    if (keep < lens[b]) { lens[b] = keep; cut = true; }
  }
  if (!cut) return seqs;
  const T1 = largest(Array.from(lens));
  // time-major: the first T1 steps are the first T1·B ids; past each new end they are −1 already
  return { T: T1, B, lens: lens.some((n) => n !== T1) ? lens : undefined, data: ids.slice(0, T1 * B) };
}

// Many-to-one: a whole sequence → one output (sequence classification or regression).
//
//   a<t> = cell(a<t-1>, x<t>),  t = 1 … T_x          ŷ = g(W_ya a<T_x> + b_y)
//   L    = L(ŷ, y), one target per sequence
//
// Sequences in a batch may differ in length: each is read to its own last step. step(x)
// advances one stream by one step and returns ŷ for the sequence so far.

import { resolveLoss, type ResolvedLoss } from '../loss.js';
import { packInputs, type InputKind, type OutputKind, type Sequence } from '../data.js';
import type { Tokenizer } from '../tokenizer.js';
import { describe } from '../validate.js';
import type { Build, Kernels } from '../wasm.js';
import type { StatSums } from '../checkpoint.js';
import type { Gradients } from '../model.js';
import type { GradientOptions, StatsWanted } from '../network.js';
import {
  checkState, inputTokenizer, packLabels, tokenizersJSON, packSteps, rejectFields, resolveCell, resolveCommon, resolveInput, resolveOutput,
  toPredictions, type CommonConfig, type Label, type Prediction, type ResolvedCell, type Step,
} from './common.js';
import { lastStateLayout, LastStateNetwork } from './last-state.js';
import { headShape, resolveTokenEmbedding, unlessTokens, type ResolvedTokenEmbedding, type TokenEmbeddingConfig } from '../embedding.js';
import { naming } from '../arena.js';
import { KEYS } from '../keys.js';
import { checkModelSize } from '../limits.js';
import { checkBoolean, checkInt, checkKeys } from '../validate.js';

export interface ManyToOneConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends CommonConfig, TokenEmbeddingConfig {
  architecture: 'many-to-one';
  /** Input size: features per step ('dense') or vocabulary size ('tokens'). */
  n_x: number;
  /** Output size: classes (softmax), labels (sigmoid) or values (linear). */
  n_y: number;
  /** 'tokens' (x<t> is a token id) or 'dense' (x<t> is a vector of n_x features). Default 'dense'. */
  input?: I;
  /** Output non-linearity, which fixes the loss: 'softmax' → cross-entropy, 'sigmoid' → binary
   *  cross-entropy, 'linear' → squared error. Default 'softmax'. */
  output?: O;
  /** Read each sequence in both directions; ŷ sees both final states. Default false. */
  bidirectional?: boolean;
  /** Tokenizer of the input (token input), saved with the model. */
  tokenizers?: { x?: Tokenizer };
}

export interface ResolvedManyToOne<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ResolvedCell, ResolvedTokenEmbedding, ResolvedLoss {
  architecture: 'many-to-one';
  n_x: number;
  n_y: number;
  input: I;
  output: O;
  bidirectional: boolean;
  /** Present (false) only for an output layer without a bias. */
  headBias?: false;
  reduction: 'sum' | 'mean';
  seed: number;
}

/** B sequences (lengths may differ), with one target each. */
export interface ManyToOneBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> {
  /** B input sequences: token ids, or steps of n_x features (rows, or one flat array). */
  x: readonly Sequence<I>[];
  /** One target per sequence: a class id (softmax; −1, or the config's ignoreIndex, skips the
   *  example) or a vector of n_y values. */
  y?: readonly Label<O>[];
  /** Initial state a<0>, (layers · directions, B, n_a) flattened. Default zeros. */
  a0?: ArrayLike<number>;
  /** LSTM initial cell state c<0>, same shape. Default zeros. */
  c0?: ArrayLike<number>;
}

export interface LabeledManyToOneBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ManyToOneBatch<I, O> {
  y: readonly Label<O>[];
}

export interface ManyToOneResult {
  B: number;
  /** Each sequence's length. */
  lengths: number[];
  /** ŷ per sequence, (B, n_y). */
  yhat: Float32Array<ArrayBuffer>;
  /** Final state of every layer and direction at each sequence's end, (layers · directions, B, n_a). */
  aT: Float32Array<ArrayBuffer>;
  /** LSTM final cell state, same shape. */
  cT?: Float32Array<ArrayBuffer>;
  /** The loss when targets were given. */
  loss?: number;
}

/** Check a config and fill in its defaults; the tokenizers are checked against the sizes. */
export function resolveManyToOne(config: ManyToOneConfig, where = 'createModel'): { resolved: ResolvedManyToOne; tokenizers: { x?: Tokenizer } } {
  rejectFields(where, config, 'many-to-one', ['startToken', 'stopToken', 'encoder', 'decoder', 'bridge', 'shareEmbeddings']);
  checkKeys(where, 'config', config, KEYS['many-to-one']);
  const resolved: ResolvedManyToOne = {
    architecture: 'many-to-one',
    ...resolveCell(where, config),
    n_x: checkInt(where, 'n_x', config.n_x),
    n_y: checkInt(where, 'n_y', config.n_y),
    input: resolveInput(where, config.input),
    output: resolveOutput(where, config.output),
    bidirectional: checkBoolean(where, 'bidirectional', config.bidirectional ?? false),
    ...resolveCommon(where, config),
  };
  Object.assign(resolved, resolveTokenEmbedding(where, config, resolved.n_x, 'n_x',
    headShape(resolved.n_y, resolved.n_a, resolved.bidirectional), unlessTokens(resolved.input)));
  Object.assign(resolved, resolveLoss(where, config, resolved.output, resolved.n_y));
  checkModelSize(where, resolved, lastStateLayout);
  return { resolved, tokenizers: inputTokenizer(where, config.tokenizers, resolved) };
}

export class ManyToOne<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends LastStateNetwork<LabeledManyToOneBatch<I, O>> {
  readonly architecture = 'many-to-one' as const;
  /** The configuration with defaults filled in. */
  readonly config: Readonly<ResolvedManyToOne<I, O>>;
  /** Tokenizers saved with the model. */
  readonly tokenizers: Readonly<{ x?: Tokenizer }>;
  /** Whether the step() stream has started (its state lives in the stream stepper). */
  private streaming = false;

  /** Use createModel({ architecture: 'many-to-one', … }). */
  constructor(kernels: Kernels, config: ResolvedManyToOne<I, O>, backend: Build, tokenizers: { x?: Tokenizer } = {}) {
    super(kernels, backend, config.seed, config, config.n_x, config.n_y, config.input === 'tokens', config.bidirectional, config.output, config, config);
    this.config = Object.freeze({ ...config });
    this.tokenizers = Object.freeze({ ...tokenizers });
  }

  /** ŷ for each sequence, and the loss if y is given. */
  forward(batch: ManyToOneBatch<I, O>): ManyToOneResult {
    return this.forwardAs('forward', batch);
  }

  /** forward(), its errors in the name of `where` (predict calls it). */
  private forwardAs(where: string, batch: ManyToOneBatch<I, O>): ManyToOneResult {
    this.live(where);
    const p = this.prepare(where, batch, false);
    const loss = naming(where, () => this.runLast(p.packed, p.targets, p.a0, p.c0, this.config.reduction, false));
    const { hT, cT } = this.stack.finalStates();
    const B = p.packed.B;
    const result: ManyToOneResult = {
      B, lengths: p.packed.lens ? Array.from(p.packed.lens) : new Array<number>(B).fill(p.packed.T),
      yhat: this.head.outputs(B), aT: hT,
    };
    if (cT) result.cT = cT;
    if (p.targets) result.loss = loss;
    return result;
  }

  /** The answer for each sequence: its most likely class (softmax) or its n_y outputs. */
  predict(x: readonly Sequence<I>[]): Prediction<O>[] {
    const { yhat, B } = this.forwardAs('predict', { x });
    return toPredictions(yhat, B, this.config.n_y, this.config.output);
  }

  /** Loss and gradients, plus ∂L/∂a<0> (and ∂L/∂c<0>), (layers · directions, B, n_a), and for
   *  dense input ∂L/∂x, (B, T, n_x), zero past each sequence's end. */
  override computeGradients(batch: LabeledManyToOneBatch<I, O>, options?: GradientOptions): Gradients {
    const { loss, grads } = super.computeGradients(batch, options);
    const { dh0, dc0 } = this.stack.readStateGrads();
    const result: Gradients = { loss, grads, da0: dh0 };
    if (dc0) result.dc0 = dc0;
    const dx = this.stack.readInputGrad();
    if (dx) result.dx = dx;
    return result;
  }

  // --- streams ---

  /** Advance the stream by one step x<t> and return ŷ for the sequence so far, (n_y). The
   *  state persists across calls until resetState(). Equal to forward() over the steps so far;
   *  one wasm call. */
  step(x: Step<I>): Float32Array<ArrayBuffer> {
    this.live('step');
    const where = 'step';
    if (this.config.bidirectional) throw new TypeError(`${where}: a bidirectional model reads each sequence backwards too, so it cannot run one step at a time`);
    const { x: packed } = packSteps(where, [x], this.config.input, this.config.n_x);
    const s = this.streamStepper();
    if (!this.streaming) s.reset(1);
    this.streaming = true;
    s.feedRows(packed);
    return s.outputsView().slice();
  }

  /** Start a new stream: state a<0> (and c<0>), (layers, 1, n_a), default zeros. */
  resetState(state: { a0?: ArrayLike<number>; c0?: ArrayLike<number> } = {}): void {
    this.live('resetState');
    const where = 'resetState';
    if (typeof state !== 'object' || state === null) throw new TypeError(`${where}: state must be { a0?, c0? }, got ${describe(state)}`);
    checkKeys(where, 'state', state, KEYS.state);
    const S = this.stack.states, H = this.config.n_a;
    const h = checkState(where, 'a0', state.a0, S, 1, H);
    if (state.c0 !== undefined && this.config.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${this.config.cell}'`);
    const c = checkState(where, 'c0', state.c0, S, 1, H);
    if (this.config.bidirectional) return;
    this.streamStepper().reset(1, h, c);
    this.streaming = true;
  }

  /** The configuration as plain JSON, tokenizers included (saved in model files). */
  toJSON() {
    return { ...this.config, ...tokenizersJSON(this.tokenizers) };
  }

  protected checkBatch(where: string, batch: LabeledManyToOneBatch<I, O>): void {
    this.prepare(where, batch, true);
  }

  protected lossAndGradients(where: string, batch: LabeledManyToOneBatch<I, O>): number {
    const p = this.prepare(where, batch, true);
    const loss = this.runLast(p.packed, p.targets, p.a0, p.c0, this.config.reduction, true);
    this.backwardLast();
    return loss;
  }

  protected override evaluateBatch(where: string, batch: LabeledManyToOneBatch<I, O>, want: StatsWanted): StatSums {
    const p = this.prepare(where, batch, true);
    this.runLast(p.packed, p.targets, p.a0, p.c0, this.config.reduction, false);
    return this.batchStats(want)!;
  }

  private prepare(where: string, batch: ManyToOneBatch<I, O>, needTargets: boolean) {
    if (typeof batch !== 'object' || batch === null) throw new TypeError(`${where}: batch must be { x, y? }, got ${describe(batch)}`);
    const c = this.config;
    const packed = packInputs(where, batch.x, c.input, c.n_x);
    if (needTargets && batch.y === undefined) throw new TypeError(`${where}: batch.y (one target per sequence) is required`);
    const targets = batch.y === undefined ? undefined : packLabels(where, batch.y, c.output, c.n_y, packed.B, 'y', c.ignoreIndex ?? -1);
    const S = this.stack.states;
    if (batch.c0 !== undefined && c.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${c.cell}'`);
    const a0 = checkState(where, 'a0', batch.a0, S, packed.B, c.n_a);
    const c0 = checkState(where, 'c0', batch.c0, S, packed.B, c.n_a);
    return { packed, targets, a0, c0 };
  }

}

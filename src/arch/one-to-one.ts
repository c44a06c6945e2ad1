// One-to-one: one input → one output, a plain classifier or regressor (T = 1).
//
//   a = cell(0, x)          (vanilla cell: a = tanh(W_ax x + b_x + b_a); stacked: layer by layer)
//   ŷ = g(W_ya a + b_y)     L = L(ŷ, y)
//
// The recurrent cell run for a single step from a zero state is a dense layer (W_aa meets
// only a<0> = 0, so its gradient is zero); stacking layers makes a deeper network.

import type { InputKind, OutputKind } from '../data.js';
import type { Tokenizer } from '../tokenizer.js';
import { naming } from '../arena.js';
import { resolveLoss, type ResolvedLoss } from '../loss.js';
import { KEYS } from '../keys.js';
import { checkModelSize } from '../limits.js';
import { checkInt, checkKeys, describe } from '../validate.js';
import type { Build, Kernels } from '../wasm.js';
import type { StatSums } from '../checkpoint.js';
import type { StatsWanted } from '../network.js';
import {
  inputTokenizer, packLabels, packSteps, rejectFields, resolveCell, resolveCommon, resolveInput, resolveOutput, toPredictions,
  tokenizersJSON, type CommonConfig, type Label, type Prediction, type ResolvedCell, type Step,
} from './common.js';
import { lastStateLayout, LastStateNetwork } from './last-state.js';
import { headShape, resolveTokenEmbedding, unlessTokens, type ResolvedTokenEmbedding, type TokenEmbeddingConfig } from '../embedding.js';

export interface OneToOneConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends CommonConfig, TokenEmbeddingConfig {
  architecture: 'one-to-one';
  /** Input size: features ('dense') or vocabulary size ('tokens'). */
  n_x: number;
  /** Output size: classes (softmax), labels (sigmoid) or values (linear). */
  n_y: number;
  /** 'tokens' (x is a token id) or 'dense' (x is a vector of n_x features). Default 'dense'. */
  input?: I;
  /** Output non-linearity, which fixes the loss: 'softmax' → cross-entropy, 'sigmoid' → binary
   *  cross-entropy, 'linear' → squared error. Default 'softmax'. */
  output?: O;
  /** Tokenizer of the input (token input), saved with the model. */
  tokenizers?: { x?: Tokenizer };
  /** One step has no second direction. */
  bidirectional?: never;
}

export interface ResolvedOneToOne<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ResolvedCell, ResolvedTokenEmbedding, ResolvedLoss {
  architecture: 'one-to-one';
  n_x: number;
  n_y: number;
  input: I;
  output: O;
  /** Present (false) only for an output layer without a bias. */
  headBias?: false;
  reduction: 'sum' | 'mean';
  seed: number;
}

/** B examples, each one input and (for training) one target. */
export interface OneToOneBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> {
  /** B inputs: token ids or vectors of n_x features. */
  x: readonly Step<I>[];
  /** B targets: class ids (softmax; −1, or the config's ignoreIndex, skips the example) or
   *  vectors of n_y values. */
  y?: readonly Label<O>[];
}

export interface LabeledOneToOneBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends OneToOneBatch<I, O> {
  y: readonly Label<O>[];
}

export interface OneToOneResult {
  B: number;
  /** ŷ per example, (B, n_y). */
  yhat: Float32Array<ArrayBuffer>;
  /** The hidden state a of every layer, (layers, B, n_a). */
  a: Float32Array<ArrayBuffer>;
  /** The loss when targets were given. */
  loss?: number;
}

export function resolveOneToOne(config: OneToOneConfig, where = 'createModel'): { resolved: ResolvedOneToOne; tokenizers: { x?: Tokenizer } } {
  rejectFields(where, config, 'one-to-one', ['bidirectional', 'startToken', 'stopToken', 'encoder', 'decoder', 'bridge', 'shareEmbeddings']);
  checkKeys(where, 'config', config, KEYS['one-to-one']);
  const resolved: ResolvedOneToOne = {
    architecture: 'one-to-one',
    ...resolveCell(where, config),
    n_x: checkInt(where, 'n_x', config.n_x),
    n_y: checkInt(where, 'n_y', config.n_y),
    input: resolveInput(where, config.input),
    output: resolveOutput(where, config.output),
    ...resolveCommon(where, config),
  };
  Object.assign(resolved, resolveTokenEmbedding(where, config, resolved.n_x, 'n_x',
    headShape(resolved.n_y, resolved.n_a, false), unlessTokens(resolved.input)));
  Object.assign(resolved, resolveLoss(where, config, resolved.output, resolved.n_y));
  checkModelSize(where, resolved, lastStateLayout);
  return { resolved, tokenizers: inputTokenizer(where, config.tokenizers, resolved) };
}

export class OneToOne<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends LastStateNetwork<LabeledOneToOneBatch<I, O>> {
  readonly architecture = 'one-to-one' as const;
  /** The configuration with defaults filled in. */
  readonly config: Readonly<ResolvedOneToOne<I, O>>;
  /** Tokenizers saved with the model. */
  readonly tokenizers: Readonly<{ x?: Tokenizer }>;

  /** Use createModel({ architecture: 'one-to-one', … }). */
  constructor(kernels: Kernels, config: ResolvedOneToOne<I, O>, backend: Build, tokenizers: { x?: Tokenizer } = {}) {
    super(kernels, backend, config.seed, config, config.n_x, config.n_y, config.input === 'tokens', false, config.output, config, config);
    this.config = Object.freeze({ ...config });
    this.tokenizers = Object.freeze({ ...tokenizers });
  }

  /** ŷ for each example, and the loss if y is given. */
  forward(batch: OneToOneBatch<I, O>): OneToOneResult {
    return this.forwardAs('forward', batch);
  }

  /** forward(), its errors in the name of `where` (predict calls it). */
  private forwardAs(where: string, batch: OneToOneBatch<I, O>): OneToOneResult {
    this.live(where);
    const p = this.prepare(where, batch, false);
    const loss = naming(where, () => this.runLast(p.packed, p.targets, undefined, undefined, this.config.reduction, false));
    const B = p.packed.B;
    const result: OneToOneResult = { B, yhat: this.head.outputs(B), a: this.stack.finalStates().hT };
    if (p.targets) result.loss = loss;
    return result;
  }

  /** The answer for each input: its most likely class (softmax) or its n_y outputs. */
  predict(x: readonly Step<I>[]): Prediction<O>[] {
    const { yhat, B } = this.forwardAs('predict', { x });
    return toPredictions(yhat, B, this.config.n_y, this.config.output);
  }

  /** The configuration as plain JSON, tokenizers included (saved in model files). */
  toJSON() {
    return { ...this.config, ...tokenizersJSON(this.tokenizers) };
  }

  protected checkBatch(where: string, batch: LabeledOneToOneBatch<I, O>): void {
    this.prepare(where, batch, true);
  }

  protected lossAndGradients(where: string, batch: LabeledOneToOneBatch<I, O>): number {
    const p = this.prepare(where, batch, true);
    const loss = this.runLast(p.packed, p.targets, undefined, undefined, this.config.reduction, true);
    this.backwardLast();
    return loss;
  }

  protected override evaluateBatch(where: string, batch: LabeledOneToOneBatch<I, O>, want: StatsWanted): StatSums {
    const p = this.prepare(where, batch, true);
    this.runLast(p.packed, p.targets, undefined, undefined, this.config.reduction, false);
    return this.batchStats(want)!;
  }

  private prepare(where: string, batch: OneToOneBatch<I, O>, needTargets: boolean) {
    if (typeof batch !== 'object' || batch === null) throw new TypeError(`${where}: batch must be { x, y? }, got ${describe(batch)}`);
    const c = this.config;
    const { B, x } = packSteps(where, batch.x, c.input, c.n_x);
    if (needTargets && batch.y === undefined) throw new TypeError(`${where}: batch.y (one target per input) is required`);
    const targets = batch.y === undefined ? undefined : packLabels(where, batch.y, c.output, c.n_y, B, 'y', c.ignoreIndex ?? -1);
    return { packed: { T: 1, B, x }, targets };
  }
}

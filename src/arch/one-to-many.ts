// One-to-many: one input → a sequence (generation).
//
//   x<1> = x (a start token, or a vector)     x<t+1> = ŷ<t> (sampled)    a<0> = 0 unless given
//   a<t> = cell(a<t-1>, x<t>)                 ŷ<t> = g(W_ya a<t> + b_y)
//
// With a softmax output the model reads and writes tokens of one vocabulary (n_y): x is a
// token id (e.g. the start token) and each sampled token is the next input. With a sigmoid or
// linear output it reads and writes vectors of n_y values. Training is teacher-forced: the
// targets y<1..T> are the inputs of steps 2..T, so a whole batch runs in one call per layer.

import { resolveLoss, type ResolvedLoss } from '../loss.js';
import { naming } from '../arena.js';
import type { OutputKind, Targets } from '../data.js';
import {
  checkBeamOptions, checkOnToken, checkStop, checkToken, checkTokens, resolveSampling,
  type BeamOptions, type GenerateOptions, type Hypothesis, type Sampler, type SamplingOptions,
} from '../decode.js';
import { buildLayout, type LayoutSpec } from '../layout.js';
import { KEYS } from '../keys.js';
import { checkLength, checkMaxLength, checkModelSize } from '../limits.js';
import type { StatSums } from '../checkpoint.js';
import { Network, type GradientOptions, type MetricName, type StatsWanted } from '../network.js';
import type { Tokenizer } from '../tokenizer.js';
import { checkInt, checkKeys, describe, isArrayLike } from '../validate.js';
import type { Build, Kernels } from '../wasm.js';
import {
  checkState, checkTokenizer, metricsFor, packLabels, packVector, rejectFields, resolveCell, resolveCommon, resolveOutput,
  tokenizersJSON, type CommonConfig, type Label, type ResolvedCell, type State,
} from './common.js';
import { Decoder, type DecodeRows } from './decoder.js';
import {
  embeddingTable, headShape, resolveTokenEmbedding, tokenEmbeddingLayout, type ResolvedTokenEmbedding, type TokenEmbeddingConfig,
} from '../embedding.js';

export interface OneToManyConfig<O extends OutputKind = OutputKind> extends CommonConfig, TokenEmbeddingConfig {
  architecture: 'one-to-many';
  /** Output size: vocabulary size (softmax; also the input vocabulary), or values per step. */
  n_y: number;
  /** Output non-linearity, which fixes the loss: 'softmax' → cross-entropy over tokens,
   *  'sigmoid' → binary cross-entropy, 'linear' → squared error. Default 'softmax'. */
  output?: O;
  /** Softmax: the default x for generate() (e.g. the tokenizer's start token). Default:
   *  tokenizers.y.bos when there is one. */
  startToken?: number;
  /** Softmax: the token that ends a generated sequence. Default: tokenizers.y.eos when there
   *  is one, else none. */
  stopToken?: number;
  /** Tokenizer of the vocabulary (softmax), saved with the model. */
  tokenizers?: { y?: Tokenizer };
  /** The input is the model's own output space: there is no separate n_x or input kind. */
  n_x?: never;
  input?: never;
  /** Generation runs forward in time only. */
  bidirectional?: never;
}

export interface ResolvedOneToMany<O extends OutputKind = OutputKind> extends ResolvedCell, ResolvedTokenEmbedding, ResolvedLoss {
  architecture: 'one-to-many';
  n_y: number;
  output: O;
  startToken: number | null;
  stopToken: number | null;
  /** Present (false) only for an output layer without a bias. */
  headBias?: false;
  reduction: 'sum' | 'mean';
  seed: number;
}

/** B examples: the one input each, and the target sequences (lengths may differ). */
export interface OneToManyBatch<O extends OutputKind = OutputKind> {
  /** x<1> per example: a token id (softmax) or a vector of n_y values. */
  x: readonly Label<O>[];
  /** Target sequences y<1..T>: token ids (softmax; the config's ignoreIndex skips a target,
   *  and −1 — or an ignoreIndex that is no token — only at the end, as padding) or steps of n_y
   *  values. */
  y: readonly Targets<O>[];
  /** Initial state a<0>, (layers, B, n_a) flattened. Default zeros. */
  a0?: ArrayLike<number>;
  /** LSTM initial cell state c<0>, same shape. Default zeros. */
  c0?: ArrayLike<number>;
}

export interface SequenceResult {
  B: number;
  /** Steps of the longest target sequence. */
  T: number;
  /** Each target sequence's length. */
  lengths: number[];
  /** ŷ<t> (teacher-forced), (B, T, n_y), zero past each sequence's end. */
  yhat: Float32Array<ArrayBuffer>;
  loss: number;
}

/** What generate() returns: tokens (softmax) or one vector per step. */
export type Generated<O extends OutputKind> = O extends 'softmax' ? number[] : Float32Array<ArrayBuffer>[];

/** Options of OneToMany.generate. */
export interface OneToManyGenerateOptions<O extends OutputKind = OutputKind> extends Omit<GenerateOptions, 'prefix' | 'onToken'> {
  /** The one input x<1>: a token id (softmax; default config.startToken) or a vector of n_y values (default zeros). */
  x?: Label<O>;
  /** Inputs fed after x to set the state (priming): tokens, or steps of n_y values. Not part of the result. */
  prefix?: Targets<O>;
  /** Called with every generated token (softmax) or vector; return false to stop. */
  onToken?: (value: O extends 'softmax' ? number : Float32Array<ArrayBuffer>, index: number) => void | boolean;
  /** Initial state a<0>, (layers, 1, n_a), e.g. to condition the generation. Default zeros. */
  a0?: ArrayLike<number>;
  /** LSTM initial cell state c<0>. Default zeros. */
  c0?: ArrayLike<number>;
}

export function resolveOneToMany(config: OneToManyConfig, where = 'createModel'): { resolved: ResolvedOneToMany; tokenizers: { y?: Tokenizer } } {
  rejectFields(where, config, 'one-to-many', ['n_x', 'input', 'bidirectional', 'encoder', 'decoder', 'bridge', 'shareEmbeddings']);
  checkKeys(where, 'config', config, KEYS['one-to-many']);
  const n_y = checkInt(where, 'n_y', config.n_y);
  const output = resolveOutput(where, config.output);
  const t = config.tokenizers;
  if (t !== undefined && (typeof t !== 'object' || t === null)) throw new TypeError(`${where}: tokenizers must be an object { y? }, got ${describe(t)}`);
  if (t && (t as { x?: unknown }).x !== undefined) throw new TypeError(`${where}: a one-to-many model reads its own outputs; give its vocabulary as tokenizers.y`);
  if (t) checkKeys(where, 'tokenizers', t, KEYS.outputTokenizers);
  const y = checkTokenizer(where, 'y', t?.y, n_y, 'n_y');
  if (y && output !== 'softmax') throw new TypeError(`${where}: tokenizers.y needs output 'softmax', got output '${output}'`);
  const special = (name: 'startToken' | 'stopToken', fallback: number | undefined): number | null => {
    const v = config[name];
    if (v === undefined) return fallback ?? null;
    if (output !== 'softmax') throw new TypeError(`${where}: ${name} applies to output 'softmax' only, got output '${output}'`);
    return checkToken(where, name, v, n_y);
  };
  const resolved: ResolvedOneToMany = {
    architecture: 'one-to-many',
    ...resolveCell(where, config),
    n_y, output,
    startToken: special('startToken', y?.bos),
    stopToken: special('stopToken', y?.eos),
    ...resolveCommon(where, config),
  };
  // the model reads its own outputs: tokens of the n_y vocabulary when the output is softmax
  Object.assign(resolved, resolveTokenEmbedding(where, config, n_y, 'n_y', headShape(n_y, resolved.n_a, false),
    output === 'softmax' ? undefined : `maps the model's own output tokens and needs output 'softmax', got output '${output}'`));
  Object.assign(resolved, resolveLoss(where, config, resolved.output, resolved.n_y));
  checkModelSize(where, resolved, oneToManyLayout);
  return { resolved, tokenizers: y ? { y } : {} };
}

/** The parameter layout of a one-to-many model: its decoder stack (reading n_y), then the head,
 *  and the embedding table of the tokens it reads (which the head's weight may be). */
export function oneToManyLayout(c: ResolvedOneToMany): LayoutSpec {
  const t = tokenEmbeddingLayout(c, c.n_y, c.n_y);
  return {
    stacks: [{ prefix: t.prefix, spec: { cell: c.cell, n_x: t.n_x, n_a: c.n_a, layers: c.layers, bidirectional: false, bias: c.bias } }],
    head: { n_in: c.n_a, n_y: c.n_y, tied: t.tied, bias: c.headBias !== false },
    embeddings: t.embeddings,
  };
}

export class OneToMany<O extends OutputKind = OutputKind> extends Network<OneToManyBatch<O>> {
  readonly architecture = 'one-to-many' as const;
  /** The configuration with defaults filled in. */
  readonly config: Readonly<ResolvedOneToMany<O>>;
  /** Tokenizers saved with the model. */
  readonly tokenizers: Readonly<{ y?: Tokenizer }>;
  private readonly decoder: Decoder;
  /** The step() stream, stepped in place. */
  private stepRows?: DecodeRows;

  /** Use createModel({ architecture: 'one-to-many', … }). */
  constructor(kernels: Kernels, config: ResolvedOneToMany<O>, backend: Build, tokenizers: { y?: Tokenizer } = {}) {
    super(kernels, backend, buildLayout(oneToManyLayout(config)), config.seed);
    this.config = Object.freeze({ ...config });
    this.tokenizers = Object.freeze({ ...tokenizers });
    const table = config.embedding && embeddingTable(this.layout, 'embedding', config.embedding);
    this.decoder = new Decoder(kernels, this.arena, this.layout, 0, config, config.n_y, config.output, undefined, table, config);
  }

  /** Teacher-forced outputs ŷ<t> and the loss: inputs [x, y<1..T−1>], targets y<1..T>. */
  forward(batch: OneToManyBatch<O>): SequenceResult {
    this.live('forward');
    const p = this.prepare('forward', batch);
    const loss = naming('forward', () => this.decoder.forward(this.weights, p.tf, p.a0, p.c0, this.config.reduction, false));
    const { T, B, lens } = p.tf.packed;
    return { B, T, lengths: lens ? Array.from(lens) : new Array<number>(B).fill(T), yhat: this.decoder.readOutputs(p.tf), loss };
  }

  /** Loss and gradients, plus ∂L/∂a<0> (and ∂L/∂c<0>), (layers, B, n_a). */
  override computeGradients(batch: OneToManyBatch<O>, options?: GradientOptions) {
    const { loss, grads } = super.computeGradients(batch, options);
    const { dh0, dc0 } = this.decoder.stack.readStateGrads();
    return dc0 ? { loss, grads, da0: dh0, dc0 } : { loss, grads, da0: dh0 };
  }

  // --- generation ---

  /** Generate one sequence: feed x (and the prefix), then each chosen ŷ<t> as x<t+1>, until
   *  the stop token (softmax, included in the result) or maxLength. */
  generate(options: OneToManyGenerateOptions<O>): Generated<O> {
    this.live('generate');
    const where = 'generate';
    const o = this.checkGenerate(where, options, KEYS.generateFrom);
    if (this.config.output === 'softmax') {
      const onToken = checkOnToken<(t: number, i: number) => void | boolean>(where, options.onToken);
      if (!onToken) return naming(where, () => this.decoder.tokensNow(this.weights, o.state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!)) as Generated<O>;
      const out: number[] = [];
      for (const token of this.streamFrom(o)) {
        out.push(token);
        if (onToken(token, out.length - 1) === false) break;
      }
      return out as Generated<O>;
    }
    const first = new Float32Array(this.config.n_y);
    if (options.x !== undefined) packVector(where, 'x', options.x, this.config.n_y, 'n_y', first, 0, false);
    const prefix = this.densePrefix(where, options.prefix);
    const onStep = checkOnToken<(v: Float32Array, i: number) => void | boolean>(where, options.onToken, 'vector');
    return this.decoder.generateVectors(where, this.weights, first, o.state, prefix, o.maxLength, options, this.rng, onStep)[0] as Generated<O>;
  }

  /** Generate tokens lazily, one model step per token (softmax). */
  stream(this: OneToMany<'softmax'>, options: OneToManyGenerateOptions<'softmax'>): Generator<number, void, unknown> {
    this.live('stream');
    this.needSoftmax('stream');
    return this.streamFrom(this.checkGenerate('stream', options, KEYS.streamFrom, 1, true));
  }

  /** Generate `count` sequences at once (one model step per token for all), each from x or
   *  the start token (softmax). */
  generateMany(this: OneToMany<'softmax'>, count: number, options: Omit<OneToManyGenerateOptions<'softmax'>, 'onToken' | 'prefix' | 'a0' | 'c0'>): number[][] {
    this.live('generateMany');
    const where = 'generateMany';
    this.needSoftmax(where);
    const B = checkLength(where, 'count', count);
    const o = this.checkGenerate(where, options, KEYS.generateMany, B);
    return naming(where, () => this.decoder.batch(this.weights, this.decoder.zeroState(B), new Array<number>(B).fill(o.start), o.maxLength, o.stop, o.sampler!));
  }

  /** Beam search for the most likely sequences (softmax): best first, at most beamWidth. */
  beamSearch(this: OneToMany<'softmax'>, options: BeamOptions & { x?: number }): Hypothesis[] {
    this.live('beamSearch');
    const where = 'beamSearch';
    this.needSoftmax(where);
    const V = this.config.n_y;
    const { width, maxLength, prefix: { start, prefix }, stop, alpha } = checkBeamOptions(where, options, KEYS.beamSearchFrom, V,
      this.config.stopToken, (o) => ({
        start: this.startToken(where, (o as { x?: number }).x),
        prefix: o.prefix === undefined ? [] : checkTokens(where, 'prefix', o.prefix, V),
      }));
    return naming(where, () => this.decoder.beam(this.weights, this.decoder.zeroState(1), start, prefix, width, maxLength, stop, alpha));
  }

  // --- streams ---

  /** Advance the model by one step from its kept state: feed x<t> (a token id, or a vector
   *  of n_y values) and return ŷ<t>, the distribution of (or the value for) the next step. */
  step(x: Label<O>): Float32Array<ArrayBuffer> {
    this.live('step');
    const where = 'step';
    const first = packLabels(where, [x], this.config.output === 'softmax' ? 'softmax' : 'linear', this.config.n_y, 1, 'x');
    this.stepRows ??= this.decoder.stream(this.weights, this.decoder.zeroState(1));
    return this.stepRows.step(first).slice();
  }

  /** Start a new stream from state a<0> (and c<0>), (layers, 1, n_a); default zeros. */
  resetState(state: { a0?: ArrayLike<number>; c0?: ArrayLike<number> } = {}): void {
    this.live('resetState');
    if (typeof state === 'object' && state !== null) checkKeys('resetState', 'state', state, KEYS.state);
    this.stepRows = this.decoder.stream(this.weights, this.initialState('resetState', state));
  }

  /** The configuration as plain JSON, tokenizers included (saved in model files). */
  toJSON() {
    return { ...this.config, ...tokenizersJSON(this.tokenizers) };
  }

  // --- internals ---

  protected checkBatch(where: string, batch: OneToManyBatch<O>): void {
    this.prepare(where, batch);
  }

  protected lossAndGradients(where: string, batch: OneToManyBatch<O>): number {
    const p = this.prepare(where, batch);
    const loss = this.decoder.forward(this.weights, p.tf, p.a0, p.c0, this.config.reduction, true, this.rng);
    this.kernels.zero_f32(this.grads.ptr, this.layout.size);
    this.decoder.backward(this.weights, this.grads);
    return loss;
  }

  protected override evaluateBatch(where: string, batch: OneToManyBatch<O>, want: StatsWanted): StatSums {
    const p = this.prepare(where, batch);
    this.decoder.forward(this.weights, p.tf, p.a0, p.c0, this.config.reduction, false);
    return this.decoder.stats(want.accuracy)!;
  }

  protected override supportedMetrics(): readonly MetricName[] {
    return metricsFor(this.config.output);
  }

  protected override batchStats(want: StatsWanted): StatSums | undefined {
    return this.decoder.stats(want.accuracy);
  }

  protected releaseWorkspaces(): void {
    this.decoder.release();
  }

  private prepare(where: string, batch: OneToManyBatch<O>) {
    if (typeof batch !== 'object' || batch === null) throw new TypeError(`${where}: batch must be { x, y }, got ${describe(batch)}`);
    const c = this.config;
    if (!Array.isArray(batch.x)) {
      throw new TypeError(`${where}: batch.x must be an array with the one input per example (${c.output === 'softmax' ? 'a token id, e.g. the start token' : `a vector of n_y = ${c.n_y} values`}), got ${describe(batch.x)}`);
    }
    if (batch.y === undefined) throw new TypeError(`${where}: batch.y (the target sequences) is required`);
    // x<1> is a token of the output vocabulary, or a vector in the output space
    const first = packLabels(where, batch.x, c.output === 'softmax' ? 'softmax' : 'linear', c.n_y, batch.x.length, 'x');
    const tf = this.decoder.teacherForce(where, first, batch.y);
    const S = this.decoder.states, B = tf.packed.B;
    if (batch.c0 !== undefined && c.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${c.cell}'`);
    return { tf, a0: checkState(where, 'a0', batch.a0, S, B, c.n_a), c0: checkState(where, 'c0', batch.c0, S, B, c.n_a) };
  }

  /** Token decoding (stream, beam search) needs a softmax output. */
  private needSoftmax(where: string): void {
    if (this.config.output !== 'softmax') throw new TypeError(`${where}: needs output 'softmax', got output '${this.config.output}'`);
  }

  /** Options of a generating call, with its keys; `sequences` generated at once, or one
   *  yielded lazily (stream: no bound on maxLength). */
  private checkGenerate(where: string, options: OneToManyGenerateOptions<O> | Omit<OneToManyGenerateOptions<'softmax'>, 'onToken'>,
                        keys: readonly string[], sequences = 1, lazy = false) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(where, 'options', options, keys);
    const c = this.config;
    const maxLength = checkMaxLength(where, options.maxLength, sequences * (c.output === 'softmax' ? 1 : c.n_y), lazy);
    const o = options as OneToManyGenerateOptions<O>;
    const state = this.initialState(where, { a0: o.a0, c0: o.c0 });
    if (c.output !== 'softmax') {
      if (o.stop !== undefined) throw new TypeError(`${where}: stop is a token id; a ${c.output} output generates maxLength steps`);
      return { maxLength, state, start: 0, stop: null, prefix: [] as number[], sampler: undefined };
    }
    const start = this.startToken(where, o.x as number | undefined);
    const prefix = o.prefix === undefined ? [] : checkTokens(where, 'prefix', o.prefix, c.n_y);
    const stop = checkStop(where, o.stop, c.n_y, c.stopToken);
    const sampler: Sampler = resolveSampling(where, options as SamplingOptions, c.n_y, this.rng);
    return { maxLength, state, start, stop, prefix, sampler };
  }

  private streamFrom(o: ReturnType<OneToMany<O>['checkGenerate']>): Generator<number, void, unknown> {
    return this.decoder.tokens(this.weights, o.state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!);
  }

  private startToken(where: string, x: number | undefined): number {
    if (x !== undefined) return checkToken(where, 'x', x, this.config.n_y);
    if (this.config.startToken === null) throw new TypeError(`${where}: x (the first token) is required: this model has no startToken`);
    return this.config.startToken;
  }

  private densePrefix(where: string, prefix: unknown): Float32Array[] {
    if (prefix === undefined) return [];
    const n = this.config.n_y;
    if (!isArrayLike(prefix)) throw new TypeError(`${where}: prefix must be a sequence of vectors of n_y = ${n} values, got ${describe(prefix)}`);
    const rows = isArrayLike(prefix[0]);
    const steps = rows ? prefix.length : prefix.length / n;
    return Array.from({ length: steps }, (_, t) => {
      const v = new Float32Array(n);
      packVector(where, `prefix[${t}]`, rows ? prefix[t] : Array.prototype.slice.call(prefix, t * n, (t + 1) * n), n, 'n_y', v, 0, false);
      return v;
    });
  }

  private initialState(where: string, s: { a0?: ArrayLike<number>; c0?: ArrayLike<number> }): State {
    if (typeof s !== 'object' || s === null) throw new TypeError(`${where}: state must be { a0?, c0? }, got ${describe(s)}`);
    const S = this.decoder.states, H = this.config.n_a;
    if (s.c0 !== undefined && this.config.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${this.config.cell}'`);
    const zero = this.decoder.zeroState(1);
    const h = checkState(where, 'a0', s.a0, S, 1, H) ?? zero.h;
    const c = checkState(where, 'c0', s.c0, S, 1, H) ?? zero.c;
    return c ? { h, c } : { h };
  }
}

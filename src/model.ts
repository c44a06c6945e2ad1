// The recurrent model: configuration, weights, the sequence API and training.
//
//   a<t> = act(W_aa a<t-1> + b_a + W_ax x<t> + b_x)      a<0> = 0 unless given
//   ŷ<t> = g(W_ya a<t> + b_y)                             g = softmax | sigmoid | identity
//   L    = Σ_t L<t>(ŷ<t>, y<t>)                           cross-entropy or squared error
//
// The cell may also be an LSTM or a GRU (PyTorch's equations and weights), stacked in
// `layers` and run in one or two directions (stack.ts). T = time steps, B = sequences per
// batch, n_x = input size, n_a = hidden size, n_y = output size. One forward call per
// cell runs every step in wasm; one backward call per cell runs BPTT; clipping and the
// optimizer step are single loops over the flat parameter region. In training, dropout
// (assembly/dropout.ts) may zero outputs between stacked layers (`dropout`) and the top
// layer's output before the head (`outputDropout`); inference never drops anything. Token
// input may go through an embedding table (src/embedding.ts), whose weight the head may share.
// A language model (token input, softmax output, n_x = n_y, one direction) generates with
// decode.ts's decoders on batch-1 steppers (stepper.ts), one per generation in progress.
import { naming, type Region } from './arena.js';
import {
  packInputs, packTargets, stepMask, type InputKind, type OutputKind, type PackedInput, type Sequence, type Targets,
} from './data.js';
import {
  applyTensors, checkLoadOptions, checkTensorCount, configFromFile, decodeModelFile, matchTensors, type LoadOptions,
} from './io.js';
import { Network, type GradientOptions, type MetricName, type StatsWanted, type WindowLoss } from './network.js';
import type { StatSums } from './checkpoint.js';
import { KEYS } from './keys.js';
import { buildLayout, type CellKind, type LayoutSpec } from './layout.js';
import { checkLength, checkMaxLength, checkModelSize, describeSizes, layoutCounts } from './limits.js';
import {
  beamSearch, checkBeamOptions, checkOnToken, checkStop, checkTokens, decodeBatch, generateTokens, resolveSampling,
  type BeamOptions, type GenerateOptions, type Hypothesis, type Sampler, type TokenStepper,
} from './decode.js';
import { Random, randomSeed } from './random.js';
import { dropoutMask, Stack, toBatchMajor } from './stack.js';
import { Head } from './head.js';
import { metricsFor, resolveBias, resolveHeadBias } from './arch/common.js';
import { resolveLoss, type LossConfig, type ResolvedLoss } from './loss.js';
import { Stepper, StepperPool } from './stepper.js';
import {
  embeddingTable, headShape, resolveTokenEmbedding, tokenEmbeddingLayout, unlessTokens, type ResolvedTokenEmbedding, type TokenEmbeddingConfig,
} from './embedding.js';
import type { DecodedSafetensors } from './safetensors.js';
import {
  checkBackend, checkBoolean, checkChoice, checkFloats, checkInt, checkKeys, checkNumber, describe, type NoExtra,
} from './validate.js';
import { withEngine, type Backend, type Build, type Kernels } from './wasm.js';

// --- configuration ---

/** What createRNN takes. Every field is documented with its default (the loss's options —
 *  classWeights, labelSmoothing, ignoreIndex, posWeight — in src/loss.ts). */
export interface RNNConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends TokenEmbeddingConfig, LossConfig {
  /** Recurrent cell: 'rnn' (the vanilla/Elman cell), 'lstm' or 'gru'. Default 'rnn'. */
  cell?: CellKind;
  /** Input size: features per step, or vocabulary size for token inputs. */
  n_x: number;
  /** Hidden size: units in a<t>. */
  n_a: number;
  /** Output size: classes (softmax), labels (sigmoid) or values (linear). */
  n_y: number;
  /** 'tokens' (x<t> is an integer id, one-hot) or 'dense' (x<t> is a vector). Default 'dense'. */
  input?: I;
  /** Output non-linearity g, which fixes the loss: 'softmax' → cross-entropy, 'sigmoid' →
   *  binary cross-entropy, 'linear' → squared error. Default 'softmax'. */
  output?: O;
  /** Non-linearity of the vanilla cell ('rnn' only). Default 'tanh'. */
  activation?: 'tanh' | 'relu';
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Run a second, reversed pass and concatenate both per step, as PyTorch. Default false. */
  bidirectional?: boolean;
  /** GRU only: true is PyTorch's form, r ⊙ (W_hn h + b_hn); false applies the reset gate
   *  before the matmul, W_hn (r ⊙ h) (Keras reset_after=False). Default true. */
  resetAfter?: boolean;
  /** Dropout probability on the outputs of every layer but the last (PyTorch's `dropout`),
   *  in training only; needs layers ≥ 2. Default 0. */
  dropout?: number;
  /** false: the recurrent layers have no biases (PyTorch's bias=False): no bias_ih / bias_hh
   *  tensors (nor b_x, b_a), the cells computed with zero biases. The output layer keeps its
   *  bias (see headBias). Default true. */
  bias?: boolean;
  /** false: the output layer has no bias (nn.Linear's bias=False, Keras Dense's
   *  use_bias=False): no 'head.bias' (nor b_y), ŷ<t> = g(W_ya a<t>), nothing to train.
   *  Default true. */
  headBias?: boolean;
  /** Dropout probability on the top layer's output before the output layer (an nn.Dropout
   *  before the nn.Linear), in training only. Default 0. */
  outputDropout?: number;
  /** 'sum': L = Σ over steps and sequences (the textbook's Σ_t L<t>); 'mean': divided by the
   *  number of terms (steps for softmax; steps × n_y otherwise), as PyTorch. Default 'sum'. */
  reduction?: 'sum' | 'mean';
  /** Seed for initialisation, shuffling and sampling. Default: drawn at random and recorded
   *  in `config.seed`, so any run can be repeated. */
  seed?: number;
  /** Kernel build. Default 'auto' (SIMD when the runtime supports it). */
  backend?: Backend;
}

/** A config with every default filled in (model.config, and what toJSON returns). */
export interface ResolvedConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ResolvedTokenEmbedding, ResolvedLoss {
  cell: CellKind;
  n_x: number;
  n_a: number;
  n_y: number;
  input: I;
  output: O;
  activation: 'tanh' | 'relu';
  layers: number;
  bidirectional: boolean;
  resetAfter: boolean;
  dropout: number;
  /** Present (false) only for layers without biases, so configs and files of models with
   *  biases are as they were. */
  bias?: false;
  /** Present (false) only for an output layer without a bias, likewise. */
  headBias?: false;
  outputDropout: number;
  reduction: 'sum' | 'mean';
  seed: number;
}

/** The kinds a config type's field K may hold: its literal, or the union it declares, plus
 *  the default when the field may be left out (optional, or `| undefined`); the default alone
 *  when the type has no such field; every kind when it is `any`. Read per member of a union. */
type KindOf<C, K extends string, Kind extends string, Default extends Kind> =
  C extends unknown
    ? K extends keyof C
      ? 0 extends 1 & C[K] ? Kind
        : Extract<C[K], Kind> | ({} extends Pick<C, K> ? Default : undefined extends C[K] ? Default : never)
      : Default
    : never;

/** The input kind of a model made from a config of type C (default 'dense'). */
export type InputOf<C> = KindOf<C, 'input', InputKind, 'dense'>;
/** The output kind of a model made from a config of type C (default 'softmax'). */
export type OutputOf<C> = KindOf<C, 'output', OutputKind, 'softmax'>;

/** createRNN's checks and defaults: a config with every field filled in, or a clear error. */
export function resolveConfig(config: RNNConfig, where = 'createRNN'): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new TypeError(`${where}: config must be an object, got ${describe(config)}`);
  if (where === 'createRNN' && (config as { tokenizers?: unknown }).tokenizers !== undefined) {
    throw new TypeError(`${where}: config has no field "tokenizers": an RNN keeps none; createModel({ architecture: 'many-to-many', …, tokenizers }) makes the same model with its tokenizers, saved in its file`);
  }
  checkKeys(where, 'config', config, KEYS.rnn);
  checkBackend(where, 'backend', config.backend);
  const cell = checkChoice(where, 'cell', config.cell ?? 'rnn', ['rnn', 'lstm', 'gru'] as const);
  if (config.activation === 'relu' && cell !== 'rnn') {
    throw new TypeError(`${where}: activation 'relu' applies to cell 'rnn' only; the ${cell} cell uses its own gate non-linearities`);
  }
  if (config.resetAfter === false && cell !== 'gru') {
    throw new TypeError(`${where}: resetAfter applies to cell 'gru' only, got cell '${cell}'`);
  }
  const layers = checkInt(where, 'layers', config.layers ?? 1);
  const dropout = checkNumber(where, 'dropout', config.dropout ?? 0, 0, 0.99);
  if (dropout > 0 && layers < 2) {
    throw new RangeError(`${where}: dropout acts between stacked layers and needs layers ≥ 2, got layers = ${layers}; use outputDropout for dropout before the output layer`);
  }
  const resolved: ResolvedConfig = {
    cell,
    n_x: checkInt(where, 'n_x', config.n_x),
    n_a: checkInt(where, 'n_a', config.n_a),
    n_y: checkInt(where, 'n_y', config.n_y),
    input: checkChoice(where, 'input', config.input ?? 'dense', ['tokens', 'dense'] as const),
    output: checkChoice(where, 'output', config.output ?? 'softmax', ['softmax', 'sigmoid', 'linear'] as const),
    activation: checkChoice(where, 'activation', config.activation ?? 'tanh', ['tanh', 'relu'] as const),
    layers,
    bidirectional: checkBoolean(where, 'bidirectional', config.bidirectional ?? false),
    resetAfter: checkBoolean(where, 'resetAfter', config.resetAfter ?? true),
    dropout,
    ...resolveBias(where, 'bias', config.bias),
    ...resolveHeadBias(where, config.headBias),
    outputDropout: checkNumber(where, 'outputDropout', config.outputDropout ?? 0, 0, 0.99),
    reduction: checkChoice(where, 'reduction', config.reduction ?? 'sum', ['sum', 'mean'] as const),
    seed: config.seed === undefined ? randomSeed() : checkInt(where, 'seed', config.seed, 0),
  };
  Object.assign(resolved, resolveTokenEmbedding(where, config, resolved.n_x, 'n_x',
    headShape(resolved.n_y, resolved.n_a, resolved.bidirectional), unlessTokens(resolved.input)));
  Object.assign(resolved, resolveLoss(where, config, resolved.output, resolved.n_y));
  checkModelSize(where, resolved, rnnLayout);
  return resolved;
}

/** The parameter layout of an RNN: its stack, then the output layer on D·n_a, and the
 *  embedding table (which the output layer's weight may be). */
export function rnnLayout(config: ResolvedConfig): LayoutSpec {
  const D = config.bidirectional ? 2 : 1;
  const t = tokenEmbeddingLayout(config, config.n_x, config.n_x);
  return {
    stacks: [{ prefix: t.prefix, spec: { ...config, n_x: t.n_x } }],
    head: { n_in: D * config.n_a, n_y: config.n_y, tied: t.tied, bias: config.headBias !== false },
    embeddings: t.embeddings,
  };
}

// --- the sequence API's types ---

/** B sequences, with optional targets and initial state. Lengths may differ (a ragged batch):
 *  each sequence is run to its own end, and padding never changes a result. */
export interface Batch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> {
  /** B input sequences: token ids (input 'tokens') or per-step feature vectors ('dense'). */
  x: readonly Sequence<I>[];
  /** B target sequences: T class ids (softmax; −1, or the config's ignoreIndex, skips a step)
   *  or T vectors of n_y values. */
  y?: readonly Targets<O>[];
  /** Initial state a<0> (PyTorch's h0), (layers · directions, B, n_a) flattened. Default zeros. */
  a0?: ArrayLike<number>;
  /** LSTM initial cell state c<0>, same shape as a0. Default zeros. */
  c0?: ArrayLike<number>;
}

/** A batch that has targets (training, gradients). */
export interface LabeledBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends Batch<I, O> {
  y: readonly Targets<O>[];
}

export interface ForwardResult {
  /** Steps of the longest sequence: outputs are padded to T. */
  T: number;
  B: number;
  /** Each sequence's own length. */
  lengths: number[];
  /** ŷ<t> for every step, (B, T, n_y): yhat[(b·T + t)·n_y + k]. */
  yhat: Float32Array<ArrayBuffer>;
  /** a<t> of the top layer for every step, (B, T, directions · n_a): PyTorch's `output`. */
  a: Float32Array<ArrayBuffer>;
  /** Final state a<T> of every layer and direction, (layers · directions, B, n_a): PyTorch's
   *  h_n, and the a0 that continues the sequence. */
  aT: Float32Array<ArrayBuffer>;
  /** LSTM final cell state, same shape as aT. */
  cT?: Float32Array<ArrayBuffer>;
  /** The loss when targets were given (reduced as config.reduction says). */
  loss?: number;
}

export interface Gradients {
  loss: number;
  /** ∂L/∂θ per tensor (copies), by canonical name, or by the names asked for (seed aliases too:
   *  { names: ['W_aa'] } gives grads.W_aa). */
  grads: Record<string, Float32Array<ArrayBuffer>>;
  /** ∂L/∂a<0>, (layers · directions, B, n_a). */
  da0: Float32Array<ArrayBuffer>;
  /** LSTM: ∂L/∂c<0>, same shape. */
  dc0?: Float32Array<ArrayBuffer>;
  /** Dense input: ∂L/∂x, (B, T, n_x). */
  dx?: Float32Array<ArrayBuffer>;
}

export interface SampleOptions {
  /** Tokens to generate. */
  length: number;
  /** Tokens fed first to set the state (none are returned). Default: start from token 0. */
  prime?: ArrayLike<number>;
  /** Softmax temperature; 0 is greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens. Default: all. */
  topK?: number;
  /** Nucleus sampling: draw only among the fewest most likely tokens (of those top-k keeps)
   *  whose probabilities sum to ≥ topP, in (0, 1]. Default 1. */
  topP?: number;
  /** Seed for the sampling; default: the model's own generator. */
  seed?: number;
}

/** Options of a language model's generate (RNN, many-to-many): the one-to-many's, but a
 *  language model has no start or stop token of its own. */
export interface LMGenerateOptions extends Omit<GenerateOptions, 'prefix' | 'stop'> {
  /** Tokens fed first to set the state, at least one: prefix[0] is the first input x<1>, and
   *  the first generated token is chosen from ŷ after the last. Not part of the result. */
  prefix: ArrayLike<number>;
  /** Token that ends a sequence (it is included in the result); null: none. Default none. */
  stop?: number | null;
}

/** Options of a language model's beam search: the one-to-many's, with the prefix required. */
export interface LMBeamOptions extends Omit<BeamOptions, 'prefix' | 'stop'> {
  /** Tokens fed first to set the state, at least one (prefix[0] is the first input). */
  prefix: ArrayLike<number>;
  /** Token that ends a hypothesis; null: none (every hypothesis runs to maxLength). Default none. */
  stop?: number | null;
}

// --- the model ---

/** Options of loadRNN: where the tensors are in the file, and the config when the file has none. */
export interface LoadRNNOptions extends LoadOptions {
  /** The model's config. Required for files without one (e.g. written by PyTorch); when the
   *  file has one too, this one wins. */
  config?: RNNConfig;
  /** Kernel build. Default 'auto'. */
  backend?: Backend;
}

/** A model from a safetensors file written by save(), or by PyTorch's
 *  safetensors.torch.save_file(module.state_dict()) given options.config. The whole file is
 *  checked against the config before the model is built. */
export async function loadRNN(bytes: Uint8Array | ArrayBuffer, options: LoadRNNOptions = {}): Promise<RNN> {
  const where = 'loadRNN';
  const o = checkLoadOptions(where, options, KEYS.loadRNN) as LoadRNNOptions;
  const file = decodeModelFile(where, bytes);
  const given = o.config !== undefined;
  const config = given ? o.config : rnnConfigFromFile(where, file);
  if (config === undefined) {
    throw new TypeError(`${where}: the file carries no rnn-wasm config (a PyTorch state_dict?); pass options.config, e.g. { cell: 'lstm', n_x, n_a, n_y, layers }`);
  }
  const resolved = resolveConfig(config, `${where}: ${given ? 'options.config' : "the file's config"}`);
  const backend = o.backend === undefined ? config.backend ?? 'auto' : checkBackend(where, 'options.backend', o.backend);
  const spec = rnnLayout(resolved);
  checkTensorCount(where, file, layoutCounts(spec), describeSizes(resolved));
  const match = matchTensors(where, buildLayout(spec), file, o);
  const model = await withEngine(where, backend, (engine) => new RNN(engine.kernels, resolved, engine.backend));
  model.setWeights(applyTensors(match, model.getWeights()));
  return model;
}

/** The RNN config of a file: an RNN's, or a many-to-many model's (the same model, whose
 *  tokenizers an RNN does not keep). */
function rnnConfigFromFile(where: string, file: DecodedSafetensors): RNNConfig | undefined {
  const saved = configFromFile(where, file);
  if (saved === undefined) return undefined;
  const { architecture, tokenizers: _, ...rest } = saved;
  if (architecture === undefined) return saved as unknown as RNNConfig;
  if (architecture !== 'many-to-many') {
    throw new TypeError(`${where}: the file holds a ${typeof architecture === 'string' ? `'${architecture}'` : describe(architecture)} model; load it with loadModel`);
  }
  return rest as unknown as RNNConfig;
}

/** Create a recurrent model. Compiles the kernels on first use; everything after is synchronous. */
export async function createRNN<const C extends RNNConfig>(config: NoExtra<C, RNNConfig>): Promise<RNN<InputOf<C>, OutputOf<C>>> {
  const where = 'createRNN';
  const resolved = resolveConfig(config, where);
  return withEngine(where, checkBackend(where, 'backend', config.backend),
    (engine) => new RNN(engine.kernels, resolved as ResolvedConfig<InputOf<C>, OutputOf<C>>, engine.backend));
}

/** Output-layer workspace, sized for the largest T·B seen. Time-major. */
/** The dropout before the head (outputDropout), for T·B rows. */
interface DropoutWork {
  rows: number;        // capacity in T·B rows
  M: Region;           // (T·B, D·n_a) mask
  Xd: Region;          // (T·B, D·n_a) the head's input after dropout
}

/** What the last forward pass with targets ran: for metrics. */
interface LastRun {
  packed: PackedInput;
  targets: Int32Array | Float32Array;
  /** Σ per-term loss, unscaled. */
  total: number;
  /** Per-step weights (0: padding), when some sequence is shorter than T. */
  mask?: Float32Array;
}

export class RNN<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends Network<LabeledBatch<I, O>> {
  /** The configuration with defaults filled in. */
  readonly config: Readonly<ResolvedConfig<I, O>>;

  private stack: Stack;
  /** The output layer over the top layer's outputs at every step. */
  private readonly head: Head;
  private dropoutWork?: DropoutWork;
  /** Steppers of generations in progress, one each (made on first use). */
  private pool?: StepperPool;
  /** The stepper of a subclass's step() stream (made on first use). */
  private streamer?: Stepper;
  /** Whether the last forward pass applied dropout before the head. */
  private headDropped = false;
  private last?: LastRun;

  /** Use createRNN(). */
  constructor(kernels: Kernels, config: ResolvedConfig<I, O>, backend: Build) {
    super(kernels, backend, buildLayout(rnnLayout(config)), config.seed);
    this.config = Object.freeze({ ...config, ...(config.embedding ? { embedding: Object.freeze({ ...config.embedding }) } : {}) });
    this.stack = new Stack(kernels, this.arena, this.layout, 0, {
      cell: config.cell, n_x: config.n_x, n_a: config.n_a, layers: config.layers, bidirectional: config.bidirectional,
      activation: config.activation, resetAfter: config.resetAfter, tokens: config.input === 'tokens',
      dropout: config.dropout, embedding: config.embedding && embeddingTable(this.layout, 'embedding', config.embedding),
      ...(config.bias === false ? { bias: false } : {}),
    });
    const head = this.layout.head()!;
    this.head = new Head(kernels, this.arena, head.weight, head.bias, this.stack.n_out, config.n_y, config.output, false, config);
  }

  // --- forward and gradients ---

  /** Run the model over a batch: per-step outputs ŷ and states a, and the loss if y is given. */
  forward(batch: Batch<I, O>): ForwardResult {
    return this.forwardAs('forward', batch);
  }

  /** forward(), its errors in the name of `where` (predict calls it). */
  protected forwardAs(where: string, batch: Batch<I, O>): ForwardResult {
    this.live(where);
    const { packed, targets, a0, c0 } = this.prepare(where, batch, false);
    const loss = naming(where, () => this.run(packed, targets, a0, c0, false));
    return this.readForward(packed, targets ? loss : undefined);
  }

  /** Loss and the gradient of every parameter for a batch, and of the initial states and the
   *  (dense) input; the weights are not changed. */
  override computeGradients(batch: LabeledBatch<I, O>, options?: GradientOptions): Gradients {
    const { loss, grads } = super.computeGradients(batch, options);
    const { dh0, dc0 } = this.stack.readStateGrads();
    const result: Gradients = { loss, grads, da0: dh0 };
    if (dc0) result.dc0 = dc0;
    const dx = this.stack.readInputGrad();
    if (dx) result.dx = dx;
    return result;
  }

  protected checkBatch(where: string, batch: LabeledBatch<I, O>): void {
    this.prepare(where, batch, true);
  }

  protected lossAndGradients(where: string, batch: LabeledBatch<I, O>): number {
    const { packed, targets, a0, c0 } = this.prepare(where, batch, true);
    const loss = this.run(packed, targets!, a0, c0, true);
    this.backward(packed.T, packed.B);
    return loss;
  }

  /** Truncated BPTT: windows of k steps; each starts from the final state of the one before
   *  (hT, and cT for the LSTM), copied out as plain data, so no gradient crosses. */
  protected override *truncatedWindows(where: string, batch: LabeledBatch<I, O>, k: number): Generator<WindowLoss, number, void> {
    const c = this.config;
    if (c.bidirectional) {
      throw new TypeError(`${where}: tbptt needs a one-directional model; a bidirectional layer reads every step's future`);
    }
    const { packed, targets, a0, c0 } = this.prepare(where, batch, true);
    const { T, B, lens } = packed;
    const xw = c.input === 'tokens' ? 1 : c.n_x, yw = c.output === 'softmax' ? 1 : c.n_y;
    let h: Float32Array | undefined = a0, cs: Float32Array | undefined = c0;
    let total = 0, terms = 0;
    for (let t0 = 0; t0 < T; t0 += k) {
      const t1 = Math.min(T, t0 + k), Tw = t1 - t0;
      // time-major: steps t0..t1−1 are rows t0·B .. t1·B, one contiguous block
      const wl = lens && Int32Array.from(lens, (n) => Math.max(0, Math.min(n - t0, Tw)));
      const win: PackedInput = {
        T: Tw, B, x: packed.x.subarray(t0 * B * xw, t1 * B * xw), lens: wl && wl.some((n) => n !== Tw) ? wl : undefined,
      };
      const y = targets!.subarray(t0 * B * yw, t1 * B * yw);
      const loss = this.run(win, y, h, cs, true);
      this.backward(Tw, B);
      total += this.last!.total;
      const n = this.termsOf(win, y);
      terms += n;
      ({ hT: h, cT: cs } = this.stack.finalStates());
      // a window with nothing to predict has a zero gradient (and, as a mean, a NaN loss): no
      // step. A worker sends it all the same (its shard weighs 0 in the window, or with
      // smoothing its summed gradient, Head.meanScale), so every shard's windows stay in step
      // with the others'; the calling thread makes no step when the window has no terms at all.
      if (c.reduction === 'sum' || Head.shardOfMany || this.head.meanScale(n) !== 0) yield { loss, t0, t1 };
    }
    return c.reduction === 'mean' ? (terms > 0 ? total / terms : NaN) : total;
  }

  protected override supportedMetrics(): readonly MetricName[] {
    return metricsFor(this.config.output);
  }

  protected override evaluateBatch(where: string, batch: LabeledBatch<I, O>, want: StatsWanted): StatSums {
    const { packed, targets, a0, c0 } = this.prepare(where, batch, true);
    this.run(packed, targets, a0, c0, false);
    return this.batchStats(want);
  }

  /** Loss sums and, if wanted, accuracy of the last forward pass with targets. */
  protected override batchStats(want: StatsWanted): StatSums {
    const { packed, targets, mask } = this.last!;
    return this.head.stats(packed.T * packed.B, targets, mask, want.accuracy === true);
  }

  // --- generation ---

  /** Generate tokens one at a time, feeding each sampled ŷ<t> back as x<t+1>: one wasm call
   *  per token (cell, head, softmax and the draw), nothing allocated per token.
   *  Needs token input and softmax output over the same vocabulary (n_x = n_y), one direction. */
  sample(options: SampleOptions): number[] {
    this.live('sample');
    const where = 'sample';
    const c = this.config;
    this.needLanguageModel(where);
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be { length, prime?, temperature?, topK?, topP?, seed? }, got ${describe(options)}`);
    checkKeys(where, 'options', options, KEYS.sample);
    const length = checkLength(where, 'length', options.length, 0);
    const temperature = checkNumber(where, 'temperature', options.temperature ?? 1, 0);
    const topK = options.topK === undefined ? c.n_y : checkInt(where, 'topK', options.topK);
    const topP = checkNumber(where, 'topP', options.topP ?? 1);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`${where}: topP must be a number in (0, 1], got ${topP}`);
    const rng = options.seed === undefined ? this.rng : new Random(checkInt(where, 'seed', options.seed, 0));
    // temperature 0 is greedy; otherwise the shared sampler (temperature, then top-k, then top-p)
    const sampler = { greedy: temperature === 0, temperature: temperature || 1, topK: Math.min(topK, c.n_y), topP, rng };
    const prime = options.prime === undefined ? [0] : checkTokens(where, 'prime', options.prime, c.n_x);
    if (prime.length === 0) throw new RangeError(`${where}: prime must hold at least one token, got an empty sequence`);
    return naming(where, () => this.generators().use((s) => {
      s.reset(1);
      return s.withPackedWeights(prime.length + length, () => Array.from(generateTokens(s, prime[0], prime.slice(1), length, null, sampler)));
    }));
  }

  // The decoding API of the other generating architectures, for a language model: token input
  // and softmax output over one vocabulary (n_x = n_y), one direction. A language model has no
  // start token: the prefix (at least one token) is fed first, prefix[0] as x<1>, and the first
  // token is chosen from ŷ after the prefix's last. Each generation runs on a stepper of its own.

  /** Generate one sequence after `prefix`: each chosen token is fed back as the next input,
   *  until the stop token (included in the result) or maxLength. */
  generate(options: LMGenerateOptions): number[] {
    this.live('generate');
    const where = 'generate';
    const o = this.checkGenerate(where, options, KEYS.generate, 1, false);
    const onToken = checkOnToken<(token: number, index: number) => void | boolean>(where, options.onToken);
    if (onToken) {
      // user code runs between tokens: step the weights as they lie, as stream() does
      const out: number[] = [];
      for (const token of this.tokens(o)) {
        out.push(token);
        if (onToken(token, out.length - 1) === false) break;
      }
      return out;
    }
    return naming(where, () => this.generators().use((s) => {
      s.reset(1);
      return s.withPackedWeights(o.prefix.length + o.maxLength,
        () => Array.from(generateTokens(s, o.prefix[0], o.prefix.slice(1), o.maxLength, o.stop, o.sampler)));
    }));
  }

  /** generate() lazily: one model step per token taken. maxLength has no upper bound. */
  stream(options: Omit<LMGenerateOptions, 'onToken'>): Generator<number, void, unknown> {
    this.live('stream');
    return this.tokens(this.checkGenerate('stream', options, KEYS.stream, 1, true));
  }

  /** Generate `count` sequences after the same prefix, in lockstep (one model step per token
   *  for all); each ends at its own stop token. */
  generateMany(count: number, options: Omit<LMGenerateOptions, 'onToken'>): number[][] {
    this.live('generateMany');
    const where = 'generateMany';
    this.needLanguageModel(where);
    const B = checkLength(where, 'count', count);
    const o = this.checkGenerate(where, options, KEYS.generateManyAfter, B, false);
    const last = o.prefix[o.prefix.length - 1];
    return naming(where, () => this.generators().use((s) => {
      s.reset(1, undefined, undefined, B);
      return s.withPackedWeights(o.prefix.length + o.maxLength, () => {
        // the prefix but its last token once, then that state for every sequence
        for (const t of o.prefix.slice(0, -1)) s.feed(t);
        s.select(new Array<number>(B).fill(0));
        return decodeBatch(stepperRows(this.config.n_y), s, new Array<number>(B).fill(last), o.maxLength, o.stop, o.sampler);
      });
    }));
  }

  /** Beam search for the most likely continuations of `prefix`: best first, at most beamWidth. */
  beamSearch(options: LMBeamOptions): Hypothesis[] {
    this.live('beamSearch');
    const where = 'beamSearch';
    this.needLanguageModel(where);
    const V = this.config.n_y;
    const { width, maxLength, prefix, stop, alpha } = checkBeamOptions(where, options, KEYS.beamSearch, V, null, (o) => this.checkPrefix(where, o.prefix));
    return naming(where, () => this.generators().use((s) => {
      s.reset(1, undefined, undefined, width);
      return s.withPackedWeights(prefix.length + maxLength,
        () => beamSearch(stepperRows(V), s, prefix[0], prefix.slice(1), width, maxLength, stop, alpha));
    }));
  }

  // --- lifetime ---

  /** The configuration as plain JSON (round-trips through createRNN). */
  toJSON(): ResolvedConfig<I, O> {
    const c = { ...this.config };
    if (c.embedding) c.embedding = { ...c.embedding };
    return c;
  }

  protected releaseWorkspaces(): void {
    this.releaseDropout();
    this.head.release();
    this.stack.release();
    this.pool?.release();
    this.streamer?.release();
  }

  /** The stepper of a subclass's step() stream, made on first use (one direction only). */
  protected stepper(): Stepper {
    return this.streamer ??= this.makeStepper();
  }

  // --- internals ---

  /** A batch-1 stepper of the stack and the head. */
  private makeStepper(): Stepper {
    const head = this.layout.head()!;
    return new Stepper(this.kernels, this.arena, this.layout, 0, this.stack.config, this.weights,
      { weight: head.weight, bias: head.bias, output: this.config.output });
  }

  /** The pool of generation steppers, made on first use. */
  private generators(): StepperPool {
    return this.pool ??= new StepperPool(() => this.makeStepper());
  }

  /** Token decoding needs a language model: token input, softmax output, n_x = n_y, one direction. */
  private needLanguageModel(where: string): void {
    const c = this.config;
    if (c.input !== 'tokens' || c.output !== 'softmax' || c.n_x !== c.n_y) {
      throw new TypeError(`${where}: needs input 'tokens' and output 'softmax' with n_x = n_y (a language model), got input '${c.input}', output '${c.output}', n_x = ${c.n_x}, n_y = ${c.n_y}`);
    }
    if (c.bidirectional) throw new TypeError(`${where}: a bidirectional model reads each sequence backwards too, so it cannot generate one token at a time`);
  }

  /** The prefix of a language model's generation: at least one token, the first being x<1>. */
  private checkPrefix(where: string, prefix: unknown): number[] {
    if (prefix === undefined) {
      throw new TypeError(`${where}: prefix is required: at least one token, the first of which is the first input (a language model has no start token)`);
    }
    const tokens = checkTokens(where, 'prefix', prefix, this.config.n_x);
    if (tokens.length === 0) throw new RangeError(`${where}: prefix must hold at least one token (the first input), got an empty sequence`);
    return tokens;
  }

  /** A language model's generating options, with its keys; `sequences` generated at once, or
   *  one yielded lazily (stream: no bound on maxLength). Checks everything before any wasm. */
  private checkGenerate(where: string, options: unknown, keys: readonly string[], sequences: number, lazy: boolean) {
    this.needLanguageModel(where);
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(where, 'options', options, keys);
    const o = options as Omit<LMGenerateOptions, 'onToken'>, V = this.config.n_y;
    const maxLength = checkMaxLength(where, o.maxLength, sequences, lazy);
    const prefix = this.checkPrefix(where, o.prefix);
    const stop = checkStop(where, o.stop, V, null);
    const sampler: Sampler = resolveSampling(where, o, V, this.rng);
    return { maxLength, prefix, stop, sampler };
  }

  /** Tokens generated lazily after the prefix, on a stepper of their own (taken at the first
   *  token, given back when the generation ends or is returned). */
  private tokens(o: ReturnType<RNN['checkGenerate']>): Generator<number, void, unknown> {
    return this.generators().stream((s) => {
      s.reset(1);
      return generateTokens(s, o.prefix[0], o.prefix.slice(1), o.maxLength, o.stop, o.sampler);
    });
  }

  /** Validate and pack a batch before any wasm memory is touched. */
  private prepare(where: string, batch: Batch<I, O>, needTargets: boolean) {
    if (typeof batch !== 'object' || batch === null) throw new TypeError(`${where}: batch must be { x, y? }, got ${describe(batch)}`);
    const c = this.config;
    const packed = packInputs(where, batch.x, c.input, c.n_x);
    if (needTargets && batch.y === undefined) throw new TypeError(`${where}: batch.y (targets) is required`);
    const targets = batch.y === undefined ? undefined : packTargets(where, batch.y, c.output, c.n_y, packed, c.ignoreIndex);
    const S = this.stack.states;
    const state = (name: 'a0' | 'c0', v: ArrayLike<number> | undefined) => v === undefined ? undefined
      : Float32Array.from(checkFloats(where, `${name} (layers · directions × B × n_a = ${S} × ${packed.B} × ${c.n_a})`, v, S * packed.B * c.n_a));
    if (batch.c0 !== undefined && c.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${c.cell}'`);
    return { packed, targets, a0: state('a0', batch.a0), c0: state('c0', batch.c0) };
  }

  /** The dropout workspace for `rows` rows. Allocates: take views only after it. */
  private ensureDropout(rows: number): DropoutWork {
    const ws = this.dropoutWork;
    if (ws && ws.rows >= rows) return ws;
    this.arena.replacing(() => { this.dropoutWork = ws; });   // a refused call puts it back (arena.ts: atomic)
    this.releaseDropout();
    const n = rows * this.stack.n_out;
    const M = this.arena.alloc(n, 'the dropout workspace');
    try {
      return this.dropoutWork = { rows, M, Xd: this.arena.alloc(n, 'the dropout workspace') };
    } catch (e) {
      this.arena.release(M);
      throw e;
    }
  }

  private releaseDropout(): void {
    const ws = this.dropoutWork;
    if (!ws) return;
    this.arena.release(ws.M);
    this.arena.release(ws.Xd);
    this.dropoutWork = undefined;
  }

  /** Forward over all layers and steps; returns the loss (NaN when there are no targets, or
   *  with reduction 'mean' when every target is skipped).
   *  Training: ∂L/∂logits are kept for backward(), and dropout masks are drawn. */
  private run(packed: PackedInput, targets: Int32Array | Float32Array | undefined,
              a0: Float32Array | undefined, c0: Float32Array | undefined, training: boolean): number {
    const { T, B } = packed;
    const c = this.config;
    const rows = T * B;
    this.headDropped = training && c.outputDropout > 0;
    // allocations first; views only after them
    this.head.ensure(rows);
    const dropout = this.headDropped ? this.ensureDropout(rows) : undefined;
    this.stack.forward(this.weights, packed.x, T, B, packed.lens, a0, c0, training ? this.rng : undefined);
    let X = this.stack.outPtr();
    if (dropout) {
      // the head reads Xd = M ⊙ a<t> of the top layer
      const k = this.kernels, n = rows * this.stack.n_out;
      dropoutMask(k, dropout.M.ptr, n, c.outputDropout, this.rng);
      k.mul_mask(dropout.Xd.ptr, X, dropout.M.ptr, n);
      X = dropout.Xd.ptr;
    }
    // padded steps weigh 0 (softmax: their ids are −1); the mean of no terms (every target −1)
    // is NaN, as PyTorch, and its gradient zero (scale 0; Head.meanScale)
    const mask = targets && stepMask(packed);
    const scale = !targets ? 0 : c.reduction === 'mean' ? this.head.meanScale(this.termsOf(packed, targets)) : 1;
    const loss = this.head.forward(this.weights, X, rows, targets, mask, scale, training);
    this.last = targets ? { packed, targets, total: this.head.total, mask } : undefined;
    return loss;
  }

  /** Loss terms of a batch: the predicted steps' class weights (softmax; 1 each without class
   *  weights) or steps × n_y values. */
  private termsOf(packed: PackedInput, targets: Int32Array | Float32Array): number {
    return this.head.terms(targets, validSteps(packed));
  }

  /** BPTT through the head and every layer; fills the gradient region. */
  private backward(T: number, B: number): void {
    const k = this.kernels;
    k.zero_f32(this.grads.ptr, this.layout.size);
    // ∂L/∂a<t> of the top layer from the output layer (overwrites the stack's dOut)
    const dOut = this.stack.dOutPtr(), dropout = this.headDropped ? this.dropoutWork! : undefined;
    this.head.backward(this.weights, this.grads, dropout ? dropout.Xd.ptr : this.stack.outPtr(), dOut, T * B);
    // through the dropout before the head: ∂L/∂a<t> = ∂L/∂Xd ⊙ M
    if (dropout) k.mul_mask(dOut, dOut, dropout.M.ptr, T * B * this.stack.n_out);
    this.stack.backward(this.weights, this.grads);
  }

  /** Copy per-step outputs out of the time-major workspace into (B, T, ·) arrays, with zeros
   *  past each sequence's end. */
  private readForward(packed: PackedInput, loss: number | undefined): ForwardResult {
    const { T, B, lens } = packed;
    const c = this.config;
    const yhat = toBatchMajor(this.head.outputsView(T * B), T, B, c.n_y);
    const a = this.stack.readOutput();
    if (lens) {
      for (let b = 0; b < B; b++) {
        yhat.fill(0, (b * T + lens[b]) * c.n_y, (b + 1) * T * c.n_y);
        a.fill(0, (b * T + lens[b]) * this.stack.n_out, (b + 1) * T * this.stack.n_out);
      }
    }
    const { hT, cT } = this.stack.finalStates();
    const lengths = lens ? Array.from(lens) : new Array<number>(B).fill(T);
    const result: ForwardResult = { T, B, lengths, yhat, a, aT: hT };
    if (cT) result.cT = cT;
    if (loss !== undefined) result.loss = loss;
    return result;
  }

}

// --- helpers ---

/** A stepper's rows as decode.ts's TokenStepper: the state is the stepper, advanced in place. */
function stepperRows(V: number): TokenStepper<Stepper> {
  return {
    vocab: V,
    step: (tokens, s) => { s.feedRows(tokens); return { probs: s.outputsView(), state: s }; },
    select: (s, rows) => { s.select(rows); return s; },
  };
}

function validSteps(p: PackedInput): number {
  return p.lens ? p.lens.reduce((s, n) => s + n, 0) : p.T * p.B;
}


// Many-to-many, aligned: one output per input step (tagging, frame labelling, next-step
// prediction). This is RNN (model.ts) with the architecture's name, tokenizers saved with the
// model, per-step predictions, and stateful stepping for streams:
//
//   a<t> = cell(a<t-1>, x<t>)        ŷ<t> = g(W_ya a<t> + b_y)        L = Σ_t L<t>(ŷ<t>, y<t>)

import type { InputKind, OutputKind, Sequence } from '../data.js';
import { RNN, type Batch, type RNNConfig, type ResolvedConfig } from '../model.js';
import type { Tokenizer } from '../tokenizer.js';
import { KEYS } from '../keys.js';
import { checkKeys, describe } from '../validate.js';
import type { Build, Kernels } from '../wasm.js';
import { checkState, checkTokenizer, packSteps, toPredictions, tokenizersJSON, type Prediction, type Step } from './common.js';

export interface ManyToManyConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends RNNConfig<I, O> {
  architecture: 'many-to-many';
  /** Tokenizers of the input (x, token input) and of the per-step targets (y, softmax), saved with the model. */
  tokenizers?: { x?: Tokenizer; y?: Tokenizer };
}

export interface ResolvedManyToMany<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ResolvedConfig<I, O> {
  architecture: 'many-to-many';
}

/** The tokenizers of a many-to-many config, checked against the resolved sizes. */
export function manyToManyTokenizers(where: string, t: ManyToManyConfig['tokenizers'], c: ResolvedConfig): { x?: Tokenizer; y?: Tokenizer } {
  if (t === undefined) return {};
  if (typeof t !== 'object' || t === null) throw new TypeError(`${where}: tokenizers must be an object { x?, y? }, got ${describe(t)}`);
  const x = checkTokenizer(where, 'x', t.x, c.n_x, 'n_x');
  const y = checkTokenizer(where, 'y', t.y, c.n_y, 'n_y');
  if (x && c.input !== 'tokens') throw new TypeError(`${where}: tokenizers.x needs input 'tokens', got input '${c.input}'`);
  if (y && c.output !== 'softmax') throw new TypeError(`${where}: tokenizers.y needs output 'softmax', got output '${c.output}'`);
  return { ...(x ? { x } : {}), ...(y ? { y } : {}) };
}

export class ManyToMany<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends RNN<I, O> {
  readonly architecture = 'many-to-many' as const;
  /** The configuration with defaults filled in, its architecture named as every
   *  architecture's is (so createModel(model.config) makes another such model). */
  declare readonly config: Readonly<ResolvedManyToMany<I, O>>;
  /** Tokenizers saved with the model. */
  readonly tokenizers: Readonly<{ x?: Tokenizer; y?: Tokenizer }>;
  /** Whether the step() stream has started (its state lives in the stream's stepper). */
  private streaming = false;

  /** Use createModel({ architecture: 'many-to-many', … }). */
  constructor(kernels: Kernels, config: ResolvedConfig<I, O>, backend: Build, tokenizers: { x?: Tokenizer; y?: Tokenizer } = {}) {
    super(kernels, { architecture: 'many-to-many', ...config } as ResolvedConfig<I, O>, backend);
    this.tokenizers = Object.freeze({ ...tokenizers });
  }

  /** The answer at every step of every sequence: the most likely class (softmax) or the n_y outputs. */
  predict(x: readonly Sequence<I>[]): Prediction<O>[][] {
    this.live('predict');
    const { yhat, T, lengths } = this.forwardAs('predict', { x } as Batch<I, O>);
    const n = this.config.n_y;
    return lengths.map((len, b) => toPredictions(yhat.subarray(b * T * n, (b * T + len) * n), len, n, this.config.output));
  }

  /** Advance the stream by one step x<t> and return ŷ<t>, (n_y). The state persists across
   *  calls until resetState(). Equal to forward() over the steps so far; one wasm call. */
  step(x: Step<I>): Float32Array<ArrayBuffer> {
    this.live('step');
    const where = 'step';
    if (this.config.bidirectional) throw new TypeError(`${where}: a bidirectional model reads each sequence backwards too, so it cannot run one step at a time`);
    const { x: packed } = packSteps(where, [x], this.config.input, this.config.n_x);
    const s = this.stepper();
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
    const c = this.config, S = c.layers * (c.bidirectional ? 2 : 1);
    if (state.c0 !== undefined && c.cell !== 'lstm') throw new TypeError(`${where}: c0 is the LSTM cell state; this model's cell is '${c.cell}'`);
    const h = checkState(where, 'a0', state.a0, S, 1, c.n_a);
    const cs = checkState(where, 'c0', state.c0, S, 1, c.n_a);
    if (c.bidirectional) return;
    this.stepper().reset(1, h, cs);
    this.streaming = true;
  }

  /** The configuration as plain JSON, tokenizers included (saved in model files). */
  override toJSON(): ResolvedManyToMany<I, O> {
    return { architecture: 'many-to-many', ...super.toJSON(), ...tokenizersJSON(this.tokenizers) };
  }
}

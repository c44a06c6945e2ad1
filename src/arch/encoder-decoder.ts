// Encoder-decoder (sequence to sequence): a source sequence → a target sequence of its own
// length, from separate vocabularies (or feature spaces).
//
//   encoder   e<t> = cell_enc(e<t-1>, x<t>),  t = 1 … T_x     (per sequence, its own T_x)
//   bridge    a<0> = e<T_x>                                   ('identity': same shapes)
//             a<0> = tanh(W_br [e<T_x> of every layer, direction] + b_br)   ('linear')
//   decoder   a<t> = cell_dec(a<t-1>, y<t-1>),  y<0> = start  ŷ<t> = g(W_ya a<t> + b_y)
//   L         = Σ_t L<t>(ŷ<t>, y<t>),  t = 1 … T_y
//   attention (opt-in, Luong): the head reads h̃<t> = tanh(W_c [c<t>; a<t>]) instead of a<t>,
//             c<t> = Σ_s α<t,s> e<s> over the source's own steps (src/arch/attention.ts);
//             forward and decoding return α when asked (returnAttention), as copies
//   embedding (opt-in) a side that reads tokens may read them through a table: x<t> =
//             W_src[id], y<t-1> = W_tgt[id]; one table for both (shareEmbeddings), and the
//             output layer's weight may be the target's table (tieWeights)
//
// Training is teacher-forced: the decoder reads the target sequence shifted by one step, so
// a batch is one encoder call, one decoder call and one BPTT of each (the gradient reaching
// a<0> flows back through the bridge into the encoder's final states). Inference feeds the
// decoder its own outputs: greedy, sampled, or beam search. With an LSTM on both sides and
// the identity bridge, the cell state c passes too; the linear bridge starts c<0> at zero.
//
// B = sequences, T_x / T_y = source / target steps, n_x = source size (vocabulary or
// features), n_y = target size, S_e = encoder layers × directions, L_d = decoder layers.

import { resolveLoss, type ResolvedLoss } from '../loss.js';
import { naming, type Arena, type Region } from '../arena.js';
import { packInputs, type InputKind, type OutputKind, type PackedInput, type Sequence, type Targets } from '../data.js';
import {
  checkBeamOptions, checkOnToken, checkStop, checkToken, checkTokens, resolveSampling,
  type BeamOptions, type GenerateOptions, type Hypothesis, type SamplingOptions, type TracedHypothesis,
} from '../decode.js';
import { KEYS } from '../keys.js';
import { buildLayout, type Layout, type LayoutSpec } from '../layout.js';
import { checkMaxLength, checkModelSize } from '../limits.js';
import type { StatSums } from '../checkpoint.js';
import { Network, type MetricName, type StatsWanted } from '../network.js';
import { Stack } from '../stack.js';
import type { Tokenizer } from '../tokenizer.js';
import { checkBoolean, checkChoice, checkInt, checkKeys, describe } from '../validate.js';
import type { Build, Kernels } from '../wasm.js';
import {
  checkTokenizer, metricsFor, packLabels, rejectFields, resolveCommon, resolveSide, resolveInput, resolveOutput, stackConfig,
  tokenizersJSON, type CellOptions, type CommonConfig, type Label, type ResolvedCell, type State,
} from './common.js';
import { Attention, attentionMatrices, type AttentionKind, type AttentionMemory, type AttentionSource } from './attention.js';
import { Decoder, type AttentionWatch, type DecodeRows, type TeacherForced } from './decoder.js';
import type { Generated, SequenceResult } from './one-to-many.js';
import { resolveTables, tables, tablesLayout } from './seq2seq-embedding.js';
import type { EmbeddingConfig, ResolvedEmbedding } from '../embedding.js';

export interface EncoderDecoderConfig<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends CommonConfig {
  architecture: 'encoder-decoder';
  /** Source size: vocabulary size ('tokens') or features per step ('dense'). */
  n_x: number;
  /** Target size: vocabulary size (softmax) or values per step (sigmoid, linear). */
  n_y: number;
  /** 'tokens' (source steps are token ids) or 'dense' (vectors of n_x features). Default 'dense'. */
  input?: I;
  /** Output non-linearity, which fixes the loss: 'softmax' → cross-entropy over target
   *  tokens, 'sigmoid' → binary cross-entropy, 'linear' → squared error. Default 'softmax'. */
  output?: O;
  /** Encoder settings that differ from the top-level cell, n_a, layers, …; whether it reads
   *  the source in both directions (default false); and its own source embedding. */
  encoder?: CellOptions & { bidirectional?: boolean; embedding?: EmbeddingConfig };
  /** Decoder settings that differ from the top-level ones, and its own target embedding. */
  decoder?: CellOptions & { embedding?: EmbeddingConfig };
  /** Read tokens through embedding tables (nn.Embedding) instead of one-hot: the source's
   *  (input 'tokens', named 'encoder.embedding.weight') and the target's (output 'softmax',
   *  'decoder.embedding.weight'), each E values per token; encoder.embedding and
   *  decoder.embedding set one side. Default: none. */
  embedding?: EmbeddingConfig;
  /** One table for source and target (one vocabulary: n_x = n_y, the same embedding
   *  settings on both sides), named 'encoder.embedding.weight' and 'decoder.embedding.weight'.
   *  Default false. */
  shareEmbeddings?: boolean;
  /** Tie the output layer's weight to the target's table (needs E = decoder n_a). Default false. */
  tieWeights?: boolean;
  /** How the encoder's final states start the decoder: 'identity' (same layers and n_a, one
   *  direction) or 'linear' (a tanh layer from all encoder final states to every decoder
   *  layer's a<0>). Default: 'identity' when the shapes allow it, else 'linear'. */
  bridge?: 'identity' | 'linear';
  /** Luong global attention: at every target step the decoder's output a<t> scores every
   *  encoder output e<s> of its source, a<t>ᵀ e<s> ('dot': needs decoder n_a = encoder width,
   *  directions × n_a) or a<t>ᵀ W_a e<s> ('general'); the softmax of the scores weighs the
   *  context c<t> = Σ α<t,s> e<s>, and the head reads tanh(W_c [c<t>; a<t>]). Default 'none'. */
  attention?: AttentionKind;
  /** Softmax: the decoder's first input y<0>. Default: tokenizers.y.bos, else 0. */
  startToken?: number;
  /** Softmax: the token that ends a generated sequence. Default: tokenizers.y.eos, else none. */
  stopToken?: number;
  /** Tokenizers of the source (x, token input) and target (y, softmax output), saved with the model. */
  tokenizers?: { x?: Tokenizer; y?: Tokenizer };
  /** Set per side: encoder.bidirectional. */
  bidirectional?: never;
}

export interface ResolvedEncoderDecoder<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends ResolvedLoss {
  architecture: 'encoder-decoder';
  n_x: number;
  n_y: number;
  input: I;
  output: O;
  encoder: ResolvedCell & { bidirectional: boolean; embedding?: ResolvedEmbedding };
  decoder: ResolvedCell & { embedding?: ResolvedEmbedding };
  shareEmbeddings?: true;
  tieWeights?: true;
  bridge: 'identity' | 'linear';
  attention: AttentionKind;
  startToken: number | null;
  stopToken: number | null;
  /** Present (false) only for an output layer without a bias. */
  headBias?: false;
  reduction: 'sum' | 'mean';
  seed: number;
}

/** B pairs of sequences; source and target lengths may differ, within and across pairs. */
export interface EncoderDecoderBatch<I extends InputKind = InputKind, O extends OutputKind = OutputKind> {
  /** B source sequences: token ids, or steps of n_x features. */
  x: readonly Sequence<I>[];
  /** B target sequences y<1..T_y>: token ids (softmax; end with the stop token to learn
   *  where to stop; the config's ignoreIndex skips a target, and −1 — or an ignoreIndex that
   *  is no token — only at the end, as padding) or steps of n_y values. */
  y: readonly Targets<O>[];
}

export interface EncoderDecoderResult extends SequenceResult {
  /** Each source sequence's length. */
  sourceLengths: number[];
  /** With returnAttention: attention's weights α, batch-major (B, T, T_x), T_x the longest
   *  source (the largest of sourceLengths). Row (b, t) is α<t,s> over source b's steps s, the
   *  weights of the context ŷ<t> was read from: it sums to 1 over the source's own steps and
   *  is 0 past them; rows past each target's end are 0. */
  attention?: Float32Array<ArrayBuffer>;
}

/** Options of EncoderDecoder.forward. */
export interface EncoderDecoderForwardOptions {
  /** Also return attention's weights α (result.attention); needs attention 'dot' or
   *  'general'. Default false: no copy is made. */
  returnAttention?: boolean;
}

/** Options of EncoderDecoder.generate and generateBatch. */
export interface EncoderDecoderGenerateOptions<O extends OutputKind = OutputKind> extends Omit<GenerateOptions, 'prefix' | 'onToken'> {
  /** Target tokens fed after the start token before generating (softmax). Default none. */
  prefix?: O extends 'softmax' ? ArrayLike<number> : never;
  /** Called with every generated token (softmax) or vector; return false to stop. */
  onToken?: (value: O extends 'softmax' ? number : Float32Array<ArrayBuffer>, index: number) => void | boolean;
  /** Also return, for every generated token, the attention weights α it was chosen with
   *  (GeneratedWithAttention); needs attention 'dot' or 'general'. Default false. */
  returnAttention?: boolean;
}

/** A generated sequence and the attention weights each of its steps was generated with. */
export interface GeneratedWithAttention<O extends OutputKind = OutputKind> {
  /** What the call returns without returnAttention: tokens (softmax) or one vector per step. */
  sequence: Generated<O>;
  /** (n, T_x), n = sequence.length, T_x = the source's length: row i is α over the source's
   *  steps when sequence[i] was chosen; each row sums to 1. */
  attention: Float32Array<ArrayBuffer>;
}

/** A beam-search hypothesis with the attention weights of its tokens, along its own history. */
export interface HypothesisWithAttention extends Hypothesis {
  /** (tokens.length, T_x), T_x = the source's length: row i is α when tokens[i] was chosen. */
  attention: Float32Array<ArrayBuffer>;
}

/** A token of stream() with returnAttention. */
export interface TokenWithAttention {
  token: number;
  /** (T_x): α over the source's steps when the token was chosen. */
  attention: Float32Array<ArrayBuffer>;
}

/** T when returnAttention is true, U when false (both when it is a boolean). */
type IfAttention<R extends boolean, T, U> = R extends true ? T : U;

export function resolveEncoderDecoder(config: EncoderDecoderConfig, where = 'createModel'): { resolved: ResolvedEncoderDecoder; tokenizers: { x?: Tokenizer; y?: Tokenizer } } {
  rejectFields(where, config, 'encoder-decoder', ['bidirectional']);
  checkKeys(where, 'config', config, KEYS['encoder-decoder']);
  const n_x = checkInt(where, 'n_x', config.n_x);
  const n_y = checkInt(where, 'n_y', config.n_y);
  const input = resolveInput(where, config.input);
  const output = resolveOutput(where, config.output);
  // a top-level bias is both sides' unless a side sets its own: checked here, under its own name
  if (config.bias !== undefined) checkBoolean(where, 'bias', config.bias);
  const enc = config.encoder ?? {};
  const encoder = { ...resolveSide(where, config, enc, 'encoder.'), bidirectional: checkBoolean(where, 'encoder.bidirectional', enc.bidirectional ?? false) };
  if ((config.decoder as { bidirectional?: unknown } | undefined)?.bidirectional !== undefined) {
    throw new TypeError(`${where}: the decoder generates forward in time; only the encoder can be bidirectional`);
  }
  const decoder = resolveSide(where, config, config.decoder ?? {}, 'decoder.');
  const tables = resolveTables(where, config, { input, output, n_x, n_y, n_a: decoder.n_a });
  const fits = encoder.layers === decoder.layers && encoder.n_a === decoder.n_a && !encoder.bidirectional;
  const bridge = checkChoice(where, 'bridge', config.bridge ?? (fits ? 'identity' : 'linear'), ['identity', 'linear'] as const);
  if (bridge === 'identity' && !fits) {
    throw new RangeError(`${where}: bridge 'identity' needs the encoder's final states to fit the decoder (same layers and n_a, one direction); ` +
      `got encoder ${encoder.layers} × ${encoder.n_a}${encoder.bidirectional ? ' bidirectional' : ''}, decoder ${decoder.layers} × ${decoder.n_a} (use bridge 'linear')`);
  }
  const attention = checkChoice(where, 'attention', config.attention ?? 'none', ['none', 'dot', 'general'] as const);
  const E = encoder.n_a * (encoder.bidirectional ? 2 : 1);
  if (attention === 'dot' && E !== decoder.n_a) {
    throw new RangeError(`${where}: attention 'dot' scores the decoder's n_a = ${decoder.n_a} against encoder outputs of width ${E} ` +
      `(encoder.n_a${encoder.bidirectional ? ' × 2 directions' : ''}); they must be equal (or use attention 'general')`);
  }
  const t = config.tokenizers;
  if (t !== undefined && (typeof t !== 'object' || t === null)) throw new TypeError(`${where}: tokenizers must be an object { x?, y? }, got ${describe(t)}`);
  if (t) checkKeys(where, 'tokenizers', t, KEYS.tokenizers);
  const x = checkTokenizer(where, 'x', t?.x, n_x, 'n_x');
  const y = checkTokenizer(where, 'y', t?.y, n_y, 'n_y');
  if (x && input !== 'tokens') throw new TypeError(`${where}: tokenizers.x needs input 'tokens', got input '${input}'`);
  if (y && output !== 'softmax') throw new TypeError(`${where}: tokenizers.y needs output 'softmax', got output '${output}'`);
  const special = (name: 'startToken' | 'stopToken', fallback: number | null): number | null => {
    const v = config[name];
    if (v === undefined) return output === 'softmax' ? fallback : null;
    if (output !== 'softmax') throw new TypeError(`${where}: ${name} applies to output 'softmax' only, got output '${output}'`);
    return checkToken(where, name, v, n_y);
  };
  const resolved: ResolvedEncoderDecoder = {
    architecture: 'encoder-decoder', n_x, n_y, input, output,
    encoder: { ...encoder, ...tables.encoder }, decoder: { ...decoder, ...tables.decoder }, bridge, attention,
    startToken: special('startToken', y?.bos ?? 0),
    stopToken: special('stopToken', y?.eos ?? null),
    ...resolveCommon(where, config),
    ...tables.flags,
  };
  Object.assign(resolved, resolveLoss(where, config, output, n_y));
  checkModelSize(where, resolved, encoderDecoderLayout);
  return { resolved, tokenizers: { ...(x ? { x } : {}), ...(y ? { y } : {}) } };
}

/** The parameter layout of an encoder-decoder: encoder and decoder stacks, the head, the linear
 *  bridge (if any), attention's matrices (if any), then the embedding tables (if any). */
export function encoderDecoderLayout(c: ResolvedEncoderDecoder): LayoutSpec {
  const { encoder: e, decoder: d } = c;
  const S_e = e.layers * (e.bidirectional ? 2 : 1);
  const t = tablesLayout(c);
  return {
    stacks: [
      { prefix: t.encoder.prefix, spec: { cell: e.cell, n_x: t.encoder.n_x, n_a: e.n_a, layers: e.layers, bidirectional: e.bidirectional, bias: e.bias } },
      { prefix: t.decoder.prefix, spec: { cell: d.cell, n_x: t.decoder.n_x, n_a: d.n_a, layers: d.layers, bidirectional: false, bias: d.bias } },
    ],
    head: { n_in: d.n_a, n_y: c.n_y, tied: t.tied, bias: c.headBias !== false },
    linears: c.bridge === 'linear' ? [{ name: 'bridge', n_in: S_e * e.n_a, n_out: d.layers * d.n_a }] : [],
    matrices: attentionMatrices(c.attention, d.n_a, (e.bidirectional ? 2 : 1) * e.n_a),
    embeddings: t.embeddings,
  };
}

export class EncoderDecoder<I extends InputKind = InputKind, O extends OutputKind = OutputKind> extends Network<EncoderDecoderBatch<I, O>> {
  readonly architecture = 'encoder-decoder' as const;
  /** The configuration with defaults filled in. */
  readonly config: Readonly<ResolvedEncoderDecoder<I, O>>;
  /** Tokenizers saved with the model: x of the source, y of the target. */
  readonly tokenizers: Readonly<{ x?: Tokenizer; y?: Tokenizer }>;
  private readonly encoder: Stack;
  private readonly decoder: Decoder;
  private readonly bridge?: Bridge;
  /** The step() stream (with attention, over the source resetState() encoded), stepped in place. */
  private stepRows?: DecodeRows;

  /** Use createModel({ architecture: 'encoder-decoder', … }). */
  constructor(kernels: Kernels, config: ResolvedEncoderDecoder<I, O>, backend: Build, tokenizers: { x?: Tokenizer; y?: Tokenizer } = {}) {
    const { encoder: e, decoder: d } = config;
    super(kernels, backend, buildLayout(encoderDecoderLayout(config)), config.seed);
    this.config = Object.freeze({ ...config, encoder: Object.freeze({ ...e }), decoder: Object.freeze({ ...d }) });
    this.tokenizers = Object.freeze({ ...tokenizers });
    const { source, target } = tables(this.layout, config);
    this.encoder = new Stack(kernels, this.arena, this.layout, 0, stackConfig(e, config.n_x, config.input === 'tokens', e.bidirectional, source));
    const attention = config.attention === 'none' ? undefined
      : new Attention(kernels, this.arena, this.layout, config.attention, d.n_a, this.encoder.n_out);
    this.decoder = new Decoder(kernels, this.arena, this.layout, 1, d, config.n_y, config.output, attention, target, config);
    if (config.bridge === 'linear') this.bridge = new Bridge(kernels, this.arena, this.layout);
  }

  /** Teacher-forced outputs ŷ<t> for each target sequence, and the loss; with
   *  returnAttention, attention's weights α too. */
  forward<R extends boolean = false>(batch: EncoderDecoderBatch<I, O>, options?: EncoderDecoderForwardOptions & { returnAttention?: R }):
    IfAttention<R, EncoderDecoderResult & { attention: Float32Array<ArrayBuffer> }, EncoderDecoderResult> {
    this.live('forward');
    const where = 'forward';
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
      checkKeys(where, 'options', options, KEYS.encoderDecoderForward);
    }
    const returnAttention = this.wantsAttention(where, options?.returnAttention);
    const p = this.prepare(where, batch);
    const loss = naming(where, () => {
      const { h0, c0 } = this.encode(p.source);
      return this.decoder.forward(this.weights, p.tf, h0, c0, this.config.reduction, false, undefined, this.attended(p.source));
    });
    const { T, B, lens } = p.tf.packed;
    const result: EncoderDecoderResult = {
      B, T, lengths: lens ? Array.from(lens) : new Array<number>(B).fill(T),
      sourceLengths: p.source.lens ? Array.from(p.source.lens) : new Array<number>(B).fill(p.source.T),
      yhat: this.decoder.readOutputs(p.tf), loss,
    };
    if (returnAttention) result.attention = this.decoder.readAttention(p.tf);
    return result as IfAttention<R, EncoderDecoderResult & { attention: Float32Array<ArrayBuffer> }, EncoderDecoderResult>;
  }

  // --- inference ---

  /** Generate the target sequence for one source: greedy (default) or sampled, until the stop
   *  token (softmax; included in the result) or maxLength. With returnAttention, the sequence
   *  and the α each step was chosen with. */
  generate<R extends boolean = false>(x: Sequence<I>, options: EncoderDecoderGenerateOptions<O> & { returnAttention?: R }):
    IfAttention<R, GeneratedWithAttention<O>, Generated<O>> {
    this.live('generate');
    const where = 'generate';
    const o = this.checkGenerate(where, options, KEYS.encoderDecoderGenerate);
    const onToken = checkOnToken<(t: number, i: number) => void | boolean>(where, options.onToken, this.config.output === 'softmax' ? 'token' : 'vector');
    const source = this.packOne(where, x, 'x');
    return naming(where, () => {
      const { state, memory } = this.startDecoding(1, source);
      const record = o.returnAttention ? new AttentionRecord(memory!) : undefined;
      let out: Generated<O>;
      if (this.config.output !== 'softmax') {
        out = this.generateVectors(where, state, memory, source.B, options, o.maxLength, record?.watch)[0];
      } else if (!onToken) {
        out = this.decoder.tokensNow(this.weights, state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!, memory, record?.watch) as Generated<O>;
      } else {
        const tokens: number[] = [];
        for (const token of this.decoder.tokens(this.weights, state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!, memory, record?.watch)) {
          tokens.push(token);
          if (onToken(token, tokens.length - 1) === false) break;
        }
        out = tokens as Generated<O>;
      }
      return (record ? { sequence: out, attention: record.last(0, out.length) } : out) as IfAttention<R, GeneratedWithAttention<O>, Generated<O>>;
    });
  }

  /** Generate target sequences for B sources at once: one decoder step per token for the
   *  whole batch (greedy or sampled). With returnAttention, each sequence with the α its steps
   *  were chosen with, over its own source's steps. */
  generateBatch<R extends boolean = false>(x: readonly Sequence<I>[],
    options: Omit<EncoderDecoderGenerateOptions<O>, 'onToken' | 'prefix'> & Pick<EncoderDecoderGenerateOptions<O>, 'onToken'> & { returnAttention?: R }):
    IfAttention<R, GeneratedWithAttention<O>, Generated<O>>[] {
    this.live('generateBatch');
    const where = 'generateBatch';
    const o = this.checkGenerate(where, options, KEYS.encoderDecoderGenerateBatch, Array.isArray(x) ? x.length : 1);
    if (this.config.output === 'softmax') {
      if ((options as { prefix?: unknown }).prefix !== undefined) throw new TypeError(`${where}: prefix is taken by generate() (one source) only`);
      if (options.onToken !== undefined) throw new TypeError(`${where}: onToken is taken by generate() (one source) only; generateBatch returns every sequence when all have stopped`);
    }
    const source = packInputs(where, x, this.config.input, this.config.n_x);
    return naming(where, () => {
      const { state, memory } = this.startDecoding(source.B, source);
      const record = o.returnAttention ? new AttentionRecord(memory!) : undefined;
      const out = (this.config.output !== 'softmax'
        ? this.generateVectors(where, state, memory, source.B, options, o.maxLength, record?.watch)
        : this.decoder.batch(this.weights, state, new Array<number>(source.B).fill(o.start), o.maxLength, o.stop, o.sampler!, memory, record?.watch)) as Generated<O>[];
      return (record ? out.map((sequence, b) => ({ sequence, attention: record.last(b, sequence.length) })) : out) as IfAttention<R, GeneratedWithAttention<O>, Generated<O>>[];
    });
  }

  /** Generate lazily for one source, one decoder step per token (softmax); with
   *  returnAttention, each token with the α it was chosen with. */
  stream<R extends boolean = false>(this: EncoderDecoder<I, 'softmax'>, x: Sequence<I>, options: EncoderDecoderGenerateOptions<'softmax'> & { returnAttention?: R }):
    Generator<IfAttention<R, TokenWithAttention, number>, void, unknown> {
    this.live('stream');
    this.needSoftmax('stream');
    const o = this.checkGenerate('stream', options, KEYS.encoderDecoderStream, 1, true);
    const source = this.packOne('stream', x, 'x');
    return naming('stream', () => {
      const { state, memory } = this.startDecoding(1, source);
      if (!o.returnAttention) {
        return this.decoder.tokens(this.weights, state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!, memory) as Generator<IfAttention<R, TokenWithAttention, number>, void, unknown>;
      }
      // only the latest step's α is kept: a stream may run without end
      let latest = new Float32Array(0);
      const watch: AttentionWatch = (alpha) => { latest = alpha.slice(0, memory!.T); };
      return withAttention(this.decoder.tokens(this.weights, state, o.start, o.prefix, o.maxLength, o.stop, o.sampler!, memory, watch), () => latest) as
        Generator<IfAttention<R, TokenWithAttention, number>, void, unknown>;
    });
  }

  /** Beam search for one source (softmax): the best hypotheses, best first, at most beamWidth;
   *  with returnAttention, each with the α of its tokens along its own history. */
  beamSearch<R extends boolean = false>(this: EncoderDecoder<I, 'softmax'>, x: Sequence<I>, options: BeamOptions & { returnAttention?: R }):
    IfAttention<R, HypothesisWithAttention, Hypothesis>[] {
    this.live('beamSearch');
    const where = 'beamSearch';
    this.needSoftmax(where);
    const V = this.config.n_y;
    const { width, maxLength, prefix, stop, alpha } = checkBeamOptions(where, options, KEYS.encoderDecoderBeamSearch, V, this.config.stopToken,
      (o) => (o.prefix === undefined ? [] : checkTokens(where, 'prefix', o.prefix, V)));
    const traced = this.wantsAttention(where, options.returnAttention);
    const source = this.packOne(where, x, 'x');
    // the beam's rows attend to the source: a beam too wide for that is refused before encoding
    return naming(where, () => {
      const { state, memory } = this.startDecoding(width, source);
      if (!traced) return this.decoder.beam(this.weights, state, this.config.startToken!, prefix, width, maxLength, stop, alpha, memory) as IfAttention<R, HypothesisWithAttention, Hypothesis>[];
      // every step's α of all its rows; a hypothesis's token i reads row from[i] of step i
      const T_x = memory!.T, steps: Float32Array<ArrayBuffer>[] = [];
      const watch: AttentionWatch = (a, src) => { steps.push(a.slice(0, src.length * T_x)); };
      const hyps = this.decoder.beam(this.weights, state, this.config.startToken!, prefix, width, maxLength, stop, alpha, memory, watch) as TracedHypothesis[];
      return hyps.map(({ from, ...h }) => {
        const attention = new Float32Array(from.length * T_x);
        from.forEach((row, i) => attention.set(steps[prefix.length + i].subarray(row * T_x, (row + 1) * T_x), i * T_x));
        return { ...h, attention };
      }) as IfAttention<R, HypothesisWithAttention, Hypothesis>[];
    });
  }

  // --- streams ---

  /** Start decoding a source step by step: encode it and set the decoder's state (no source:
   *  a zero state). Then step() feeds one target step at a time. */
  resetState(source?: Sequence<I>): void {
    this.live('resetState');
    if (source === undefined) {
      this.stepRows = this.decoder.stream(this.weights, this.decoder.zeroState(1));
      return;
    }
    const packed = this.packOne('resetState', source, 'source');
    this.stepRows = naming('resetState', () => {
      const { state, memory } = this.startDecoding(1, packed);
      return this.decoder.stream(this.weights, state, memory);
    });
  }

  /** Feed the decoder one target step y<t−1> (the start token first) and return ŷ<t>. Needs
   *  resetState(source) first: a decoder step means nothing without the source it decodes. */
  step(y: Label<O>): Float32Array<ArrayBuffer> {
    this.live('step');
    const where = 'step';
    if (!this.stepRows) {
      throw new TypeError(`${where}: no source is encoded yet; call resetState(source) first (or resetState() to decode from a zero state)`);
    }
    const x = packLabels(where, [y], this.config.output === 'softmax' ? 'softmax' : 'linear', this.config.n_y, 1, 'y');
    return this.stepRows.step(x).slice();
  }

  // --- configuration ---

  /** The configuration as plain JSON, tokenizers included (saved in model files). */
  toJSON() {
    // attention 'none' is left out, so files without attention stay as they were
    const { attention, ...rest } = this.config;
    return {
      ...rest, ...(attention === 'none' ? {} : { attention }),
      encoder: { ...this.config.encoder }, decoder: { ...this.config.decoder }, ...tokenizersJSON(this.tokenizers),
    };
  }

  // --- internals ---

  protected checkBatch(where: string, batch: EncoderDecoderBatch<I, O>): void {
    this.prepare(where, batch);
  }

  protected lossAndGradients(where: string, batch: EncoderDecoderBatch<I, O>): number {
    const p = this.prepare(where, batch);
    const { h0, c0 } = this.encode(p.source, true);
    const loss = this.decoder.forward(this.weights, p.tf, h0, c0, this.config.reduction, true, this.rng, this.attended(p.source));
    this.kernels.zero_f32(this.grads.ptr, this.layout.size);
    // attention adds ∂L/∂(encoder outputs) into the encoder's dOut: zero it first
    this.encoder.zeroDOut();
    const { dh0, dc0 } = this.decoder.backward(this.weights, this.grads, this.encoder.dOutPtr());
    // back through the bridge to the encoder's final states
    const B = p.source.B;
    let dhT = dh0, dcT = dc0;
    if (this.bridge) {
      dhT = this.bridge.backward(this.weights, this.grads, statesToRows(dh0, this.decoder.states, B, this.config.decoder.n_a), B);
      dhT = rowsToStates(dhT, this.encoder.states, B, this.config.encoder.n_a);
      dcT = undefined;
    } else if (this.config.encoder.cell !== 'lstm' || this.config.decoder.cell !== 'lstm') {
      dcT = undefined;
    }
    this.encoder.backward(this.weights, this.grads, dhT, dcT);
    return loss;
  }

  protected override evaluateBatch(where: string, batch: EncoderDecoderBatch<I, O>, want: StatsWanted): StatSums {
    const p = this.prepare(where, batch);
    const { h0, c0 } = this.encode(p.source);
    this.decoder.forward(this.weights, p.tf, h0, c0, this.config.reduction, false, undefined, this.attended(p.source));
    return this.decoder.stats(want.accuracy)!;
  }

  protected override supportedMetrics(): readonly MetricName[] {
    return metricsFor(this.config.output);
  }

  protected override batchStats(want: StatsWanted): StatSums | undefined {
    return this.decoder.stats(want.accuracy);
  }

  protected releaseWorkspaces(): void {
    this.encoder.release();
    this.decoder.release();
    this.bridge?.release();
  }

  /** Run the encoder and the bridge: the decoder's initial state for each source. Training
   *  draws dropout masks. */
  private encode(source: PackedInput, training = false): { h0: Float32Array; c0?: Float32Array } {
    const { T, B, lens } = source;
    this.encoder.forward(this.weights, source.x, T, B, lens, undefined, undefined, training ? this.rng : undefined);
    const { hT, cT } = this.encoder.finalStates();
    const d = this.config.decoder;
    if (this.bridge) {
      const out = this.bridge.forward(this.weights, statesToRows(hT, this.encoder.states, B, this.config.encoder.n_a), B);
      const h0 = rowsToStates(out, this.decoder.states, B, d.n_a);
      return d.cell === 'lstm' ? { h0, c0: new Float32Array(h0.length) } : { h0 };
    }
    if (d.cell !== 'lstm') return { h0: hT };
    return { h0: hT, c0: cT ?? new Float32Array(hT.length) };
  }

  /** With attention: the encoder outputs of the last encode(), where they are in wasm memory. */
  private attended(source: PackedInput): AttentionSource | undefined {
    return this.config.attention === 'none' ? undefined : { ptr: this.encoder.outPtr(), T: source.T, lens: source.lens };
  }

  /** Encode `source` to decode `rows` rows from it: the decoder's first state and, with
   *  attention, what it attends to. Refused before anything is encoded when the attention
   *  workspace of a step could never be reserved. */
  private startDecoding(rows: number, source: PackedInput): { state: State; memory: AttentionMemory | undefined } {
    this.decoder.attention?.checkStep(rows, source.T, source.B);
    return { state: toState(this.encode(source)), memory: this.remember(source) };
  }

  /** With attention: a copy of the last encode()'s outputs, for decoding step by step. */
  private remember(source: PackedInput): AttentionMemory | undefined {
    if (this.config.attention === 'none') return undefined;
    const { T, B, lens } = source;
    const H = this.arena.f32At(this.encoder.outPtr(), T * B * this.encoder.n_out).slice();
    return { H, T, B, lens: lens ? Int32Array.from(lens) : new Int32Array(B).fill(T) };
  }

  /** Validate and pack one source sequence, naming it as the caller's argument. */
  private packOne(where: string, x: unknown, name: string): PackedInput {
    try {
      return packInputs(where, [x], this.config.input, this.config.n_x);
    } catch (e) {
      // packInputs names sequences of a batch (x[0]); here there is one, called `name`
      if (e instanceof Error) e.message = e.message.replace(/\bx\[0\]/g, name);
      throw e;
    }
  }

  private prepare(where: string, batch: EncoderDecoderBatch<I, O>): { source: PackedInput; tf: TeacherForced } {
    if (typeof batch !== 'object' || batch === null) throw new TypeError(`${where}: batch must be { x, y }, got ${describe(batch)}`);
    const source = packInputs(where, batch.x, this.config.input, this.config.n_x);
    if (batch.y === undefined) throw new TypeError(`${where}: batch.y (the target sequences) is required`);
    const c = this.config;
    const first = c.output === 'softmax' ? new Int32Array(source.B).fill(c.startToken!) : new Float32Array(source.B * c.n_y);
    return { source, tf: this.decoder.teacherForce(where, first, batch.y) };
  }

  /** Generate vector sequences (sigmoid, linear) for B encoded sources, in lockstep. */
  private generateVectors(where: string, state: State, memory: AttentionMemory | undefined, B: number, options: EncoderDecoderGenerateOptions<O>,
                          maxLength: number, watch?: AttentionWatch): Generated<O>[] {
    const onStep = checkOnToken<(v: Float32Array, i: number) => void | boolean>(where, options.onToken, 'vector');
    return this.decoder.generateVectors(where, this.weights, new Float32Array(B * this.config.n_y), state, [], maxLength,
      options, this.rng, onStep, memory, watch) as Generated<O>[];
  }

  /** A returnAttention option: absent or false → false; true needs a model with attention. */
  private wantsAttention(where: string, v: unknown): boolean {
    if (v === undefined || !checkBoolean(where, 'returnAttention', v)) return false;
    if (this.config.attention === 'none') {
      throw new TypeError(`${where}: returnAttention needs a model with attention ('dot' or 'general'); this model has attention 'none'`);
    }
    return true;
  }

  /** Token decoding (stream, beam search) needs a softmax output. */
  private needSoftmax(where: string): void {
    if (this.config.output !== 'softmax') throw new TypeError(`${where}: needs output 'softmax', got output '${this.config.output}'`);
  }

  /** Options of a generating call, with its keys; `sequences` generated at once, or one
   *  yielded lazily (stream: no bound on maxLength). */
  private checkGenerate(where: string, options: Omit<EncoderDecoderGenerateOptions<O>, 'onToken'>, keys: readonly string[],
                        sequences = 1, lazy = false) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    checkKeys(where, 'options', options, keys);
    const c = this.config;
    const maxLength = checkMaxLength(where, options.maxLength, sequences * (c.output === 'softmax' ? 1 : c.n_y), lazy);
    const returnAttention = this.wantsAttention(where, options.returnAttention);
    if (c.output !== 'softmax') {
      if (options.stop !== undefined) throw new TypeError(`${where}: stop is a token id; a ${c.output} output generates maxLength steps`);
      if (options.prefix !== undefined) throw new TypeError(`${where}: prefix is a list of target tokens (softmax output)`);
      return { maxLength, start: 0, stop: null, prefix: [] as number[], sampler: undefined, returnAttention };
    }
    const prefix = options.prefix === undefined ? [] : checkTokens(where, 'prefix', options.prefix, c.n_y);
    const stop = checkStop(where, options.stop, c.n_y, c.stopToken);
    const sampler = resolveSampling(where, options as SamplingOptions, c.n_y, this.rng);
    return { maxLength, start: c.startToken!, stop, prefix, sampler, returnAttention };
  }
}

function toState(s: { h0: Float32Array; c0?: Float32Array }): State {
  return s.c0 ? { h: s.h0, c: s.c0 } : { h: s.h0 };
}

/** States (S, B, H) → rows (B, S·H): each sequence's states side by side. */
function statesToRows(v: Float32Array, S: number, B: number, H: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(S * B * H);
  for (let s = 0; s < S; s++) for (let b = 0; b < B; b++) out.set(v.subarray((s * B + b) * H, (s * B + b + 1) * H), (b * S + s) * H);
  return out;
}

/** Rows (B, S·H) → states (S, B, H). */
function rowsToStates(v: Float32Array, S: number, B: number, H: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(S * B * H);
  for (let s = 0; s < S; s++) for (let b = 0; b < B; b++) out.set(v.subarray((b * S + s) * H, (b * S + s + 1) * H), (s * B + b) * H);
  return out;
}

/** α of decoding steps, copied as each step makes them (returnAttention): for each source of
 *  the memory, one row per step that read it, cut to the source's own length. */
class AttentionRecord {
  private readonly rows: Float32Array<ArrayBuffer>[][];

  constructor(private readonly memory: AttentionMemory) {
    this.rows = Array.from({ length: memory.B }, () => []);
  }

  readonly watch: AttentionWatch = (alpha, src) => {
    const T = this.memory.T;
    src.forEach((j, r) => { this.rows[j].push(alpha.slice(r * T, r * T + this.memory.lens[j])); });
  };

  /** The last n rows of source j, (n, its length): α of the last n steps that read it. */
  last(j: number, n: number): Float32Array<ArrayBuffer> {
    const len = this.memory.lens[j], rows = this.rows[j];
    const out = new Float32Array(n * len);
    for (let i = 0; i < n; i++) out.set(rows[rows.length - n + i], i * len);
    return out;
  }
}

/** A stream's tokens, each with the α `latest` holds once it is chosen. */
function* withAttention(tokens: Generator<number, void, unknown>, latest: () => Float32Array<ArrayBuffer>): Generator<TokenWithAttention, void, unknown> {
  for (const token of tokens) yield { token, attention: latest() };
}

/** The linear bridge: rows (B, n_in) → tanh(W_br x + b_br), (B, n_out), and its backward. */
class Bridge {
  private ws?: { B: number; In: Region; Out: Region; dOut: Region; dIn: Region };
  private readonly weight;
  private readonly bias;
  private readonly n_in: number;
  private readonly n_out: number;

  constructor(private readonly kernels: Kernels, private readonly arena: Arena, layout: Layout) {
    const l = layout.linear('bridge')!;
    this.weight = l.weight;
    this.bias = l.bias;
    [this.n_out, this.n_in] = l.weight.shape;
  }

  forward(params: Region, input: Float32Array, B: number): Float32Array {
    const ws = this.ensure(B), k = this.kernels, w = params.ptr;
    this.arena.f32(ws.In, 0, B * this.n_in).set(input);
    k.linear_forward(ws.Out.ptr, ws.In.ptr, w + 4 * this.weight.offset, w + 4 * this.bias.offset, B, this.n_in, this.n_out);
    k.activation_forward(ws.Out.ptr, B * this.n_out, 0);            // a<0> = tanh(·)
    return this.arena.f32(ws.Out, 0, B * this.n_out).slice();
  }

  /** Adds ∂L/∂W_br, ∂L/∂b_br into grads; returns ∂L/∂input (B, n_in). */
  backward(params: Region, grads: Region, dOut: Float32Array, B: number): Float32Array {
    const ws = this.ws!, k = this.kernels, w = params.ptr, g = grads.ptr;
    this.arena.f32(ws.dOut, 0, B * this.n_out).set(dOut);
    k.activation_backward(ws.dOut.ptr, ws.Out.ptr, B * this.n_out, 0);   // backprop through tanh
    k.linear_backward(ws.dIn.ptr, g + 4 * this.weight.offset, g + 4 * this.bias.offset, ws.dOut.ptr,
      ws.In.ptr, w + 4 * this.weight.offset, B, this.n_in, this.n_out, 0);
    return this.arena.f32(ws.dIn, 0, B * this.n_in).slice();
  }

  release(): void {
    const ws = this.ws;
    if (!ws) return;
    for (const r of [ws.In, ws.Out, ws.dOut, ws.dIn]) this.arena.release(r);
    this.ws = undefined;
  }

  private ensure(B: number) {
    if (this.ws && this.ws.B >= B) return this.ws;
    const old = this.ws;
    this.arena.replacing(() => { this.ws = old; });   // a refused call puts it back (arena.ts: atomic)
    this.release();
    const a = this.arena;
    const ws = { B } as NonNullable<Bridge['ws']>;
    this.ws = ws;   // registered first, so a failed allocation below is released with it
    ws.In = a.alloc(B * this.n_in, 'the bridge workspace');
    ws.Out = a.alloc(B * this.n_out, 'the bridge workspace');
    ws.dOut = a.alloc(B * this.n_out, 'the bridge workspace');
    ws.dIn = a.alloc(B * this.n_in, 'the bridge workspace');
    return ws;
  }
}

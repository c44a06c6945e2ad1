// What the architectures share: config fields and their checks, the types of one input step
// and one target, target packing, and recurrent state helpers. The output layer with its loss
// is src/head.ts.
//
// B = examples per batch, T = steps, n_x = input size, n_a = hidden size, n_y = output size,
// S = L·D state vectors per example (layers × directions). States are (S, B, n_a) flat.

import type { InputKind, OutputKind } from '../data.js';
import type { EmbeddingTable } from '../embedding.js';
import type { CellKind } from '../layout.js';
import type { MetricName } from '../network.js';
import { randomSeed } from '../random.js';
import type { StackConfig } from '../stack.js';
import { isTokenizer, type Tokenizer, type TokenizerJSON } from '../tokenizer.js';
import { KEYS } from '../keys.js';
import { skipping, skips, type LossConfig } from '../loss.js';
import { checkBackend, checkBoolean, checkChoice, checkInt, checkKeys, checkNumber, describe, finiteF32, isArrayLike, largest, plural, showF32 } from '../validate.js';
import type { Backend } from '../wasm.js';

export type Architecture = 'one-to-one' | 'one-to-many' | 'many-to-one' | 'many-to-many' | 'encoder-decoder';

// --- value types ---

/** One input step: a token id (input 'tokens') or a vector of n_x features ('dense'). */
export type Step<I extends InputKind> = I extends 'tokens' ? number : ArrayLike<number>;
/** One target: a class id (softmax) or a vector of n_y values (sigmoid: in [0, 1]; linear). */
export type Label<O extends OutputKind> = O extends 'softmax' ? number : ArrayLike<number>;
/** A model's answer for one target: the most likely class (softmax) or the n_y outputs. */
export type Prediction<O extends OutputKind> = O extends 'softmax' ? number : Float32Array<ArrayBuffer>;

// --- configuration ---

/** The recurrent cell of a stack. */
export interface CellOptions {
  /** Recurrent cell: 'rnn' (vanilla), 'lstm' or 'gru'. Default 'rnn'. */
  cell?: CellKind;
  /** Hidden size: units in a<t>. */
  n_a?: number;
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Non-linearity of the vanilla cell ('rnn' only). Default 'tanh'. */
  activation?: 'tanh' | 'relu';
  /** GRU only: PyTorch's form r ⊙ (W_hn h + b_hn) (true) or W_hn (r ⊙ h) (false). Default true. */
  resetAfter?: boolean;
  /** In training, zero each output of every layer but the last with this probability
   *  (PyTorch's `dropout`; needs layers ≥ 2). Default 0. */
  dropout?: number;
  /** false: the recurrent layers have no biases (PyTorch's bias=False): no bias_ih / bias_hh
   *  tensors, the cells computed with zero biases. The output layer keeps its bias. Default true. */
  bias?: boolean;
}

/** Fields every architecture takes (the loss's options, src/loss.ts: classWeights,
 *  labelSmoothing and ignoreIndex for softmax outputs only, posWeight for sigmoid only). */
export interface CommonConfig extends LossConfig {
  /** Recurrent cell: 'rnn' (the vanilla/Elman cell), 'lstm' or 'gru'. Default 'rnn'. */
  cell?: CellKind;
  /** Hidden size: units in a<t>. */
  n_a: number;
  /** Stacked recurrent layers. Default 1. */
  layers?: number;
  /** Non-linearity of the vanilla cell ('rnn' only). Default 'tanh'. */
  activation?: 'tanh' | 'relu';
  /** GRU only: true is PyTorch's form, r ⊙ (W_hn h + b_hn); false is W_hn (r ⊙ h). Default true. */
  resetAfter?: boolean;
  /** In training, zero each output of every recurrent layer but the last with this
   *  probability (PyTorch's `dropout`; needs layers ≥ 2). Default 0. */
  dropout?: number;
  /** false: the recurrent layers have no biases (PyTorch's bias=False): no bias_ih / bias_hh
   *  tensors, the cells computed with zero biases. The output layer keeps its bias (see
   *  headBias). Default true. */
  bias?: boolean;
  /** false: the output layer has no bias (nn.Linear's bias=False, Keras Dense's
   *  use_bias=False): no 'head.bias' (nor b_y), ŷ = g(W_ya a), nothing to train. Default true. */
  headBias?: boolean;
  /** 'sum': the loss is summed over targets (and steps); 'mean': divided by their number
   *  (× n_y for sigmoid and linear outputs), as PyTorch. Default 'sum'. */
  reduction?: 'sum' | 'mean';
  /** Seed for initialisation, shuffling and sampling. Default: drawn at random and recorded
   *  in config.seed. */
  seed?: number;
  /** Kernel build. Default 'auto' (SIMD when supported). */
  backend?: Backend;
}

/** The cell part of a resolved config. */
export interface ResolvedCell {
  cell: CellKind;
  n_a: number;
  layers: number;
  activation: 'tanh' | 'relu';
  resetAfter: boolean;
  dropout: number;
  /** Present (false) only for layers without biases, so configs and files of models with
   *  biases are as they were. */
  bias?: false;
}

export function resolveCell(where: string, c: CellOptions, prefix = ''): ResolvedCell {
  if (typeof c !== 'object' || c === null) throw new TypeError(`${where}: ${prefix || 'config'} must be an object, got ${describe(c)}`);
  const cell = checkChoice(where, `${prefix}cell`, c.cell ?? 'rnn', ['rnn', 'lstm', 'gru'] as const);
  if (c.activation === 'relu' && cell !== 'rnn') {
    throw new TypeError(`${where}: ${prefix}activation 'relu' applies to cell 'rnn' only; the ${cell} cell uses its own gate non-linearities`);
  }
  if (c.resetAfter === false && cell !== 'gru') throw new TypeError(`${where}: ${prefix}resetAfter applies to cell 'gru' only, got cell '${cell}'`);
  const layers = checkInt(where, `${prefix}layers`, c.layers ?? 1);
  const dropout = checkNumber(where, `${prefix}dropout`, c.dropout ?? 0, 0, 0.99);
  if (dropout > 0 && layers < 2) throw new RangeError(`${where}: ${prefix}dropout acts between stacked layers and needs ${prefix}layers ≥ 2, got ${layers}`);
  return {
    cell,
    n_a: checkInt(where, `${prefix}n_a`, c.n_a),
    layers,
    activation: checkChoice(where, `${prefix}activation`, c.activation ?? 'tanh', ['tanh', 'relu'] as const),
    resetAfter: checkBoolean(where, `${prefix}resetAfter`, c.resetAfter ?? true),
    dropout,
    ...resolveBias(where, `${prefix}bias`, c.bias),
  };
}

/** The bias field of a resolved config: { bias: false } for layers without biases, else nothing
 *  (true is the default and is not recorded, so files of models with biases are unchanged). */
export function resolveBias(where: string, name: string, v: unknown): { bias?: false } {
  return checkBoolean(where, name, v ?? true) ? {} : { bias: false };
}

/** The headBias field of a resolved config: { headBias: false } for an output layer without a
 *  bias, else nothing (true, the default, is not recorded, as for bias). */
export function resolveHeadBias(where: string, v: unknown): { headBias?: false } {
  return checkBoolean(where, 'headBias', v ?? true) ? {} : { headBias: false };
}

/** One side of a two-stack model: its own fields, else the top-level ones (activation and
 *  resetAfter only where they apply to the side's cell). */
export function resolveSide(where: string, top: CellOptions, side: CellOptions, prefix: 'encoder.' | 'decoder.'): ResolvedCell {
  const name = prefix === 'encoder.' ? 'encoder' : 'decoder';
  if (typeof side !== 'object' || side === null) throw new TypeError(`${where}: ${name} must be an object, got ${describe(side)}`);
  checkKeys(where, name, side, KEYS[name]);
  const cell = side.cell ?? top.cell ?? 'rnn';
  return resolveCell(where, {
    cell,
    n_a: side.n_a ?? top.n_a,
    layers: side.layers ?? top.layers,
    activation: side.activation ?? (cell === 'rnn' ? top.activation : undefined),
    resetAfter: side.resetAfter ?? (cell === 'gru' ? top.resetAfter : undefined),
    dropout: side.dropout ?? top.dropout,
    bias: side.bias ?? top.bias,
  }, side.n_a === undefined && top.n_a === undefined ? '' : prefix);
}

export function resolveCommon(where: string, c: CommonConfig) {
  checkBackend(where, 'backend', c.backend);
  return {
    ...resolveHeadBias(where, c.headBias),
    reduction: checkChoice(where, 'reduction', c.reduction ?? 'sum', ['sum', 'mean'] as const),
    seed: c.seed === undefined ? randomSeed() : checkInt(where, 'seed', c.seed, 0),
  };
}

export function resolveInput(where: string, v: unknown): InputKind {
  return checkChoice(where, 'input', v ?? 'dense', ['tokens', 'dense'] as const);
}

export function resolveOutput(where: string, v: unknown): OutputKind {
  return checkChoice(where, 'output', v ?? 'softmax', ['softmax', 'sigmoid', 'linear'] as const);
}

/** Reject a field the architecture does not take (JavaScript callers; TypeScript says so first). */
export function rejectFields(where: string, config: object, architecture: string, fields: readonly string[]): void {
  for (const f of fields) {
    if ((config as Record<string, unknown>)[f] !== undefined) throw new TypeError(`${where}: '${architecture}' takes no ${f}`);
  }
}

/** A tokenizer given in a config: checked against the size it stands for. */
export function checkTokenizer(where: string, name: string, t: unknown, size: number, sizeName: string): Tokenizer | undefined {
  if (t === undefined) return undefined;
  if (!isTokenizer(t)) throw new TypeError(`${where}: tokenizers.${name} must be a CharTokenizer or WordTokenizer, got ${describe(t)}`);
  if (t.size !== size) throw new RangeError(`${where}: tokenizers.${name} has ${t.size} tokens, but ${sizeName} = ${size}`);
  return t;
}

/** The input tokenizer of a config, if any: needs token input of its size. */
export function inputTokenizer(where: string, t: { x?: Tokenizer } | undefined, c: { input: InputKind; n_x: number }): { x?: Tokenizer } {
  if (t === undefined) return {};
  if (typeof t !== 'object' || t === null) throw new TypeError(`${where}: tokenizers must be an object { x? }, got ${describe(t)}`);
  checkKeys(where, 'tokenizers', t, KEYS.inputTokenizers);
  const x = checkTokenizer(where, 'x', t.x, c.n_x, 'n_x');
  if (x && c.input !== 'tokens') throw new TypeError(`${where}: tokenizers.x needs input 'tokens', got input '${c.input}'`);
  return x ? { x } : {};
}

/** Tokenizers as the JSON a model file carries: { tokenizers: { x?, y? } }, or nothing. */
export function tokenizersJSON(t: { x?: Tokenizer; y?: Tokenizer }): { tokenizers?: { x?: TokenizerJSON; y?: TokenizerJSON } } {
  if (!t.x && !t.y) return {};
  return { tokenizers: { ...(t.x ? { x: t.x.toJSON() } : {}), ...(t.y ? { y: t.y.toJSON() } : {}) } };
}

export function stackConfig(c: ResolvedCell, n_x: number, tokens: boolean, bidirectional = false, embedding?: EmbeddingTable): StackConfig {
  return {
    cell: c.cell, n_x, n_a: c.n_a, layers: c.layers, bidirectional, activation: c.activation, resetAfter: c.resetAfter, tokens, dropout: c.dropout,
    ...(embedding ? { embedding } : {}), ...(c.bias === false ? { bias: false } : {}),
  };
}

// --- packing ---

/** B single steps (one-to-one inputs) → (B) ids or (B, n_x) features. */
export function packSteps(where: string, x: unknown, kind: InputKind, n_x: number): { B: number; x: Int32Array | Float32Array } {
  const items = checkList(where, 'x', x, 'inputs');
  const B = items.length;
  if (kind === 'tokens') {
    const out = new Int32Array(B);
    items.forEach((v, b) => { out[b] = checkId(where, `x[${b}]`, v, n_x, 'token ids', 'n_x'); });
    return { B, x: out };
  }
  const out = new Float32Array(B * n_x);
  items.forEach((v, b) => packVector(where, `x[${b}]`, v, n_x, 'n_x', out, b * n_x, false));
  return { B, x: out };
}

/** B targets (or one-to-many first inputs), one per example → (B) class ids or (B, n_y) values.
 *  Targets of a softmax pass the model's `ignoreIndex`: an id of −1 or it is packed as −1 (the
 *  example is skipped); inputs pass none, and every id must be a class. */
export function packLabels(where: string, y: unknown, kind: OutputKind, n_y: number, B: number, name = 'y',
                           ignoreIndex?: number): Int32Array | Float32Array {
  const items = checkList(where, name, y, name === 'y' ? 'targets' : 'inputs');
  if (items.length !== B) throw new RangeError(`${where}: ${name} must have one entry per example (B = ${B}), got ${items.length}`);
  if (kind === 'softmax') {
    const out = new Int32Array(B);
    items.forEach((v, b) => {
      if (isArrayLike(v)) throw new TypeError(`${where}: ${name}[${b}] must be one class id per example, got ${describe(v)}${name === 'y' ? ' (per-step targets belong to a many-to-many model)' : ''}`);
      out[b] = ignoreIndex !== undefined && typeof v === 'number' && skips(v, ignoreIndex) ? -1
        : checkId(where, `${name}[${b}]`, v, n_y, 'class ids', 'n_y', ignoreIndex === undefined ? undefined : skipping(ignoreIndex, 'example'));
    });
    return out;
  }
  const out = new Float32Array(B * n_y);
  items.forEach((v, b) => packVector(where, `${name}[${b}]`, v, n_y, 'n_y', out, b * n_y, kind === 'sigmoid'));
  return out;
}

function checkList(where: string, name: string, v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${where}: ${name} must be an array of ${what} (a batch), got ${describe(v)}`);
  if (v.length === 0) throw new RangeError(`${where}: ${name} must hold at least one example, got an empty batch`);
  return v;
}

/** An id in [0, n); `skip` says in a refusal which other ids a target may be ("or −1 to skip
 *  the step"), when the caller takes them. */
export function checkId(where: string, name: string, v: unknown, n: number, what: string, sizeName: string, skip?: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: ${name} must be an integer (${what.slice(0, -1)}), got ${describe(v)}`);
  if (v < 0 || v >= n) throw new RangeError(`${where}: ${name} = ${v} is out of range; ${what} must be in [0, ${sizeName}) = [0, ${n})${skip ? `, ${skip}` : ''}`);
  return v;
}

/** Copy one vector of n values into out at offset, checking each. */
export function packVector(where: string, name: string, v: unknown, n: number, sizeName: string, out: Float32Array, offset: number, unit: boolean): void {
  if (!isArrayLike(v)) throw new TypeError(`${where}: ${name} must be a vector of ${plural(n, 'number')} (${sizeName}), got ${describe(v)}`);
  if (v.length !== n) {
    const hint = v.length > 0 && isArrayLike(v[0]) ? ' (a sequence? this takes one vector per example)' : '';
    throw new RangeError(`${where}: ${name} has ${plural(v.length, 'value')}, the model expects ${sizeName} = ${n}${hint}`);
  }
  for (let k = 0; k < n; k++) {
    const u = v[k];
    if (typeof u !== 'number') throw new TypeError(`${where}: ${name}[${k}] must be a number, got ${describe(u)}`);
    if (!finiteF32(u)) throw new RangeError(`${where}: ${name}[${k}] is ${showF32(u)}; values must be finite`);
    if (unit && (u < 0 || u > 1)) throw new RangeError(`${where}: ${name}[${k}] is ${u}; sigmoid targets must be in [0, 1]`);
    out[offset + k] = u;
  }
}

/** The metrics an output supports besides the loss: perplexity and bits per character are
 *  exp and log2 of the plain cross-entropy (a loss with class weights or smoothing reports
 *  them of its plain cross-entropy, head.ts: stats). */
export function metricsFor(output: OutputKind): readonly MetricName[] {
  if (output === 'softmax') return ['accuracy', 'perplexity', 'bitsPerChar'];
  return output === 'sigmoid' ? ['accuracy'] : [];
}

/** (B, n_y) rows → predictions: argmax for softmax, copies of the rows otherwise. */
export function toPredictions<O extends OutputKind>(yhat: Float32Array, B: number, n_y: number, output: O): Prediction<O>[] {
  const out: Prediction<O>[] = [];
  for (let b = 0; b < B; b++) {
    const row = yhat.subarray(b * n_y, (b + 1) * n_y);
    if (output === 'softmax') {
      let best = 0;
      for (let k = 1; k < n_y; k++) if (row[k] > row[best]) best = k;
      out.push(best as Prediction<O>);
    } else {
      out.push(row.slice() as Prediction<O>);
    }
  }
  return out;
}

// --- recurrent state ---

/** Recurrent state of B sequences: h (S, B, n_a), and c for LSTM. */
export interface State {
  h: Float32Array;
  c?: Float32Array;
}

/** A user-given initial state (S, B, n_a), checked. */
export function checkState(where: string, name: string, v: unknown, S: number, B: number, H: number): Float32Array | undefined {
  if (v === undefined) return undefined;
  if (!isArrayLike(v)) throw new TypeError(`${where}: ${name} must be an array of layers · directions × B × n_a = ${S} × ${B} × ${H} numbers, got ${describe(v)}`);
  if (v.length !== S * B * H) throw new RangeError(`${where}: ${name} must have layers · directions × B × n_a = ${S} × ${B} × ${H} = ${S * B * H} values, got ${v.length}`);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const u = v[i];
    if (typeof u !== 'number' || !Number.isFinite(u)) throw new TypeError(`${where}: ${name}[${i}] must be a finite number, got ${describe(u)}`);
    if (!finiteF32(u)) throw new RangeError(`${where}: ${name}[${i}] must be a finite number, got ${showF32(u)}`);
    out[i] = u;
  }
  return out;
}

// --- sequences of targets (decoders) ---

/** B sequences of ids or vectors, packed time-major and padded to the longest. */
export interface PackedSequences {
  T: number;
  B: number;
  /** Each sequence's length; undefined when all are T. */
  lens?: Int32Array;
  /** (T·B) ids (−1 past each end) or (T·B, n) values (0 past each end). */
  data: Int32Array | Float32Array;
}

/** Validate and pack target sequences: class ids in [0, n) (kind 'ids') or steps of n values,
 *  given as rows or as one flat array (kind 'vectors'; unit: each in [0, 1]). Every sequence
 *  needs at least one step. With `ignoreIndex`, an id of −1, or the ignoreIndex when it is no
 *  class id, is packed as −1 (skipped; where that may be is the decoder's to check). */
export function packSequences(where: string, name: string, v: unknown, kind: 'ids' | 'vectors', n: number,
                              sizeName: string, unit: boolean, ignoreIndex?: number): PackedSequences {
  if (!Array.isArray(v)) throw new TypeError(`${where}: ${name} must be an array of sequences (a batch), got ${describe(v)}`);
  if (v.length === 0) throw new RangeError(`${where}: ${name} must hold at least one sequence, got an empty batch`);
  const B = v.length;
  const steps = v.map((s, b) => {
    if (!isArrayLike(s)) {
      const hint = typeof s === 'number' ? ` (one target per example belongs to a many-to-one model; a sequence s is [s])` : '';
      throw new TypeError(`${where}: ${name}[${b}] must be a sequence (array or typed array), got ${describe(s)}${hint}`);
    }
    if (s.length === 0) throw new RangeError(`${where}: ${name}[${b}] is an empty sequence; every sequence needs at least one step`);
    if (kind === 'ids' || isArrayLike(s[0])) return s.length;
    if (s.length % n !== 0) throw new RangeError(`${where}: ${name}[${b}] is a flat array of ${plural(s.length, 'value')}, not a multiple of ${sizeName} = ${n} per step`);
    return s.length / n;
  });
  const T = largest(steps);
  const lens = steps.some((s) => s !== T) ? Int32Array.from(steps) : undefined;
  if (kind === 'ids') {
    const data = new Int32Array(T * B).fill(-1);
    // a decoder's: only its last targets can be skipped by an id that is no class (arch/decoder.ts)
    const skip = ignoreIndex === undefined ? undefined : skipping(ignoreIndex >= 0 && ignoreIndex < n ? -1 : ignoreIndex, 'last steps (padding)');
    v.forEach((s: ArrayLike<unknown>, b) => {
      for (let t = 0; t < s.length; t++) {
        const id = s[t];
        // −1 in data; an ignoreIndex that is a class is packed as itself, a decoder's next input
        if (skip !== undefined && typeof id === 'number' && skips(id, ignoreIndex!) && !(id >= 0 && id < n)) continue;
        data[t * B + b] = checkId(where, `${name}[${b}][${t}]`, id, n, 'class ids', sizeName, skip);
      }
    });
    return { T, B, lens, data };
  }
  const data = new Float32Array(T * B * n);
  v.forEach((s: ArrayLike<unknown>, b) => {
    const rows = isArrayLike(s[0]);
    const flat = rows ? undefined : s;
    for (let t = 0; t < steps[b]; t++) {
      const row = rows ? s[t] : Array.prototype.slice.call(flat, t * n, (t + 1) * n);
      packVector(where, `${name}[${b}][${t}]`, row, n, sizeName, data, (t * B + b) * n, unit);
    }
  });
  return { T, B, lens, data };
}

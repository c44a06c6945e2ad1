// Batches: validation of user sequences and their packing into time-major arrays.
//
// A batch is B sequences. Token inputs are ids in [0, n_x); dense inputs are per-step vectors
// of n_x features, given per sequence either as rows or as one flat array of steps · n_x
// values. Sequences may differ in length (a ragged batch): they are padded to the longest,
// T, and `lens` records each one's own length; padding never reaches a result, because the
// recurrence reads each sequence's own last step and padded steps weigh 0 in the loss.
// Targets follow the output: class ids in [0, n_y) for softmax (−1, or the model's ignoreIndex,
// skips a step: packed as −1, the one skip the kernels know), per-step
// vectors of n_y values for sigmoid (in [0, 1]) and linear outputs; a target sequence has
// the length of its input sequence. Packed layout is time-major: row t·B + b is step t of
// sequence b.
import { skipping, skips } from './loss.js';
import { describe, finiteF32, isArrayLike, largest, plural, showF32 } from './validate.js';

export type InputKind = 'tokens' | 'dense';
export type OutputKind = 'softmax' | 'sigmoid' | 'linear';

/** Token ids, one per step. */
export type TokenSequence = ArrayLike<number>;
/** Steps of n_x features: one row per step, or one flat array of steps · n_x values. */
export type DenseSequence = ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;
/** A sequence of the given input kind. */
export type Sequence<I extends InputKind> = I extends 'tokens' ? TokenSequence : DenseSequence;
/** Targets of one sequence for sigmoid and linear outputs: one row of n_y values per step, or
 *  every step's values flat in a Float32Array or Float64Array. A flat plain array is accepted
 *  at run time as well, but it is not part of the type: it would also admit a sequence of
 *  class ids, the targets of a softmax output, given by mistake to a linear or sigmoid model. */
export type DenseTargets = ReadonlyArray<ArrayLike<number>> | Float32Array | Float64Array;
/** Targets of one sequence for the given output: class ids, or steps of n_y values. */
export type Targets<O extends OutputKind> = O extends 'softmax' ? ArrayLike<number> : DenseTargets;

export interface PackedInput {
  /** Steps of the longest sequence. */
  T: number;
  B: number;
  /** (T·B) ids or (T·B, n_x) features, time-major, zero past each sequence's end. */
  x: Int32Array | Float32Array;
  /** Each sequence's length; undefined when all are T. */
  lens?: Int32Array;
}

/** Validate and pack B input sequences, padding to the longest. */
export function packInputs(where: string, x: unknown, kind: InputKind, n_x: number): PackedInput {
  const seqs = checkBatch(where, 'x', x);
  const B = seqs.length;
  const steps = seqs.map((s, b) => kind === 'tokens' ? nonEmpty(where, `x[${b}]`, s).length : stepsOf(where, `x[${b}]`, s, n_x, 'n_x', DENSE_HINT));
  const T = largest(steps);
  const lens = steps.some((n) => n !== T) ? Int32Array.from(steps) : undefined;
  if (kind === 'tokens') {
    const out = new Int32Array(T * B);
    for (let b = 0; b < B; b++) {
      const s = seqs[b];
      for (let t = 0; t < s.length; t++) {
        const id = s[t];
        if (typeof id !== 'number') {
          const hint = isArrayLike(id) ? ` (this model's input is 'tokens', one id per step; vectors of features need input: 'dense')` : '';
          throw new TypeError(`${where}: x[${b}][${t}] must be a token id (integer), got ${describe(id)}${hint}`);
        }
        if (!Number.isInteger(id)) throw new TypeError(`${where}: x[${b}][${t}] must be an integer token id, got ${id}`);
        if (id < 0 || id >= n_x) throw new RangeError(`${where}: x[${b}][${t}] = ${id} is out of range; token ids must be in [0, n_x) = [0, ${n_x})`);
        out[t * B + b] = id;
      }
    }
    return { T, B, x: out, lens };
  }
  const out = new Float32Array(T * B * n_x);
  for (let b = 0; b < B; b++) packDense(where, `x[${b}]`, seqs[b], steps[b], B, b, n_x, 'n_x', out, -Infinity, Infinity);
  return { T, B, x: out, lens };
}

/** Validate and pack B target sequences, each as long as its input (steps[b]), padded to T.
 *  Softmax: a target of −1 or `ignoreIndex` is packed as −1 (skipped). */
export function packTargets(where: string, y: unknown, kind: OutputKind, n_y: number, input: PackedInput, ignoreIndex = -1): Int32Array | Float32Array {
  const { T, B } = input;
  const seqs = checkBatch(where, 'y', y);
  if (seqs.length !== B) throw new RangeError(`${where}: y must have one target sequence per input sequence (B = ${B}), got ${seqs.length}`);
  const len = (b: number) => input.lens ? input.lens[b] : T;
  if (kind === 'softmax') {
    const out = new Int32Array(T * B).fill(-1);
    for (let b = 0; b < B; b++) {
      const s = seqs[b];
      if (s.length !== len(b)) {
        throw new RangeError(`${where}: y[${b}] has ${plural(s.length, 'class id')}, but x[${b}] has ${plural(len(b), 'step')}; give one target per input step`);
      }
      for (let t = 0; t < s.length; t++) {
        const c = s[t];
        if (typeof c !== 'number' || !Number.isInteger(c)) throw new TypeError(`${where}: y[${b}][${t}] must be an integer class id, got ${describe(c)}`);
        if (skips(c, ignoreIndex)) continue;   // out holds −1 there
        if (c < 0 || c >= n_y) throw new RangeError(`${where}: y[${b}][${t}] = ${c} is out of range; class ids must be in [0, n_y) = [0, ${n_y}), ${skipping(ignoreIndex, 'step')}`);
        out[t * B + b] = c;
      }
    }
    return out;
  }
  const out = new Float32Array(T * B * n_y);
  const [lo, hi] = kind === 'sigmoid' ? [0, 1] : [-Infinity, Infinity];
  const hint = `; a ${kind} output takes a vector of n_y = ${n_y} values per step (class ids are the targets of a softmax output)`;
  for (let b = 0; b < B; b++) {
    const s = seqs[b];
    // one number per input step where there should be n_y > 1: class ids, most likely
    if (n_y > 1 && s.length === len(b) && typeof s[0] === 'number') {
      throw new TypeError(`${where}: y[${b}] is a flat array of ${plural(s.length, 'number')}, one per step of x[${b}] (class ids?)${hint}`);
    }
    const steps = stepsOf(where, `y[${b}]`, s, n_y, 'n_y', hint);
    if (steps !== len(b)) {
      throw new RangeError(`${where}: y[${b}] has ${plural(steps, 'step')}, but x[${b}] has ${plural(len(b), 'step')}; give one target per input step`);
    }
    packDense(where, `y[${b}]`, s, steps, B, b, n_y, 'n_y', out, lo, hi);
  }
  return out;
}

/** Row weights (T·B): 1 for a real step, 0 for padding; undefined when nothing is padded. */
export function stepMask(input: PackedInput): Float32Array | undefined {
  const { T, B, lens } = input;
  if (!lens) return undefined;
  const w = new Float32Array(T * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < lens[b]; t++) w[t * B + b] = 1;
  return w;
}

function checkBatch(where: string, name: string, v: unknown): ArrayLike<unknown>[] {
  if (!Array.isArray(v)) throw new TypeError(`${where}: ${name} must be an array of sequences (a batch), got ${describe(v)}`);
  if (v.length === 0) throw new RangeError(`${where}: ${name} must hold at least one sequence, got an empty batch`);
  for (let b = 0; b < v.length; b++) {
    if (!isArrayLike(v[b])) {
      const hint = typeof v[b] === 'number' ? ` (wrap a single sequence s as [s])` : '';
      throw new TypeError(`${where}: ${name}[${b}] must be a sequence (array or typed array), got ${describe(v[b])}${hint}`);
    }
  }
  return v as ArrayLike<unknown>[];
}

function nonEmpty(where: string, name: string, s: ArrayLike<unknown>): ArrayLike<unknown> {
  if (s.length === 0) throw new RangeError(`${where}: ${name} is an empty sequence; every sequence needs at least one step`);
  return s;
}

/** What a dense input takes, for an error that may be token ids given to it. */
const DENSE_HINT = `; this model's input is 'dense', a vector of n_x values per step (token ids need input: 'tokens')`;

/** Number of steps in a dense sequence (rows, or flat values / width). */
function stepsOf(where: string, name: string, s: ArrayLike<unknown>, width: number, widthName: string, hint: string): number {
  nonEmpty(where, name, s);
  if (isArrayLike(s[0])) return s.length;
  if (s.length % width !== 0) {
    throw new RangeError(`${where}: ${name} is a flat array of ${plural(s.length, 'value')}, not a multiple of ${widthName} = ${width} ${noun(widthName)}s per step${hint}`);
  }
  return s.length / width;
}

/** What one of the `width` numbers of a step is called: a feature of an input, a value of a target. */
function noun(widthName: string): string {
  return widthName === 'n_x' ? 'feature' : 'value';
}

/** Copy `steps` steps of one dense sequence into column b of a time-major (T, B, width) array. */
function packDense(where: string, name: string, s: ArrayLike<unknown>, steps: number, B: number, b: number,
                   width: number, widthName: string, out: Float32Array, lo: number, hi: number): void {
  const rows = isArrayLike(s[0]);
  for (let t = 0; t < steps; t++) {
    let row: ArrayLike<unknown>;
    let base = 0;
    if (rows) {
      const r = s[t];
      if (!isArrayLike(r)) throw new TypeError(`${where}: ${name}[${t}] must be a vector of ${width} numbers, got ${describe(r)}`);
      if (r.length !== width) throw new RangeError(`${where}: ${name}[${t}] has ${plural(r.length, noun(widthName))}, the model expects ${widthName} = ${width}`);
      row = r;
    } else {
      row = s;
      base = t * width;
    }
    const o = (t * B + b) * width;
    for (let k = 0; k < width; k++) {
      const v = row[base + k];
      if (typeof v !== 'number') throw new TypeError(`${where}: ${name} step ${t} ${noun(widthName)} ${k} must be a number, got ${describe(v)}`);
      if (!finiteF32(v)) throw new RangeError(`${where}: ${name} step ${t} ${noun(widthName)} ${k} is ${showF32(v)}; ${widthName === 'n_x' ? 'inputs' : 'targets'} must be finite`);
      if (v < lo || v > hi) throw new RangeError(`${where}: ${name} step ${t} value ${k} is ${v}; sigmoid targets must be in [0, 1]`);
      out[o + k] = v;
    }
  }
}

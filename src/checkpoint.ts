// Checkpoints: the full training state of a model as one safetensors file, so that training
// resumed from it continues exactly as the uninterrupted run would have, bit for bit.
//
//   tensors   every parameter under its PyTorch name (as in model files: a checkpoint loads
//             with loadWeights(bytes, { strict: false }) or loadRNN(bytes, { strict: false })),
//             'optimizer.m' / 'optimizer.v' (the trainable values: all but frozen tensors) the
//             optimizer's moment regions, and
//             'fit.best_weights' (numParams) the best weights early stopping has kept
//   metadata  format, format_version, config, checksum (as model files), checkpoint_version, and
//             training: JSON { optimizer: { config, step } | null, rng: [4 × u32],
//             fit: the position of an interrupted fit() | null } (with reduceLROnPlateau, the
//             position holds its options and state; checkpoints without it still load)
//
// The optimizer's step count is also the learning-rate schedule's position. Decoding checks
// every field, size and tensor before returning; nothing is applied by this file.
import type { Layout } from './layout.js';
import { checkBytes, decodeModelFile, FORMAT, FORMAT_VERSION, sealed } from './io.js';
import { resolveOptimizer, type OptimizerConfig, type ResolvedOptimizer } from './optim.js';
import { encodeSafetensors } from './safetensors.js';
import { checkPlateau, type Plateau } from './train/plateau.js';

export const CHECKPOINT_VERSION = '1';

/** Sums behind the epoch's metrics (see Network.fit). */
export interface StatSums {
  /** Σ per-term loss and the number of terms (with class weights: the sum of the predicted
   *  targets' weights, what reduction 'mean' divides by). */
  lossSum: number;
  terms: number;
  /** Right predictions and predictions counted (accuracy); 0 and 0 when not tracked. */
  correct: number;
  counted: number;
  /** A loss with class weights or label smoothing only: the plain cross-entropy Σ −log ŷ[y]
   *  and its targets, which perplexity and bits per character are of. */
  nllSum?: number;
  nllTerms?: number;
}

/** Where an interrupted fit() stands, so that fit({ resume: true }) continues there. */
export interface FitPosition {
  /** Training examples (after the validation split) and the batch size they were cut by. */
  examples: number;
  batchSize: number;
  shuffle: boolean;
  /** Length-bucketed batches, or a stream (whose examples are not counted: 0). Absent: the
   *  data set reshuffled every epoch. */
  order?: 'bucketed' | 'stream';
  /** The epoch in progress (or the next one, at an epoch boundary) and its next batch
   *  (= the number of batches when only the epoch's end is left). */
  epoch: number;
  batch: number;
  /** Generator state this epoch's order was drawn from (redrawn on resume); with
   *  stepsPerEpoch, the order of the pass in progress. */
  orderRng: number[];
  /** With stepsPerEpoch only: the batches of an epoch, the pass over the data in progress
   *  (from 0; passes follow on across epochs) and its next batch. Absent: an epoch is a pass. */
  stepsPerEpoch?: number;
  pass?: number;
  passBatch?: number;
  /** The epoch so far: Σ batch losses, batches, optimizer steps, and the metric sums. */
  lossSum: number;
  batches: number;
  sums: StatSums;
  /** Early stopping: best monitored value, its epoch, epochs without improvement since. */
  early?: { best: number; bestEpoch: number; wait: number };
  /** reduceLROnPlateau: its options, best value, epochs without improvement, cooldown left and
   *  reductions made. Absent when the run has none (and in checkpoints from before it). */
  plateau?: Plateau;
}

export interface TrainingState {
  /** The model's config (toJSON). */
  config: Record<string, unknown>;
  /** All parameters, flat in layout order. */
  weights: Float32Array;
  optimizer?: { config: ResolvedOptimizer; step: number; m?: Float32Array; v?: Float32Array };
  /** The model's generator (shuffling, dropout, sampling). */
  rng: number[];
  fit?: FitPosition;
  /** The best weights early stopping has seen, when it restores them. */
  bestWeights?: Float32Array;
}

export function encodeCheckpoint(layout: Layout, s: TrainingState): Uint8Array<ArrayBuffer> {
  const tensors = layout.entries.map((e) => ({
    name: e.name, shape: [...e.shape], data: s.weights.subarray(e.offset, e.offset + e.length),
  }));
  const n = layout.size, moments = layout.trainable;
  if (s.optimizer?.m) tensors.push({ name: 'optimizer.m', shape: [moments], data: s.optimizer.m });
  if (s.optimizer?.v) tensors.push({ name: 'optimizer.v', shape: [moments], data: s.optimizer.v });
  if (s.bestWeights) tensors.push({ name: 'fit.best_weights', shape: [n], data: s.bestWeights });
  const training = {
    optimizer: s.optimizer ? { config: s.optimizer.config, step: s.optimizer.step } : null,
    rng: s.rng,
    fit: s.fit ?? null,
  };
  return encodeSafetensors(tensors, sealed(tensors, {
    format: FORMAT, format_version: FORMAT_VERSION, checkpoint_version: CHECKPOINT_VERSION,
    config: JSON.stringify(s.config), training: JSON.stringify(training),
  }));
}

/** Decode and check a checkpoint for a model with this layout. Errors name the problem. */
export function decodeCheckpoint(where: string, layout: Layout, bytes: unknown): TrainingState {
  const file = decodeModelFile(where, checkBytes(where, bytes, 'a checkpoint'));
  const meta = file.metadata;
  if (meta.training === undefined) {
    throw new TypeError(`${where}: the file has no training state (a model file from save()? load it with loadWeights)`);
  }
  if (meta.format !== FORMAT || meta.checkpoint_version !== CHECKPOINT_VERSION) {
    throw new RangeError(`${where}: the file is checkpoint version ${JSON.stringify(meta.checkpoint_version)} of format ${JSON.stringify(meta.format)}; this version of rnn-wasm reads version ${CHECKPOINT_VERSION} of "${FORMAT}"`);
  }
  const config = parseJSON(where, 'config', meta.config);
  const training = parseJSON(where, 'training', meta.training);
  if (!isObject(config)) throw new TypeError(`${where}: the checkpoint's config must be an object`);
  if (!isObject(training)) throw new TypeError(`${where}: the checkpoint's training state must be an object`);

  // tensors: every parameter with its shape, the moment regions, nothing else
  const n = layout.size;
  const weights = new Float32Array(n);
  const used = new Set<string>();
  for (const e of layout.entries) {
    const t = file.tensors.get(e.name);
    if (!t) throw new RangeError(`${where}: the checkpoint has no tensor "${e.name}" (shape [${e.shape.join(', ')}])`);
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new RangeError(`${where}: tensor "${e.name}" has shape [${t.shape.join(', ')}], this model needs [${e.shape.join(', ')}]`);
    }
    weights.set(t.data, e.offset);
    used.add(e.name);
  }
  const flat = (name: string, n: number, what: string): Float32Array | undefined => {
    const t = file.tensors.get(name);
    if (!t) return undefined;
    used.add(name);
    if (t.shape.length !== 1 || t.shape[0] !== n) {
      throw new RangeError(`${where}: tensor "${name}" has shape [${t.shape.join(', ')}], this model needs [${n}] (${what})`);
    }
    return t.data;
  };
  const moment = (name: string) => flat(name, layout.trainable, 'one value per trainable parameter');
  const m = moment('optimizer.m'), v = moment('optimizer.v'), bestWeights = flat('fit.best_weights', n, 'one value per parameter');
  const extra = [...file.tensors.keys()].filter((k) => !used.has(k));
  if (extra.length > 0) throw new RangeError(`${where}: the checkpoint has tensors this model does not use: ${extra.join(', ')}`);
  for (const [name, data] of [['weights', weights], ['optimizer.m', m], ['optimizer.v', v], ['fit.best_weights', bestWeights]] as const) {
    const i = data ? data.findIndex((x) => !Number.isFinite(x)) : -1;
    if (i >= 0) throw new RangeError(`${where}: the checkpoint's ${name} hold ${data![i]} at [${i}]; a checkpoint holds finite values only`);
  }

  const state: TrainingState = { config, weights, rng: checkRng(where, 'training.rng', training.rng) };
  if (training.optimizer !== null) {
    const o = training.optimizer;
    if (!isObject(o) || !isObject(o.config)) throw new TypeError(`${where}: training.optimizer must be { config, step } or null`);
    const oc = resolveOptimizer(`${where}: training.optimizer`, o.config as unknown as OptimizerConfig);
    const step = checkCount(where, 'training.optimizer.step', o.step);
    const needs = oc.type === 'sgd' ? (oc.momentum === 0 ? 0 : 1) : oc.type === 'adagrad' ? 1 : 2;
    const have = (m ? 1 : 0) + (v ? 1 : 0);
    if (have !== needs || (v && !m)) {
      throw new RangeError(`${where}: optimizer '${oc.type}' keeps ${needs} moment region(s), the checkpoint has ${have}`);
    }
    state.optimizer = { config: oc, step, m, v };
  } else if (m || v) {
    throw new RangeError(`${where}: the checkpoint has optimizer moments but no optimizer`);
  }
  if (training.fit !== null) state.fit = checkFit(where, training.fit);
  if (bestWeights) {
    if (!state.fit?.early) throw new RangeError(`${where}: the checkpoint has fit.best_weights but no early-stopping state`);
    state.bestWeights = bestWeights;
  }
  return state;
}

/** Refuse a checkpoint saved from a model of another configuration (the seed aside), naming
 *  the first field that differs, before its tensors are looked at: a tensor of another shape
 *  is the symptom, the config the cause. Reads only the file's header, and the whole file only
 *  when the configs differ, to name a damaged one as such; a file whose header cannot be read,
 *  or that is not a checkpoint, is left to decodeCheckpoint to name. */
export function checkCheckpointConfig(where: string, model: Record<string, unknown>, bytes: unknown): void {
  const saved = headerConfig(bytes);
  if (saved === undefined) return;
  const d = configDifference(model, saved);
  if (d) {
    // a config changed by damage is the file's fault, not the model's: its checksum says so
    decodeModelFile(where, bytes);
    throw new RangeError(`${where}: the checkpoint was saved from a model with another configuration: ${d.path} is ${show(d.theirs)} in the checkpoint, `
      + `${show(d.mine)} in this model (a checkpoint loads into a model created with the config it was saved from)`);
  }
}

/** The config in a checkpoint's header, or undefined if the bytes are not a checkpoint whose
 *  header and config parse. */
function headerConfig(bytes: unknown): Record<string, unknown> | undefined {
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer) || bytes.byteLength < 8) return undefined;
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  if (n > b.length - 8) return undefined;
  try {
    const meta = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))).__metadata__;
    if (typeof meta?.training !== 'string') return undefined;
    const config = JSON.parse(meta.config);
    return isObject(config) ? config : undefined;
  } catch {
    return undefined;
  }
}

/** The first field at which a model's config and a checkpoint's differ, as far as the
 *  checkpoint's tensors care: the seed is left out, and a createRNN model (no architecture)
 *  is the many-to-many model it loads as. */
export function configDifference(mine: Record<string, unknown>, theirs: Record<string, unknown>):
    { path: string; mine: unknown; theirs: unknown } | undefined {
  const same = ({ seed: _, ...c }: Record<string, unknown>) => ({ ...c, architecture: c.architecture ?? 'many-to-many' });
  return firstDifference(same(mine), same(theirs), '');
}

/** The first field (as a dotted path) at which two configs differ, descending into objects. */
function firstDifference(mine: Record<string, unknown>, theirs: Record<string, unknown>, prefix: string):
    { path: string; mine: unknown; theirs: unknown } | undefined {
  for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
    const a = mine[key], b = theirs[key], path = prefix + key;
    if (isObject(a) && isObject(b)) {
      const d = firstDifference(a, b, `${path}.`);
      if (d) return d;
    } else if (json(a) === TOO_DEEP || json(a) !== json(b)) {
      return { path, mine: a, theirs: b };
    }
  }
  return undefined;
}

/** JSON.stringify(v), or TOO_DEEP for a value nested too deeply to write (a damaged or
 *  hostile file's config), which overflows the call stack. */
function json(v: unknown): string | undefined | typeof TOO_DEEP {
  try {
    return JSON.stringify(v);
  } catch {
    return TOO_DEEP;
  }
}
const TOO_DEEP = Symbol('too deep');

function show(v: unknown): string {
  if (v === undefined) return 'unset';
  const j = json(v);
  const s = j === TOO_DEEP ? 'a value nested too deeply to show' : j ?? 'unset';
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

// --- checks ---

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJSON(where: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new TypeError(`${where}: the checkpoint's metadata has no "${key}"`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TypeError(`${where}: the checkpoint's "${key}" metadata is not valid JSON (${(e as Error).message})`);
  }
}

function checkCount(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new TypeError(`${where}: ${name} must be a whole number ≥ 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A finite number ≥ 0: a count, or a sum of class weights. */
function checkWeight(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${where}: ${name} must be a finite number ≥ 0, got ${JSON.stringify(v)}`);
  return v;
}

function checkFinite(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${where}: ${name} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function checkRng(where: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length !== 4 || v.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)
      || v.every((x) => x === 0)) {
    throw new TypeError(`${where}: ${name} must be 4 unsigned 32-bit integers, not all 0, got ${JSON.stringify(v)}`);
  }
  return v.slice();
}

function checkFit(where: string, v: unknown): FitPosition {
  if (!isObject(v)) throw new TypeError(`${where}: training.fit must be an object or null`);
  const count = (key: string) => checkCount(where, `training.fit.${key}`, v[key]);
  const sums = v.sums;
  if (!isObject(sums)) throw new TypeError(`${where}: training.fit.sums must be an object`);
  if (typeof v.shuffle !== 'boolean') throw new TypeError(`${where}: training.fit.shuffle must be true or false`);
  const fit: FitPosition = {
    examples: count('examples'), batchSize: count('batchSize'), shuffle: v.shuffle,
    epoch: count('epoch'), batch: count('batch'),
    orderRng: checkRng(where, 'training.fit.orderRng', v.orderRng),
    lossSum: checkFinite(where, 'training.fit.lossSum', v.lossSum), batches: count('batches'),
    sums: {
      lossSum: checkFinite(where, 'training.fit.sums.lossSum', sums.lossSum), terms: checkWeight(where, 'training.fit.sums.terms', sums.terms),
      correct: checkCount(where, 'training.fit.sums.correct', sums.correct), counted: checkCount(where, 'training.fit.sums.counted', sums.counted),
    },
  };
  if (sums.nllSum !== undefined || sums.nllTerms !== undefined) {
    fit.sums.nllSum = checkFinite(where, 'training.fit.sums.nllSum', sums.nllSum);
    fit.sums.nllTerms = checkCount(where, 'training.fit.sums.nllTerms', sums.nllTerms);
  }
  if (v.order !== undefined) {
    if (v.order !== 'bucketed' && v.order !== 'stream') throw new TypeError(`${where}: training.fit.order must be 'bucketed' or 'stream', got ${JSON.stringify(v.order)}`);
    fit.order = v.order;
  }
  // epochs of stepsPerEpoch batches, over passes that follow on from one another
  if (v.stepsPerEpoch !== undefined) {
    fit.stepsPerEpoch = count('stepsPerEpoch');
    fit.pass = count('pass');
    fit.passBatch = count('passBatch');
    if (fit.stepsPerEpoch < 1 || fit.batch > fit.stepsPerEpoch) {
      throw new RangeError(`${where}: training.fit.batch ${fit.batch} is past the last batch of an epoch of stepsPerEpoch = ${fit.stepsPerEpoch} batches`);
    }
  }
  // a stream's pass has no known size
  if (fit.order !== 'stream' && (fit.batchSize < 1 || fit.examples < 1)) throw new RangeError(`${where}: training.fit needs examples and batchSize ≥ 1`);
  const passBatch = fit.passBatch ?? fit.batch, passBatches = Math.ceil(fit.examples / fit.batchSize);
  if (fit.order !== 'stream' && passBatch > passBatches) {
    const name = fit.passBatch === undefined ? 'batch' : 'passBatch';
    throw new RangeError(`${where}: training.fit.${name} ${passBatch} is past the last batch of ${fit.passBatch === undefined ? 'an epoch' : 'a pass'} (${passBatches} batches)`);
  }
  if (v.early !== undefined && v.early !== null) {
    const e = v.early;
    if (!isObject(e)) throw new TypeError(`${where}: training.fit.early must be an object`);
    // best is ±Infinity before the first epoch's value: JSON writes it as null
    const best = e.best === null ? NaN : checkFinite(where, 'training.fit.early.best', e.best);
    fit.early = { best, bestEpoch: e.bestEpoch === -1 ? -1 : checkCount(where, 'training.fit.early.bestEpoch', e.bestEpoch), wait: checkCount(where, 'training.fit.early.wait', e.wait) };
  }
  if (v.plateau !== undefined && v.plateau !== null) fit.plateau = checkPlateau(where, 'training.fit.plateau', v.plateau);
  return fit;
}

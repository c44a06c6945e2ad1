// The losses' options and their checks. The softmax cross-entropy's — class weights, label
// smoothing and the ignored class id, PyTorch's nn.CrossEntropyLoss(weight = w,
// label_smoothing = ε, ignore_index = i) — and the normaliser of reduction 'mean'. Per predicted
// row with target y (C = n_y classes, p = softmax(z)):
//
//   L_row   = (1 − ε) · w[y] · (−log p[y])  +  (ε / C) · Σ_c w[c] · (−log p[c])
//   ∂L/∂z_k = p[k] · ((1 − ε) w[y] + (ε / C) Σ_c w[c])  −  (1 − ε) w[y] [k = y]  −  (ε / C) w[k]
//   'sum':  Σ_rows L_row          'mean':  Σ_rows L_row / Σ_rows w[y]
//
// Rows whose target is −1 or the ignoreIndex (skipped steps, padding) add nothing, to the loss,
// its smoothing term or the normaliser: torch's loss over a batch with ignored rows is its loss
// over the batch without them. They become −1 where targets are packed (data.ts, arch/common.ts),
// so the kernels only ever see −1. Without class weights w = 1 and the normaliser is the number
// of predicted rows.
// see: torch 1.13, aten/src/ATen/native/LossNLL.cpp, cross_entropy_loss_label_smoothing.
//
// The sigmoid's binary cross-entropy takes a weight p[k] on each output's positive term,
// PyTorch's nn.BCEWithLogitsLoss(pos_weight = p); with l = 1 + (p[k] − 1) y:
//
//   L_k     = −[p[k] y log σ(z) + (1 − y) log(1 − σ(z))] = (1 − y) z + l · softplus(−z)
//   ∂L/∂z_k = l σ(z) − p[k] y
//   'mean' divides by the number of values (steps × n_y), with or without p, as torch does.
// see: torch 1.13, aten/src/ATen/native/Loss.cpp, binary_cross_entropy_with_logits.
import type { OutputKind } from './data.js';
import { describe, finiteF32, isArrayLike, showF32 } from './validate.js';

/** The loss options a model config takes (softmax outputs only). */
export interface LossConfig {
  /** Softmax only: a weight per class (n_y values, finite, ≥ 0, not all 0), PyTorch's
   *  CrossEntropyLoss `weight`: a row's loss is scaled by its target's weight, and reduction
   *  'mean' divides by the sum of the predicted targets' weights. Default: none (all 1). */
  classWeights?: ArrayLike<number>;
  /** Softmax only: label smoothing ε in [0, 1), PyTorch's `label_smoothing`: the target is
   *  (1 − ε) · onehot(y) + ε / n_y, each class's term weighted by its class weight. Default 0. */
  labelSmoothing?: number;
  /** Softmax only: a target equal to this integer is skipped, as −1 always is (PyTorch's
   *  `ignore_index`, whose default is −100): no loss, no gradient, not counted by 'mean' or in
   *  metrics. A class id in [0, n_y) skips that class's targets. Default −1. */
  ignoreIndex?: number;
  /** Sigmoid only: a weight per output (n_y values, finite, ≥ 0) on its positive term, PyTorch's
   *  BCEWithLogitsLoss `pos_weight`: L = −[p·y·log σ(z) + (1 − y)·log(1 − σ(z))]. 'mean' still
   *  divides by the number of values. Default: none (all 1). */
  posWeight?: ArrayLike<number>;
}

/** The loss options of a resolved config: each present only when set (a model without them
 *  has the config, the file and the bits it had before they existed). */
export interface ResolvedLoss {
  /** Frozen: a model's config never changes. */
  classWeights?: readonly number[];
  labelSmoothing?: number;
  /** Absent when it is −1, the default. */
  ignoreIndex?: number;
  /** Frozen. */
  posWeight?: readonly number[];
}

/** The loss option each output takes, and the loss it names in a refusal. */
const ONLY: Record<keyof LossConfig, { output: OutputKind; loss: string }> = {
  classWeights: { output: 'softmax', loss: 'cross-entropy' },
  labelSmoothing: { output: 'softmax', loss: 'cross-entropy' },
  ignoreIndex: { output: 'softmax', loss: 'cross-entropy' },
  posWeight: { output: 'sigmoid', loss: 'binary cross-entropy' },
};

/** A softmax target that skips its step (or example): −1, or the model's ignoreIndex. */
export function skips(target: number, ignoreIndex: number): boolean {
  return target === -1 || target === ignoreIndex;
}

/** How a refusal of a class id says which ids skip: "or −1 to skip the step", naming the
 *  ignoreIndex when it is another id. */
export function skipping(ignoreIndex: number, what: string): string {
  return ignoreIndex === -1 ? `or −1 to skip the ${what}` : `or −1 or ${ignoreIndex} (the ignoreIndex) to skip the ${what}`;
}

/** Check a config's loss options against its output and n_y. */
export function resolveLoss(where: string, c: LossConfig, output: OutputKind, n_y: number): ResolvedLoss {
  const out: ResolvedLoss = {};
  for (const name of Object.keys(ONLY) as (keyof LossConfig)[]) {
    const only = ONLY[name];
    if (c[name] !== undefined && output !== only.output) {
      throw new TypeError(`${where}: ${name} applies to output '${only.output}' (${only.loss}) only, got output '${output}'`);
    }
  }
  const w = c.classWeights;
  if (w !== undefined) {
    const weights = checkWeights(where, 'classWeights', w, n_y, 'class');
    if (weights.every((v) => v === 0)) throw new RangeError(`${where}: classWeights are all 0; at least one class must weigh more than 0`);
    // the loss takes them in float32, where weights below its smallest (1.4e-45) are 0
    if (weights.every((v) => Math.fround(v) === 0)) {
      throw new RangeError(`${where}: classWeights are all 0 in float32 (the largest, ${Math.max(...weights)}, rounds to 0); at least one class must weigh 1.4e-45 or more`);
    }
    out.classWeights = Object.freeze(weights);
  }
  const e = c.labelSmoothing;
  if (e !== undefined) {
    if (typeof e !== 'number') throw new TypeError(`${where}: labelSmoothing must be a number in [0, 1), got ${describe(e)}`);
    if (!(e >= 0 && e < 1)) throw new RangeError(`${where}: labelSmoothing must be a number in [0, 1), got ${e}`);
    if (e > 0) out.labelSmoothing = e;
  }
  const i = c.ignoreIndex;
  if (i !== undefined) {
    // any integer a target can equal (torch's are int64); past 2^53 integers are not told apart
    const what = 'an integer in (−2^53, 2^53), the class id whose targets are skipped (PyTorch\'s ignore_index)';
    if (typeof i !== 'number') throw new TypeError(`${where}: ignoreIndex must be ${what}, got ${describe(i)}`);
    if (!Number.isSafeInteger(i)) throw new RangeError(`${where}: ignoreIndex must be ${what}, got ${i}`);
    if (i !== -1) out.ignoreIndex = i;
  }
  const p = c.posWeight;
  if (p !== undefined) out.posWeight = Object.freeze(checkWeights(where, 'posWeight', p, n_y, 'output'));
  return out;
}

/** n weights, one per class or output: numbers finite in float32 and ≥ 0. */
function checkWeights(where: string, name: string, w: unknown, n: number, per: 'class' | 'output'): number[] {
  if (!isArrayLike(w) || typeof w === 'string') {
    throw new TypeError(`${where}: ${name} must be an array of n_y = ${n} numbers (a weight per ${per}), got ${describe(w)}`);
  }
  if (w.length !== n) throw new RangeError(`${where}: ${name} must hold n_y = ${n} weights (one per ${per}), got ${w.length}`);
  const weights: number[] = [];
  for (let k = 0; k < n; k++) {
    const v = w[k];
    if (typeof v !== 'number') throw new TypeError(`${where}: ${name}[${k}] must be a number, got ${describe(v)}`);
    // (a negative weight is not out of float32's range: showF32 would say it is)
    if (!finiteF32(v) || v < 0) throw new RangeError(`${where}: ${name}[${k}] must be a finite number ≥ 0, got ${v < 0 ? v : showF32(v)}`);
    weights.push(v);
  }
  return weights;
}

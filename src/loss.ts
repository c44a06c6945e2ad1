// The softmax cross-entropy's options — class weights and label smoothing, PyTorch's
// nn.CrossEntropyLoss(weight = w, label_smoothing = ε) — their checks, and the normaliser of
// reduction 'mean'. Per predicted row with target y (C = n_y classes, p = softmax(z)):
//
//   L_row   = (1 − ε) · w[y] · (−log p[y])  +  (ε / C) · Σ_c w[c] · (−log p[c])
//   ∂L/∂z_k = p[k] · ((1 − ε) w[y] + (ε / C) Σ_c w[c])  −  (1 − ε) w[y] [k = y]  −  (ε / C) w[k]
//   'sum':  Σ_rows L_row          'mean':  Σ_rows L_row / Σ_rows w[y]
//
// Rows whose target is −1 (skipped steps, padding) add nothing, to the loss or the normaliser.
// Without class weights w = 1 and the normaliser is the number of predicted rows.
// see: torch 1.13, aten/src/ATen/native/LossNLL.cpp, cross_entropy_loss_label_smoothing.
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
}

/** The loss options of a resolved config: each present only when set (a model without them
 *  has the config, the file and the bits it had before they existed). */
export interface ResolvedLoss {
  /** Frozen: a model's config never changes. */
  classWeights?: readonly number[];
  labelSmoothing?: number;
}

/** Check a config's loss options against its output and n_y. */
export function resolveLoss(where: string, c: LossConfig, output: OutputKind, n_y: number): ResolvedLoss {
  const out: ResolvedLoss = {};
  for (const name of ['classWeights', 'labelSmoothing'] as const) {
    if (c[name] !== undefined && output !== 'softmax') {
      throw new TypeError(`${where}: ${name} applies to output 'softmax' (cross-entropy) only, got output '${output}'`);
    }
  }
  const w = c.classWeights;
  if (w !== undefined) {
    if (!isArrayLike(w) || typeof w === 'string') {
      throw new TypeError(`${where}: classWeights must be an array of n_y = ${n_y} numbers (a weight per class), got ${describe(w)}`);
    }
    if (w.length !== n_y) throw new RangeError(`${where}: classWeights must hold n_y = ${n_y} weights (one per class), got ${w.length}`);
    const weights: number[] = [];
    for (let k = 0; k < n_y; k++) {
      const v = w[k];
      if (typeof v !== 'number') throw new TypeError(`${where}: classWeights[${k}] must be a number, got ${describe(v)}`);
      // (a negative weight is not out of float32's range: showF32 would say it is)
      if (!finiteF32(v) || v < 0) throw new RangeError(`${where}: classWeights[${k}] must be a finite number ≥ 0, got ${v < 0 ? v : showF32(v)}`);
      weights.push(v);
    }
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
  return out;
}

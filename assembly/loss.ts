// Output non-linearities fused with their losses, forward and backward in one pass.
//
// N = rows (T·B steps), n_y = outputs per row. Each kernel reads logits z (N, n_y) and
// targets, writes the outputs ŷ = g(z) (N, n_y), writes ∂(scale·L)/∂z into dz (N, n_y)
// when dz != 0, and returns Σ_rows w_row · L_row in f64. With y = 0 (no targets) they
// only write ŷ and return 0. w (N) holds per-row weights (mask, padding); w = 0 means every
// row weighs 1. A row of weight 0 is skipped, not multiplied by 0: its dz is exact zeros and
// it adds nothing to the loss, whatever its logits (even Inf or NaN). Kernels are stable for
// any finite logits.
//
//   softmax + cross-entropy    L = −log softmax(z)[y]                 ∂L/∂z = ŷ − onehot(y)
//   sigmoid + binary x-entropy L = Σ_k −y log ŷ − (1−y) log(1−ŷ)      ∂L/∂z = ŷ − y
//   identity + squared error   L = Σ_k (ŷ − y)²                        ∂L/∂z = 2 (ŷ − y)
// see: PyTorch CrossEntropyLoss, BCEWithLogitsLoss and MSELoss (reduction = 'sum').

import { sigmoid } from "./cells";

// @ts-ignore: decorator
@inline function row_weight(w: usize, r: i32): f32 {
  return w ? load<f32>(w + (<usize>r << 2)) : 1;
}

// @ts-ignore: decorator
@inline function zero_row(dz: usize, r: i32, n_y: i32): void {
  memory.fill(dz + (<usize>r * n_y << 2), 0, <usize>n_y << 2);
}

/** Softmax + cross-entropy. y (N) holds class ids as i32; a negative id skips the row. */
export function softmax_xent(yhat: usize, dz: usize, z: usize, y: usize, w: usize,
                             N: i32, n_y: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const zr = z + (<usize>r * n_y << 2);
    const pr = yhat + (<usize>r * n_y << 2);
    // subtract the max logit so exp never overflows (log-sum-exp)
    let m = load<f32>(zr);
    for (let k = 1; k < n_y; k++) m = max(m, load<f32>(zr + (<usize>k << 2)));
    let s: f32 = 0;
    for (let k = 0; k < n_y; k++) {
      const e = Mathf.exp(load<f32>(zr + (<usize>k << 2)) - m);
      store<f32>(pr + (<usize>k << 2), e);
      s += e;
    }
    const inv = <f32>1 / s;
    for (let k = 0; k < n_y; k++) store<f32>(pr + (<usize>k << 2), load<f32>(pr + (<usize>k << 2)) * inv);
    const target = y ? load<i32>(y + (<usize>r << 2)) : -1;
    const wr = target < 0 ? <f32>0 : row_weight(w, r);
    if (wr != 0) {
      // −log p[y] = log Σ exp(z − m) − (z[y] − m)
      total += <f64>wr * (<f64>Mathf.log(s) - <f64>(load<f32>(zr + (<usize>target << 2)) - m));
    }
    if (dz && wr == 0) {
      zero_row(dz, r, n_y);
    } else if (dz) {
      const dr = dz + (<usize>r * n_y << 2);
      const g = scale * wr;
      for (let k = 0; k < n_y; k++) {
        const p = load<f32>(pr + (<usize>k << 2));
        store<f32>(dr + (<usize>k << 2), g * (k == target ? p - 1 : p));
      }
    }
  }
  return total;
}

/** Sigmoid + binary cross-entropy, in the logits form. y (N, n_y) holds targets in [0, 1]. */
export function sigmoid_bce(yhat: usize, dz: usize, z: usize, y: usize, w: usize,
                            N: i32, n_y: i32, scale: f32): f64 {
  if (!y) {
    for (let i = 0; i < N * n_y; i++) {
      const zk = load<f32>(z + (<usize>i << 2));
      store<f32>(yhat + (<usize>i << 2), sigmoid(zk));
    }
    return 0;
  }
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const wr = row_weight(w, r);
    if (wr == 0) {
      for (let k = 0; k < n_y; k++) {
        const o = (<usize>r * n_y + k) << 2;
        store<f32>(yhat + o, sigmoid(load<f32>(z + o)));
      }
      if (dz) zero_row(dz, r, n_y);
      continue;
    }
    const g = scale * wr;
    let rowLoss: f64 = 0;
    for (let k = 0; k < n_y; k++) {
      const o = (<usize>r * n_y + k) << 2;
      const zk = load<f32>(z + o);
      const yk = load<f32>(y + o);
      const p = sigmoid(zk);
      const e = Mathf.exp(-Mathf.abs(zk));
      store<f32>(yhat + o, p);
      // −y log σ(z) − (1−y) log(1 − σ(z)) = max(z, 0) − z·y + log(1 + e^−|z|)
      rowLoss += <f64>max(zk, <f32>0) - <f64>zk * <f64>yk + Math.log1p(<f64>e);
      if (dz) store<f32>(dz + o, g * (p - yk));
    }
    total += <f64>wr * rowLoss;
  }
  return total;
}

/** Identity output + squared error. y (N, n_y) holds real targets. */
export function squared_error(yhat: usize, dz: usize, z: usize, y: usize, w: usize,
                              N: i32, n_y: i32, scale: f32): f64 {
  if (!y) {
    memory.copy(yhat, z, <usize>(N * n_y) << 2);
    return 0;
  }
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const wr = row_weight(w, r);
    if (wr == 0) {
      memory.copy(yhat + (<usize>r * n_y << 2), z + (<usize>r * n_y << 2), <usize>n_y << 2);
      if (dz) zero_row(dz, r, n_y);
      continue;
    }
    const g = <f32>2 * scale * wr;
    let rowLoss: f64 = 0;
    for (let k = 0; k < n_y; k++) {
      const o = (<usize>r * n_y + k) << 2;
      const zk = load<f32>(z + o);
      const diff = zk - load<f32>(y + o);
      store<f32>(yhat + o, zk);
      rowLoss += <f64>diff * <f64>diff;
      if (dz) store<f32>(dz + o, g * diff);
    }
    total += <f64>wr * rowLoss;
  }
  return total;
}

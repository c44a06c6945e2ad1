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
//
// softmax_xent_ls adds class weights c (n_y, or 0: all 1) and label smoothing ε, C = n_y:
//   L = (1−ε) c[y] (−log ŷ[y]) + (ε/C) Σ_k c[k] (−log ŷ[k])
//   ∂L/∂z_k = ŷ[k] ((1−ε) c[y] + (ε/C) Σ_j c[j]) − (1−ε) c[y] [k = y] − (ε/C) c[k]
// and, when plain != 0, adds the plain cross-entropy Σ_rows w_row (−log ŷ[y]) to the f64 at
// plain (perplexity and bits per character are of it).
//
// sigmoid_bce_pw adds a weight p (n_y) on each output's positive term; with l = 1 + (p[k] − 1) y:
//   L = Σ_k −p[k] y log ŷ − (1−y) log(1−ŷ) = Σ_k (1−y) z + l softplus(−z)     ∂L/∂z = l ŷ − p[k] y
// see: PyTorch CrossEntropyLoss (weight, label_smoothing), BCEWithLogitsLoss (pos_weight) and
// MSELoss (reduction = 'sum').

import { sigmoid } from "./cells";
import { exp4, exp_scalar } from "./activations";
import { copy_bytes } from "./memory";

// @ts-ignore: decorator
@inline function row_weight(w: usize, r: i32): f32 {
  return w ? load<f32>(w + (<usize>r << 2)) : 1;
}

// @ts-ignore: decorator
@inline function zero_row(dz: usize, r: i32, n_y: i32): void {
  memory.fill(dz + (<usize>r * n_y << 2), 0, <usize>n_y << 2);
}

/** A sigmoid row that weighs 0 (a skipped step): its ŷ, and no gradient. */
// @ts-ignore: decorator
@inline function sigmoid_skipped_row(yhat: usize, dz: usize, z: usize, r: i32, n_y: i32): void {
  for (let k = 0; k < n_y; k++) {
    const o = (<usize>r * n_y + k) << 2;
    store<f32>(yhat + o, sigmoid(load<f32>(z + o)));
  }
  if (dz) zero_row(dz, r, n_y);
}

// @ts-ignore: decorator
@inline function class_weight(cw: usize, k: i32): f32 {
  return cw ? load<f32>(cw + (<usize>k << 2)) : 1;
}

/** Largest of n values at p. */
// @ts-ignore: decorator
@inline function row_max(p: usize, n: i32): f32 {
  let k = 0, m = load<f32>(p);
  if (ASC_FEATURE_SIMD && n >= 4) {
    let v = v128.load(p);
    for (k = 4; k + 4 <= n; k += 4) v = f32x4.max(v, v128.load(p + (<usize>k << 2)));
    m = max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  }
  for (; k < n; k++) m = max(m, load<f32>(p + (<usize>k << 2)));
  return m;
}

/** e[k] = exp(z[k] − m) for n values; returns Σ e as four lane sums of k mod 4, added
 *  (s0 + s1) + (s2 + s3), then the tail: the same bits in the SIMD and scalar builds. */
// @ts-ignore: decorator
@inline function exp_shifted(e: usize, z: usize, n: i32, m: f32): f32 {
  let k = 0, s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      const v = exp4(f32x4.sub(v128.load(z + o), mv));
      v128.store(e + o, v);
      acc = f32x4.add(acc, v);
    }
    s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      const v0 = exp_scalar(load<f32>(z + o) - m), v1 = exp_scalar(load<f32>(z + o, 4) - m);
      const v2 = exp_scalar(load<f32>(z + o, 8) - m), v3 = exp_scalar(load<f32>(z + o, 12) - m);
      store<f32>(e + o, v0); store<f32>(e + o, v1, 4); store<f32>(e + o, v2, 8); store<f32>(e + o, v3, 12);
      s0 += v0; s1 += v1; s2 += v2; s3 += v3;
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (; k < n; k++) {
    const v = exp_scalar(load<f32>(z + (<usize>k << 2)) - m);
    store<f32>(e + (<usize>k << 2), v);
    s += v;
  }
  return s;
}

/** p[k] *= c, and d[k] = g·p[k] when d != 0, for n values. */
// @ts-ignore: decorator
@inline function scale_row(p: usize, d: usize, n: i32, c: f32, g: f32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c), gv = f32x4.splat(g);
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      const v = f32x4.mul(v128.load(p + o), cv);
      v128.store(p + o, v);
      if (d) v128.store(d + o, f32x4.mul(gv, v));
    }
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    const v = load<f32>(p + o) * c;
    store<f32>(p + o, v);
    if (d) store<f32>(d + o, g * v);
  }
}

/** Softmax + cross-entropy. y (N) holds class ids as i32; a negative id skips the row. Per row:
 *  the largest logit, exp(z − max) and its sum, then ŷ, the loss and ∂L/∂z in one more pass. */
export function softmax_xent(yhat: usize, dz: usize, z: usize, y: usize, w: usize,
                             N: i32, n_y: i32, scale: f32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const zr = z + (<usize>r * n_y << 2);
    const pr = yhat + (<usize>r * n_y << 2);
    // subtract the max logit so exp never overflows (log-sum-exp)
    const m = row_max(zr, n_y);
    const s = exp_shifted(pr, zr, n_y, m);
    const target = y ? load<i32>(y + (<usize>r << 2)) : -1;
    const wr = target < 0 ? <f32>0 : row_weight(w, r);
    if (wr != 0) {
      // −log p[y] = log Σ exp(z − m) − (z[y] − m)
      total += <f64>wr * (<f64>Mathf.log(s) - <f64>(load<f32>(zr + (<usize>target << 2)) - m));
    }
    const dr = dz ? dz + (<usize>r * n_y << 2) : 0;
    const g = scale * wr;
    scale_row(pr, wr == 0 ? 0 : dr, n_y, <f32>1 / s, g);          // ŷ = e / Σ e; ∂L/∂z = g ŷ …
    if (dr && wr == 0) zero_row(dz, r, n_y);
    else if (dr) store<f32>(dr + (<usize>target << 2), g * (load<f32>(pr + (<usize>target << 2)) - 1));   // … − g at y
  }
  return total;
}

/** Softmax + cross-entropy with class weights cw (n_y f32, or 0: every class weighs 1) and
 *  label smoothing eps ∈ [0, 1); otherwise as softmax_xent, whose ŷ it writes with the same bits.
 *  The row weight w (mask) multiplies the whole row; the class weights weigh its terms. */
export function softmax_xent_ls(yhat: usize, dz: usize, z: usize, y: usize, w: usize, cw: usize,
                                N: i32, n_y: i32, scale: f32, eps: f32, plain: usize): f64 {
  const spread = eps / <f32>n_y;                 // ε / C, the share every class gets
  let cwSum: f32 = 0;                            // Σ_k c[k]
  for (let k = 0; k < n_y; k++) cwSum += class_weight(cw, k);
  let total: f64 = 0, nllSum: f64 = 0;
  for (let r = 0; r < N; r++) {
    const zr = z + (<usize>r * n_y << 2);
    const pr = yhat + (<usize>r * n_y << 2);
    // subtract the max logit so exp never overflows (log-sum-exp)
    const m = row_max(zr, n_y);
    const s = exp_shifted(pr, zr, n_y, m);
    const target = y ? load<i32>(y + (<usize>r << 2)) : -1;
    const wr = target < 0 ? <f32>0 : row_weight(w, r);
    const ct = wr == 0 ? <f32>0 : (<f32>1 - eps) * class_weight(cw, target);   // (1−ε) c[y]
    if (wr != 0) {
      // −log ŷ[k] = log Σ exp(z − m) − (z[k] − m), for the target and, weighted, every class
      const lse = <f64>Mathf.log(s);
      let smooth: f64 = 0;
      for (let k = 0; k < n_y; k++) smooth += <f64>class_weight(cw, k) * (lse - <f64>(load<f32>(zr + (<usize>k << 2)) - m));
      const nll = lse - <f64>(load<f32>(zr + (<usize>target << 2)) - m);
      total += <f64>wr * (<f64>ct * nll + <f64>spread * smooth);
      nllSum += <f64>wr * nll;                                        // the plain cross-entropy
    }
    const dr = dz ? dz + (<usize>r * n_y << 2) : 0;
    scale_row(pr, 0, n_y, <f32>1 / s, 0);                               // ŷ = e / Σ e
    if (!dr) continue;
    if (wr == 0) {
      zero_row(dz, r, n_y);
      continue;
    }
    const g = scale * wr, a = ct + spread * cwSum;
    for (let k = 0; k < n_y; k++) {
      const o = <usize>k << 2;
      // ∂L/∂z_k = ŷ[k] a − (ε/C) c[k] − (1−ε) c[y] at k = y
      const d = load<f32>(pr + o) * a - spread * class_weight(cw, k) - (k == target ? ct : 0);
      store<f32>(dr + o, g * d);
    }
  }
  if (plain) store<f64>(plain, load<f64>(plain) + nllSum);
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
      sigmoid_skipped_row(yhat, dz, z, r, n_y);
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

/** Sigmoid + binary cross-entropy with a weight pw (n_y f32) on each output's positive term;
 *  otherwise as sigmoid_bce, whose ŷ it writes with the same bits. A separate kernel, so a
 *  model without pos_weight keeps sigmoid_bce's bits. */
export function sigmoid_bce_pw(yhat: usize, dz: usize, z: usize, y: usize, w: usize, pw: usize,
                               N: i32, n_y: i32, scale: f32): f64 {
  if (!y) return sigmoid_bce(yhat, dz, z, 0, w, N, n_y, scale);
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const wr = row_weight(w, r);
    if (wr == 0) {
      sigmoid_skipped_row(yhat, dz, z, r, n_y);
      continue;
    }
    const g = scale * wr;
    let rowLoss: f64 = 0;
    for (let k = 0; k < n_y; k++) {
      const o = (<usize>r * n_y + k) << 2;
      const zk = load<f32>(z + o);
      const yk = load<f32>(y + o);
      const pk = load<f32>(pw + (<usize>k << 2));
      const p = sigmoid(zk);
      const e = Mathf.exp(-Mathf.abs(zk));
      store<f32>(yhat + o, p);
      // l = 1 + (p − 1) y weighs the softplus that both terms share
      const l: f64 = 1 + (<f64>pk - 1) * <f64>yk;
      // −p y log σ(z) − (1−y) log(1 − σ(z)) = (1 − y) z + l · softplus(−z),
      // softplus(−z) = max(−z, 0) + log(1 + e^−|z|)
      rowLoss += (1 - <f64>yk) * <f64>zk + l * (<f64>max(-zk, <f32>0) + Math.log1p(<f64>e));
      // ∂L/∂z = l σ(z) − p y
      if (dz) store<f32>(dz + o, g * (<f32>l * p - pk * yk));
    }
    total += <f64>wr * rowLoss;
  }
  return total;
}

/** Identity output + squared error. y (N, n_y) holds real targets. */
export function squared_error(yhat: usize, dz: usize, z: usize, y: usize, w: usize,
                              N: i32, n_y: i32, scale: f32): f64 {
  if (!y) {
    copy_bytes(yhat, z, <usize>(N * n_y) << 2);
    return 0;
  }
  let total: f64 = 0;
  for (let r = 0; r < N; r++) {
    const wr = row_weight(w, r);
    if (wr == 0) {
      copy_bytes(yhat + (<usize>r * n_y << 2), z + (<usize>r * n_y << 2), <usize>n_y << 2);
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

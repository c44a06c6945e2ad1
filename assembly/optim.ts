// Optimizer steps and gradient clipping: one loop each over the flat parameter region.
// params, grads and the moment buffers m, v share one layout, so no kernel knows tensor
// names. n = number of f32 values. Rules follow PyTorch's torch.optim of the same name;
// bias corrections and schedules are scalars computed by the caller.

import { madd } from "./simd";

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/** Σ g² over n values, in f64. Not finite when any gradient is not. Eight partial sums, one
 *  per i mod 8 (two lanes of four f64x2; eight scalars in the scalar build), added as
 *  ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), then the tail in order: independent chains
 *  instead of one f64 add after another, and the same bits in every build (each g² is exact in
 *  f64). */
export function sum_squares(g: usize, n: i32): f64 {
  let i = 0, r: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let a = f64x2.splat(0), b = f64x2.splat(0), c = f64x2.splat(0), d = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      const x = v128.load(g + o), y = v128.load(g + o, 16);
      const x0 = f64x2.promote_low_f32x4(x), x1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
      const y0 = f64x2.promote_low_f32x4(y), y1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(y, y, 2, 3, 0, 1));
      a = f64x2.add(a, f64x2.mul(x0, x0)); b = f64x2.add(b, f64x2.mul(x1, x1));
      c = f64x2.add(c, f64x2.mul(y0, y0)); d = f64x2.add(d, f64x2.mul(y1, y1));
    }
    r = ((f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1)) + (f64x2.extract_lane(b, 0) + f64x2.extract_lane(b, 1)))
      + ((f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1)) + (f64x2.extract_lane(d, 0) + f64x2.extract_lane(d, 1)));
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0, s4: f64 = 0, s5: f64 = 0, s6: f64 = 0, s7: f64 = 0;
    for (; i + 8 <= n; i += 8) {
      const p = g + (<usize>i << 2);
      let x = <f64>load<f32>(p); s0 += x * x;
      x = <f64>load<f32>(p, 4); s1 += x * x;
      x = <f64>load<f32>(p, 8); s2 += x * x;
      x = <f64>load<f32>(p, 12); s3 += x * x;
      x = <f64>load<f32>(p, 16); s4 += x * x;
      x = <f64>load<f32>(p, 20); s5 += x * x;
      x = <f64>load<f32>(p, 24); s6 += x * x;
      x = <f64>load<f32>(p, 28); s7 += x * x;
    }
    r = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }
  for (; i < n; i++) { const x = <f64>at(g, i); r += x * x; }
  return r;
}

/** g *= c over n values (clipping by global norm: c = max_norm / (norm + 1e-6)). */
export function scale(g: usize, n: i32, c: f32): void {
  for (let i = 0; i < n; i++) put(g, i, at(g, i) * c);
}

/** g = clamp(g, −v, v) over n values (clipping by value). */
export function clip_value(g: usize, n: i32, v: f32): void {
  for (let i = 0; i < n; i++) put(g, i, min(max(at(g, i), -v), v));
}

// Each optimizer is one pass written once (@inline, `mode` a constant at each use): STORE stores
// the new values; ANY and FIND compute the same values in the same order and store nothing. ANY
// sums x − x over every new value and moment (0 for a finite x, NaN otherwise, and NaN stays):
// one subtract and one add a value, no branch, so the check costs about a pass that reads.
// FIND, run only when ANY has found something, returns the first index whose new value or
// moment would not be finite. `*_check` is the two: −1 when every value would be finite, so
// that a step that would put NaN or Infinity into the model is never taken.

// @ts-ignore: decorator
@inline const STORE = 0;
// @ts-ignore: decorator
@inline const ANY = 1;
// @ts-ignore: decorator
@inline const FIND = 2;

// @ts-ignore: decorator
@inline function finite(x: f32): bool { return x - x == 0; }

/** Lanes of x that are NaN or ±Infinity, as a mask (x − x is NaN exactly there). */
// @ts-ignore: decorator
@inline function nonFinite4(x: v128): v128 { const d = f32x4.sub(x, x); return f32x4.ne(d, d); }

/** SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD).
 *  buf is the momentum buffer; first = 1 on the first step (buf = g). */
// @ts-ignore: decorator
@inline function sgd(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32,
                     dampening: f32, weight_decay: f32, nesterov: i32, first: i32, mode: i32): i32 {
  let acc: f32 = 0;
  for (let i = 0; i < n; i++) {
    let d = at(g, i) + weight_decay * at(p, i);
    if (momentum != 0) {
      const b = first ? d : momentum * at(buf, i) + (1 - dampening) * d;
      if (mode == STORE) put(buf, i, b);
      else if (mode == ANY) acc += b - b;
      else if (!finite(b)) return i;
      d = nesterov ? d + momentum * b : b;
    }
    const pi = at(p, i) - lr * d;
    if (mode == STORE) put(p, i, pi);
    else if (mode == ANY) acc += pi - pi;
    else if (!finite(pi)) return i;
  }
  return mode == ANY && acc != acc ? 0 : -1;
}

export function sgd_step(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32,
                         dampening: f32, weight_decay: f32, nesterov: i32, first: i32): void {
  sgd(p, g, buf, n, lr, momentum, dampening, weight_decay, nesterov, first, STORE);
}

export function sgd_check(p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32,
                          dampening: f32, weight_decay: f32, nesterov: i32, first: i32): i32 {
  if (sgd(p, g, buf, n, lr, momentum, dampening, weight_decay, nesterov, first, ANY) < 0) return -1;
  return sgd(p, g, buf, n, lr, momentum, dampening, weight_decay, nesterov, first, FIND);
}

/** Adam / AdamW (torch.optim.Adam, AdamW). step_size = lr / (1 − β1^t),
 *  bc2_sqrt = √(1 − β2^t); decoupled = 1 shrinks p by (1 − lr·wd) first (AdamW),
 *  otherwise wd·p is added to the gradient (Adam's L2). */
// @ts-ignore: decorator
@inline function adam(p: usize, g: usize, m: usize, v: usize, n: i32,
                      lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
                      decoupled: i32, step_size: f32, bc2_sqrt: f32, mode: i32): i32 {
  let i = 0, acc: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    // the scalar loop below, four values at a time, in the same order of operations
    const shrink = f32x4.splat(1 - lr * weight_decay), wd = f32x4.splat(weight_decay);
    const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
    const ss = f32x4.splat(step_size), bc = f32x4.splat(bc2_sqrt), ep = f32x4.splat(eps);
    let acc4 = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let pi = v128.load(p + o), gi = v128.load(g + o);
      if (decoupled) pi = f32x4.mul(pi, shrink);
      else gi = madd(wd, pi, gi);
      const mi = madd(b1, v128.load(m + o), f32x4.mul(c1, gi));                    // first moment
      const vi = madd(b2, v128.load(v + o), f32x4.mul(f32x4.mul(c2, gi), gi));     // second moment
      const pn = f32x4.sub(pi, f32x4.div(f32x4.mul(ss, mi), f32x4.add(f32x4.div(f32x4.sqrt(vi), bc), ep)));
      if (mode == STORE) {
        v128.store(m + o, mi);
        v128.store(v + o, vi);
        v128.store(p + o, pn);
      } else if (mode == ANY) {
        acc4 = f32x4.add(acc4, f32x4.add(f32x4.add(f32x4.sub(mi, mi), f32x4.sub(vi, vi)), f32x4.sub(pn, pn)));
      } else {
        const bad = v128.or(v128.or(nonFinite4(mi), nonFinite4(vi)), nonFinite4(pn));
        if (v128.any_true(bad)) return i + ctz(i32x4.bitmask(bad));
      }
    }
    if (mode == ANY && v128.any_true(nonFinite4(acc4))) return 0;
  }
  for (; i < n; i++) {
    let pi = at(p, i);
    let gi = at(g, i);
    if (decoupled) pi *= 1 - lr * weight_decay;
    else gi += weight_decay * pi;
    const mi = beta1 * at(m, i) + (1 - beta1) * gi;        // first moment
    const vi = beta2 * at(v, i) + (1 - beta2) * gi * gi;   // second moment
    const pn = pi - step_size * mi / (Mathf.sqrt(vi) / bc2_sqrt + eps);
    if (mode == STORE) {
      put(m, i, mi);
      put(v, i, vi);
      put(p, i, pn);
    } else if (mode == ANY) {
      acc += (mi - mi) + (vi - vi) + (pn - pn);
    } else if (!finite(mi) || !finite(vi) || !finite(pn)) {
      return i;
    }
  }
  return mode == ANY && acc != acc ? 0 : -1;
}

export function adam_step(p: usize, g: usize, m: usize, v: usize, n: i32,
                          lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
                          decoupled: i32, step_size: f32, bc2_sqrt: f32): void {
  adam(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, step_size, bc2_sqrt, STORE);
}

export function adam_check(p: usize, g: usize, m: usize, v: usize, n: i32,
                           lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32,
                           decoupled: i32, step_size: f32, bc2_sqrt: f32): i32 {
  if (adam(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, step_size, bc2_sqrt, ANY) < 0) return -1;
  return adam(p, g, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, step_size, bc2_sqrt, FIND);
}

/** RMSProp (torch.optim.RMSprop, not centered): v = α v + (1−α) g², p −= lr g / (√v + eps),
 *  with optional momentum in buf. */
// @ts-ignore: decorator
@inline function rmsprop(p: usize, g: usize, v: usize, buf: usize, n: i32, lr: f32, alpha: f32,
                         eps: f32, weight_decay: f32, momentum: f32, mode: i32): i32 {
  let acc: f32 = 0;
  for (let i = 0; i < n; i++) {
    const gi = at(g, i) + weight_decay * at(p, i);
    const vi = alpha * at(v, i) + (1 - alpha) * gi * gi;
    if (mode == STORE) put(v, i, vi);
    else if (mode == ANY) acc += vi - vi;
    else if (!finite(vi)) return i;
    const step = gi / (Mathf.sqrt(vi) + eps);
    let pi: f32;
    if (momentum != 0) {
      const b = momentum * at(buf, i) + step;
      if (mode == STORE) put(buf, i, b);
      else if (mode == ANY) acc += b - b;
      else if (!finite(b)) return i;
      pi = at(p, i) - lr * b;
    } else {
      pi = at(p, i) - lr * step;
    }
    if (mode == STORE) put(p, i, pi);
    else if (mode == ANY) acc += pi - pi;
    else if (!finite(pi)) return i;
  }
  return mode == ANY && acc != acc ? 0 : -1;
}

export function rmsprop_step(p: usize, g: usize, v: usize, buf: usize, n: i32, lr: f32, alpha: f32,
                             eps: f32, weight_decay: f32, momentum: f32): void {
  rmsprop(p, g, v, buf, n, lr, alpha, eps, weight_decay, momentum, STORE);
}

export function rmsprop_check(p: usize, g: usize, v: usize, buf: usize, n: i32, lr: f32, alpha: f32,
                              eps: f32, weight_decay: f32, momentum: f32): i32 {
  if (rmsprop(p, g, v, buf, n, lr, alpha, eps, weight_decay, momentum, ANY) < 0) return -1;
  return rmsprop(p, g, v, buf, n, lr, alpha, eps, weight_decay, momentum, FIND);
}

/** Adagrad (torch.optim.Adagrad): s += g², p −= clr g / (√s + eps), clr = lr / (1 + (t−1) decay). */
// @ts-ignore: decorator
@inline function adagrad(p: usize, g: usize, s: usize, n: i32, clr: f32, eps: f32, weight_decay: f32, mode: i32): i32 {
  let acc: f32 = 0;
  for (let i = 0; i < n; i++) {
    const gi = at(g, i) + weight_decay * at(p, i);
    const si = at(s, i) + gi * gi;
    const pi = at(p, i) - clr * gi / (Mathf.sqrt(si) + eps);
    if (mode == STORE) {
      put(s, i, si);
      put(p, i, pi);
    } else if (mode == ANY) {
      acc += (si - si) + (pi - pi);
    } else if (!finite(si) || !finite(pi)) {
      return i;
    }
  }
  return mode == ANY && acc != acc ? 0 : -1;
}

export function adagrad_step(p: usize, g: usize, s: usize, n: i32, clr: f32, eps: f32, weight_decay: f32): void {
  adagrad(p, g, s, n, clr, eps, weight_decay, STORE);
}

export function adagrad_check(p: usize, g: usize, s: usize, n: i32, clr: f32, eps: f32, weight_decay: f32): i32 {
  if (adagrad(p, g, s, n, clr, eps, weight_decay, ANY) < 0) return -1;
  return adagrad(p, g, s, n, clr, eps, weight_decay, FIND);
}

// Choosing the next token in wasm, by the rules of src/decode.ts (samplingDistribution and
// pickToken) in the same f64 arithmetic, so the fast path draws what the TypeScript sampler
// draws from the same probabilities and the same uniform u.
//
//   greedy       the most likely token (the first, on ties); u is not used
//   temperature  w_i = p_i (τ = 1), else exp((log p_i − log p_max) / τ): p^(1/τ) up to a factor
//   top-k, top-p order the tokens by w (ties: lower id first), keep the first k; then (topP < 1)
//                keep the fewest first in order whose w, summed in order, reach ≥ topP × the
//                total of what top-k kept, summed in id order; the others weigh 0
//   draw         normalise w, then the first i with u − Σ_{j ≤ i} w_j < 0 (if rounding leaves
//                none, the last token with any weight)
//
// V = vocabulary size. P (V) f32 probabilities; W (V) f64 and O (2V + 256) i32 are scratch. τ = 1
// takes no logarithm or exponential, so it is exact; other temperatures use this runtime's exp
// and log, which can differ from JavaScript's in the last bit.
// see: Holtzman et al. 2019 (nucleus sampling).

// @ts-ignore: decorator
@inline function w_at(W: usize, i: i32): f64 { return load<f64>(W + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function set_w(W: usize, i: i32, v: f64): void { store<f64>(W + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline function o_at(O: usize, r: i32): i32 { return load<i32>(O + (<usize>r << 2)); }
// @ts-ignore: decorator
@inline function set_o(O: usize, r: i32, v: i32): void { store<i32>(O + (<usize>r << 2), v); }

/** Index of the largest of V values at P (the first, on ties). */
export function argmax_f32(P: usize, V: i32): i32 {
  let best = 0;
  let m = load<f32>(P);
  for (let i = 1; i < V; i++) {
    const v = load<f32>(P + (<usize>i << 2));
    if (v > m) { m = v; best = i; }
  }
  return best;
}

/** Token a comes before token b: larger weight, or equal weight and lower id. */
// @ts-ignore: decorator
@inline function before(W: usize, a: i32, b: i32): bool {
  const wa = w_at(W, a), wb = w_at(W, b);
  return wa > wb || (wa == wb && a < b);
}

/** Restore the heap below `root` (the element that comes last in order on top). */
function sift_down(W: usize, O: usize, root: i32, end: i32): void {
  while (true) {
    let child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && before(W, o_at(O, child), o_at(O, child + 1))) child++;
    if (!before(W, o_at(O, root), o_at(O, child))) return;
    const t = o_at(O, root);
    set_o(O, root, o_at(O, child));
    set_o(O, child, t);
    root = child;
  }
}

/** O[0, k) = the ids of the k tokens first in order by weight, in that order: a heap of k whose
 *  root is the one that comes last, over one pass, then heap sort (the order is total, so it is
 *  the one Array.prototype.sort gives with the same comparison). k = V orders every token. */
function order_by_weight(W: usize, O: usize, V: i32, k: i32): void {
  for (let i = 0; i < k; i++) set_o(O, i, i);
  for (let i = (k >> 1) - 1; i >= 0; i--) sift_down(W, O, i, k);
  for (let i = k; i < V; i++) {
    if (before(W, i, o_at(O, 0))) {
      set_o(O, 0, i);
      sift_down(W, O, 0, k);
    }
  }
  for (let end = k - 1; end > 0; end--) {
    const t = o_at(O, 0);
    set_o(O, 0, o_at(O, end));
    set_o(O, end, t);
    sift_down(W, O, 0, end);
  }
}

/** The radix digit of token i's weight at `shift`: 8 bits of its complemented f64 bits, so
 *  larger weights come first (w ≥ 0, whose bits order as its value; abs makes −0 into +0). */
// @ts-ignore: decorator
@inline function digit(W: usize, i: i32, shift: u64): usize {
  return <usize>((~reinterpret<u64>(abs<f64>(w_at(W, i))) >> shift) & 0xff);
}

/** O[0, n) = the ids it holds, in order by weight (ties: lower id first), by an LSD radix sort
 *  of the weights' bits, one byte a pass (a byte every weight shares is skipped), stable, so ids
 *  given in ascending order keep the lower id first among equal weights. n ≤ V; O[V, V + n) and
 *  the 256 i32 at O[2V] are scratch. O(n) a pass where a heap sort is O(n log n): every token
 *  of top-p 0.9 in order took 5.5 µs against 5.5 at V 65, 65 against 105 at 1024, 244 against
 *  510 at 4096 (a GRU of n_a 32; unfiltered, 3.1, 15 and 55). */
function radix_order(W: usize, O: usize, n: i32, V: i32): void {
  let src = O, dst = O + (<usize>V << 2);
  const count = O + (<usize>V << 3);
  for (let shift: u64 = 0; shift < 64; shift += 8) {
    memory.fill(count, 0, 256 << 2);
    for (let r = 0; r < n; r++) {
      const c = count + (digit(W, o_at(src, r), shift) << 2);
      store<i32>(c, load<i32>(c) + 1);
    }
    if (load<i32>(count + (digit(W, o_at(src, 0), shift) << 2)) == n) continue;
    let sum = 0;                                    // each digit's first place
    for (let d = 0; d < 256; d++) {
      const c = count + (<usize>d << 2), k = load<i32>(c);
      store<i32>(c, sum);
      sum += k;
    }
    for (let r = 0; r < n; r++) {
      const id = o_at(src, r), c = count + (digit(W, id, shift) << 2), at = load<i32>(c);
      store<i32>(c, at + 1);
      set_o(dst, at, id);
    }
    const t = src; src = dst; dst = t;
  }
  if (src != O) memory.copy(O, src, <usize>n << 2);
}

/** The number of tokens top-p keeps of the first n in order (O[0, n)): the fewest whose
 *  weights, summed in order, reach ≥ target; 0 when all n do not. */
function nucleus(W: usize, O: usize, n: i32, target: f64): i32 {
  let mass: f64 = 0;
  for (let r = 0; r < n; r++) {
    mass += w_at(W, o_at(O, r));
    if (mass >= target) return r + 1;
  }
  return 0;
}

/** Zero the weight of every token that comes after `last` in order (the order is total). */
function keep_through(W: usize, V: i32, last: i32): void {
  for (let i = 0; i < V; i++) if (i != last && !before(W, i, last)) set_w(W, i, 0);
}

/** Top-k (topK < V), then top-p, over O[0, topK) ordered by weight. */
function keep_head(W: usize, O: usize, V: i32, topK: i32, topP: f64): void {
  let last = o_at(O, topK - 1);
  if (topP < 1) {
    let total: f64 = 0;                             // what top-k keeps, in id order
    if (<i64>topK * topK <= <i64>V) {
      // few kept: their ids sorted (insertion, in the scratch half of O), instead of a pass over V
      const S = O + (<usize>V << 2);
      for (let r = 0; r < topK; r++) {
        const id = o_at(O, r);
        let q = r;
        for (; q > 0 && o_at(S, q - 1) > id; q--) set_o(S, q, o_at(S, q - 1));
        set_o(S, q, id);
      }
      for (let r = 0; r < topK; r++) total += w_at(W, o_at(S, r));
    } else {
      for (let i = 0; i < V; i++) if (i == last || before(W, i, last)) total += w_at(W, i);
    }
    const keep = nucleus(W, O, topK, topP * total);
    if (keep > 0) last = o_at(O, keep - 1);
  }
  keep_through(W, V, last);
}

/** Below this many tokens top-p orders them all; from it on, only those it may keep. */
const PARTIAL_FROM: i32 = 2048;
/** Weights a factor 2^b below the largest go to bucket b (the last takes all smaller ones). */
const BUCKETS: i32 = 256;

/** The exponent bits of a weight ≥ 0: equal or larger for a larger weight. */
// @ts-ignore: decorator
@inline function exponent(w: f64): i32 { return <i32>(reinterpret<u64>(abs<f64>(w)) >> 52); }

/** Top-p with no top-k (topP < 1), wmax the largest weight. Every token in order is what the
 *  rule reads, but only the tokens first in order until the mass is reached matter, and a token
 *  of a larger exponent always comes before one of a smaller. So one pass sums the weights per
 *  exponent below wmax's (BUCKETS, the last for all smaller), the largest exponents are taken
 *  until their sums pass the target with room for rounding (those sums are in another order
 *  than the rule's), and only their tokens are ordered (in ascending ids, as the rule orders
 *  ties) and summed in order. The result is the rule's: whatever is left unordered comes after
 *  every token ordered. When the rounding room is not met, or the tokens taken do not reach
 *  the target, every token is ordered, as for a small V. */
function keep_nucleus(W: usize, O: usize, V: i32, topP: f64, wmax: f64): void {
  let total: f64 = 0;                               // every token, in id order
  for (let i = 0; i < V; i++) total += w_at(W, i);
  const target = topP * total;
  if (V >= PARTIAL_FROM) {
    const mass = O + (<usize>V << 2), count = O + (<usize>V << 3);    // BUCKETS f64, i32
    memory.fill(mass, 0, <usize>BUCKETS << 3);
    memory.fill(count, 0, <usize>BUCKETS << 2);
    const top = exponent(wmax);
    for (let i = 0; i < V; i++) {
      const w = w_at(W, i), b = <usize>min(top - exponent(w), BUCKETS - 1);
      store<f64>(mass + (b << 3), load<f64>(mass + (b << 3)) + w);
      store<i32>(count + (b << 2), load<i32>(count + (b << 2)) + 1);
    }
    let sum: f64 = 0, taken = 0, b = 0;
    for (; b < BUCKETS - 1; b++) {
      sum += load<f64>(mass + (<usize>b << 3));
      taken += load<i32>(count + (<usize>b << 2));
      if (sum >= target * (1 + 1e-6)) break;
    }
    if (b < BUCKETS - 1 && taken < V) {
      const lowest = top - b;
      let n = 0;
      for (let i = 0; i < V; i++) if (exponent(w_at(W, i)) >= lowest) set_o(O, n++, i);
      radix_order(W, O, n, V);
      const keep = nucleus(W, O, n, target);
      if (keep > 0) {
        keep_through(W, V, o_at(O, keep - 1));
        return;
      }
    }
  }
  for (let i = 0; i < V; i++) set_o(O, i, i);
  radix_order(W, O, V, V);
  const keep = nucleus(W, O, V, target);
  keep_through(W, V, o_at(O, keep > 0 ? keep - 1 : V - 1));
}

/** The token chosen from P (V) by the rules above. */
export function sample_token(P: usize, V: i32, greedy: i32, temperature: f64, topK: i32, topP: f64, u: f64,
                             W: usize, O: usize): i32 {
  if (greedy) return argmax_f32(P, V);
  let pmax: f64 = 0;
  for (let i = 0; i < V; i++) pmax = max(pmax, <f64>load<f32>(P + (<usize>i << 2)));
  if (!(pmax > 0)) return argmax_f32(P, V);
  const maxLog = Math.log(pmax);
  for (let i = 0; i < V; i++) {
    const p = <f64>load<f32>(P + (<usize>i << 2));
    set_w(W, i, temperature == 1 ? p : Math.exp((Math.log(p) - maxLog) / temperature));
  }
  if (topK < V) {
    order_by_weight(W, O, V, topK);
    keep_head(W, O, V, topK, topP);
  } else if (topP < 1) {
    keep_nucleus(W, O, V, topP, temperature == 1 ? pmax : 1);
  }
  let total: f64 = 0;
  for (let i = 0; i < V; i++) total += w_at(W, i);
  for (let i = 0; i < V; i++) set_w(W, i, w_at(W, i) / total);
  let r = u;
  for (let i = 0; i < V; i++) {
    r -= w_at(W, i);
    if (r < 0) return i;
  }
  for (let i = V - 1; i >= 0; i--) if (w_at(W, i) > 0) return i;
  return 0;
}

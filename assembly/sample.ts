// Choosing the next token in wasm, by the rules of src/decode.ts (samplingDistribution and
// pickToken) in the same f64 arithmetic, so the fast path draws what the TypeScript sampler
// draws from the same probabilities and the same uniform u.
//
//   greedy       the most likely token (the first, on ties); u is not used
//   temperature  w_i = p_i (τ = 1), else exp((log p_i − log p_max) / τ): p^(1/τ) up to a factor
//   top-k, top-p order the tokens by w (ties: lower id first), keep the first k, then the fewest
//                of those whose w sums to ≥ topP of what top-k kept; the others weigh 0
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

/** O[0, V) = every token id in order by weight (ties: lower id first): the order
 *  order_by_weight gives with k = V, by an LSD radix sort of the weights' bits, one byte a
 *  pass (a byte every weight shares is skipped), stable from ids in ascending order so equal
 *  weights keep the lower id first. O[V, 2V) and 256 i32 after them are scratch. Top-p with no
 *  top-k needs every token in order; this is O(V) a pass where the heap sort is O(V log V):
 *  a token of top-p 0.9 took 5.5 µs against 5.5 at V 65, 65 against 105 at 1024, 244 against
 *  510 at 4096 (a GRU of n_a 32; unfiltered, 3.1, 15 and 55). */
function order_all_by_weight(W: usize, O: usize, V: i32): void {
  let src = O, dst = O + (<usize>V << 2);
  const count = O + (<usize>V << 3);
  for (let i = 0; i < V; i++) set_o(src, i, i);
  for (let shift: u64 = 0; shift < 64; shift += 8) {
    memory.fill(count, 0, 256 << 2);
    for (let i = 0; i < V; i++) {
      const c = count + (digit(W, i, shift) << 2);
      store<i32>(c, load<i32>(c) + 1);
    }
    if (load<i32>(count + (digit(W, 0, shift) << 2)) == V) continue;
    let sum = 0;                                    // each digit's first place
    for (let d = 0; d < 256; d++) {
      const c = count + (<usize>d << 2), n = load<i32>(c);
      store<i32>(c, sum);
      sum += n;
    }
    for (let r = 0; r < V; r++) {
      const id = o_at(src, r), c = count + (digit(W, id, shift) << 2), at = load<i32>(c);
      store<i32>(c, at + 1);
      set_o(dst, at, id);
    }
    const t = src; src = dst; dst = t;
  }
  if (src != O) memory.copy(O, src, <usize>V << 2);
}

/** Zero the weight of every token past top-k and top-p (O[0, min(topK, V)) ordered by weight). */
function keep_head(W: usize, O: usize, V: i32, topK: i32, topP: f64): void {
  let keep = min(topK, V), total: f64 = 0, mass: f64 = 0;
  for (let r = 0; r < keep; r++) total += w_at(W, o_at(O, r));
  for (let r = 0; r < keep; r++) {
    mass += w_at(W, o_at(O, r));
    if (mass >= topP * total) { keep = r + 1; break; }
  }
  // every token after the last kept one in the order goes (the order is total)
  const last = o_at(O, keep - 1);
  for (let i = 0; i < V; i++) if (i != last && !before(W, i, last)) set_w(W, i, 0);
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
  if (topK < V || topP < 1) {
    if (topK >= V) order_all_by_weight(W, O, V);
    else order_by_weight(W, O, V, topK);
    keep_head(W, O, V, topK, topP);
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

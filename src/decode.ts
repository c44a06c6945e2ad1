// Decoding: turning next-token distributions into sequences, for every model that generates.
//
// Sampling draws each token from the model's distribution p (softmax output), reshaped:
//   temperature τ   p_i^(1/τ), renormalised (= softmax(z / τ) of the logits z); τ → 0 is greedy
//   top-k           keep the k most likely tokens
//   top-p (nucleus) keep the fewest most likely tokens whose probability sums to ≥ p (after
//                   top-k, when both are given)
// Beam search keeps the `width` most likely partial sequences (by Σ log p), extends each by
// every token, and ranks finished ones by Σ log p / length^α (length normalisation, α =
// lengthPenalty). Nothing here touches wasm: a model plugs in through TokenStepper, which
// advances a batch of hypotheses one token, or TokenSource, one sequence stepped in place
// (the fast path, which samples in wasm by the same rules). All randomness comes from a
// seeded Random.
// see: Holtzman et al. 2019 (nucleus sampling); Wu et al. 2016 §7 (length normalisation).

import { checkBeamWidth, checkLength } from './limits.js';
import { Random } from './random.js';
import { checkInt, checkKeys, checkNumber, describe } from './validate.js';

/** How to pick each token. */
export interface SamplingOptions {
  /** 'greedy' takes the most likely token; 'sample' draws one from the distribution as
   *  reshaped by temperature, topK and topP. Default 'greedy'. */
  strategy?: 'greedy' | 'sample';
  /** Sampling temperature τ > 0: below 1 sharper, above 1 flatter. Default 1. */
  temperature?: number;
  /** Draw only among the k most likely tokens. Default: all. */
  topK?: number;
  /** Draw only among the fewest most likely tokens whose probabilities sum to ≥ topP of the
   *  total, in (0, 1]. Default 1. */
  topP?: number;
  /** Seed for this call's draws. Default: the model's own seeded generator (so a run with a
   *  fixed model seed repeats, but two calls differ). */
  seed?: number;
}

/** Generation: sampling plus where to start and when to stop. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (the stop token included). */
  maxLength: number;
  /** Tokens fed after the start token to set the state, before generating (priming). They are
   *  not part of the result. Default none. A language model (createRNN, many-to-many) has no
   *  start token: its prefix is required, and its first token is the first input. */
  prefix?: ArrayLike<number>;
  /** Token that ends a sequence (it is included in the result); null: none. Default: the
   *  model's stopToken. */
  stop?: number | null;
  /** Called with every generated token as it is chosen; return false to stop early. */
  onToken?: (token: number, index: number) => void | boolean;
}

/** Beam search. */
export interface BeamOptions {
  /** Number of hypotheses kept at each step, k ≥ 1. width 1 is greedy decoding. */
  beamWidth: number;
  /** Most tokens per hypothesis (the stop token included). */
  maxLength: number;
  /** Token that ends a hypothesis; null: none (every hypothesis runs to maxLength). Default: the model's stopToken. */
  stop?: number | null;
  /** α in score = Σ log p / length^α: 0 ranks by total log-probability (favours short
   *  sequences), 1 by the mean per token. Default 1. */
  lengthPenalty?: number;
  /** Tokens fed after the start token before searching. Default none. A language model
   *  (createRNN, many-to-many) has no start token: its prefix is required, and its first
   *  token is the first input. */
  prefix?: ArrayLike<number>;
}

/** A finished beam-search hypothesis. */
export interface Hypothesis {
  /** Generated tokens (ending with the stop token when it was reached). */
  tokens: number[];
  /** Σ log p of the tokens. */
  logProb: number;
  /** logProb / length^lengthPenalty: what hypotheses are ranked by. */
  score: number;
}

/** A hypothesis with its backpointers: from[i] is the row, among the B rows of the step that
 *  chose tokens[i], whose distribution it came from (beamSearch with trace). */
export interface TracedHypothesis extends Hypothesis {
  from: number[];
}

/** A model seen from a decoder: advances B hypotheses by one token each. A stepper may
 *  advance a state in place and return a view of its memory as probs: the functions here read
 *  probs before the next step and never use a state again once they stepped or selected it. */
export interface TokenStepper<S> {
  /** Vocabulary size V. */
  readonly vocab: number;
  /** Feed tokens[b] to hypothesis b of `state`; return the next-token probabilities (B, V)
   *  and the state after the step. */
  step(tokens: Int32Array, state: S): { probs: Float32Array; state: S };
  /** A state made of rows `rows` of `state` (rows may repeat). */
  select(state: S, rows: readonly number[]): S;
}

/** One sequence stepped in place, its state held by the source (src/stepper.ts): generation
 *  with no allocation per token. */
export interface TokenSource {
  /** Feed one token; the distribution of the next is then ready. */
  feed(token: number): void;
  /** Choose the next token from the current distribution, as pickToken does (one draw from
   *  sampler.rng when sampling). */
  choose(sampler: Sampler): number;
  /** feed(token), then choose(sampler). */
  feedAndChoose(token: number, sampler: Sampler): number;
}

/** Sampling options checked and filled in. */
export interface Sampler {
  greedy: boolean;
  temperature: number;
  topK: number;
  topP: number;
  rng: Random;
}

export function resolveSampling(where: string, options: SamplingOptions, V: number, rng: Random): Sampler {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const strategy = options.strategy ?? 'greedy';
  if (strategy !== 'greedy' && strategy !== 'sample') {
    throw new TypeError(`${where}: strategy must be 'greedy' or 'sample', got ${describe(strategy)}`);
  }
  const temperature = checkNumber(where, 'temperature', options.temperature ?? 1);
  if (!(temperature > 0)) {
    throw new RangeError(`${where}: temperature must be a number > 0, got ${temperature}${temperature === 0 ? ` (use strategy: 'greedy')` : ''}`);
  }
  const topK = options.topK === undefined ? V : checkInt(where, 'topK', options.topK);
  // a probability mass to keep: 0 would keep no token
  const topP = checkNumber(where, 'topP', options.topP ?? 1);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`${where}: topP must be a number in (0, 1], got ${topP}`);
  const greedy = strategy === 'greedy';
  if (greedy && (options.temperature !== undefined || options.topK !== undefined || options.topP !== undefined)) {
    throw new TypeError(`${where}: temperature, topK and topP shape sampling; pass strategy: 'sample' to use them`);
  }
  const own = options.seed === undefined ? rng : new Random(checkInt(where, 'seed', options.seed, 0));
  return { greedy, temperature, topK: Math.min(topK, V), topP, rng: own };
}

/** Index of the largest value (the first, on ties). */
export function argmax(p: ArrayLike<number>, offset = 0, n = p.length - offset): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (p[offset + i] > p[offset + best]) best = i;
  return best;
}

/** The distribution a sampler draws from: p reshaped by temperature, top-k and top-p, and
 *  normalised (f64, length n). For greedy, all mass on the argmax. */
export function samplingDistribution(p: ArrayLike<number>, s: Omit<Sampler, 'rng'>, offset = 0, n = p.length - offset): Float64Array<ArrayBuffer> {
  checkSampler('samplingDistribution', s);
  return distribution(p, s, offset, n);
}

/** Refuse a hand-made sampler that would keep no token: resolveSampling's ranges, checked
 *  where a sampler arrives without it (a sampler that only takes the argmax needs none). */
function checkSampler(where: string, s: Omit<Sampler, 'rng'>): void {
  if (s.greedy) return;
  const check = (name: string, v: unknown, ok: (v: number) => boolean, range: string) => {
    if (typeof v !== 'number') throw new TypeError(`${where}: ${name} must be ${range}, got ${describe(v)}`);
    if (!ok(v)) throw new RangeError(`${where}: ${name} must be ${range}, got ${v}`);
  };
  check('topK', s.topK, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1');
  check('temperature', s.temperature, (v) => v > 0 && v < Infinity, 'a number > 0');
  check('topP', s.topP, (v) => v > 0 && v <= 1, 'a number in (0, 1]');
}

/** samplingDistribution of a checked sampler. */
function distribution(p: ArrayLike<number>, s: Omit<Sampler, 'rng'>, offset: number, n: number): Float64Array<ArrayBuffer> {
  const w = new Float64Array(n);
  if (s.greedy) {
    w[argmax(p, offset, n)] = 1;
    return w;
  }
  // p^(1/τ) = softmax(z / τ) up to normalisation: p itself at τ = 1 (exact), otherwise done
  // in logs so small τ cannot underflow the largest entry (assembly/sample.ts does the same)
  let pmax = 0;
  for (let i = 0; i < n; i++) pmax = Math.max(pmax, p[offset + i]);
  if (!(pmax > 0)) {
    w[argmax(p, offset, n)] = 1;
    return w;
  }
  const maxLog = Math.log(pmax);
  for (let i = 0; i < n; i++) w[i] = s.temperature === 1 ? p[offset + i] : Math.exp((Math.log(p[offset + i]) - maxLog) / s.temperature);
  if (s.topK >= n && s.topP < 1) {
    topPAlone(w, s.topP);
  } else if (s.topK < n) {
    // order by weight (ties: lower id first), keep the head: the top k, selected in O(n log k)
    const order = topOrder(w, s.topK);
    const before = (i: number, j: number) => w[i] > w[j] || (w[i] === w[j] && i < j);
    let last = order[s.topK - 1];
    if (s.topP < 1) {
      // top-p over what top-k kept (as Hugging Face's samplers), their total summed in id order
      let total = 0, mass = 0;
      for (const i of order.slice().sort()) total += w[i];
      for (let r = 0; r < s.topK; r++) {
        mass += w[order[r]];
        if (mass >= s.topP * total) { last = order[r]; break; }
      }
    }
    // every token after the last kept one in the order goes (the order is total)
    for (let i = 0; i < n; i++) if (i !== last && !before(i, last)) w[i] = 0;
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += w[i];
  for (let i = 0; i < n; i++) w[i] /= total;
  return w;
}

/** Top-p with no top-k: keep the fewest tokens, first in order by weight (ties: lower id
 *  first), whose weights, summed in that order, reach ≥ topP of the total (summed in id order),
 *  as the ordered ids would give. The sums need only the weights in order, not which id holds
 *  each: the weights sorted as numbers (a native sort, where ordering the ids took a comparison
 *  function per pair), then the cut-off weight; of the tokens at that weight, the lowest ids
 *  are kept. */
function topPAlone(w: Float64Array, topP: number): void {
  const n = w.length, sorted = w.slice().sort();          // ascending: read from the end
  let total = 0, mass = 0, keep = n;
  for (let i = 0; i < n; i++) total += w[i];
  for (let r = n - 1; r >= 0; r--) {
    mass += sorted[r];
    if (mass >= topP * total) { keep = n - r; break; }
  }
  const cut = sorted[n - keep];
  let atCut = 0;                                          // kept tokens whose weight is the cut-off's
  for (let r = n - keep; r < n; r++) if (sorted[r] === cut) atCut++;
  for (let i = 0; i < n; i++) {
    if (w[i] > cut) continue;
    if (w[i] === cut && atCut > 0) atCut--;
    else w[i] = 0;
  }
}

/** The ids of the k largest weights, largest first (ties: lower id first): a heap of k whose
 *  root is the one that comes last, over one pass. */
function topOrder(w: Float64Array, k: number): Int32Array {
  const heap = new Int32Array(k);
  const after = (a: number, b: number) => w[a] < w[b] || (w[a] === w[b] && a > b);   // a comes after b
  const siftDown = (i: number, end: number) => {
    for (;;) {
      let m = i;
      const l = 2 * i + 1, r = l + 1;
      if (l < end && after(heap[l], heap[m])) m = l;
      if (r < end && after(heap[r], heap[m])) m = r;
      if (m === i) return;
      const t = heap[i]; heap[i] = heap[m]; heap[m] = t;
      i = m;
    }
  };
  for (let i = 0; i < k; i++) heap[i] = i;
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(i, k);
  for (let i = k; i < w.length; i++) {
    if (after(heap[0], i)) {
      heap[0] = i;
      siftDown(0, k);
    }
  }
  for (let end = k - 1; end > 0; end--) {          // the root (last in order) to the back
    const t = heap[0]; heap[0] = heap[end]; heap[end] = t;
    siftDown(0, end);
  }
  return heap;
}

/** Choose one token from probabilities p[offset .. offset + n). */
export function pickToken(p: ArrayLike<number>, s: Sampler, offset = 0, n = p.length - offset): number {
  if (s.greedy) return argmax(p, offset, n);
  checkSampler('pickToken', s);
  const w = distribution(p, s, offset, n);
  let r = s.rng.uniform();
  for (let i = 0; i < n; i++) {
    r -= w[i];
    if (r < 0) return i;
  }
  // rounding left r ≥ 0: the last token with any mass
  for (let i = n - 1; i >= 0; i--) if (w[i] > 0) return i;
  return 0;
}

/** Check a token id against the vocabulary. */
export function checkToken(where: string, name: string, v: unknown, V: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${where}: ${name} must be an integer token id, got ${describe(v)}`);
  if (v < 0 || v >= V) throw new RangeError(`${where}: ${name} = ${v} is out of range; token ids must be in [0, ${V})`);
  return v;
}

/** A `stop` option: absent → `fallback` (the model's stop token, or none), null → none, else a
 *  token id. */
export function checkStop(where: string, v: unknown, V: number, fallback: number | null): number | null {
  return v === undefined ? fallback : v === null ? null : checkToken(where, 'stop', v, V);
}

/** An `onToken` option: absent, or a function called with each generated token (or, for
 *  vector outputs, each generated vector: `value` names which) and its index. */
export function checkOnToken<F extends (value: never, index: number) => void | boolean>(where: string, v: unknown, value = 'token'): F | undefined {
  if (v !== undefined && typeof v !== 'function') throw new TypeError(`${where}: onToken must be a function (${value}, index) => void | boolean, got ${describe(v)}`);
  return v as F | undefined;
}

/** A beam search's options, checked in this order: the object and its keys, beamWidth,
 *  maxLength, then what `prefix` checks (the prefix, and what a model reads with it), stop
 *  (absent: `fallbackStop`) and lengthPenalty. */
export function checkBeamOptions<P>(where: string, options: unknown, keys: readonly string[], V: number, fallbackStop: number | null,
                                    prefix: (o: BeamOptions) => P): { width: number; maxLength: number; prefix: P; stop: number | null; alpha: number } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, keys);
  const o = options as BeamOptions;
  const width = checkBeamWidth(where, o.beamWidth, V);
  const maxLength = checkLength(where, 'maxLength', o.maxLength);
  const p = prefix(o);
  const stop = checkStop(where, o.stop, V, fallbackStop);
  const alpha = checkNumber(where, 'lengthPenalty', o.lengthPenalty ?? 1, 0);
  return { width, maxLength, prefix: p, stop, alpha };
}

/** Check a list of token ids (prefixes). */
export function checkTokens(where: string, name: string, v: unknown, V: number): number[] {
  if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new TypeError(`${where}: ${name} must be an array of token ids, got ${describe(v)}`);
  return Array.from(v as ArrayLike<unknown>, (t, i) => checkToken(where, `${name}[${i}]`, t, V));
}

/** Generate one sequence token by token: feed start (and the prefix), then pick, yield and
 *  feed back until the stop token or maxLength. Lazy: each next() runs one model step. */
export function* streamTokens<S>(stepper: TokenStepper<S>, state: S, start: number, prefix: readonly number[],
                                 maxLength: number, stop: number | null, sampler: Sampler): Generator<number, void, unknown> {
  let probs: Float32Array = new Float32Array(0);
  for (const t of [start, ...prefix]) ({ probs, state } = stepper.step(Int32Array.of(t), state));
  for (let i = 0; i < maxLength; i++) {
    const token = pickToken(probs, sampler);
    yield token;
    if (token === stop || i + 1 === maxLength) return;
    ({ probs, state } = stepper.step(Int32Array.of(token), state));
  }
}

/** streamTokens over a TokenSource: the same tokens, one feedAndChoose per token after the
 *  first. */
export function* generateTokens(source: TokenSource, start: number, prefix: readonly number[],
                                maxLength: number, stop: number | null, sampler: Sampler): Generator<number, void, unknown> {
  if (maxLength <= 0) return;
  source.feed(start);
  for (const t of prefix) source.feed(t);
  let token = source.choose(sampler);
  for (let i = 1; ; i++) {
    yield token;
    if (token === stop || i === maxLength) return;
    token = source.feedAndChoose(token, sampler);
  }
}

/** Generate B sequences in lockstep (one model step for all per token), each from its own
 *  start token and state row; a row stops at its stop token. */
export function decodeBatch<S>(stepper: TokenStepper<S>, state: S, starts: readonly number[], maxLength: number,
                               stop: number | null, sampler: Sampler): number[][] {
  const B = starts.length;
  const out: number[][] = starts.map(() => []);
  let rows = Array.from({ length: B }, (_, b) => b);     // sequences still going, by state row
  let { probs, state: s } = stepper.step(Int32Array.from(starts), state);
  const V = stepper.vocab;
  for (let i = 0; i < maxLength && rows.length > 0; i++) {
    const next: number[] = [], keep: number[] = [], tokens: number[] = [];
    rows.forEach((b, r) => {
      const token = pickToken(probs, sampler, r * V, V);
      out[b].push(token);
      if (token !== stop) { next.push(b); keep.push(r); tokens.push(token); }
    });
    rows = next;
    if (rows.length === 0 || i + 1 === maxLength) break;
    if (keep.length !== probs.length / V) s = stepper.select(s, keep);
    ({ probs, state: s } = stepper.step(Int32Array.from(tokens), s));
  }
  return out;
}

/** Beam search from one start state: the finished hypotheses, best first (at most width).
 *  Each step keeps the width best extensions of the live hypotheses; those that end (the stop
 *  token, or maxLength) are finished. The search ends when no hypothesis is live, or once width
 *  have finished and the best live one, scored at its length so far, does not beat the worst of
 *  the width best finished (Hugging Face's rule; exact for lengthPenalty 0, where a score only
 *  falls as a hypothesis grows): hypotheses that ended early, however unlikely, do not end the
 *  search while a more likely one is still going. With `trace`, each hypothesis also holds
 *  its backpointers (TracedHypothesis). */
export function beamSearch<S>(stepper: TokenStepper<S>, state: S, start: number, prefix: readonly number[],
                              width: number, maxLength: number, stop: number | null, lengthPenalty: number, trace: true): TracedHypothesis[];
export function beamSearch<S>(stepper: TokenStepper<S>, state: S, start: number, prefix: readonly number[],
                              width: number, maxLength: number, stop: number | null, lengthPenalty: number, trace?: boolean): Hypothesis[];
export function beamSearch<S>(stepper: TokenStepper<S>, state: S, start: number, prefix: readonly number[],
                              width: number, maxLength: number, stop: number | null, lengthPenalty: number, trace = false): Hypothesis[] {
  const V = stepper.vocab;
  let probs: Float32Array = new Float32Array(0);
  for (const t of [start, ...prefix]) ({ probs, state } = stepper.step(Int32Array.of(t), state));
  let beams: { tokens: number[]; logProb: number; from?: number[] }[] = [{ tokens: [], logProb: 0, from: trace ? [] : undefined }];
  const finished: (Hypothesis | TracedHypothesis)[] = [];
  const top: number[] = [];           // the width best finished scores, best first
  const score = (logProb: number, length: number) => logProb / Math.pow(length, lengthPenalty);
  const finish = (tokens: number[], logProb: number, from?: number[]) => {
    const s = score(logProb, tokens.length);
    finished.push(from ? { tokens, logProb, score: s, from } : { tokens, logProb, score: s });
    let at = top.length;
    while (at > 0 && !(top[at - 1] >= s)) at--;
    if (at < width) { top.splice(at, 0, s); top.length = Math.min(top.length, width); }
  };
  for (let i = 0; i < maxLength; i++) {
    const next: typeof beams = [], rows: number[] = [], tokens: number[] = [];
    for (const c of bestExtensions(beams, probs, V, width)) {
      const seq = [...beams[c.beam].tokens, c.token];
      const from = trace ? [...beams[c.beam].from!, c.beam] : undefined;
      if (c.token === stop || i + 1 === maxLength) finish(seq, c.logProb, from);
      else { next.push({ tokens: seq, logProb: c.logProb, from }); rows.push(c.beam); tokens.push(c.token); }
    }
    if (next.length === 0) break;
    // next[0] is the most likely live hypothesis (extensions come best first)
    if (top.length === width && !(score(next[0].logProb, i + 1) > top[width - 1])) break;
    beams = next;
    ({ probs, state } = stepper.step(Int32Array.from(tokens), stepper.select(state, rows)));
  }
  finished.sort((a, b) => b.score - a.score);
  return finished.slice(0, width);
}

/** The `width` best extensions of the beams by Σ log p, best first (ties: earlier beam, lower
 *  id; NaN last). One pass keeps the best in a heap whose root is the worst kept, so a step
 *  costs O(beams · V · log width) and no object per candidate (sorting every candidate, as
 *  before, took 60× a model step over 30 000 words). */
function bestExtensions(beams: readonly { logProb: number }[], probs: Float32Array, V: number,
                        width: number): { beam: number; token: number; logProb: number }[] {
  const size = Math.min(width, beams.length * V);
  const lp = new Float64Array(size), id = new Int32Array(size);   // id = beam · V + token: ties go to the lower
  // a comes after b in the ranking
  const worse = (a: number, b: number) => {
    const x = lp[a], y = lp[b];
    return x < y || (x === y ? id[a] > id[b] : Number.isNaN(x) && !Number.isNaN(y));
  };
  const swap = (a: number, b: number) => {
    const t = lp[a]; lp[a] = lp[b]; lp[b] = t;
    const u = id[a]; id[a] = id[b]; id[b] = u;
  };
  const siftDown = (i: number, n: number) => {
    for (;;) {
      let w = i;
      const l = 2 * i + 1, r = l + 1;
      if (l < n && worse(l, w)) w = l;
      if (r < n && worse(r, w)) w = r;
      if (w === i) return;
      swap(i, w);
      i = w;
    }
  };
  let n = 0;
  for (let r = 0; r < beams.length; r++) {
    const base = beams[r].logProb;
    for (let v = 0; v < V; v++) {
      const logProb = base + Math.log(probs[r * V + v]);
      if (n < size) {
        lp[n] = logProb; id[n] = r * V + v;
        for (let i = n++; i > 0 && worse(i, (i - 1) >> 1); i = (i - 1) >> 1) swap(i, (i - 1) >> 1);
      } else if (logProb > lp[0] || (Number.isNaN(lp[0]) && !Number.isNaN(logProb))) {
        // later in (beam, token) order, so an equal score never displaces one kept
        lp[0] = logProb; id[0] = r * V + v;
        siftDown(0, n);
      }
    }
  }
  const best: { beam: number; token: number; logProb: number }[] = [];
  for (let end = n - 1; end >= 0; end--) {      // the worst first, from the root
    best.push({ beam: Math.floor(id[0] / V), token: id[0] % V, logProb: lp[0] });
    swap(0, end);
    siftDown(0, end);
  }
  return best.reverse();
}

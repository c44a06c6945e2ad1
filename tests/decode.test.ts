// Decoding: the sampling distribution (temperature, top-k, top-p), seeded draws, stop tokens,
// priming, streaming, batched decoding and beam search — on hand-made next-token
// distributions where the right answer is known, and on models.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  beamSearch, createModel, decodeBatch, pickToken, Random, resolveSampling, samplingDistribution, streamTokens,
  type Sampler, type TokenStepper,
} from '../dist/index.js';
import { checkClose } from './_utils.js';

/** A stepper over a fixed next-token rule: the state is each hypothesis's tokens so far. */
function table(V: number, next: (history: number[]) => number[]): TokenStepper<number[][]> & { fed: number[][] } {
  const fed: number[][] = [];
  return {
    vocab: V,
    fed,
    step(tokens, state) {
      const out = state.map((h, b) => [...h, tokens[b]]);
      fed.push(Array.from(tokens));
      const probs = new Float32Array(tokens.length * V);
      out.forEach((h, b) => probs.set(next(h), b * V));
      return { probs, state: out };
    },
    select: (state, rows) => rows.map((r) => state[r]),
  };
}

const sampler = (o: object, seed = 1) => resolveSampling('test', o, 5, new Random(seed));

/** The lengths of the arrays (plain or typed) sorted while fn runs. */
function sortsDuring(fn: () => void): number[] {
  const lengths: number[] = [];
  const typed = Object.getPrototypeOf(Int32Array.prototype) as { sort: (...a: unknown[]) => unknown };
  const plain = Array.prototype.sort, typedSort = typed.sort;
  Array.prototype.sort = function (this: unknown[], ...a: unknown[]) { lengths.push(this.length); return plain.apply(this, a as []); } as typeof plain;
  typed.sort = function (this: Int32Array, ...a: unknown[]) { lengths.push(this.length); return typedSort.apply(this, a); };
  try {
    fn();
  } finally {
    Array.prototype.sort = plain;
    typed.sort = typedSort;
  }
  return lengths;
}

// ---

const Dist = suite('the sampling distribution');

Dist('temperature: p^(1/τ) renormalised; greedy puts all mass on the argmax', () => {
  const p = [0.1, 0.2, 0.4, 0.3];
  for (const tau of [0.5, 1, 2]) {
    const w = p.map((v) => Math.pow(v, 1 / tau));
    const s = w.reduce((a, b) => a + b, 0);
    checkClose(`τ = ${tau}`, samplingDistribution(p, sampler({ strategy: 'sample', temperature: tau })), w.map((v) => v / s), 1e-12);
  }
  assert.equal(Array.from(samplingDistribution(p, sampler({}))), [0, 0, 1, 0]);
  // a tiny temperature is still a distribution (computed in logs, no underflow)
  checkClose('τ = 0.001', samplingDistribution(p, sampler({ strategy: 'sample', temperature: 0.001 })), [0, 0, 1, 0], 1e-9);
});

Dist('top-k keeps the k most likely; top-p the fewest whose mass reaches p', () => {
  const p = [0.05, 0.25, 0.4, 0.1, 0.2];
  checkClose('top-2', samplingDistribution(p, sampler({ strategy: 'sample', topK: 2 })), [0, 0.25 / 0.65, 0.4 / 0.65, 0, 0], 1e-12);
  checkClose('top-p 0.6', samplingDistribution(p, sampler({ strategy: 'sample', topP: 0.6 })), [0, 0.25 / 0.65, 0.4 / 0.65, 0, 0], 1e-12);
  checkClose('top-p 0.65 (exactly reached)', samplingDistribution(p, sampler({ strategy: 'sample', topP: 0.65 })), [0, 0.25 / 0.65, 0.4 / 0.65, 0, 0], 1e-6);
  checkClose('top-p 0.3', samplingDistribution(p, sampler({ strategy: 'sample', topP: 0.3 })), [0, 0, 1, 0, 0], 1e-12);
  // top-p applies to what top-k kept, renormalised: 0.4 / 0.85 + 0.25 / 0.85 ≈ 0.76 ≥ 0.75
  checkClose('top-k 3 then top-p 0.75', samplingDistribution(p, sampler({ strategy: 'sample', topK: 3, topP: 0.75 })), [0, 0.25 / 0.65, 0.4 / 0.65, 0, 0], 1e-12);
});

/** samplingDistribution's rule written out: order every token (weight, then lower id), keep
 *  the top k, then (p < 1) the fewest of those whose mass, summed in order, reaches p of
 *  theirs (summed in id order), renormalised. */
function referenceDistribution(p: ArrayLike<number>, temperature: number, topK: number, topP: number): Float64Array {
  const n = p.length, pmax = Math.max(...Array.from(p));
  const w = Float64Array.from(p, (v) => (temperature === 1 ? v : Math.exp((Math.log(v) - Math.log(pmax)) / temperature)));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => w[b] - w[a] || a - b);
  let keep = Math.min(topK, n), total = 0, mass = 0;
  const kept = new Set(order.slice(0, keep));
  for (let i = 0; i < n; i++) if (kept.has(i)) total += w[i];
  for (let r = 0; r < keep && topP < 1; r++) {
    mass += w[order[r]];
    if (mass >= topP * total) { keep = r + 1; break; }
  }
  for (let r = keep; r < n; r++) w[order[r]] = 0;
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / sum);
}

Dist('top-k and top-p keep exactly the tokens of ordering every one, ties and zeros included', () => {
  const rng = new Random(9);
  for (let trial = 0; trial < 300; trial++) {
    const n = 2 + rng.int(trial < 200 ? 20 : 400);
    // few distinct values, so weights tie across the cut; some zeros
    const raw: number[] = Array.from({ length: n }, () => (rng.int(5) === 0 ? 0 : 1 + rng.int(trial % 2 ? 4 : 1000)));
    if (!raw.some((v) => v > 0)) raw[0] = 1;
    const sum = raw.reduce((a, b) => a + b, 0);
    const p = Float32Array.from(raw, (v) => v / sum);
    const temperature = [1, 0.7, 1.6][trial % 3], topK = 1 + rng.int(n + 2), topP = trial % 4 === 0 ? 0.3 + 0.7 * rng.uniform() : 1;
    const got = samplingDistribution(p, resolveSampling('test', { strategy: 'sample', temperature, topK, topP }, n, new Random(1)));
    assert.equal(Array.from(got), Array.from(referenceDistribution(p, temperature, topK, topP)), `trial ${trial}: n ${n}, τ ${temperature}, top-k ${topK}, top-p ${topP}`);
  }
});

Dist('top-p alone keeps exactly the tokens of ordering every one, ties, zeros and sums of irregular weights included', () => {
  const rng = new Random(10);
  for (let trial = 0; trial < 400; trial++) {
    const n = 2 + rng.int(trial < 300 ? 30 : 3000);
    // ties (few distinct values) in half the trials; irregular weights, whose sums depend on their order, in the rest
    const raw = Array.from({ length: n }, () => (rng.int(6) === 0 ? 0 : trial % 2 ? 1 + rng.int(3) : Math.pow(rng.uniform(), 4)));
    if (!raw.some((v) => v > 0)) raw[0] = 1;
    const sum = raw.reduce((a, b) => a + b, 0);
    const p = Float32Array.from(raw, (v) => v / sum);
    const temperature = [1, 0.8, 1.3][trial % 3], topP = [0.5, 0.9, 0.99, 0.3 + 0.7 * rng.uniform()][trial % 4];
    const got = samplingDistribution(p, resolveSampling('test', { strategy: 'sample', temperature, topP }, n, new Random(1)));
    assert.equal(Array.from(got), Array.from(referenceDistribution(p, temperature, n, topP)), `trial ${trial}: n ${n}, τ ${temperature}, top-p ${topP}`);
  }
});

Dist('top-k selects its k tokens without ordering the whole vocabulary', () => {
  const n = 1 << 12, p = new Float32Array(n);
  for (let i = 0; i < n; i++) p[i] = ((i * 7919) % n + 1) / (n * (n + 1) / 2);
  const sorted = sortsDuring(() => samplingDistribution(p, resolveSampling('test', { strategy: 'sample', topK: 40 }, n, new Random(1))));
  assert.equal(sorted, [], 'lengths of the arrays sorted');
});

Dist('one range and one message for each of topP, in (0, 1], and temperature, > 0', async () => {
  const refused = (o: object) => { try { sampler({ strategy: 'sample', ...o }); } catch (e) { return `${(e as Error).constructor.name}: ${(e as Error).message}`; } return 'accepted'; };
  for (const topP of [0, -0.5, 1.5, NaN, Infinity]) assert.is(refused({ topP }), `RangeError: test: topP must be ${Number.isFinite(topP) ? 'a number in (0, 1]' : 'a finite number'}, got ${topP}`);
  assert.is(refused({ topP: '0.9' }), 'TypeError: test: topP must be a number, got "0.9"');
  for (const topP of [1e-9, 1]) assert.is(refused({ topP }), 'accepted');
  assert.is(refused({ temperature: -1 }), 'RangeError: test: temperature must be a number > 0, got -1');
  assert.is(refused({ temperature: 0 }), `RangeError: test: temperature must be a number > 0, got 0 (use strategy: 'greedy')`);
  // the same on a model
  const m = await createModel({ architecture: 'one-to-many', n_y: 4, n_a: 4, startToken: 0, seed: 1 });
  for (const topP of [0, 1.5]) {
    assert.throws(() => m.generate({ strategy: 'sample', topP, maxLength: 3 }), (e: Error) => e.message === `generate: topP must be a number in (0, 1], got ${topP}`);
  }
  m.dispose();
});

Dist('a hand-made sampler that would keep no token is refused, naming the field (topK 0 once always drew token 0)', () => {
  const p = [0.1, 0.6, 0.3];
  const hand = (o: object) => ({ greedy: false, temperature: 1, topK: 3, topP: 1, rng: new Random(1), ...o });
  const refused = (fn: () => unknown) => { try { fn(); } catch (e) { return `${(e as Error).constructor.name}: ${(e as Error).message}`; } return 'accepted'; };
  for (const topK of [0, -2, 1.5, NaN]) {
    assert.is(refused(() => pickToken(p, hand({ topK }))), `RangeError: pickToken: topK must be an integer ≥ 1, got ${topK}`);
    assert.is(refused(() => samplingDistribution(p, hand({ topK }))), `RangeError: samplingDistribution: topK must be an integer ≥ 1, got ${topK}`);
  }
  assert.is(refused(() => pickToken(p, hand({ topK: '2' }))), 'TypeError: pickToken: topK must be an integer ≥ 1, got "2"');
  for (const temperature of [0, -1, Infinity]) assert.is(refused(() => pickToken(p, hand({ temperature }))), `RangeError: pickToken: temperature must be a number > 0, got ${temperature}`);
  for (const topP of [0, 1.5]) assert.is(refused(() => pickToken(p, hand({ topP }))), `RangeError: pickToken: topP must be a number in (0, 1], got ${topP}`);
  // topK 1 is the argmax whatever the draw; a topK past the vocabulary keeps it all; greedy needs no sampling fields
  for (let i = 0; i < 20; i++) assert.is(pickToken(p, hand({ topK: 1 })), 1);
  const drawn = new Set(Array.from({ length: 200 }, () => pickToken(p, hand({ topK: 10, rng: new Random(7) }))));
  assert.ok(drawn.size === 1, 'one seed, one draw');
  assert.ok(new Set(Array.from({ length: 200 }, (_, i) => pickToken(p, hand({ topK: 10, rng: new Random(i) })))).size === 3);
  assert.is(pickToken(p, { greedy: true } as Sampler), 1);
});

Dist('draws follow the distribution, stay in the top-k / top-p support, and repeat with a seed', () => {
  const p = [0.05, 0.25, 0.4, 0.1, 0.2];
  const draw = (o: object, seed: number, n: number) => {
    const s = sampler({ strategy: 'sample', ...o }, seed);
    return Array.from({ length: n }, () => pickToken(p, s));
  };
  const counts = new Array(5).fill(0);
  for (const t of draw({}, 3, 20000)) counts[t]++;
  counts.forEach((c, i) => assert.ok(Math.abs(c / 20000 - p[i]) < 0.015, `token ${i}: frequency ${c / 20000} vs p ${p[i]}`));
  assert.ok(draw({ topK: 2 }, 4, 3000).every((t) => t === 1 || t === 2), 'top-k support');
  assert.ok(draw({ topP: 0.7 }, 5, 3000).every((t) => t === 1 || t === 2 || t === 4), 'top-p support');
  assert.equal(draw({ temperature: 1.3 }, 6, 50), draw({ temperature: 1.3 }, 6, 50), 'same seed, same draws');
  assert.not.equal(draw({}, 6, 50), draw({}, 7, 50), 'another seed, other draws');
});

Dist.run();

// ---

const Gen = suite('generation: start, prefix, stop token, maxLength, streaming');

Gen('feeds the start token and the prefix, then each chosen token; stops at the stop token (included)', () => {
  // next token = (last + 1) mod 5, with certainty
  const s = table(5, (h) => { const p = [0, 0, 0, 0, 0]; p[(h[h.length - 1] + 1) % 5] = 1; return p; });
  const out = [...streamTokens(s, [[]], 1, [2], 10, 0, sampler({}))];
  assert.equal(out, [3, 4, 0], 'from 2: 3, 4, then the stop token 0');
  assert.equal(s.fed, [[1], [2], [3], [4]], 'fed: start, prefix, then the generated tokens but not the stop token');
  assert.equal([...streamTokens(table(5, () => [0, 0, 1, 0, 0]), [[]], 1, [], 4, null, sampler({}))], [2, 2, 2, 2], 'maxLength');
});

Gen('streaming is lazy: one model step per token taken', () => {
  const s = table(5, () => [0.2, 0.2, 0.2, 0.2, 0.2]);
  const it = streamTokens(s, [[]], 1, [], 100, null, sampler({ strategy: 'sample' }));
  it.next(); it.next();
  assert.is(s.fed.length, 2, 'the start token, then one generated token fed back');
});

Gen('decodeBatch: rows in lockstep, each stopping on its own = one at a time', () => {
  const next = (h: number[]) => { const p = [0.05, 0.1, 0.2, 0.3, 0.35]; p[h.length % 5] += 1; return p.map((v) => v / 2); };
  const starts = [1, 4, 2];
  const batch = decodeBatch(table(5, next), [[], [], []], starts, 8, 0, sampler({ strategy: 'sample' }, 9));
  assert.is(batch.length, 3);
  const greedyBatch = decodeBatch(table(5, next), [[], [], []], starts, 8, 0, sampler({}));
  starts.forEach((st, b) => assert.equal(greedyBatch[b], [...streamTokens(table(5, next), [[]], st, [], 8, 0, sampler({}))], `row ${b}`));
  assert.ok(batch.every((r) => r.length <= 8 && (r.length === 8 || r[r.length - 1] === 0)));
});

Gen.run();

// ---

const Beam = suite('beam search');

// vocabulary: 0 = stop, 1 = A, 2 = B. First A 0.6 / B 0.4; after A anything (1/3 each); after B stop 0.9.
const trap = () => table(3, (h) => {
  if (h.length === 1) return [0, 0.6, 0.4];
  if (h[1] === 1) return [1 / 3, 1 / 3, 1 / 3];
  return [0.9, 0.05, 0.05];
});

Beam('finds a more likely sequence than greedy when the locally best token leads nowhere', () => {
  const greedy = [...streamTokens(trap(), [[]], 0, [], 5, 0, sampler({}))];
  assert.equal(greedy, [1, 0], 'greedy: A (0.6), then stop (1/3): p = 0.2');
  const [best] = beamSearch(trap(), [[]], 0, [], 2, 5, 0, 0);
  assert.equal(best.tokens, [2, 0], 'beam: B (0.4), then stop (0.9): p = 0.36');
  checkClose('logProb', [best.logProb], [Math.log(0.4 * 0.9)], 1e-6);
  assert.ok(best.logProb > Math.log(0.6 / 3));
});

Beam('width 1 is greedy decoding; results come best first; length normalisation changes the ranking', () => {
  for (const maxLength of [1, 3, 6]) {
    const [one] = beamSearch(trap(), [[]], 0, [], 1, maxLength, 0, 1);
    assert.equal(one.tokens, [...streamTokens(trap(), [[]], 0, [], maxLength, 0, sampler({}))], `maxLength ${maxLength}`);
  }
  // stop at once: p = 0.5; or one more token then stop: 0.5 · 0.8 = 0.4 over two tokens
  const s = () => table(3, (h) => (h.length === 1 ? [0.5, 0.5, 0] : [0.8, 0.1, 0.1]));
  const raw = beamSearch(s(), [[]], 0, [], 3, 4, 0, 0);
  assert.equal(raw[0].tokens, [0], 'α = 0: the shorter sequence wins (p 0.5 > 0.4)');
  const normalised = beamSearch(s(), [[]], 0, [], 3, 4, 0, 1);
  assert.equal(normalised[0].tokens, [1, 0], 'α = 1: per token, 0.4^(1/2) ≈ 0.63 > 0.5');
  for (const r of [raw, normalised]) for (let i = 1; i < r.length; i++) assert.ok(r[i - 1].score >= r[i].score, 'best first');
});

Beam('hypotheses that end early and unlikely do not end the search while a likely one goes on', () => {
  // vocabulary: 0 = stop, 1 = A, 2 = B. A confident model of "A A A A, stop": at each step the
  // likely path keeps going while a rare stop ends another hypothesis, so `width` unlikely
  // hypotheses finish before the likely one does
  const confident = () => table(3, (h) => {
    const n = h.length - 1;                              // tokens generated (h[0] is the start)
    if (h[n] === 2) return [0.5, 0.25, 0.25];
    return n === 4 ? [0.98, 0.01, 0.01] : [0.01, 0.98, 0.01];
  });
  for (const [width, alpha] of [[2, 0], [3, 0], [2, 1], [4, 1]]) {
    const best = beamSearch(confident(), [[]], 0, [], width, 10, 0, alpha);
    assert.equal(best[0].tokens, [1, 1, 1, 1, 0], `width ${width}, α ${alpha}: ${JSON.stringify(best.map((h) => h.tokens))}`);
    checkClose('its log-probability', [best[0].logProb], [Math.log(0.98 ** 5)], 1e-6);
    assert.is(best.length, width);
  }
  // and it is the best whatever the width: the same as width 1 (greedy) here
  assert.equal(beamSearch(confident(), [[]], 0, [], 1, 10, 0, 1)[0].tokens, [1, 1, 1, 1, 0]);
});

/** Beam search as a reference: rank every extension of every beam (ties: earlier beam, lower
 *  id) and keep the best `width`, one step at a time. */
function referenceBeams(stepper: TokenStepper<number[][]>, width: number, maxLength: number, stop: number, alpha: number) {
  const V = stepper.vocab;
  let { probs, state } = stepper.step(Int32Array.of(0), [[]]);
  let beams = [{ tokens: [] as number[], logProb: 0 }];
  const finished: { tokens: number[]; logProb: number; score: number }[] = [];
  for (let i = 0; i < maxLength; i++) {
    const all = beams.flatMap((h, r) => Array.from({ length: V }, (_, v) => ({ beam: r, token: v, logProb: h.logProb + Math.log(probs[r * V + v]) })));
    all.sort((a, b) => b.logProb - a.logProb || a.beam - b.beam || a.token - b.token);
    const next: typeof beams = [], rows: number[] = [], tokens: number[] = [];
    for (const c of all.slice(0, width)) {
      const seq = [...beams[c.beam].tokens, c.token];
      if (c.token === stop || i + 1 === maxLength) finished.push({ tokens: seq, logProb: c.logProb, score: c.logProb / Math.pow(seq.length, alpha) });
      else { next.push({ tokens: seq, logProb: c.logProb }); rows.push(c.beam); tokens.push(c.token); }
    }
    if (next.length === 0) break;
    // done once width have finished and the best live hypothesis, scored at its length so
    // far, does not beat the width-th best of them
    const kept = [...finished].sort((a, b) => b.score - a.score);
    if (kept.length >= width && !(next[0].logProb / Math.pow(i + 1, alpha) > kept[width - 1].score)) break;
    beams = next;
    ({ probs, state } = stepper.step(Int32Array.from(tokens), stepper.select(state, rows)));
  }
  return finished.sort((a, b) => b.score - a.score).slice(0, width);
}

Beam('keeps the same hypotheses as ranking every candidate, ties and zero probabilities included', () => {
  const rng = new Random(5);
  for (let trial = 0; trial < 40; trial++) {
    const V = 2 + rng.int(12), width = 1 + rng.int(trial < 30 ? 6 : 40), maxLength = 1 + rng.int(6);
    // few distinct values, so many candidates tie; some tokens impossible
    const rule = new Map<string, number[]>();
    const next = (h: number[]) => {
      const key = h.join(',');
      if (!rule.has(key)) {
        const w: number[] = Array.from({ length: V }, () => (rng.int(4) === 0 ? 0 : 1 + rng.int(3)));
        if (!w.some((x) => x > 0)) w[0] = 1;
        const total = w.reduce((a, b) => a + b, 0);
        rule.set(key, w.map((x) => x / total));
      }
      return rule.get(key)!;
    };
    const got = beamSearch(table(V, next), [[]], 0, [], width, maxLength, 0, 0.7);
    const want = referenceBeams(table(V, next), width, maxLength, 0, 0.7);
    assert.equal(got, want, `trial ${trial}: V ${V}, width ${width}, maxLength ${maxLength}`);
  }
});

Beam('a step ranks its candidates without ordering all of them', () => {
  // 2¹² tokens, 4 beams: ranking each of the 16 384 candidates as an object and sorting them
  // all took 60× a model step over 30 000 words; the width best are kept in one pass
  const V = 1 << 12, probs = new Float32Array(4 * V);
  for (let b = 0; b < 4; b++) for (let v = 0; v < V; v++) probs[b * V + v] = ((v * 7919 + b) % V + 1) / (V * (V + 1) / 2);
  const stepper: TokenStepper<number> = {
    vocab: V,
    step: (tokens, state) => ({ probs: tokens.length === 4 ? probs : probs.subarray(0, V), state }),
    select: (state) => state,
  };
  let best: ReturnType<typeof beamSearch> = [];
  const sorted = sortsDuring(() => { best = beamSearch(stepper, 0, 0, [], 4, 3, null, 0); });
  assert.is(best.length, 4);
  assert.ok(best[0].logProb >= best[3].logProb);
  assert.ok(sorted.every((n) => n <= 4), `lengths of the arrays sorted: ${sorted}`);
});

Beam('on models: width 1 = greedy for one-to-many and encoder-decoder', async () => {
  const gen = await createModel({ architecture: 'one-to-many', cell: 'gru', n_y: 6, n_a: 8, startToken: 0, stopToken: 5, seed: 11 });
  const ed = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 7, n_y: 6, n_a: 8, stopToken: 5, seed: 12 });
  assert.equal(gen.beamSearch({ beamWidth: 1, maxLength: 7 })[0].tokens, gen.generate({ maxLength: 7 }));
  assert.equal(gen.beamSearch({ beamWidth: 1, maxLength: 7, prefix: [2, 3] })[0].tokens, gen.generate({ maxLength: 7, prefix: [2, 3] }));
  for (const src of [[1, 2, 3], [6], [4, 4, 0, 1, 2]]) {
    assert.equal(ed.beamSearch(src, { beamWidth: 1, maxLength: 7 })[0].tokens, ed.generate(src, { maxLength: 7 }), `source ${src}`);
    const wide = ed.beamSearch(src, { beamWidth: 4, maxLength: 7, lengthPenalty: 0 });
    const greedy = ed.generate(src, { maxLength: 7 });
    // scored by the model itself: the best of width 4 is at least as likely as greedy's
    const logp = (tokens: number[]) => {
      ed.resetState(src);
      let total = 0, prev = 0;
      for (const t of tokens) { total += Math.log(ed.step(prev)[t]); prev = t; }
      return total;
    };
    checkClose('beam score = the model\'s log-probability', [wide[0].logProb], [logp(wide[0].tokens)], 1e-4);
    assert.ok(wide[0].logProb >= logp(greedy) - 1e-6, `beam ${wide[0].logProb} vs greedy ${logp(greedy)}`);
  }
  gen.dispose(); ed.dispose();
});

Beam.run();

// ---

const Models = suite('generation on models: determinism, seeds, callbacks');

Models('greedy is deterministic; a seed repeats a sampled sequence; the model generator moves on', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_y: 8, n_a: 8, startToken: 0, stopToken: 7, seed: 13 });
  assert.equal(m.generate({ maxLength: 20 }), m.generate({ maxLength: 20 }));
  const a = m.generate({ maxLength: 20, strategy: 'sample', temperature: 1.5, seed: 3 });
  assert.equal(m.generate({ maxLength: 20, strategy: 'sample', temperature: 1.5, seed: 3 }), a);
  const draws = Array.from({ length: 6 }, () => m.generate({ maxLength: 20, strategy: 'sample', temperature: 1.5 }).join());
  assert.ok(new Set(draws).size > 1, 'without a seed, calls draw afresh');
  // a fixed model seed repeats the whole run
  const again = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_y: 8, n_a: 8, startToken: 0, stopToken: 7, seed: 13 });
  m.generate({ maxLength: 20, strategy: 'sample', temperature: 1.5, seed: 3 });
  assert.equal(Array.from({ length: 6 }, () => again.generate({ maxLength: 20, strategy: 'sample', temperature: 1.5 }).join()), draws);
  // onToken sees every token and can stop; stream() yields the same tokens as generate()
  const seen: number[] = [];
  const cut = m.generate({ maxLength: 20, strategy: 'sample', seed: 4, onToken: (t, i) => { seen.push(t); return i < 2; } });
  assert.equal(seen, cut);
  assert.is(cut.length, 3);
  assert.equal([...m.stream({ maxLength: 20, strategy: 'sample', seed: 4 })].slice(0, 3), cut);
  // top-k = 1 is greedy
  assert.equal(m.generate({ maxLength: 20, strategy: 'sample', topK: 1, seed: 5 }), m.generate({ maxLength: 20 }));
  m.dispose(); again.dispose();
});

Models('dense outputs: linear feeds ŷ back; sigmoid feeds 0/1 draws', async () => {
  const lin = await createModel({ architecture: 'one-to-many', n_y: 2, n_a: 6, output: 'linear', seed: 14 });
  const steps = lin.generate({ x: [0.5, -0.5], maxLength: 4 });
  assert.is(steps.length, 4);
  // generating is stepping: each ŷ<t> is the next input
  lin.resetState();
  let x: ArrayLike<number> = [0.5, -0.5];
  for (const s of steps) { const y = lin.step(x); checkClose('fed back', s, y, 1e-6); x = y; }
  const sig = await createModel({ architecture: 'one-to-many', n_y: 3, n_a: 6, output: 'sigmoid', seed: 15 });
  const bits = sig.generate({ x: [1, 0, 1], maxLength: 5, strategy: 'sample', seed: 1 });
  assert.ok(bits.every((v) => v.every((b) => b === 0 || b === 1)));
  assert.equal(sig.generate({ x: [1, 0, 1], maxLength: 5, strategy: 'sample', seed: 1 }), bits);
  lin.dispose(); sig.dispose();
});

Models('onToken must be a function, checked before anything runs; generateBatch refuses it for tokens', async () => {
  const lm = await createModel({ architecture: 'one-to-many', cell: 'gru', n_y: 6, n_a: 5, startToken: 0, stopToken: 5, seed: 16 });
  const vec = await createModel({ architecture: 'one-to-many', n_y: 2, n_a: 4, output: 'linear', seed: 17 });
  const ed = await createModel({ architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: 4, n_y: 6, n_a: 5, startToken: 0, stopToken: 5, seed: 18 });
  const edv = await createModel({ architecture: 'encoder-decoder', input: 'tokens', output: 'linear', n_x: 4, n_y: 2, n_a: 4, seed: 19 });
  const refused = (label: string, f: () => unknown, pattern: RegExp) => {
    try { f(); } catch (e) {
      assert.instance(e, TypeError, label);
      assert.match((e as Error).message, pattern, label);
      return;
    }
    assert.unreachable(`${label}: accepted`);
  };
  const draws = lm.generate({ maxLength: 8, strategy: 'sample', seed: 2 });
  refused('one-to-many tokens', () => lm.generate({ maxLength: 8, onToken: 1 as any }), /^generate: onToken must be a function \(token, index\).*got 1/);
  refused('one-to-many vectors', () => vec.generate({ x: [1, 0], maxLength: 3, onToken: 'no' as any }), /^generate: onToken must be a function \(vector, index\)/);
  refused('encoder-decoder tokens', () => ed.generate([1, 2, 3], { maxLength: 4, onToken: {} as any }), /^generate: onToken must be a function \(token, index\)/);
  refused('encoder-decoder vectors', () => edv.generate([1, 2], { maxLength: 3, onToken: [] as any }), /^generate: onToken must be a function \(vector, index\)/);
  refused('encoder-decoder batch of vectors', () => edv.generateBatch([[1, 2]], { maxLength: 3, onToken: 2 as any }), /^generateBatch: onToken must be a function/);
  // a token batch used to accept onToken and never call it
  let calls = 0;
  refused('encoder-decoder batch of tokens', () => ed.generateBatch([[1, 2]], { maxLength: 3, onToken: () => { calls++; } }), /^generateBatch: onToken is taken by generate\(\)/);
  assert.is(calls, 0);
  // the refused calls drew nothing from the model's generator: the next seeded draw repeats
  assert.equal(lm.generate({ maxLength: 8, strategy: 'sample', seed: 2 }), draws);
  // and the vector batch still calls it, once per sequence per step
  const seen: number[] = [];
  edv.generateBatch([[1, 2], [3]], { maxLength: 3, onToken: (v, i) => { seen.push(i); assert.is(v.length, 2); } });
  assert.equal(seen, [0, 0, 1, 1, 2, 2]);
  lm.dispose(); vec.dispose(); ed.dispose(); edv.dispose();
});

Models.run();

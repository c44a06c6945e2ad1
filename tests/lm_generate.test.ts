// A language model's decoding API (createRNN and many-to-many with token input, softmax output,
// n_x = n_y): generate, stream, generateMany and beamSearch, checked against references built
// from forward() (or step()) and decode.ts's pickToken over the same weights and the same
// uniform draws; stop tokens, onToken, top-k / top-p supports, beam scores recomputed from
// forward(), named errors that leave the model as it was, no stale weight copies after training
// or setParam, and the copy of W_hh (withPackedWeights) only for runs that end inside one call.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, pickToken, Random, samplingDistribution, type Sampler } from '../dist/index.js';
import { checkClose, countCalls, throwsWith, uniforms } from './_utils.js';

type LM = Awaited<ReturnType<typeof makeLM>>;
const V = 9;
const cells = ['rnn', 'lstm', 'gru'] as const;

/** A two-layer language model whose weights are spread wide, with each token's input and the
 *  head weighing more, so that greedy decoding (with the seeds used below) wanders over the
 *  vocabulary instead of settling on one token. */
async function makeLM(cell: 'rnn' | 'lstm' | 'gru', seed = 1) {
  return spread(await createRNN({ cell, layers: 2, n_x: V, n_a: 10, n_y: V, input: 'tokens', seed }), seed);
}

async function makeManyToMany(cell: 'rnn' | 'lstm' | 'gru', seed = 1) {
  return spread(await createModel({ architecture: 'many-to-many', cell, layers: 2, n_x: V, n_a: 10, n_y: V, input: 'tokens', seed }), seed);
}

function spread<M extends { getWeights(): Float32Array; setWeights(w: ArrayLike<number>): void; getParam(n: string): Float32Array; setParam(n: string, v: ArrayLike<number>): void }>(m: M, seed: number): M {
  m.setWeights(Float32Array.from(uniforms(new Random(100 + seed), m.getWeights().length, 1.5)));
  for (const [name, k] of [['weight_ih_l0', 6], ['weight_ih_l1', 3], ['head.weight', 4]] as const) m.setParam(name, m.getParam(name).map((v) => v * k));
  return m;
}
/** Seeds whose weights wander under greedy decoding. */
const wanders = { rnn: 2, lstm: 9, gru: 2 };

/** forward()'s next-token distribution after `seq` (its last step's ŷ). */
function nextDist(m: LM, seq: number[]): Float32Array {
  const { yhat } = m.forward({ x: [seq] });
  return yhat.slice((seq.length - 1) * V, seq.length * V);
}

/** What `count` sequences after `prefix` must be, decoded in lockstep (row by row each step, as
 *  decodeBatch draws) from forward() and pickToken with one sampler. */
function reference(m: LM, prefix: number[], count: number, maxLength: number, stop: number | null, sampler: Sampler): number[][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  let alive = out.map((_, b) => b);
  for (let i = 0; i < maxLength && alive.length > 0; i++) {
    const next: number[] = [];
    for (const b of alive) {
      const t = pickToken(nextDist(m, [...prefix, ...out[b]]), sampler);
      out[b].push(t);
      if (t !== stop) next.push(b);
    }
    alive = next;
  }
  return out;
}

const greedy = { greedy: true } as Sampler;
const sampling = (seed: number, o: Partial<Sampler> = {}): Sampler => ({ greedy: false, temperature: 1, topK: V, topP: 1, rng: new Random(seed), ...o });
/** Σ log p of `tokens` after `prefix`, from one forward() over the whole sequence. */
function logProb(m: LM, prefix: number[], tokens: number[]): number {
  const seq = [...prefix, ...tokens];
  const { yhat } = m.forward({ x: [seq] });
  return tokens.reduce((s, t, i) => s + Math.log(yhat[(prefix.length - 1 + i) * V + t]), 0);
}

// ---

const Greedy = suite('greedy: generate equals forward() / step() and argmax');

for (const cell of cells) {
  Greedy(`${cell}: generate, stream, generateMany and beam width 1 equal the forward() reference`, async () => {
    const m = await makeLM(cell, wanders[cell]);
    for (const [prefix, maxLength] of [[[3], 5], [[3, 1, 4], 24]] as const) {
      const ref = reference(m, [...prefix], 1, maxLength, null, greedy)[0];
      if (maxLength > 5) assert.ok(new Set(ref).size >= 5, `the reference wanders (${ref}), so a wrong feed-back would show`);
      assert.equal(m.generate({ prefix, maxLength }), ref, `generate after ${prefix}`);
      assert.equal([...m.stream({ prefix, maxLength })], ref, `stream after ${prefix}`);
      assert.equal(m.generateMany(3, { prefix, maxLength }), [ref, ref, ref], `generateMany after ${prefix}`);
      assert.equal(m.beamSearch({ prefix, maxLength, beamWidth: 1 })[0].tokens, ref, `beam width 1 after ${prefix}`);
    }
    m.dispose();
  });
}

Greedy('many-to-many: generate equals a step() + argmax loop, and leaves the step() stream where it was', async () => {
  const m = await makeManyToMany('gru', wanders.gru);
  const prefix = [2, 7, 0];
  m.step(5);                                           // a stream in progress
  const out = m.generate({ prefix, maxLength: 20 });
  const after = m.step(6);
  const twin = await makeManyToMany('gru', wanders.gru);
  twin.step(5);
  assert.equal(Array.from(after), Array.from(twin.step(6)), 'generate did not touch the step() stream');
  m.resetState();
  let p: Float32Array = new Float32Array(0);
  for (const t of prefix) p = m.step(t);
  const ref: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = p.indexOf(Math.max(...p));
    ref.push(t);
    p = m.step(t);
  }
  assert.ok(new Set(ref).size >= 4, `the reference wanders (${ref})`);
  assert.equal(out, ref);
  m.dispose(); twin.dispose();
});

Greedy.run();

// ---

const Sampled = suite('sampling: seeds, stream, onToken, stop, top-k and top-p');

Sampled('a seed repeats; generate = stream = the forward() + pickToken reference with the same draws', async () => {
  const m = await makeLM('lstm');
  const prefix = [1, 2];
  for (const o of [{}, { topK: 4 }, { topP: 0.7 }, { topK: 5, topP: 0.8 }]) {
    const options = { prefix, maxLength: 25, strategy: 'sample' as const, seed: 7, ...o };
    const a = m.generate(options);
    assert.equal(m.generate(options), a, `${JSON.stringify(o)}: the same seed, the same tokens`);
    assert.equal([...m.stream(options)], a, `${JSON.stringify(o)}: stream = generate`);
    assert.equal(a, reference(m, prefix, 1, 25, null, sampling(7, o))[0], `${JSON.stringify(o)}: the reference`);
    assert.not.equal(m.generate({ ...options, seed: 8 }), a, `${JSON.stringify(o)}: another seed, other tokens`);
  }
  // at another temperature the fast path and stream still agree token for token
  const hot = { prefix, maxLength: 25, strategy: 'sample' as const, temperature: 1.7, topK: 6, seed: 3 };
  assert.equal([...m.stream(hot)], m.generate(hot));
  // sample() is the same generation (prime = prefix), and keeps its own options
  assert.equal(m.generate({ prefix, maxLength: 25, strategy: 'sample', topK: 4, seed: 5 }), m.sample({ prime: prefix, length: 25, topK: 4, seed: 5 }));
  for (const o of [{ topP: 0.6 }, { topK: 5, topP: 0.7, temperature: 1.3 }]) {
    const tokens = m.sample({ prime: prefix, length: 25, seed: 6, ...o });
    assert.equal(m.generate({ prefix, maxLength: 25, strategy: 'sample', seed: 6, ...o }), tokens, `sample(${JSON.stringify(o)}) = generate`);
    assert.not.equal(m.sample({ prime: prefix, length: 25, seed: 6 }), tokens, `${JSON.stringify(o)} shapes the draw`);
  }
  m.dispose();
});

Sampled('without a seed, calls draw from the model generator, which a fixed model seed repeats', async () => {
  const a = await makeLM('gru', 4), b = await makeLM('gru', 4);
  const o = { prefix: [0], maxLength: 20, strategy: 'sample' as const };
  const runs = [a.generate(o), a.generate(o), a.generate(o)];
  assert.ok(new Set(runs.map(String)).size > 1, 'calls draw afresh');
  assert.equal([b.generate(o), b.generate(o), b.generate(o)], runs);
  a.dispose(); b.dispose();
});

Sampled('onToken sees every token of the same generation, and false stops it', async () => {
  const m = await makeLM('rnn');
  const o = { prefix: [4, 4], maxLength: 30, strategy: 'sample' as const, topP: 0.9, seed: 11 };
  const plain = m.generate(o);
  const seen: [number, number][] = [];
  assert.equal(m.generate({ ...o, onToken: (t, i) => { seen.push([t, i]); } }), plain, 'onToken changes nothing');
  assert.equal(seen, plain.map((t, i) => [t, i]));
  const cut = m.generate({ ...o, onToken: (_, i) => i < 4 });
  assert.equal(cut, plain.slice(0, 5), 'false after the 5th token stops there');
  // a generation inside another's onToken runs on a stepper of its own
  const nested = m.generate({ ...o, onToken: () => { m.generate({ prefix: [1], maxLength: 9 }); } });
  assert.equal(nested, plain);
  m.dispose();
});

Sampled('the stop token ends each sequence, included; null and the default run to maxLength', async () => {
  const m = await makeLM('lstm', 2);
  const prefix = [6];
  const free = m.generate({ prefix, maxLength: 30, strategy: 'sample', seed: 2 });
  const stop = free[4];
  const at = free.indexOf(stop);
  assert.equal(m.generate({ prefix, maxLength: 30, strategy: 'sample', seed: 2, stop }), free.slice(0, at + 1));
  assert.equal([...m.stream({ prefix, maxLength: 30, strategy: 'sample', seed: 2, stop })], free.slice(0, at + 1));
  assert.equal(m.generate({ prefix, maxLength: 30, strategy: 'sample', seed: 2, stop: null }), free);
  // lockstep rows stop on their own: the reference with the same draws
  const rows = m.generateMany(4, { prefix, maxLength: 30, strategy: 'sample', seed: 9, stop });
  assert.equal(rows, reference(m, prefix, 4, 30, stop, sampling(9)));
  assert.ok(rows.some((r) => r.length < 30) && rows.every((r) => r.length === 30 || r[r.length - 1] === stop));
  // beam hypotheses end at the stop token or at maxLength
  for (const h of m.beamSearch({ prefix, maxLength: 12, beamWidth: 3, stop })) {
    assert.ok(h.tokens.length === 12 || (h.tokens[h.tokens.length - 1] === stop && !h.tokens.slice(0, -1).includes(stop)), `${h.tokens}`);
  }
  m.dispose();
});

Sampled('top-k and top-p: every drawn token is in the support of samplingDistribution on forward()\'s ŷ', async () => {
  const m = await makeLM('gru', 3);
  const prefix = [2, 5];
  for (const o of [{ topK: 2 }, { topP: 0.6 }, { topK: 3, topP: 0.5, temperature: 0.8 }]) {
    const s = sampling(0, o);
    let outside = 0;
    for (let seed = 0; seed < 40; seed++) {
      const tokens = m.generate({ prefix, maxLength: 6, strategy: 'sample', seed, ...o });
      const all = m.generate({ prefix, maxLength: 6, strategy: 'sample', seed });     // unrestricted, for contrast
      tokens.forEach((t, i) => assert.ok(samplingDistribution(nextDist(m, [...prefix, ...tokens.slice(0, i)]), s)[t] > 0,
        `${JSON.stringify(o)}, seed ${seed}: token ${i} = ${t} is outside the support`));
      all.forEach((t, i) => { if (samplingDistribution(nextDist(m, [...prefix, ...all.slice(0, i)]), s)[t] === 0) outside++; });
    }
    assert.ok(outside > 0, `${JSON.stringify(o)} restricts something (unrestricted draws left its support ${outside} times)`);
  }
  m.dispose();
});

Sampled('generateMany: one row = generate; rows = the lockstep reference with the same draws', async () => {
  const m = await makeLM('lstm', 5);
  const o = { prefix: [1, 8, 3], maxLength: 15, strategy: 'sample' as const, topP: 0.85, seed: 21 };
  assert.equal(m.generateMany(1, o), [m.generate(o)]);
  const rows = m.generateMany(5, o);
  assert.equal(rows, reference(m, o.prefix, 5, 15, null, sampling(21, { topP: 0.85 })));
  assert.ok(new Set(rows.map(String)).size > 1, 'rows differ');
  m.dispose();
});

Sampled.run();

// ---

const Beam = suite('beam search');

Beam('scores are the log-probabilities of the tokens (forward()), ranked by logProb / length^α, best first', async () => {
  const m = await makeLM('gru', 6);
  const prefix = [0, 3];
  for (const lengthPenalty of [0, 1, 0.6]) {
    const hs = m.beamSearch({ prefix, maxLength: 7, beamWidth: 4, lengthPenalty, stop: 2 });
    assert.is(hs.length, 4);
    for (const h of hs) {
      const lp = logProb(m, prefix, h.tokens);
      assert.ok(Math.abs(h.logProb - lp) <= 1e-9 * Math.abs(lp), `${h.tokens}: log p ${h.logProb} vs forward() ${lp}`);
      checkClose('score', [h.score], [lp / Math.pow(h.tokens.length, lengthPenalty)], 1e-12);
    }
    for (let i = 1; i < hs.length; i++) assert.ok(hs[i - 1].score >= hs[i].score, 'best first');
  }
  m.dispose();
});

Beam('wide enough, it is exhaustive: the most likely sequences of all V^3', async () => {
  const m = await makeLM('lstm', 7);
  const prefix = [5];
  const all: { tokens: number[]; lp: number }[] = [];
  for (let a = 0; a < V; a++) for (let b = 0; b < V; b++) for (let c = 0; c < V; c++) all.push({ tokens: [a, b, c], lp: logProb(m, prefix, [a, b, c]) });
  all.sort((x, y) => y.lp - x.lp);
  const width = V * V;                                 // keeps every two-token prefix: nothing is pruned
  const hs = m.beamSearch({ prefix, maxLength: 3, beamWidth: width, lengthPenalty: 0 });
  assert.equal(hs.map((h) => h.tokens), all.slice(0, width).map((s) => s.tokens));
  m.dispose();
});

Beam.run();

// ---

const Errors = suite('bad options: named errors before wasm, the model unchanged');

/** fn must throw `type` with a message starting "where: " and naming `name`. */
function refused(where: string, name: string, type: ErrorConstructor, fn: () => unknown): void {
  throwsWith(fn, type, new RegExp(`^${where}: .*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
}

Errors('every option of generate, stream, generateMany and beamSearch', async () => {
  const m = await makeManyToMany('lstm', 8), twin = await makeManyToMany('lstm', 8);
  m.step(1); twin.step(1);                                 // a step() stream in progress
  const weights = m.getWeights();
  const calls: [string, (o: any) => unknown][] = [
    ['generate', (o) => m.generate(o)], ['stream', (o) => m.stream(o)], ['generateMany', (o) => m.generateMany(2, o)],
  ];
  for (const [where, call] of calls) {
    const base = { prefix: [1], maxLength: 4 };
    refused(where, 'options', TypeError, () => call(null));
    refused(where, 'maxlength', TypeError, () => call({ prefix: [1], maxlength: 4 }));
    refused(where, 'maxLength', TypeError, () => call({ prefix: [1] }));
    refused(where, 'maxLength', RangeError, () => call({ ...base, maxLength: 0 }));
    refused(where, 'prefix', TypeError, () => call({ maxLength: 4 }));
    refused(where, 'prefix', RangeError, () => call({ ...base, prefix: [] }));
    refused(where, 'prefix[1]', RangeError, () => call({ ...base, prefix: [1, V] }));
    refused(where, 'prefix', TypeError, () => call({ ...base, prefix: 3 }));
    refused(where, 'stop', RangeError, () => call({ ...base, stop: -1 }));
    refused(where, 'stop', TypeError, () => call({ ...base, stop: 'x' }));
    refused(where, 'strategy', TypeError, () => call({ ...base, strategy: 'beam' }));
    refused(where, 'temperature', TypeError, () => call({ ...base, temperature: 0.5 }));
    refused(where, 'temperature', RangeError, () => call({ ...base, strategy: 'sample', temperature: 0 }));
    refused(where, 'topK', RangeError, () => call({ ...base, strategy: 'sample', topK: 0 }));
    refused(where, 'topP', RangeError, () => call({ ...base, strategy: 'sample', topP: 1.5 }));
    refused(where, 'seed', RangeError, () => call({ ...base, strategy: 'sample', seed: -1 }));
  }
  refused('generate', 'maxLength', RangeError, () => m.generate({ prefix: [1], maxLength: 1e7 }));
  refused('generate', 'onToken', TypeError, () => m.generate({ prefix: [1], maxLength: 4, onToken: 5 as any }));
  refused('stream', 'onToken', TypeError, () => m.stream({ prefix: [1], maxLength: 4, onToken: () => {} } as any));
  refused('generateMany', 'count', RangeError, () => m.generateMany(0, { prefix: [1], maxLength: 4 }));
  refused('generateMany', 'onToken', TypeError, () => m.generateMany(2, { prefix: [1], maxLength: 4, onToken: () => {} } as any));
  refused('beamSearch', 'options', TypeError, () => m.beamSearch(5 as any));
  refused('beamSearch', 'beamWidth', RangeError, () => m.beamSearch({ prefix: [1], maxLength: 4, beamWidth: 0 }));
  refused('beamSearch', 'maxLength', RangeError, () => m.beamSearch({ prefix: [1], maxLength: 0, beamWidth: 2 }));
  refused('beamSearch', 'prefix', TypeError, () => m.beamSearch({ maxLength: 4, beamWidth: 2 } as any));
  refused('beamSearch', 'lengthPenalty', RangeError, () => m.beamSearch({ prefix: [1], maxLength: 4, beamWidth: 2, lengthPenalty: -1 }));
  refused('beamSearch', 'strategy', TypeError, () => m.beamSearch({ prefix: [1], maxLength: 4, beamWidth: 2, strategy: 'sample' } as any));
  // unchanged: the weights, the step() stream, and the model generator (an unseeded draw = the twin's)
  assert.equal(m.getWeights(), weights);
  assert.equal(Array.from(m.step(2)), Array.from(twin.step(2)));
  const o = { prefix: [3], maxLength: 12, strategy: 'sample' as const };
  assert.equal(m.generate(o), twin.generate(o));
  m.dispose(); twin.dispose();
});

Errors('models that are not language models are refused, naming the method', async () => {
  const dense = await createRNN({ n_x: 4, n_a: 4, n_y: 4, seed: 1 });
  const wide = await createRNN({ n_x: 4, n_a: 4, n_y: 3, input: 'tokens', seed: 1 });
  const both = await createRNN({ n_x: 4, n_a: 4, n_y: 4, input: 'tokens', bidirectional: true, seed: 1 });
  const lin = await createModel({ architecture: 'many-to-many', n_x: 4, n_a: 4, n_y: 4, input: 'tokens', output: 'linear', seed: 1 });
  const o = { prefix: [1], maxLength: 3 };
  for (const m of [dense, wide, lin] as any[]) {
    throwsWith(() => m.generate(o), TypeError, /^generate: needs input 'tokens' and output 'softmax' with n_x = n_y/);
    throwsWith(() => m.stream(o), TypeError, /^stream: needs input 'tokens'/);
    throwsWith(() => m.generateMany(2, o), TypeError, /^generateMany: needs input 'tokens'/);
    throwsWith(() => m.beamSearch({ ...o, beamWidth: 2 }), TypeError, /^beamSearch: needs input 'tokens'/);
  }
  throwsWith(() => both.generate(o), TypeError, /^generate: a bidirectional model reads each sequence backwards too/);
  throwsWith(() => both.beamSearch({ ...o, beamWidth: 2 }), TypeError, /^beamSearch: a bidirectional model/);
  for (const m of [dense, wide, both, lin]) m.dispose();
});

Errors('after dispose each method names itself; a stream in progress ends with a TypeError', async () => {
  const m = await makeLM('rnn');
  const s = m.stream({ prefix: [1], maxLength: 10 });
  s.next();
  m.dispose();
  for (const [where, call] of [
    ['generate', () => m.generate({ prefix: [1], maxLength: 3 })], ['stream', () => m.stream({ prefix: [1], maxLength: 3 })],
    ['generateMany', () => m.generateMany(2, { prefix: [1], maxLength: 3 })], ['beamSearch', () => m.beamSearch({ prefix: [1], maxLength: 3, beamWidth: 2 })],
  ] as const) throwsWith(call, TypeError, new RegExp(`^${where}: this model was disposed`));
  throwsWith(() => s.next(), TypeError, /disposed/);
});

Errors.run();

// ---

const Weights = suite('the weights of now: training, setParam, and W_hh\'s copy only inside one call');

Weights('after training steps and setParam, every method decodes with the new weights', async () => {
  const m = await makeLM('lstm', 9);
  const prefix = [4, 0], o = { prefix, maxLength: 20 };
  const check = (label: string) => {
    const ref = reference(m, prefix, 1, 20, null, greedy)[0];
    assert.equal(m.generate(o), ref, `${label}: generate`);
    assert.equal([...m.stream(o)], ref, `${label}: stream`);
    assert.equal(m.generateMany(2, o), [ref, ref], `${label}: generateMany`);
    assert.equal(m.beamSearch({ ...o, beamWidth: 1 })[0].tokens, ref, `${label}: beamSearch`);
    const sampled = { ...o, strategy: 'sample' as const, topK: 5, seed: 3 };
    const drawn = m.generate(sampled);
    assert.equal(drawn, reference(m, prefix, 1, 20, null, sampling(3, { topK: 5 }))[0], `${label}: sampled`);
    // beam scores are continuous: any stale weight would move them off forward()'s
    const beams = m.beamSearch({ ...o, beamWidth: 3 });
    for (const h of beams) {
      const lp = logProb(m, prefix, h.tokens);
      assert.ok(Math.abs(h.logProb - lp) <= 1e-9 * Math.abs(lp), `${label}: beam ${h.tokens} log p ${h.logProb} vs forward() ${lp}`);
    }
    return [ref, drawn, beams.map((h) => h.logProb)].join(' | ');
  };
  const before = check('before');
  const rng = new Random(4);
  const batch = { x: [Array.from({ length: 12 }, () => rng.int(V))], y: [Array.from({ length: 12 }, () => rng.int(V))] };
  for (let i = 0; i < 5; i++) m.trainStep(batch, { optimizer: 'sgd', learningRate: 0.5 });
  let last = check('after training');
  assert.is.not(last.split(' | ')[0], before.split(' | ')[0], 'training changed the greedy sequence (so a stale copy would show)');
  // W_hh of both layers, W_ih (read transposed by long runs) and the head's W_y
  for (const name of ['weight_hh_l0', 'weight_hh_l1', 'weight_ih_l0', 'head.weight']) {
    const cur = m.getParam(name);
    m.setParam(name, Float32Array.from(uniforms(rng, cur.length, 2)));
    const now = check(`after setParam(${name})`);
    assert.is.not(now, last, `setParam(${name}) changed what is generated`);
    last = now;
  }
  m.dispose();
});

Weights('W_hh is copied once for generate, generateMany and beamSearch; never for stream() or onToken', async () => {
  const m = await makeLM('gru');
  const o = { prefix: [1, 2], maxLength: 30 };
  m.generate(o);                                       // the stepper's workspace exists from here on
  assert.equal(countCalls(m, () => m.generate(o)), { plan_pack: 1, plan_feed: 2, plan_choose: 1, plan_token: 29 });
  assert.equal(countCalls(m, () => m.generate({ ...o, onToken: () => {} })), { plan_feed: 2, plan_choose: 1, plan_token: 29 });
  assert.equal(countCalls(m, () => [...m.stream(o)]), { plan_feed: 2, plan_choose: 1, plan_token: 29 });
  assert.is(countCalls(m, () => m.generateMany(3, o)).plan_pack, 1);
  assert.is(countCalls(m, () => m.beamSearch({ ...o, beamWidth: 3 })).plan_pack, 1);
  // a stream taken lazily steps the weights as they are at each token: after t0, t1 it has fed
  // prefix + t0 (old weights); t1 and what follows are fed with the new ones
  const s = m.stream(o);
  const [t0, t1] = [s.next().value as number, s.next().value as number];
  const a0 = m.forward({ x: [[...o.prefix, t0]] }).aT;
  m.setParam('weight_hh_l0', Float32Array.from(uniforms(new Random(1), m.getParam('weight_hh_l0').length, 2)));
  const rest = [...s] as number[];
  const fed = [t1];
  for (let i = 0; i < 28; i++) {
    const y = m.forward({ x: [fed], a0 }).yhat.subarray((fed.length - 1) * V, fed.length * V);
    fed.push(y.indexOf(Math.max(...y)));
  }
  assert.equal(rest, fed.slice(1), 'the tokens after setParam come from the new weights');
  m.dispose();
});

Weights('streams in progress never share a state', async () => {
  const m = await makeLM('lstm', 10);
  const opts = (seed: number) => ({ prefix: [seed % V], maxLength: 15, strategy: 'sample' as const, seed });
  const alone = [[...m.stream(opts(1))], [...m.stream(opts(2))]];
  const a = m.stream(opts(1)), b = m.stream(opts(2));
  const got: number[][] = [[], []];
  for (let i = 0; i < 15; i++) {
    got[0].push(a.next().value as number);
    got[1].push(b.next().value as number);
    m.generate({ prefix: [3], maxLength: 9 });
    m.beamSearch({ prefix: [3], maxLength: 9, beamWidth: 2 });
  }
  assert.equal(got, alone);
  m.dispose();
});

Weights.run();

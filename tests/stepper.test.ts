// The batch-1 fast path (src/stepper.ts, assembly/step.ts, assembly/sample.ts): stepping equals
// forward() bit for bit, for every cell, input and output; generation equals a reference built
// from forward() and decode.ts's pickToken; the wasm sampler draws what pickToken draws; one
// wasm call per generated token; streams in progress never share a state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createModel, createRNN, getEngine, Arena, pickToken, Random,
} from '../dist/index.js';
import { checkClose, checkSame, countCalls, uniforms } from './_utils.js';

const cells = [
  { cell: 'rnn' }, { cell: 'rnn', activation: 'relu' }, { cell: 'lstm' }, { cell: 'gru' }, { cell: 'gru', resetAfter: false },
] as const;
const label = (c: typeof cells[number]) => `${c.cell}${'activation' in c ? ' relu' : ''}${'resetAfter' in c ? ' reset-before' : ''}`;

// ---

const Equal = suite('fast path: step() equals forward(), bit for bit');

for (const c of cells) {
  for (const layers of [1, 2]) {
    for (const [input, output] of [['tokens', 'softmax'], ['dense', 'sigmoid'], ['dense', 'linear']] as const) {
      Equal(`many-to-many ${label(c)} L=${layers} ${input}/${output}`, async () => {
        const n_x = 5, n_a = 6, n_y = 4, T = 12;
        const m = await createModel({ architecture: 'many-to-many', ...c, layers, n_x, n_a, n_y, input, output, seed: 3 });
        const rng = new Random(8);
        const x = Array.from({ length: T }, () => (input === 'tokens' ? rng.int(n_x) : uniforms(rng, n_x, 1.5)));
        const full = m.forward({ x: [x] } as any).yhat;
        x.forEach((xt, t) => checkSame(`step ${t}`, m.step(xt as any), full.subarray(t * n_y, (t + 1) * n_y)));
        // a fresh stream from a given state
        const S = layers, a0 = uniforms(rng, S * n_a), c0 = c.cell === 'lstm' ? uniforms(rng, S * n_a) : undefined;
        m.resetState({ a0, c0 });
        const from = m.forward({ x: [x.slice(0, 3)], a0, c0 } as any).yhat;
        x.slice(0, 3).forEach((xt, t) => checkSame(`from a state, step ${t}`, m.step(xt as any), from.subarray(t * n_y, (t + 1) * n_y)));
        m.dispose();
      });
    }
  }
}

for (const cell of ['lstm', 'gru'] as const) {
  Equal(`${cell} with an embedding tied to the head: step() equals forward(), sample() equals the forward() reference`, async () => {
    const V = 9;
    const m = await createRNN({ cell, layers: 2, n_x: V, n_a: 6, n_y: V, input: 'tokens', embedding: 6, tieWeights: true, seed: 4 });
    const rng = new Random(5);
    const x = Array.from({ length: 10 }, () => rng.int(V));
    const full = m.forward({ x: [x] }).yhat;
    const stream = await createModel({ architecture: 'many-to-many', ...m.toJSON(), seed: 4 } as any);
    stream.setWeights(m.getWeights());
    x.forEach((xt, t) => checkSame(`step ${t}`, (stream as any).step(xt), full.subarray(t * V, (t + 1) * V)));
    assert.equal(m.sample({ length: 15, prime: [2, 7], temperature: 0 }), referenceSample(m, [2, 7], 15, { greedy: true }));
    const gen = await createModel({ architecture: 'one-to-many', cell, n_y: V, n_a: 6, embedding: 6, startToken: 0, seed: 2 });
    const out = gen.generate({ maxLength: 10, stop: null });
    const f = gen.forward({ x: [0], y: [out] });
    out.forEach((tok, t) => { const row = f.yhat.subarray(t * V, (t + 1) * V); assert.is(tok, row.indexOf(Math.max(...row)), `one-to-many token ${t}`); });
    m.dispose(); stream.dispose(); gen.dispose();
  });
}

Equal('many-to-one: step() equals forward() over the steps so far', async () => {
  const m = await createModel({ architecture: 'many-to-one', cell: 'lstm', layers: 2, n_x: 3, n_a: 5, n_y: 4, seed: 2 });
  const rng = new Random(1);
  const x = Array.from({ length: 7 }, () => uniforms(rng, 3));
  x.forEach((_, t) => checkSame(`step ${t}`, m.step(x[t]), m.forward({ x: [x.slice(0, t + 1)] }).yhat));
  m.dispose();
});

Equal('a long sequence (past the dot-product rows of the head): step() within 1e-6 of forward()', async () => {
  const m = await createModel({ architecture: 'many-to-many', cell: 'gru', n_x: 4, n_a: 8, n_y: 4, input: 'tokens', seed: 5 });
  const rng = new Random(2);
  const x = Array.from({ length: 150 }, () => rng.int(4));
  const full = m.forward({ x: [x] }).yhat;
  x.forEach((xt, t) => checkClose(`step ${t}`, m.step(xt), full.subarray(t * 4, (t + 1) * 4), 1e-6, 1e-6));
  m.dispose();
});

Equal.run();

// ---

const Generate = suite('fast path: generation equals forward() and pickToken');

/** What sample() must produce: forward() over the tokens so far, pickToken on the last step. */
function referenceSample(m: any, prime: number[], length: number, sampler: any): number[] {
  const seq = [...prime], out: number[] = [];
  const V = m.config.n_y;
  for (let i = 0; i < length; i++) {
    const y = m.forward({ x: [seq] }).yhat;
    const next = pickToken(y.subarray((seq.length - 1) * V, seq.length * V), sampler);
    out.push(next);
    seq.push(next);
  }
  return out;
}

for (const c of cells) {
  Generate(`RNN.sample ${label(c)}: greedy and sampled (τ 1, τ 0.7 with top-k) equal the forward() reference`, async () => {
    const V = 11;
    const m = await createRNN({ ...c, layers: 2, n_x: V, n_a: 9, n_y: V, input: 'tokens', seed: 4 });
    const prime = [3, 1, 4];
    assert.equal(m.sample({ length: 20, prime, temperature: 0 }), referenceSample(m, prime, 20, { greedy: true }));
    for (const [temperature, topK] of [[1, V], [0.7, 5]]) {
      const got = m.sample({ length: 20, prime, temperature, topK, seed: 9 });
      const ref = referenceSample(m, prime, 20, { greedy: false, temperature, topK, topP: 1, rng: new Random(9) });
      assert.equal(got, ref, `τ ${temperature}, top-k ${topK}`);
    }
    m.dispose();
  });
}

Generate('one-to-many: generate, stream, generateMany and step agree with teacher-forced forward()', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'lstm', layers: 2, n_y: 7, n_a: 8, startToken: 0, seed: 6 });
  const greedy = m.generate({ maxLength: 12 });
  const f = m.forward({ x: [0], y: [greedy] });
  greedy.forEach((tok, t) => {
    const row = f.yhat.subarray(t * 7, (t + 1) * 7);
    assert.is(tok, row.indexOf(Math.max(...row)), `greedy token ${t} is forward()'s argmax`);
  });
  assert.equal([...m.stream({ maxLength: 12 })], greedy, 'stream = generate');
  assert.equal(m.generateMany(3, { maxLength: 12 }), [greedy, greedy, greedy], 'lockstep rows = generate');
  [0, ...greedy.slice(0, -1)].forEach((tok, t) => checkSame(`step ${t}`, m.step(tok), f.yhat.subarray(t * 7, (t + 1) * 7)));
  const sampled = m.generate({ maxLength: 12, strategy: 'sample', topP: 0.9, seed: 2 });
  const rng = new Random(2), s = { greedy: false, temperature: 1, topK: 7, topP: 0.9, rng };
  const g = m.forward({ x: [0], y: [sampled] });
  sampled.forEach((tok, t) => assert.is(tok, pickToken(g.yhat.subarray(t * 7, (t + 1) * 7), s), `sampled token ${t}`));
  m.dispose();
});

Generate('encoder-decoder, with and without attention: greedy decoding and beam scores from forward()', async () => {
  for (const attention of ['none', 'general'] as const) {
    const m = await createModel({ architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: 6, n_y: 6, n_a: 8, attention, stopToken: 5, seed: 7 });
    const src = [1, 2, 3, 4];
    const out = m.generate(src, { maxLength: 8, stop: null });
    const f = m.forward({ x: [src], y: [out] });
    out.forEach((tok, t) => {
      const row = f.yhat.subarray(t * 6, (t + 1) * 6);
      assert.is(tok, row.indexOf(Math.max(...row)), `${attention}: token ${t}`);
    });
    for (const h of m.beamSearch(src, { beamWidth: 3, maxLength: 5, stop: null })) {
      const g = m.forward({ x: [src], y: [h.tokens] });
      const logProb = h.tokens.reduce((s, tok, t) => s + Math.log(g.yhat[t * 6 + tok]), 0);
      assert.ok(Math.abs(logProb - h.logProb) < 1e-9 * Math.max(1, Math.abs(logProb)), `${attention}: beam ${h.tokens} log p ${h.logProb} vs ${logProb}`);
    }
    m.dispose();
  }
});

Generate('the scalar build generates the same tokens', async () => {
  const a = await createRNN({ cell: 'lstm', n_x: 9, n_a: 10, n_y: 9, input: 'tokens', seed: 1, backend: 'simd' });
  const b = await createRNN({ cell: 'lstm', n_x: 9, n_a: 10, n_y: 9, input: 'tokens', seed: 1, backend: 'scalar' });
  assert.equal(b.sample({ length: 30, temperature: 0 }), a.sample({ length: 30, temperature: 0 }));
  a.dispose(); b.dispose();
});

Generate.run();

// ---

const Sampler = suite('fast path: the wasm sampler draws what pickToken draws');

Sampler('random distributions, temperatures, top-k, top-p and uniforms: the same token every time', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(12);
  const V = 37;
  const P = arena.alloc(V, 'P'), W = arena.alloc(2 * V, 'W'), O = arena.alloc(2 * V + 256, 'O');
  let draws = 0;
  for (let trial = 0; trial < 400; trial++) {
    // peaked, flat, with ties and with zeros
    const raw = Array.from({ length: V }, (_, i) => (trial % 4 === 0 && i % 3 === 0 ? 0 : trial % 4 === 1 ? 1 : Math.exp(4 * rng.uniform())));
    const sum = raw.reduce((s, v) => s + v, 0);
    const p = Float32Array.from(raw, (v) => v / sum);
    arena.f32(P).set(p);
    const temperature = [1, 1, 0.6, 1.8][trial % 4];
    const topK = trial % 3 === 0 ? 1 + rng.int(V) : V;
    const topP = trial % 5 === 0 ? 0.5 + 0.5 * rng.uniform() : 1;
    for (let d = 0; d < 5; d++) {
      const u = rng.uniform();
      const s = { greedy: false, temperature, topK, topP, rng: { uniform: () => u } as unknown as Random };
      const want = pickToken(p, s);
      const got = kernels.sample_token(P.ptr, V, 0, temperature, topK, topP, u, W.ptr, O.ptr);
      assert.is(got, want, `trial ${trial}: τ ${temperature}, top-k ${topK}, top-p ${topP}, u ${u}`);
      draws++;
    }
    assert.is(kernels.sample_token(P.ptr, V, 1, 1, V, 1, 0, W.ptr, O.ptr), pickToken(p, { greedy: true } as any), 'greedy');
  }
  // u on the cumulative boundaries of an exact distribution (τ = 1): the same side every time
  const p = Float32Array.from([0.25, 0.25, 0.125, 0.375]);
  arena.f32(P).set(p);
  for (const u of [0, 0.25, 0.5, 0.625, 0.999999]) {
    const s = { greedy: false, temperature: 1, topK: 4, topP: 1, rng: { uniform: () => u } as unknown as Random };
    assert.is(kernels.sample_token(P.ptr, 4, 0, 1, 4, 1, u, W.ptr, O.ptr), pickToken(p, s), `u = ${u}`);
  }
  assert.ok(draws === 2000);
  arena.dispose();
});

Sampler('top-p alone over large vocabularies (every token ordered): the same token as pickToken, ties at the cut included', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(13);
  const most = 5000;
  const P = arena.alloc(most, 'P'), W = arena.alloc(2 * most, 'W'), O = arena.alloc(2 * most + 256, 'O');
  for (let trial = 0; trial < 60; trial++) {
    const V = 2 + rng.int(most - 1);
    // ties (few values, so the cut falls inside a run of equal weights), zeros, flat, and a long tail
    const kind = trial % 4;
    const raw = Array.from({ length: V }, () => (rng.int(7) === 0 ? 0 : kind === 0 ? 1 + rng.int(3) : kind === 1 ? 1 : Math.pow(rng.uniform(), kind === 2 ? 6 : 1)));
    if (!raw.some((v) => v > 0)) raw[0] = 1;
    const sum = raw.reduce((a, b) => a + b, 0);
    const p = Float32Array.from(raw, (v) => v / sum);
    arena.f32(P, 0, V).set(p);
    const temperature = [1, 0.7, 1.4][trial % 3], topP = [0.5, 0.9, 0.3 + 0.69 * rng.uniform()][trial % 3];
    for (let d = 0; d < 20; d++) {
      const u = rng.uniform();
      const want = pickToken(p, { greedy: false, temperature, topK: V, topP, rng: { uniform: () => u } as unknown as Random });
      assert.is(kernels.sample_token(P.ptr, V, 0, temperature, V, topP, u, W.ptr, O.ptr), want, `trial ${trial}: V ${V}, τ ${temperature}, top-p ${topP}, u ${u}`);
    }
  }
  arena.dispose();
});

Sampler('top-p alone from 2048 tokens on orders only the tokens it may keep: the same token as pickToken, peaked, Zipf and tied weights, top-p near 1', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(14);
  const most = 30000;
  const P = arena.alloc(most, 'P'), W = arena.alloc(2 * most, 'W'), O = arena.alloc(2 * most + 256, 'O');
  const shapes: [string, (i: number) => number][] = [
    ['softmax of wide logits', () => Math.exp(12 * rng.uniform() * rng.uniform())],
    ['Zipf', (i) => 1 / Math.pow(1 + ((i * 7919) % 30011), 1.1)],
    ['ties across exponents', () => (rng.int(9) === 0 ? 0 : Math.pow(2, -rng.int(12)) * (1 + rng.int(2) / 2))],
    ['a few tokens hold the mass', (i) => (i % 997 === 3 ? 1 : 1e-7 * rng.uniform())],
  ];
  for (let trial = 0; trial < 48; trial++) {
    const V = [2048, 2049, 5000, most][trial % 4];
    const [shape, f] = shapes[Math.floor(trial / 4) % shapes.length];
    const raw = Array.from({ length: V }, (_, i) => f(i));
    const sum = raw.reduce((a, b) => a + b, 0);
    const p = Float32Array.from(raw, (v) => v / sum);
    arena.f32(P, 0, V).set(p);
    const temperature = [1, 0.7, 1.3][trial % 3], topP = [0.1, 0.5, 0.9, 0.99, 0.999999, 1 - 1e-12][trial % 6];
    for (let d = 0; d < 12; d++) {
      const u = d === 0 ? 1 - 1e-12 : rng.uniform();
      const want = pickToken(p, { greedy: false, temperature, topK: V, topP, rng: { uniform: () => u } as unknown as Random });
      assert.is(kernels.sample_token(P.ptr, V, 0, temperature, V, topP, u, W.ptr, O.ptr), want, `trial ${trial} (${shape}): V ${V}, τ ${temperature}, top-p ${topP}, u ${u}`);
    }
  }
  arena.dispose();
});

Sampler.run();

// ---

const Calls = suite('fast path: one wasm call per generated token; streams never share a state');

Calls('sample(): one kernel call per token after the prime, none allocating (and one copy of W_hh per run)', async () => {
  const m = await createRNN({ cell: 'lstm', layers: 2, n_x: 8, n_a: 16, n_y: 8, input: 'tokens', seed: 3 });
  m.sample({ length: 8 });                      // the stepper's workspace and W_hh's copy exist from here on
  const counts = countCalls(m, () => m.sample({ length: 200, prime: [1, 2, 3], temperature: 0.8, seed: 1 }));
  assert.equal(counts, { plan_pack: 1, plan_feed: 3, plan_choose: 1, plan_token: 199 });   // plan_pack: W_hh copied once for the run
  m.dispose();
});

Calls('one-to-many generate(): one kernel call per token', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'gru', n_y: 6, n_a: 8, startToken: 0, seed: 3 });
  m.generate({ maxLength: 8 });                 // the stepper's workspace and W_hh's copy exist from here on
  const counts = countCalls(m, () => m.generate({ maxLength: 50, stop: null }));
  assert.equal(counts, { plan_pack: 1, plan_feed: 1, plan_choose: 1, plan_token: 49 });
  // with onToken, your code runs between tokens: no copy, W_hh itself
  const lazy = countCalls(m, () => m.generate({ maxLength: 50, stop: null, onToken: () => {} }));
  assert.equal(lazy, { plan_feed: 1, plan_choose: 1, plan_token: 49 });
  m.dispose();
});

Calls('two lazy streams of one model, consumed in turns, each equal to itself alone', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_y: 9, n_a: 12, startToken: 0, seed: 4 });
  const opts = (seed: number) => ({ maxLength: 15, strategy: 'sample' as const, seed });
  const alone = [[...m.stream(opts(1))], [...m.stream(opts(2))]];
  const a = m.stream(opts(1)), b = m.stream(opts(2));
  const got: number[][] = [[], []];
  for (let i = 0; i < 15; i++) {
    got[0].push(a.next().value as number);
    got[1].push(b.next().value as number);
    m.generate({ maxLength: 3 });               // and an eager generation in between
  }
  assert.equal(got, alone);
  m.dispose();
});

Calls('a stream left suspended when its model is disposed reports the dispose', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'rnn', n_y: 5, n_a: 4, startToken: 0, seed: 1 });
  const s = m.stream({ maxLength: 10, stop: null });
  s.next();
  m.dispose();
  assert.throws(() => s.next(), /disposed/);
});

Calls('sample() refuses a bidirectional model', async () => {
  const m = await createRNN({ n_x: 4, n_a: 4, n_y: 4, input: 'tokens', bidirectional: true, seed: 1 });
  assert.throws(() => m.sample({ length: 3 }), /sample: a bidirectional model reads each sequence backwards too/);
  m.dispose();
});

Calls.run();



// Attention's weights α of the encoder-decoder (returnAttention): forward's α against PyTorch
// goldens and the f64 reference (dot and general, stacked and bidirectional encoders, ragged
// sources and targets, SIMD and scalar builds), its layout (rows sum to 1 over the source's
// own steps, 0 on padding); the α of generate, generateBatch, stream and beamSearch against
// forward's on the same tokens, bit for bit; bad options; no other output bit changed; and a
// trained reverser whose α lies on the anti-diagonal.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, createRNN, Random, type EncoderDecoder, type EncoderDecoderConfig } from '../dist/index.js';
import { attentionEncDec, type AttentionRef } from './_reference_attention.js';
import { allclose, checkClose, checkSame, randomStep, randomTarget, refParams, throwsWith } from './_utils.js';

type Model = EncoderDecoder<'tokens', 'softmax'>;

/** Row (b, t) of a batch-major (B, T, S) α. */
const rowOf = (alpha: Float32Array, T: number, S: number, b: number, t: number) => alpha.subarray((b * T + t) * S, (b * T + t + 1) * S);

/** The layout forward's α promises: real rows sum to 1 over the source's own steps and are +0
 *  past them; rows past a target's end are all +0. */
function checkLayout(label: string, alpha: Float32Array, T: number, srcLens: number[], tgtLens: number[]): void {
  const B = srcLens.length, S = Math.max(...srcLens);
  assert.is(alpha.length, B * T * S, `${label}: (B, T, T_x) = (${B}, ${T}, ${S})`);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = rowOf(alpha, T, S, b, t);
      const real = t < tgtLens[b] ? srcLens[b] : 0;
      if (real > 0) {
        const sum = row.subarray(0, real).reduce((a, v) => a + v, 0);
        assert.ok(Math.abs(sum - 1) < 1e-6, `${label}: row (${b}, ${t}) sums to ${sum}`);
        assert.ok(row.subarray(0, real).every((v) => v >= 0), `${label}: row (${b}, ${t}) is a distribution`);
      }
      for (let s = real; s < S; s++) assert.ok(Object.is(row[s], 0), `${label}: (${b}, ${t}, ${s}) past the end is ${row[s]}, not 0`);
    }
  }
}

// ---

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_attention.json'), 'utf8'));
const Golden = suite('forward α: PyTorch goldens (tests/fixtures/make_torch_attention.py), ragged sources and targets');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of fixture.cases) {
    Golden(`${backend}: ${fx.name}`, async () => {
      const model = await createModel({ ...fx.config, backend, seed: 1 }) as EncoderDecoder;
      for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
      const f = model.forward(fx.batch, { returnAttention: true });
      allclose('yhat', f.yhat, fx.yhat);
      allclose('attention', f.attention, fx.attention);
      checkLayout(fx.name, f.attention, f.T, f.sourceLengths, f.lengths);
      model.dispose();
    });
  }
}

Golden('the check can fail: W_a moved by 0.05 moves α beyond the tolerance', async () => {
  const fx = fixture.cases.find((c: { config: { attention: string } }) => c.config.attention === 'general');
  const model = await createModel({ ...fx.config, seed: 1 }) as EncoderDecoder;
  for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
  model.setParam('attention.weight', (fx.params['attention.weight'] as number[]).map((v) => v + 0.05));
  const moved = model.forward(fx.batch, { returnAttention: true }).attention;
  const diff = Math.max(...moved.map((v, i) => Math.abs(v - fx.attention[i])));
  assert.ok(diff > 1e-3, `the largest difference ${diff} should exceed allclose's 1e-5 + 1e-4 · |α|`);
  model.dispose();
});

Golden.run();

// ---

const Reference = suite('forward α: the f64 reference, every kind of encoder and decoder, both builds');

type Cell = 'rnn' | 'lstm' | 'gru';
interface Case {
  name: string;
  attention: 'dot' | 'general';
  enc: { cell: Cell; layers: number; bidirectional: boolean; n_a: number };
  dec: { cell: Cell; layers: number; n_a: number };
  input: 'tokens' | 'dense';
  output: 'softmax' | 'sigmoid' | 'linear';
  /** Scale every initial weight by this, so that α is far from uniform. */
  gain: number;
}

const cases: Case[] = [
  { name: "'dot', gru → gru (n_a 6), identity bridge, tokens → softmax", attention: 'dot', enc: { cell: 'gru', layers: 1, bidirectional: false, n_a: 6 }, dec: { cell: 'gru', layers: 1, n_a: 6 }, input: 'tokens', output: 'softmax', gain: 3 },
  { name: "'general', gru L=2 → gru L=2, dense → softmax", attention: 'general', enc: { cell: 'gru', layers: 2, bidirectional: false, n_a: 3 }, dec: { cell: 'gru', layers: 2, n_a: 3 }, input: 'dense', output: 'softmax', gain: 3 },
  { name: "'general', bidirectional rnn L=2 → gru (n_a 3 vs width 4), linear bridge, → linear", attention: 'general', enc: { cell: 'rnn', layers: 2, bidirectional: true, n_a: 2 }, dec: { cell: 'gru', layers: 1, n_a: 3 }, input: 'tokens', output: 'linear', gain: 3 },
  { name: "'dot', bidirectional gru → lstm L=2 (width 4 = n_a 4), tokens → sigmoid", attention: 'dot', enc: { cell: 'gru', layers: 1, bidirectional: true, n_a: 2 }, dec: { cell: 'lstm', layers: 2, n_a: 4 }, input: 'tokens', output: 'sigmoid', gain: 3 },
];
const n_x = 4, n_y = 3;

for (const backend of ['simd', 'scalar'] as const) {
  Reference(`${backend}: α of every case equals the reference's, sources of lengths 3, 1, 5, targets 2, 4, 1`, async () => {
    for (const [i, c] of cases.entries()) {
      const model = await createModel({
        architecture: 'encoder-decoder', n_x, n_y, n_a: c.dec.n_a, input: c.input, output: c.output, attention: c.attention,
        encoder: c.enc, decoder: c.dec, startToken: c.output === 'softmax' ? 1 : undefined, seed: 200 + i, backend,
      } as EncoderDecoderConfig);
      model.setWeights(model.getWeights().map((v) => Math.fround(c.gain * v)));
      const rng = new Random(210 + i);
      const x = [3, 1, 5].map((T) => Array.from({ length: T }, () => randomStep(rng, c.input, n_x))) as any[];
      const y = [2, 4, 1].map((T) => Array.from({ length: T }, () => randomTarget(rng, c.output, n_y))) as any[];
      const f = model.forward({ x, y }, { returnAttention: true });
      const ref: AttentionRef = {
        attention: c.attention, bridge: model.config.bridge, start: 1, reduction: 'sum',
        encoder: { ...c.enc, n_x, input: c.input }, decoder: { ...c.dec, n_y, output: c.output },
      };
      const { alphas } = attentionEncDec(ref, refParams(model), x, y);
      const S = 5;
      let spread = 0;
      alphas.forEach((rows, b) => rows.forEach((a, t) => {
        const expected = [...a, ...new Array(S - a.length).fill(0)];
        checkClose(`${c.name}: α (${b}, ${t})`, rowOf(f.attention, f.T, S, b, t), expected, 1e-4, 1e-6);
        spread = Math.max(spread, Math.max(...a) - Math.min(...a));
      }));
      assert.ok(spread > 0.05, `${c.name}: α should be far from uniform somewhere, spread ${spread}`);
      checkLayout(c.name, f.attention, f.T, [3, 1, 5], [2, 4, 1]);
      model.dispose();
    }
  });
}

Reference.run();

// ---

const Decode = suite('decoding α: the α each token was chosen with, the same bits as forward on those tokens');

const V = 6, START = 6, STOP = 7;

async function tokenModel(attention: 'dot' | 'general', cell: Cell, seed: number, backend: 'simd' | 'scalar' = 'simd') {
  const model = await createModel({
    architecture: 'encoder-decoder', input: 'tokens', n_x: V, n_y: V + 2, n_a: 8, cell, layers: 2, attention,
    encoder: { bidirectional: attention === 'general' }, startToken: START, stopToken: STOP, seed, backend,
  });
  model.setWeights(model.getWeights().map((v) => Math.fround(3 * v)));
  return model;
}

/** forward's α for source x teacher-forced on y, rows from `from` on: (rows, x.length). */
function forwardAlpha(model: Model, x: number[], y: number[], from = 0): Float32Array {
  const f = model.forward({ x: [x], y: [y] }, { returnAttention: true });
  return f.attention.slice(from * x.length);
}

const sources = (seed: number) => {
  const rng = new Random(seed);
  return [5, 2, 7].map((T) => Array.from({ length: T }, () => rng.int(V)));
};

for (const backend of ['simd', 'scalar'] as const) {
  Decode(`${backend}: generate (with and without onToken and prefix), stream and generateBatch (ragged) = forward`, async () => {
    for (const [i, kind] of (['dot', 'general'] as const).entries()) {
      const model = await tokenModel(kind, kind === 'dot' ? 'lstm' : 'gru', 300 + i, backend);
      const xs = sources(310 + i);
      const batch = model.generateBatch(xs, { maxLength: 6, stop: null, returnAttention: true });
      for (const [b, x] of xs.entries()) {
        const g = model.generate(x, { maxLength: 6, stop: null, returnAttention: true });
        assert.is(g.attention.length, g.sequence.length * x.length, `${kind}: (tokens, T_x)`);
        checkSame(`${kind}: generate α of source ${b} = forward's`, g.attention, forwardAlpha(model, x, g.sequence));
        checkSame(`${kind}: generateBatch α of source ${b} = generate's`, batch[b].attention, g.attention);
        assert.equal(batch[b].sequence, g.sequence);
        const seen: number[] = [];
        const lazy = model.generate(x, { maxLength: 6, stop: null, returnAttention: true, onToken: (t) => { seen.push(t); return seen.length < 4; } });
        assert.equal(lazy.sequence, g.sequence.slice(0, 4), `${kind}: onToken stops after 4`);
        checkSame(`${kind}: generate with onToken`, lazy.attention, g.attention.subarray(0, 4 * x.length));
        const streamed = [...model.stream(x, { maxLength: 6, stop: null, returnAttention: true })];
        assert.equal(streamed.map((s) => s.token), g.sequence);
        streamed.forEach((s, t) => checkSame(`${kind}: stream α ${t}`, s.attention, g.attention.subarray(t * x.length, (t + 1) * x.length)));
        const prefix = [2, 3];
        const p = model.generate(x, { maxLength: 4, stop: null, prefix, returnAttention: true });
        checkSame(`${kind}: generate after a prefix = forward's rows after it`, p.attention, forwardAlpha(model, x, [...prefix, ...p.sequence], prefix.length));
      }
      model.dispose();
    }
  });
}

Decode('a stop token ends rows early: generateBatch gives each its own number of α rows; sampling too', async () => {
  const model = await tokenModel('general', 'lstm', 320);
  const xs = sources(321);
  const out = model.generateBatch(xs, { maxLength: 8, strategy: 'sample', seed: 4, returnAttention: true });
  const lengths = new Set(out.map((o) => o.sequence.length));
  assert.ok(lengths.size > 1, `rows should stop at different steps: ${[...lengths]}`);
  out.forEach((o, b) => checkSame(`sampled row ${b}`, o.attention, forwardAlpha(model, xs[b], o.sequence)));
  model.dispose();
});

Decode('beamSearch: width 1 gives greedy α; every hypothesis of a wider beam (after a prefix) has forward\'s α on its tokens', async () => {
  for (const [i, kind] of (['dot', 'general'] as const).entries()) {
    const model = await tokenModel(kind, 'gru', 330 + i);
    for (const x of sources(340 + i)) {
      const greedy = model.generate(x, { maxLength: 6, stop: null, returnAttention: true });
      const [one] = model.beamSearch(x, { beamWidth: 1, maxLength: 6, stop: null, returnAttention: true });
      assert.equal(one.tokens, greedy.sequence);
      checkSame(`${kind}: width 1 = greedy`, one.attention, greedy.attention);
      const prefix = [1];
      const hyps = model.beamSearch(x, { beamWidth: 4, maxLength: 5, prefix, returnAttention: true });
      assert.ok(new Set(hyps.map((h) => h.tokens.join())).size === hyps.length && hyps.length > 1, 'distinct hypotheses');
      for (const h of hyps) {
        checkSame(`${kind}: hypothesis ${h.tokens}`, h.attention, forwardAlpha(model, x, [...prefix, ...h.tokens], prefix.length));
      }
    }
    model.dispose();
  }
});

Decode('vector outputs: generate and generateBatch α = forward\'s with the generated vectors as targets', async () => {
  const model = await createModel({
    architecture: 'encoder-decoder', input: 'dense', output: 'linear', n_x: 3, n_y: 2, n_a: 4, attention: 'general',
    encoder: { bidirectional: true }, seed: 350,
  });
  model.setWeights(model.getWeights().map((v) => Math.fround(3 * v)));
  const rng = new Random(351);
  const xs = [4, 2].map((T) => Array.from({ length: T }, () => [rng.uniform(), rng.uniform(), rng.uniform()]));
  const batch = model.generateBatch(xs, { maxLength: 3, returnAttention: true });
  xs.forEach((x, b) => {
    const g = model.generate(x, { maxLength: 3, returnAttention: true });
    const y = g.sequence.map((v) => Array.from(v));
    const f = model.forward({ x: [x], y: [y] }, { returnAttention: true });
    checkSame(`source ${b}: generate = forward`, g.attention, f.attention);
    checkSame(`source ${b}: generateBatch = generate`, batch[b].attention, g.attention);
  });
  model.dispose();
});

Decode.run();

// ---

const Options = suite('returnAttention: bad options refused by name');

Options('not a boolean: TypeError naming returnAttention, from every call', async () => {
  const model = await tokenModel('dot', 'gru', 360);
  const x = [1, 2, 3];
  const bad = 'yes' as unknown as boolean;
  const msg = (where: string) => new RegExp(`^${where}: returnAttention must be true or false, got "yes"`);
  throwsWith(() => model.forward({ x: [x], y: [[1]] }, { returnAttention: bad }), TypeError, msg('forward'));
  throwsWith(() => model.generate(x, { maxLength: 3, returnAttention: bad }), TypeError, msg('generate'));
  throwsWith(() => model.generateBatch([x], { maxLength: 3, returnAttention: bad }), TypeError, msg('generateBatch'));
  throwsWith(() => model.stream(x, { maxLength: 3, returnAttention: bad }), TypeError, msg('stream'));
  throwsWith(() => model.beamSearch(x, { beamWidth: 2, maxLength: 3, returnAttention: bad }), TypeError, msg('beamSearch'));
  throwsWith(() => model.forward({ x: [x], y: [[1]] }, 5 as unknown as object), TypeError, /^forward: options must be an object, got 5/);
  throwsWith(() => model.forward({ x: [x], y: [[1]] }, { returnAttentions: true } as object), TypeError, /^forward: options has no field "returnAttentions"; did you mean returnAttention\?/);
  throwsWith(() => model.generate(x, { maxLength: 3, returnAttentions: true } as object as { maxLength: number }), TypeError, /did you mean returnAttention\?/);
  model.dispose();
});

Options("a model without attention: returnAttention true is a TypeError saying so; false is fine", async () => {
  const model = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: V, n_y: V + 2, n_a: 8, startToken: START, stopToken: STOP, seed: 361 });
  const x = [1, 2, 3];
  const msg = (where: string) => new RegExp(`^${where}: returnAttention needs a model with attention \\('dot' or 'general'\\); this model has attention 'none'`);
  throwsWith(() => model.forward({ x: [x], y: [[1]] }, { returnAttention: true }), TypeError, msg('forward'));
  throwsWith(() => model.generate(x, { maxLength: 3, returnAttention: true }), TypeError, msg('generate'));
  throwsWith(() => model.generateBatch([x], { maxLength: 3, returnAttention: true }), TypeError, msg('generateBatch'));
  throwsWith(() => model.stream(x, { maxLength: 3, returnAttention: true }), TypeError, msg('stream'));
  throwsWith(() => model.beamSearch(x, { beamWidth: 2, maxLength: 3, returnAttention: true }), TypeError, msg('beamSearch'));
  assert.not.ok('attention' in model.forward({ x: [x], y: [[1]] }, { returnAttention: false }));
  assert.ok(Array.isArray(model.generate(x, { maxLength: 3, returnAttention: false })));
  model.dispose();
  // a language model has no attention at all: the option is not one of its fields
  const lm = await createRNN({ n_x: 4, n_a: 4, n_y: 4, input: 'tokens', seed: 1 });
  throwsWith(() => lm.generate({ prefix: [0], maxLength: 2, returnAttention: true } as { prefix: number[]; maxLength: number }), TypeError, /^generate: options has no field "returnAttention"/);
  lm.dispose();
});

Options.run();

// ---

const Same = suite('returnAttention changes no other output bit');

Same('forward, generate (greedy and sampled), generateBatch, stream and beamSearch give the same outputs with and without α', async () => {
  const a = await tokenModel('general', 'lstm', 370);
  const b = await tokenModel('general', 'lstm', 370);          // the same seed: the same weights and generator
  const xs = sources(371);
  const ys = [[1, 2, 3], [4], [5, 0, 1, 2]];
  const plain = a.forward({ x: xs, y: ys }), traced = b.forward({ x: xs, y: ys }, { returnAttention: true });
  checkSame('yhat', traced.yhat, plain.yhat);
  assert.ok(Object.is(traced.loss, plain.loss), 'loss');
  const { attention, ...rest } = traced;
  assert.ok(attention instanceof Float32Array);
  assert.equal(rest, plain, 'every other field');
  assert.not.ok('attention' in plain, 'no attention field unless asked');
  for (const x of xs) {
    assert.equal(b.generate(x, { maxLength: 6, returnAttention: true }).sequence, a.generate(x, { maxLength: 6 }));
    // sampling from each model's own generator: asking for α draws nothing more
    assert.equal(b.generate(x, { maxLength: 6, strategy: 'sample', returnAttention: true }).sequence, a.generate(x, { maxLength: 6, strategy: 'sample' }));
    assert.equal([...b.stream(x, { maxLength: 6, returnAttention: true })].map((s) => s.token), [...a.stream(x, { maxLength: 6 })]);
    const hb = b.beamSearch(x, { beamWidth: 3, maxLength: 6, returnAttention: true }), ha = a.beamSearch(x, { beamWidth: 3, maxLength: 6 });
    assert.equal(hb.map(({ attention: _, ...h }) => h), ha, 'hypotheses: tokens, logProb, score');
    assert.equal(Object.keys(ha[0]), ['tokens', 'logProb', 'score'], 'no backpointers or α unless asked');
  }
  assert.equal(b.generateBatch(xs, { maxLength: 6, strategy: 'sample', seed: 2, returnAttention: true }).map((o) => o.sequence),
    a.generateBatch(xs, { maxLength: 6, strategy: 'sample', seed: 2 }));
  a.dispose();
  b.dispose();
});

Same.run();

// ---

const Learn = suite('α of a trained model: the alignment a reverser should learn');

Learn('reversing 4–7 tokens: each output step attends most to its mirror source step (the anti-diagonal)', async () => {
  const V = 6, STOP = 6, START = 7;
  const make = (rng: Random, n: number) => Array.from({ length: n }, () => Array.from({ length: 4 + rng.int(4) }, () => rng.int(V)));
  const reversed = (q: number[]) => [...q].reverse().concat(STOP);
  const test = make(new Random(99), 50);
  /** The fraction of output steps t < T whose α peaks at source step T − 1 − t. */
  const onAntiDiagonal = (model: Model) => {
    let rows = 0, hits = 0, exact = 0;
    model.generateBatch(test, { maxLength: 8, returnAttention: true }).forEach(({ sequence, attention }, i) => {
      const T = test[i].length;
      if (sequence.join() === reversed(test[i]).join()) exact++;
      for (let t = 0; t < Math.min(T, sequence.length); t++) {
        const row = Array.from(attention.subarray(t * T, (t + 1) * T));
        rows++;
        if (row.indexOf(Math.max(...row)) === T - 1 - t) hits++;
      }
    });
    return { diagonal: hits / rows, exact: exact / test.length };
  };
  const model = await createModel({
    architecture: 'encoder-decoder', input: 'tokens', n_x: V, n_y: V + 2, n_a: 16, cell: 'gru', attention: 'dot',
    startToken: START, stopToken: STOP, reduction: 'mean', seed: 3,
  });
  const before = onAntiDiagonal(model);
  const rng = new Random(7);
  for (let s = 0; s < 300; s++) {
    const x = make(rng, 16);
    model.trainStep({ x, y: x.map(reversed) }, { learningRate: 0.02, clipNorm: 5 });
  }
  const after = onAntiDiagonal(model);
  assert.ok(before.diagonal < 0.5, `untrained: ${before.diagonal} of the steps on the anti-diagonal`);
  assert.ok(after.exact >= 0.9, `trained: ${after.exact} reversed exactly`);
  assert.ok(after.diagonal >= 0.9, `trained: ${after.diagonal} of the steps on the anti-diagonal`);
  model.dispose();
});

Learn.run();

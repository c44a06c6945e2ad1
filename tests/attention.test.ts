// Luong attention in the encoder-decoder (config attention: 'dot' | 'general'): gradients of
// every parameter against finite differences of the f64 reference in _reference_attention.ts,
// forward parity with it, ragged sources (alone = padded in a batch), decoding (generate,
// generateBatch, beamSearch, step) against the teacher-forced forward, files, bad configs,
// and a task attention is for: reversing sequences longer than the hidden state can hold.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, loadModel, Random, type EncoderDecoderConfig } from '../dist/index.js';
import { finiteDifferences } from './_reference_arch.js';
import { attentionEncDec, type AttentionRef } from './_reference_attention.js';
import { checkClose, checkGradient, randomStep, randomTarget, refParams, rejectsWith, uniforms, worst } from './_utils.js';

type Cell = 'rnn' | 'lstm' | 'gru';
type Output = 'softmax' | 'sigmoid' | 'linear';

interface Case {
  name: string;
  attention: 'dot' | 'general';
  enc: { cell: Cell; layers: number; bidirectional: boolean; n_a: number };
  dec: { cell: Cell; layers: number; n_a: number };
  input: 'tokens' | 'dense';
  output: Output;
  reduction: 'sum' | 'mean';
  /** Scale every initial weight by this (stacked LSTMs start with outputs so small that the
   *  scores barely differ and ∂L/∂W_a is at f32 round-off). Default 1. */
  gain?: number;
}

const cases: Case[] = [
  { name: "'dot', lstm → lstm, identity bridge, tokens → softmax", attention: 'dot', enc: { cell: 'lstm', layers: 1, bidirectional: false, n_a: 3 }, dec: { cell: 'lstm', layers: 1, n_a: 3 }, input: 'tokens', output: 'softmax', reduction: 'sum' },
  { name: "'general', gru L=2 → gru L=2, dense → softmax, mean", attention: 'general', enc: { cell: 'gru', layers: 2, bidirectional: false, n_a: 3 }, dec: { cell: 'gru', layers: 2, n_a: 3 }, input: 'dense', output: 'softmax', reduction: 'mean' },
  { name: "'general', bidirectional lstm → lstm (n_a 3 vs width 4), linear bridge", attention: 'general', enc: { cell: 'lstm', layers: 1, bidirectional: true, n_a: 2 }, dec: { cell: 'lstm', layers: 1, n_a: 3 }, input: 'tokens', output: 'softmax', reduction: 'sum' },
  { name: "'dot', gru L=2 → gru, linear bridge, dense → linear", attention: 'dot', enc: { cell: 'gru', layers: 2, bidirectional: false, n_a: 3 }, dec: { cell: 'gru', layers: 1, n_a: 3 }, input: 'dense', output: 'linear', reduction: 'sum' },
  { name: "'dot', bidirectional gru → lstm L=2 (width 4 = n_a 4), tokens → sigmoid", attention: 'dot', enc: { cell: 'gru', layers: 1, bidirectional: true, n_a: 2 }, dec: { cell: 'lstm', layers: 2, n_a: 4 }, input: 'tokens', output: 'sigmoid', reduction: 'mean' },
  { name: "'general', lstm L=2 → lstm L=2, identity bridge (h and c cross), weights × 3", attention: 'general', enc: { cell: 'lstm', layers: 2, bidirectional: false, n_a: 3 }, dec: { cell: 'lstm', layers: 2, n_a: 3 }, input: 'tokens', output: 'softmax', reduction: 'sum', gain: 3 },
];

const n_x = 4, n_y = 3;

async function build(c: Case, seed: number) {
  const model = await createModel({
    architecture: 'encoder-decoder', n_x, n_y, n_a: c.dec.n_a, input: c.input, output: c.output, reduction: c.reduction,
    attention: c.attention, encoder: c.enc, decoder: c.dec, startToken: c.output === 'softmax' ? 1 : undefined, seed,
  } as EncoderDecoderConfig);
  if (c.gain) model.setWeights(model.getWeights().map((v) => Math.fround(v * c.gain!)));
  return model;
}

function refOf(c: Case, bridge: 'identity' | 'linear'): AttentionRef {
  return {
    attention: c.attention, bridge, start: 1, reduction: c.reduction,
    encoder: { cell: c.enc.cell, layers: c.enc.layers, bidirectional: c.enc.bidirectional, n_x, n_a: c.enc.n_a, input: c.input },
    decoder: { cell: c.dec.cell, layers: c.dec.layers, n_a: c.dec.n_a, n_y, output: c.output },
  };
}

function data(c: Case, seed: number, xs = [3, 1, 4], ys = [2, 3, 1]) {
  const rng = new Random(seed);
  const x = xs.map((T) => Array.from({ length: T }, () => randomStep(rng, c.input, n_x)));
  const y = ys.map((T) => Array.from({ length: T }, () => randomTarget(rng, c.output, n_y)));
  return { x, y } as { x: any[]; y: any[] };
}

// ---

const Grad = suite('attention: every gradient vs finite differences of an f64 reference (sources of lengths 3, 1, 4)');

cases.forEach((c, i) => {
  Grad(c.name, async () => {
    const model = await build(c, 80 + i);
    const names = model.layout.entries.map((e) => e.name);
    assert.ok(names.includes('attention.combine.weight'), 'W_c in the layout');
    assert.is(names.includes('attention.weight'), c.attention === 'general', 'W_a in the layout for general only');
    const { x, y } = data(c, 90 + i);
    const got = model.computeGradients({ x, y });
    const p = refParams(model);
    const ref = refOf(c, model.config.bridge);
    const loss = () => attentionEncDec(ref, p, x, y).loss;
    assert.ok(Math.abs(got.loss - loss()) < 1e-5 * Math.max(1, got.loss), `loss ${got.loss} vs ${loss()}`);
    const expected = finiteDifferences(p, loss);
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

Grad('the check can fail: W_c taken at other weights disagrees with finite differences', async () => {
  const c = cases[1];
  const model = await build(c, 81);
  const { x, y } = data(c, 91);
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  p['attention.combine.weight'][0] += 0.3;
  const expected = finiteDifferences(p, () => attentionEncDec(refOf(c, model.config.bridge), p, x, y).loss);
  const errs = model.layout.entries.map((e) => worst(got.grads[e.name], expected[e.name], 1e-6).err);
  assert.ok(Math.max(...errs) > 1e-3, 'a perturbed reference should disagree');
  model.dispose();
});

Grad('the sources matter: attention sends gradient to the encoder beyond its final state', async () => {
  // the first source step of a 4-step source reaches the loss through the final state and,
  // with attention, directly: gradients with and without attention differ
  const c = cases[0];
  const withAtt = await build(c, 82);
  const without = await build({ ...c, attention: 'none' as 'dot' }, 82);
  for (const e of without.layout.entries) without.setParam(e.name, withAtt.getParam(e.name));
  const { x, y } = data(c, 92, [4], [3]);
  const a = withAtt.computeGradients({ x, y }).grads['encoder.weight_ih_l0'];
  const b = without.computeGradients({ x, y }).grads['encoder.weight_ih_l0'];
  assert.ok(worst(a, b, 1e-6).err > 1e-2, 'encoder gradients should change with attention');
  withAtt.dispose();
  without.dispose();
});

Grad.run();

// ---

const Forward = suite('attention: forward parity with the reference, and ragged sources');

Forward('ŷ and the loss of every case equal the f64 reference', async () => {
  for (const [i, c] of cases.entries()) {
    const model = await build(c, 100 + i);
    const { x, y } = data(c, 110 + i);
    const r = model.forward({ x, y });
    const ref = attentionEncDec(refOf(c, model.config.bridge), refParams(model), x, y);
    assert.ok(Math.abs(r.loss - ref.loss) < 1e-5 * Math.max(1, Math.abs(ref.loss)), `${c.name}: loss ${r.loss} vs ${ref.loss}`);
    ref.logits.forEach((rows, b) => rows.forEach((z, t) => {
      const g = c.output === 'softmax' ? softmax(z) : c.output === 'sigmoid' ? z.map((v) => 1 / (1 + Math.exp(-v))) : z;
      checkClose(`${c.name}: ŷ[${b}][${t}]`, r.yhat.subarray((b * r.T + t) * n_y, (b * r.T + t + 1) * n_y), g, 1e-4, 1e-3);
    }));
    model.dispose();
  }
});

Forward('the scalar build gives the outputs and gradients of the SIMD build', async () => {
  const c = cases[2];
  const simd = await build(c, 125);
  const scalar = await createModel({ ...(simd.toJSON() as EncoderDecoderConfig), stopToken: undefined, backend: 'scalar' });
  scalar.setWeights(simd.getWeights());
  const { x, y } = data(c, 126);
  checkClose('ŷ', scalar.forward({ x, y }).yhat, simd.forward({ x, y }).yhat, 1e-5, 1e-4);
  const a = simd.computeGradients({ x, y }).grads, b = scalar.computeGradients({ x, y }).grads;
  for (const k of Object.keys(a)) checkClose(k, b[k], a[k], 1e-4, 1e-3);
  simd.dispose();
  scalar.dispose();
});

Forward('each source alone equals the same source padded in a batch: outputs and gradients', async () => {
  for (const c of [cases[1], cases[2]]) {
    const model = await build({ ...c, reduction: 'sum' }, 120);
    const { x, y } = data(c, 121, [2, 5, 1, 3], [3, 1, 4, 2]);
    const batch = model.forward({ x, y });
    const grads = model.computeGradients({ x, y }).grads;
    const sum: Record<string, Float64Array> = {};
    x.forEach((xb, b) => {
      const alone = model.forward({ x: [xb], y: [y[b]] });
      const T = y[b].length;
      checkClose(`${c.name}: ŷ of sequence ${b}`, batch.yhat.subarray(b * batch.T * n_y, (b * batch.T + T) * n_y), alone.yhat, 1e-5, 1e-4);
      const g = model.computeGradients({ x: [xb], y: [y[b]] }).grads;
      for (const [k, v] of Object.entries(g)) {
        sum[k] ??= new Float64Array(v.length);
        v.forEach((u, j) => { sum[k][j] += u; });
      }
    });
    for (const [k, v] of Object.entries(sum)) checkClose(`${c.name}: ${k}, batch = Σ alone`, grads[k], v, 1e-4, 1e-4);
    model.dispose();
  }
});

Forward.run();

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// ---

const Decode = suite('attention: decoding agrees with the teacher-forced forward');

const V = 6, START = 6, STOP = 7;

async function tokenModel(attention: 'dot' | 'general', cell: Cell, seed: number) {
  return createModel({
    architecture: 'encoder-decoder', input: 'tokens', n_x: V, n_y: V + 2, n_a: 8, cell, layers: 2, attention,
    encoder: { bidirectional: attention === 'general' }, startToken: START, stopToken: STOP, seed,
  });
}

Decode('generate, generateBatch (ragged sources), beamSearch (width 1) and step follow forward on their own output', async () => {
  for (const [i, kind] of (['dot', 'general'] as const).entries()) {
    const model = await tokenModel(kind, kind === 'dot' ? 'lstm' : 'gru', 130 + i);
    const rng = new Random(140 + i);
    const sources = [5, 2, 7].map((T) => Array.from({ length: T }, () => rng.int(V)));
    const batch = model.generateBatch(sources, { maxLength: 6, stop: null });
    for (const [b, x] of sources.entries()) {
      const out = model.generate(x, { maxLength: 6, stop: null });
      assert.equal(batch[b], out, `${kind}: generateBatch row ${b} = generate`);
      // teacher forcing on the generated tokens: each is the argmax of ŷ at its step
      const f = model.forward({ x: [x], y: [out] });
      out.forEach((tok, t) => {
        const row = Array.from(f.yhat.subarray(t * (V + 2), (t + 1) * (V + 2)));
        assert.is(row.indexOf(Math.max(...row)), tok, `${kind}: source ${b}, step ${t}`);
      });
      const [best] = model.beamSearch(x, { beamWidth: 1, maxLength: 6, stop: null });
      assert.equal(best.tokens, out, `${kind}: beam width 1 = greedy`);
      const logProb = out.reduce((s, tok, t) => s + Math.log(f.yhat[t * (V + 2) + tok]), 0);
      assert.ok(Math.abs(best.logProb - logProb) < 1e-4, `${kind}: beam log p ${best.logProb} vs forward ${logProb}`);
      model.resetState(x);
      [START, ...out.slice(0, -1)].forEach((tok, t) => {
        checkClose(`${kind}: step ${t} of source ${b}`, model.step(tok), f.yhat.subarray(t * (V + 2), (t + 1) * (V + 2)), 1e-5, 1e-6);
      });
    }
    model.dispose();
  }
});

Decode('a wider beam finds a hypothesis at least as likely as greedy, each scored as forward scores it', async () => {
  const model = await tokenModel('general', 'lstm', 150);
  const x = [1, 4, 2, 0, 3];
  const hyps = model.beamSearch(x, { beamWidth: 4, maxLength: 5, stop: null });
  const greedy = model.generate(x, { maxLength: 5, stop: null });
  const f = model.forward({ x: [x], y: [greedy] });
  const greedyLogProb = greedy.reduce((s, tok, t) => s + Math.log(f.yhat[t * (V + 2) + tok]), 0);
  assert.ok(hyps[0].logProb >= greedyLogProb - 1e-5, 'beam ≥ greedy');
  for (const h of hyps) {
    const g = model.forward({ x: [x], y: [h.tokens] });
    const lp = h.tokens.reduce((s, tok, t) => s + Math.log(g.yhat[t * (V + 2) + tok]), 0);
    assert.ok(Math.abs(h.logProb - lp) < 1e-4, `hypothesis ${h.tokens}: ${h.logProb} vs ${lp}`);
  }
  model.dispose();
});

Decode('step() between other calls keeps its own source; resetState() without one attends to nothing', async () => {
  const model = await tokenModel('dot', 'gru', 160);
  const x = [3, 1, 4, 1, 5];
  const f = model.forward({ x: [x], y: [[2, 2]] });
  model.resetState(x);
  const first = model.step(START);
  model.generate([0, 0, 0], { maxLength: 3 });           // runs the encoder on another source
  checkClose('second step', model.step(2), f.yhat.subarray(V + 2, 2 * (V + 2)), 1e-5, 1e-6);
  checkClose('first step', first, f.yhat.subarray(0, V + 2), 1e-5, 1e-6);
  model.resetState();
  const p = model.step(START);
  assert.ok(p.every(Number.isFinite) && Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'a distribution');
  model.dispose();
});

Decode.run();

// ---

const Files = suite('attention: files and configuration');

Files('save → loadModel decodes identically; the config and tensor names round-trip', async () => {
  for (const kind of ['dot', 'general'] as const) {
    const model = await tokenModel(kind, 'lstm', 170);
    model.trainStep({ x: [[1, 2, 3], [4]], y: [[3, 2, 1, STOP], [4, STOP]] });
    const copy = await loadModel(model.save(), { architecture: 'encoder-decoder' }) as unknown as typeof model;
    assert.is(copy.config.attention, kind);
    assert.equal(copy.toJSON(), model.toJSON());
    assert.equal(copy.layout.entries.map((e) => e.name), model.layout.entries.map((e) => e.name));
    const x = [5, 0, 2, 2, 1];
    assert.equal(copy.generate(x, { maxLength: 6 }), model.generate(x, { maxLength: 6 }));
    assert.equal(copy.beamSearch(x, { beamWidth: 3, maxLength: 6 }), model.beamSearch(x, { beamWidth: 3, maxLength: 6 }));
    model.dispose();
    copy.dispose();
  }
});

Files("attention 'none' (the default) adds no tensors and no config field", async () => {
  const base = { architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 5, n_a: 4, seed: 1 } as const;
  const plain = await createModel(base);
  const none = await createModel({ ...base, attention: 'none' });
  assert.is(plain.config.attention, 'none');
  assert.not.ok('attention' in plain.toJSON(), 'toJSON leaves attention out');
  assert.equal(none.layout.entries, plain.layout.entries);
  assert.equal(none.getWeights(), plain.getWeights());
  plain.dispose();
  none.dispose();
});

Files('bad attention configs are TypeError / RangeError naming the field, before any model exists', async () => {
  const base = { architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 5, n_a: 4 } as const;
  await rejectsWith(createModel({ ...base, attention: 'bahdanau' as 'dot' }), TypeError, /attention must be one of 'none', 'dot', 'general', got "bahdanau"/);
  await rejectsWith(createModel({ ...base, attention: 1 as unknown as 'dot' }), TypeError, /attention must be one of/);
  await rejectsWith(createModel({ ...base, attention: 'dot', encoder: { n_a: 6 } }), RangeError, /attention 'dot'.*n_a = 4.*width 6/);
  await rejectsWith(createModel({ ...base, attention: 'dot', encoder: { bidirectional: true } }), RangeError, /attention 'dot'.*width 8.*2 directions/);
  // 'general' takes any widths; 'dot' takes a bidirectional encoder of half the decoder's n_a
  (await createModel({ ...base, attention: 'general', encoder: { n_a: 6, bidirectional: true } })).dispose();
  (await createModel({ ...base, attention: 'dot', encoder: { n_a: 2, bidirectional: true } })).dispose();
});

Files.run();

// ---

const Learn = suite('attention: learning where it should help');

Learn('reversing 8–12 tokens with n_a = 16: attention reaches ≥ 95 % exact match in 600 steps; without it, under 5 %', async () => {
  // the decoder must emit the source backwards; a 16-unit state cannot carry 12 tokens of
  // 3 bits, but attention can look each one up
  const V = 8, STOP = 8, START = 9;
  const make = (rng: Random, n: number) => Array.from({ length: n }, () => Array.from({ length: 8 + rng.int(5) }, () => rng.int(V)));
  const test = make(new Random(99), 200);
  const reversed = (q: number[]) => [...q].reverse().concat(STOP);
  const accuracy: Record<string, number> = {};
  for (const attention of ['general', 'none'] as const) {
    const model = await createModel({
      architecture: 'encoder-decoder', input: 'tokens', n_x: V, n_y: V + 2, n_a: 16, cell: 'gru', attention,
      startToken: START, stopToken: STOP, reduction: 'mean', seed: 3,
    });
    const rng = new Random(7);
    for (let s = 0; s < 600; s++) {
      const x = make(rng, 32);
      model.trainStep({ x, y: x.map(reversed) }, { learningRate: 0.01, clipNorm: 5 });
    }
    const out = model.generateBatch(test, { maxLength: 13 });
    accuracy[attention] = out.filter((o, i) => o.join() === reversed(test[i]).join()).length / test.length;
    model.dispose();
  }
  assert.ok(accuracy.general >= 0.95, `with attention: ${accuracy.general}`);
  assert.ok(accuracy.none < 0.05, `without attention: ${accuracy.none}`);
});

Learn.run();

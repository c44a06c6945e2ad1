// The five architectures as a typed API: what the types accept and refuse (checked by tsc,
// which `npm test` runs on this file first), the runtime errors for JavaScript callers,
// stateful stepping equal to a full forward pass, ragged batches equal to each sequence
// alone, and model files that round-trip with their tokenizers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CharTokenizer, createModel, createRNN, EncoderDecoder, loadModel, ManyToMany, ManyToOne, OneToMany, OneToOne, Random,
  type Model,
} from '../dist/index.js';
import { checkClose, checkSame, rejectsWith, throwsWith, uniforms } from './_utils.js';

// ---

const Types = suite('types: the config picks the model, and wrong batches do not type-check');

Types('createModel returns the precise model type for each architecture', async () => {
  const a = await createModel({ architecture: 'one-to-one', n_x: 2, n_a: 4, n_y: 3, seed: 1 });
  const b = await createModel({ architecture: 'one-to-many', n_y: 5, n_a: 4, startToken: 0, seed: 1 });
  const c = await createModel({ architecture: 'many-to-one', input: 'tokens', output: 'linear', n_x: 5, n_a: 4, n_y: 2, seed: 1 });
  const d = await createModel({ architecture: 'many-to-many', input: 'tokens', n_x: 5, n_a: 4, n_y: 3, seed: 1 });
  const e = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 6, n_y: 4, n_a: 4, seed: 1 });
  // compile-time: each is assignable to its precise class (input and output kinds included)
  const typed: [OneToOne<'dense', 'softmax'>, OneToMany<'softmax'>, ManyToOne<'tokens', 'linear'>, ManyToMany<'tokens', 'softmax'>, EncoderDecoder<'tokens', 'softmax'>] = [a, b, c, d, e];
  assert.equal(typed.map((m) => m.architecture), ['one-to-one', 'one-to-many', 'many-to-one', 'many-to-many', 'encoder-decoder']);
  assert.ok(a instanceof OneToOne && b instanceof OneToMany && c instanceof ManyToOne && d instanceof ManyToMany && e instanceof EncoderDecoder);
  // predictions follow the output: class ids for softmax, vectors for linear
  const classes: number[] = a.predict([[0.5, -1]]);
  const values: Float32Array[] = c.predict([[1, 2, 3]]);
  const tags: number[][] = d.predict([[1, 2], [3]]);
  assert.is(classes.length, 1);
  assert.is(values[0].length, 2);
  assert.equal(tags.map((t) => t.length), [2, 1]);
  // the union narrows on `architecture`
  const any: Model = c;
  if (any.architecture === 'many-to-one') assert.is(any.config.bidirectional, false);
  for (const m of typed) m.dispose();
});

Types('per-step targets for many-to-one, class ids for a regression head, and other mismatches are compile errors — and runtime errors', async () => {
  const cls = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 4, n_y: 3, seed: 1 });
  const reg = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 4, n_y: 1, output: 'linear', seed: 1 });
  const x = [[[0, 1], [1, 0]], [[1, 1]]];
  // one class id per sequence is right; per-step targets are not
  cls.trainStep({ x, y: [2, 0] });
  // @ts-expect-error: per-step targets belong to a many-to-many model
  throwsWith(() => cls.trainStep({ x, y: [[2, 1], [0]] }), TypeError, /y\[0\] must be one class id per example, got an array of length 2 \(per-step targets belong to a many-to-many model\)/);
  // a regression head takes vectors of n_y values, not class ids
  reg.trainStep({ x, y: [[0.5], [-1]] });
  // @ts-expect-error: class ids for a linear output
  throwsWith(() => reg.trainStep({ x, y: [1, 0] }), TypeError, /y\[0\] must be a vector of 1 number \(n_y\), got 1/);
  // @ts-expect-error: a sequence of vectors per example for a linear many-to-one
  throwsWith(() => reg.forward({ x, y: [[[1], [2]], [[3]]] }), RangeError, /y\[0\] has 2 values, the model expects n_y = 1 \(a sequence\? this takes one vector per example\)/);
  const one = await createModel({ architecture: 'one-to-one', input: 'tokens', n_x: 5, n_a: 4, n_y: 2, seed: 1 });
  // @ts-expect-error: a token model takes ids, not vectors
  throwsWith(() => one.predict([[1, 2]]), TypeError, /x\[0\] must be an integer \(token id\), got an array of length 2/);
  const gen = await createModel({ architecture: 'one-to-many', n_y: 4, n_a: 4, output: 'linear', seed: 1 });
  // @ts-expect-error: beam search needs tokens (softmax output)
  throwsWith(() => gen.beamSearch({ beamWidth: 2, maxLength: 3 }), TypeError, /beamSearch: needs output 'softmax', got output 'linear'/);
  const mm = await createModel({ architecture: 'many-to-many', n_x: 2, n_a: 4, n_y: 3, seed: 1 });
  // @ts-expect-error: many-to-many wants a target per step
  throwsWith(() => mm.trainStep({ x, y: [2, 0] }), TypeError, /y\[0\] must be a sequence/);
  for (const m of [cls, reg, one, gen, mm]) m.dispose();
});

Types('fields an architecture does not take are compile errors and runtime TypeErrors', async () => {
  // @ts-expect-error: one-to-many reads its own outputs: no n_x
  await rejectsWith(createModel({ architecture: 'one-to-many', n_x: 3, n_y: 4, n_a: 4 }), TypeError, /'one-to-many' takes no n_x/);
  // @ts-expect-error: one step has no second direction
  await rejectsWith(createModel({ architecture: 'one-to-one', n_x: 3, n_y: 4, n_a: 4, bidirectional: true }), TypeError, /'one-to-one' takes no bidirectional/);
  // @ts-expect-error: the encoder-decoder sets directions per side
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 4, n_a: 4, bidirectional: true }), TypeError, /'encoder-decoder' takes no bidirectional/);
  // @ts-expect-error: not an architecture
  await rejectsWith(createModel({ architecture: 'many-to-few', n_x: 3, n_y: 4, n_a: 4 }), TypeError, /architecture must be one of 'one-to-one', 'one-to-many', 'many-to-one', 'many-to-many', 'encoder-decoder', got "many-to-few"/);
});

Types.run();

// ---

const Errors = suite('runtime errors name the argument, what was expected and what arrived');

Errors('configs', async () => {
  const tok = CharTokenizer.fromText('abc');   // 3 letters + <unk>, <s>, </s>
  await rejectsWith(createModel({ architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a: 4, n_y: 2, tokenizers: { x: tok } }), RangeError, /tokenizers.x has 6 tokens, but n_x = 5/);
  await rejectsWith(createModel({ architecture: 'many-to-one', n_x: 6, n_a: 4, n_y: 2, tokenizers: { x: tok } }), TypeError, /tokenizers.x needs input 'tokens', got input 'dense'/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 4, n_a: 4, encoder: { bidirectional: true }, bridge: 'identity' }), RangeError,
    /bridge 'identity' needs the encoder's final states to fit the decoder .* got encoder 1 × 4 bidirectional, decoder 1 × 4 \(use bridge 'linear'\)/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 4, n_a: 4, decoder: { n_a: 0 } }), RangeError, /decoder.n_a must be an integer ≥ 1, got 0/);
  await rejectsWith(createModel({ architecture: 'one-to-many', n_y: 4, n_a: 4, stopToken: 4 }), RangeError, /stopToken = 4 is out of range; token ids must be in \[0, 4\)/);
  await rejectsWith(createModel({ architecture: 'one-to-many', n_y: 4, n_a: 4, output: 'linear', stopToken: 1 }), TypeError, /stopToken applies to output 'softmax' only, got output 'linear'/);
  await rejectsWith(createModel({ architecture: 'many-to-one', cell: 'gru', activation: 'relu', n_x: 3, n_a: 4, n_y: 2 }), TypeError, /activation 'relu' applies to cell 'rnn' only/);
});

Errors('batches and options are checked before wasm is entered; the model is unchanged and works after', async () => {
  const m = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 4, n_a: 4, stopToken: 3, seed: 2 });
  const good = { x: [[1, 2, 3], [4]], y: [[0, 3], [2, 1, 3]] };
  const before = m.forward(good);
  const w = m.getWeights();
  throwsWith(() => m.trainStep({ x: [[1, 5]], y: [[1]] }), RangeError, /x\[0\]\[1\] = 5 is out of range; token ids must be in \[0, n_x\) = \[0, 5\)/);
  throwsWith(() => m.trainStep({ x: [[1, 2]], y: [[1, 4]] }), RangeError, /y\[0\]\[1\] = 4 is out of range; class ids must be in \[0, n_y\) = \[0, 4\)/);
  throwsWith(() => m.trainStep({ x: [[1, 2]], y: [[]] }), RangeError, /y\[0\] is an empty sequence/);
  throwsWith(() => m.trainStep({ x: [[1, 2], [3]], y: [[1]] }), RangeError, /y must have one target sequence per example \(B = 2\), got 1/);
  throwsWith(() => m.generate([1, 5], { maxLength: 4 }), RangeError, /generate: x\[1\] = 5 is out of range; token ids must be in \[0, n_x\) = \[0, 5\)/);
  throwsWith(() => m.resetState([2, 'a' as any]), TypeError, /resetState: source\[1\] must be a token id \(integer\), got "a"/);
  throwsWith(() => m.generate([1, 2], { maxLength: 0 }), RangeError, /maxLength must be an integer ≥ 1, got 0/);
  throwsWith(() => m.generate([1, 2], { maxLength: 4, temperature: 0.5 }), TypeError, /temperature, topK and topP shape sampling; pass strategy: 'sample'/);
  throwsWith(() => m.generate([1, 2], { maxLength: 4, strategy: 'sample', topP: 1.5 }), RangeError, /topP must be a number in \(0, 1\], got 1.5/);
  throwsWith(() => m.beamSearch([1, 2], { beamWidth: 0, maxLength: 4 }), RangeError, /beamWidth must be an integer ≥ 1, got 0/);
  checkSame('weights', m.getWeights(), w);
  checkSame('outputs', m.forward(good).yhat, before.yhat);
  m.dispose();
  const bi = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 4, n_y: 2, bidirectional: true });
  throwsWith(() => bi.step([1, 2]), TypeError, /step: a bidirectional model reads each sequence backwards too/);
  bi.dispose();
  const gen = await createModel({ architecture: 'one-to-many', n_y: 4, n_a: 4 });
  throwsWith(() => gen.generate({ maxLength: 3 }), TypeError, /generate: x \(the first token\) is required: this model has no startToken/);
  throwsWith(() => gen.trainStep({ x: [0], y: [[1, 2], [3]] }), RangeError, /y must have one target sequence per example \(B = 1\), got 2/);
  gen.dispose();
});

Errors.run();

// ---

const Step = suite('step() keeps state across calls and equals a full forward pass');

for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  Step(`many-to-one ${cell}, 2 layers: ŷ after each step = forward over the prefix`, async () => {
    const m = await createModel({ architecture: 'many-to-one', cell, layers: 2, n_x: 3, n_a: 5, n_y: 4, seed: 7 });
    const rng = new Random(1);
    const seq = Array.from({ length: 6 }, () => uniforms(rng, 3));
    m.resetState();
    seq.forEach((x, t) => checkClose(`step ${t}`, m.step(x), m.forward({ x: [seq.slice(0, t + 1)] }).yhat, 1e-5, 1e-3));
    m.resetState();
    checkClose('after resetState', m.step(seq[0]), m.forward({ x: [seq.slice(0, 1)] }).yhat, 1e-5, 1e-3);
    m.dispose();
  });
}

Step('many-to-many lstm, token input: ŷ<t> from step() = forward()', async () => {
  const m = await createModel({ architecture: 'many-to-many', cell: 'lstm', input: 'tokens', n_x: 6, n_a: 5, n_y: 3, seed: 3 });
  const seq = [1, 4, 0, 5, 2];
  const full = m.forward({ x: [seq] }).yhat;
  seq.forEach((x, t) => checkClose(`step ${t}`, m.step(x), full.subarray(t * 3, (t + 1) * 3), 1e-5, 1e-3));
  m.dispose();
});

Step('one-to-many gru: step(x), step(y<1>), … = the teacher-forced forward', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'gru', layers: 2, n_y: 5, n_a: 6, seed: 4 });
  const y = [3, 1, 4, 2];
  const full = m.forward({ x: [0], y: [y] }).yhat;
  [0, ...y.slice(0, -1)].forEach((x, t) => checkClose(`step ${t}`, m.step(x), full.subarray(t * 5, (t + 1) * 5), 1e-5, 1e-3));
  m.dispose();
});

Step('encoder-decoder lstm (identity bridge) and bidirectional gru (linear bridge): resetState(source), then step() = forward()', async () => {
  for (const spec of [{ cell: 'lstm' }, { cell: 'gru', encoder: { bidirectional: true } }] as const) {
    const m = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 7, n_y: 5, n_a: 6, startToken: 0, seed: 5, ...spec });
    const src = [1, 6, 2, 3], y = [4, 2, 2, 1];
    const full = m.forward({ x: [src], y: [y] }).yhat;
    m.resetState(src);
    [0, ...y.slice(0, -1)].forEach((t0, t) => checkClose(`${spec.cell} step ${t}`, m.step(t0), full.subarray(t * 5, (t + 1) * 5), 1e-5, 1e-3));
    m.dispose();
  }
});

Step.run();

// ---

const Ragged = suite('ragged batches: each sequence alone = padded in a batch (outputs, loss, gradients)');

function addGrads(sum: Record<string, Float64Array>, g: Record<string, Float32Array>): void {
  for (const [name, v] of Object.entries(g)) {
    sum[name] ??= new Float64Array(v.length);
    v.forEach((u, i) => { sum[name][i] += u; });
  }
}

function checkGrads(got: Record<string, Float32Array>, summed: Record<string, Float64Array>): void {
  for (const name of Object.keys(summed)) {
    const scale = Math.max(...Array.from(summed[name], Math.abs), 1e-6);
    checkClose(`grad ${name}`, got[name], summed[name], 1e-4, 1e-2 * scale);
  }
}

for (const v of [{ cell: 'lstm', layers: 2, bidirectional: false }, { cell: 'gru', layers: 1, bidirectional: true }, { cell: 'rnn', layers: 2, bidirectional: true }] as const) {
  Ragged(`many-to-one ${v.cell} L=${v.layers}${v.bidirectional ? ' bi' : ''}: each sequence reads its own last state`, async () => {
    const lengths = [5, 2, 7, 1];
    const m = await createModel({ architecture: 'many-to-one', ...v, n_x: 3, n_a: 5, n_y: 4, seed: 8 });
    const rng = new Random(2);
    const x = lengths.map((T) => Array.from({ length: T }, () => uniforms(rng, 3)));
    const y = lengths.map(() => rng.int(4));
    const batch = m.forward({ x, y });
    assert.equal(batch.lengths, lengths);
    const g = m.computeGradients({ x, y });
    const summed: Record<string, Float64Array> = {};
    let loss = 0;
    const S = v.layers * (v.bidirectional ? 2 : 1), B = lengths.length, H = 5;
    lengths.forEach((_, b) => {
      const alone = m.forward({ x: [x[b]], y: [y[b]] });
      checkClose(`yhat ${b}`, batch.yhat.subarray(b * 4, (b + 1) * 4), alone.yhat, 1e-5, 1e-3);
      for (let s = 0; s < S; s++) checkClose(`aT[${s}] ${b}`, batch.aT.subarray((s * B + b) * H, (s * B + b + 1) * H), alone.aT.subarray(s * H, (s + 1) * H), 1e-5, 1e-3);
      const ga = m.computeGradients({ x: [x[b]], y: [y[b]] });
      loss += ga.loss;
      addGrads(summed, ga.grads);
    });
    checkClose('loss', [g.loss], [loss], 1e-5);
    checkGrads(g.grads, summed);
    m.dispose();
  });
}

Ragged('encoder-decoder: source and target lengths differ within and across pairs', async () => {
  for (const spec of [{ cell: 'lstm', layers: 2 }, { cell: 'gru', encoder: { bidirectional: true } }] as const) {
    const m = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 6, n_y: 5, n_a: 4, startToken: 0, seed: 9, ...spec });
    const x = [[1, 2, 3, 4, 5], [2], [5, 4, 3]], y = [[1, 2], [3, 4, 1, 1], [2]];
    const batch = m.forward({ x, y });
    assert.equal(batch.sourceLengths, [5, 1, 3]);
    assert.equal(batch.lengths, [2, 4, 1]);
    const g = m.computeGradients({ x, y });
    const summed: Record<string, Float64Array> = {};
    let loss = 0;
    x.forEach((_, b) => {
      const alone = m.forward({ x: [x[b]], y: [y[b]] });
      const T = batch.T;
      checkClose(`${spec.cell} yhat ${b}`, batch.yhat.subarray(b * T * 5, (b * T + y[b].length) * 5), alone.yhat, 1e-5, 1e-3);
      assert.ok(batch.yhat.subarray((b * T + y[b].length) * 5, (b + 1) * T * 5).every((u) => u === 0), 'padding is zero');
      const ga = m.computeGradients({ x: [x[b]], y: [y[b]] });
      loss += ga.loss;
      addGrads(summed, ga.grads);
    });
    checkClose(`${spec.cell} loss`, [g.loss], [loss], 1e-5);
    checkGrads(g.grads, summed);
    // batched greedy decoding = one source at a time
    const together = m.generateBatch(x, { maxLength: 6 });
    x.forEach((src, b) => assert.equal(together[b], m.generate(src, { maxLength: 6 }), `greedy ${b}`));
    m.dispose();
  }
});

Ragged('one-to-many: target sequences of different lengths', async () => {
  const m = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_y: 5, n_a: 4, seed: 10 });
  const x = [0, 1, 0], y = [[1, 2, 3, 4], [2], [4, 4]];
  const g = m.computeGradients({ x, y });
  const summed: Record<string, Float64Array> = {};
  let loss = 0;
  x.forEach((_, b) => {
    const ga = m.computeGradients({ x: [x[b]], y: [y[b]] });
    loss += ga.loss;
    addGrads(summed, ga.grads);
  });
  checkClose('loss', [g.loss], [loss], 1e-5);
  checkGrads(g.grads, summed);
  m.dispose();
});

Ragged.run();

// ---

const Training = suite('the training API of Network works for every architecture: evaluate, fit with validation and metrics');

Training('evaluate() = forward() loss per term; accuracy = predict(); fit() reports validation metrics', async () => {
  const rng = new Random(3);
  const seqs = Array.from({ length: 12 }, () => Array.from({ length: 1 + rng.int(4) }, () => rng.int(5)));
  const labels = seqs.map((s) => s[0] % 3);
  const m2o = await createModel({ architecture: 'many-to-one', input: 'tokens', n_x: 5, n_a: 6, n_y: 3, seed: 1 });
  const e = m2o.evaluate({ x: seqs, y: labels }, { batchSize: 5, metrics: ['accuracy', 'perplexity'] });
  checkClose('loss per sequence', [e.loss], [m2o.forward({ x: seqs, y: labels }).loss! / seqs.length], 1e-6);
  const right = m2o.predict(seqs).filter((c, i) => c === labels[i]).length;
  checkClose('accuracy', [e.accuracy!], [right / seqs.length], 1e-12);
  checkClose('perplexity', [e.perplexity!], [Math.exp(e.loss)], 1e-12);
  const fit = await m2o.fit({ x: seqs, y: labels }, { epochs: 3, batchSize: 4, validationSplit: 0.25, metrics: ['accuracy'], learningRate: 0.01 });
  assert.is(fit.history.length, 3);
  assert.ok(fit.history.every((h) => h.val !== undefined && h.val.accuracy !== undefined && h.metrics!.accuracy !== undefined));
  // the decoders: per-token loss and accuracy of the teacher-forced outputs
  const ed = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 4, n_a: 6, startToken: 0, reduction: 'mean', seed: 2 });
  const targets = seqs.map((s) => s.map((v) => 1 + (v % 3)));
  const te = ed.evaluate({ x: seqs, y: targets }, { metrics: ['accuracy'] });
  checkClose('encoder-decoder loss per token', [te.loss], [ed.forward({ x: seqs, y: targets }).loss], 1e-6);
  const { yhat, T } = ed.forward({ x: seqs, y: targets });
  let hits = 0, tokens = 0;
  targets.forEach((s, b) => s.forEach((v, t) => {
    const p = Array.from(yhat.subarray((b * T + t) * 4, (b * T + t + 1) * 4));
    hits += p.indexOf(Math.max(...p)) === v ? 1 : 0;
    tokens++;
  }));
  checkClose('encoder-decoder accuracy', [te.accuracy!], [hits / tokens], 1e-12);
  const gen = await createModel({ architecture: 'one-to-many', n_y: 4, n_a: 6, output: 'sigmoid', seed: 3 });
  const bits = seqs.map((s) => s.map((v) => [v & 1, (v >> 1) & 1, 0, 1]));
  const ge = gen.evaluate({ x: bits.map(() => [0, 0, 0, 0]), y: bits }, { metrics: ['accuracy'] });
  assert.ok(ge.accuracy! >= 0 && ge.accuracy! <= 1);
  await rejectsWith(gen.fit({ x: bits.map(() => [0, 0, 0, 0]), y: bits }, { metrics: ['perplexity'] }), RangeError, /'perplexity' is not available for this model's outputs; it reports 'accuracy'/);
  m2o.dispose(); ed.dispose(); gen.dispose();
});

Training('dropout between stacked layers: on in training only, seeded, refused for one layer', async () => {
  const spec = { architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 4, n_a: 6, layers: 2, startToken: 0, seed: 4 } as const;
  const plain = await createModel(spec);
  const dropped = await createModel({ ...spec, dropout: 0.5 });
  const again = await createModel({ ...spec, dropout: 0.5 });
  assert.equal(dropped.config.encoder.dropout, 0.5);
  assert.equal(dropped.config.decoder.dropout, 0.5);
  const batch = { x: [[1, 2, 3], [4]], y: [[1, 2], [3, 1, 2]] };
  checkSame('inference: no dropout', dropped.forward(batch).yhat, plain.forward(batch).yhat);
  const g = dropped.computeGradients(batch), g0 = plain.computeGradients(batch);
  assert.ok(Math.abs(g.loss - g0.loss) > 1e-6, 'training: masks change the loss');
  checkSame('the same seed draws the same masks', again.computeGradients(batch).grads['encoder.weight_ih_l1'], g.grads['encoder.weight_ih_l1']);
  await rejectsWith(createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, dropout: 0.2 }), RangeError, /dropout acts between stacked layers and needs layers ≥ 2, got 1/);
  const m2o = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, layers: 3, dropout: 0.3, seed: 1 });
  const x = [[[1, 0], [0, 1]], [[1, 1]]];
  checkSame('many-to-one inference', m2o.forward({ x }).yhat, m2o.forward({ x }).yhat);
  for (const m of [plain, dropped, again, m2o]) m.dispose();
});

Training.run();

// ---

const Files = suite('model files: save() → loadModel() rebuilds the architecture, weights and tokenizers');

Files('every architecture round-trips: config, weights bit for bit, outputs', async () => {
  const chars = CharTokenizer.fromText('the quick brown fox');
  const specs = [
    { architecture: 'one-to-one', cell: 'gru', layers: 2, n_x: 3, n_a: 4, n_y: 2, output: 'sigmoid', seed: 1 },
    { architecture: 'one-to-many', cell: 'lstm', n_y: chars.size, n_a: 5, tokenizers: { y: chars }, seed: 2 },
    { architecture: 'many-to-one', bidirectional: true, input: 'tokens', n_x: chars.size, n_a: 4, n_y: 3, tokenizers: { x: chars }, seed: 3 },
    { architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: chars.size, n_a: 4, n_y: chars.size, tokenizers: { x: chars, y: chars }, seed: 4 },
    { architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: chars.size, n_y: chars.size, n_a: 4, encoder: { bidirectional: true }, decoder: { n_a: 6 }, tokenizers: { x: chars, y: chars }, seed: 5 },
  ] as const;
  for (const spec of specs) {
    const m = await createModel(spec);
    const bytes = m.save();
    const copy = await loadModel(bytes);
    assert.is(copy.architecture, m.architecture);
    assert.equal(copy.toJSON(), m.toJSON(), `${spec.architecture}: config`);
    checkSame(`${spec.architecture}: weights`, copy.getWeights(), m.getWeights());
    checkSame(`${spec.architecture}: the file is the same`, copy.save(), bytes);
    const t = (copy as { tokenizers: { x?: CharTokenizer; y?: CharTokenizer } }).tokenizers;
    if ('tokenizers' in spec) assert.equal((t.x ?? t.y)!.tokens, chars.tokens, `${spec.architecture}: tokenizer`);
    // a model's config makes another model of its architecture, with the same initial weights
    assert.is(m.config.architecture, spec.architecture, `${spec.architecture}: config.architecture`);
    const twin = await createModel(m.config as never) as typeof m;
    assert.is(twin.architecture, m.architecture);
    checkSame(`${spec.architecture}: createModel(model.config)'s weights`, twin.getWeights(), m.getWeights());
    m.dispose();
    copy.dispose();
    twin.dispose();
  }
  // a createRNN model's config names no architecture: the error says which it is
  const rnn = await createRNN({ n_x: 3, n_a: 4, n_y: 3, seed: 6 });
  await rejectsWith(createModel(rnn.config as never), TypeError,
    /^createModel: config.architecture is required, one of 'one-to-one', .*, 'encoder-decoder' \(a config for createRNN, or a createRNN model's config, is architecture 'many-to-many'\)$/);
  rnn.dispose();
  const ed = await createModel(specs[4]);
  const back = await loadModel(ed.save(), { architecture: 'encoder-decoder' });
  const src = chars.encode('fox');
  assert.equal(back.generate(src, { maxLength: 5 }), ed.generate(src, { maxLength: 5 }), 'same greedy decoding');
  assert.is(back.tokenizers.y!.decode(chars.encode('the', { bos: true, eos: true })), 'the');
  ed.dispose(); back.dispose();
});

Files('loadModel refuses a file of another architecture; an RNN file loads as many-to-many; loadWeights checks first', async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  await rejectsWith(loadModel(m.save(), { architecture: 'encoder-decoder' }), TypeError, /the file holds a 'many-to-one' model, expected 'encoder-decoder'/);
  const rnn = await createRNN({ n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const mm = await loadModel(rnn.save());
  assert.is(mm.architecture, 'many-to-many');
  checkSame('RNN weights', mm.getWeights(), rnn.getWeights());
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: 2, n_y: 3, n_a: 4, encoder: { layers: 2 }, seed: 1 });
  const w = ed.getWeights();
  throwsWith(() => ed.loadWeights(m.save()), RangeError, /the file has no tensor "encoder.weight_ih_l0"/);
  checkSame('unchanged', ed.getWeights(), w);
  const other = await createModel({ architecture: 'encoder-decoder', n_x: 2, n_y: 3, n_a: 4, encoder: { layers: 2 }, seed: 2 });
  ed.loadWeights(other.save());
  checkSame('loaded', ed.getWeights(), other.getWeights());
  for (const x of [m, rnn, mm, ed, other]) x.dispose();
});

Files.run();

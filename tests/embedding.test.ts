// The embedding layer: PyTorch parity (nn.Embedding + nn.RNN/LSTM/GRU + nn.Linear, forward and
// every gradient, padding_idx, tied weights), files in both directions, gradient checks against
// finite differences of the f64 references on every architecture, frozen tables under every
// optimizer, pretrained vectors, and the config's checks.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createModel, createRNN, encodeSafetensors, loadModel, loadRNN, Random, type ModelConfig, type OptimizerConfig,
} from '../dist/index.js';
import { refGradientsCells, refForwardCells, type CellsConfig } from './_reference_cells.js';
import { encDecLoss, finiteDifferences, lastStateLoss, oneToManyLoss } from './_reference_arch.js';
import { checkGradient, checkSame, refParams, throwsWith, uniforms } from './_utils.js';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_embedding.json'), 'utf8'));

/** The first index where |a − e| > atol + rtol·|e| (PyTorch's allclose fails), or −1. */
function firstApart(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): number {
  for (let i = 0; i < expected.length; i++) if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) return i;
  return -1;
}

function allclose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  const i = firstApart(actual, expected);
  if (i >= 0) assert.unreachable(`${label}[${i}]: got ${actual[i]}, PyTorch ${expected[i]} (|diff| ${Math.abs(actual[i] - expected[i]).toExponential(2)})`);
}

const rows = (flat: number[], B: number, n: number) => Array.from({ length: B }, (_, b) => flat.slice(b * n, (b + 1) * n));

const Parity = suite('embedding: PyTorch parity (nn.Embedding + nn.RNN / nn.LSTM / nn.GRU + nn.Linear)');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of fixture.cases) {
    Parity(`${backend}: ${fx.name}`, async () => {
      const model = await createRNN({ ...fx.config, backend, seed: 1 });
      try {
        for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
        const batch = { x: rows(fx.tokens, fx.B, fx.T), y: rows(fx.y, fx.B, fx.T), a0: fx.h0, ...(fx.c0 ? { c0: fx.c0 } : {}) };
        const f = model.forward(batch);
        allclose('output', f.a, fx.out);
        allclose('h_n', f.aT, fx.hT);
        if (fx.cT) allclose('c_n', f.cT!, fx.cT);
        allclose('yhat', f.yhat, fx.yhat);
        allclose('loss', [f.loss!], [fx.loss]);
        const g = model.computeGradients(batch);
        assert.equal(Object.keys(g.grads).sort(), Object.keys(fx.grads).sort(), 'the same parameters as named_parameters()');
        for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
        allclose('grad h0', g.da0, fx.dh0);
        if (fx.dc0) allclose('grad c0', g.dc0!, fx.dc0);
        const pad = fx.config.embedding.paddingIdx;
        if (pad !== null) {
          const E = fx.config.embedding.size;
          assert.ok(fx.tokens.includes(pad), 'the padding id is read');
          // the lookup gives the padding row nothing (a tied head still does, as in PyTorch)
          if (!fx.config.tieWeights) checkSame('padding row gradient', g.grads['embedding.weight'].subarray(pad * E, (pad + 1) * E), new Float32Array(E));
        }
      } finally {
        model.dispose();
      }
    });
  }
}

Parity('the check can fail: a table entry off by 0.01 moves the outputs beyond tolerance', async () => {
  const fx = fixture.cases[2];
  const model = await createRNN({ ...fx.config, seed: 1 });
  for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
  const table = model.getParam('embedding.weight');
  table[fx.tokens[0] * fx.config.embedding.size] += 1e-2;
  model.setParam('embedding.weight', table);
  const f = model.forward({ x: rows(fx.tokens, fx.B, fx.T), a0: fx.h0, c0: fx.c0 });
  assert.ok(firstApart(f.a, fx.out) >= 0, 'a wrong table must not pass');
  model.dispose();
});

Parity.run();

// ---

const Files = suite('embedding: files rnn-wasm writes load into PyTorch, and PyTorch files load here');

for (const run of fixture.files) {
  Files(`${run.file}: save() writes the committed bytes, and the model PyTorch loaded from them computes what rnn-wasm does`, async () => {
    const script = './fixtures/make_rnnwasm_embedding.mjs';
    const { fileBytes } = await import(script);
    const committed = new Uint8Array(readFileSync(join(__dirname, 'fixtures', run.file)));
    checkSame('file bytes', await fileBytes(run.file), committed);
    const model = await loadModel(committed, { architecture: 'many-to-many' });
    const f = model.forward({ x: rows(run.tokens, run.B, run.T) });
    allclose('output', f.a, run.out);
    allclose('yhat', f.yhat, run.yhat);
    model.dispose();
  });
}

Files("PyTorch's word_language_model names (encoder = nn.Embedding, rnn, decoder = nn.Linear, tied) load with the prefixes found", async () => {
  const V = 7, E = 4;
  const src = await createRNN({ cell: 'lstm', n_x: V, n_a: E, n_y: V, input: 'tokens', embedding: E, tieWeights: true, seed: 3 });
  // the file PyTorch's example writes: encoder.weight, rnn.*, decoder.weight (= encoder.weight), decoder.bias
  const tensors = src.layout.entries.map((e) => {
    const name = e.name === 'embedding.weight' ? 'encoder.weight' : e.name === 'head.bias' ? 'decoder.bias' : e.name;
    return { name, shape: [...e.shape], data: src.getParam(e.name) };
  });
  tensors.push({ name: 'decoder.weight', shape: [V, E], data: src.getParam('embedding.weight') });
  const model = await loadRNN(encodeSafetensors(tensors), { config: src.toJSON() });
  checkSame('weights', model.getWeights(), src.getWeights());
  // one copy of a tied pair is enough (safetensors' save_model drops the other) …
  const one = await loadRNN(encodeSafetensors(tensors.filter((t) => t.name !== 'decoder.weight')), { config: src.toJSON(), headPrefix: 'decoder.' });
  checkSame('weights from one copy', one.getWeights(), src.getWeights());
  // … and two copies that differ are refused
  const bad = tensors.map((t) => t.name === 'decoder.weight' ? { ...t, data: t.data.map((v) => v + 1) } : t);
  try {
    await loadRNN(encodeSafetensors(bad), { config: src.toJSON() });
    assert.unreachable('differing tied copies must be refused');
  } catch (e) {
    assert.match((e as Error).message, /one tied tensor .* different values/);
  }
  src.dispose(); model.dispose(); one.dispose();
});

Files.run();

// ---

const Grad = suite('embedding: gradients against finite differences of the f64 references');

const cellCases = [
  { cell: 'lstm', layers: 1, bidirectional: false, E: 3, n_a: 4, n_x: 6, n_y: 3, pad: 0, tie: false, reduction: 'sum' },
  { cell: 'gru', layers: 2, bidirectional: true, E: 2, n_a: 3, n_x: 5, n_y: 4, pad: 2, tie: false, reduction: 'mean' },
  { cell: 'rnn', layers: 2, bidirectional: false, E: 4, n_a: 4, n_x: 5, n_y: 5, pad: 1, tie: true, reduction: 'sum' },
  { cell: 'lstm', layers: 1, bidirectional: true, E: 6, n_a: 3, n_x: 4, n_y: 4, pad: null, tie: true, reduction: 'mean' },
] as const;

cellCases.forEach((c, i) => {
  Grad(`${c.cell} L=${c.layers}${c.bidirectional ? ' bi' : ''} V=${c.n_x} E=${c.E}${c.pad === null ? '' : ` pad=${c.pad}`}${c.tie ? ' tied' : ''} ${c.reduction}`, async () => {
    const model = await createRNN({
      cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, layers: c.layers, bidirectional: c.bidirectional, input: 'tokens',
      embedding: { size: c.E, paddingIdx: c.pad ?? undefined }, tieWeights: c.tie, reduction: c.reduction, seed: 90 + i,
    });
    const rng = new Random(100 + i);
    const T = 4, B = 2, states = c.layers * (c.bidirectional ? 2 : 1) * B * c.n_a;
    const x = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(c.n_x)));
    if (c.pad !== null) x[1][2] = c.pad;
    const y = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(c.n_y)));
    const h0 = uniforms(rng, states, 0.8), c0 = uniforms(rng, states, 0.8);
    // the reference's names: PyTorch's nn.LSTM's own (no 'rnn.'), and a separate head.weight when tied
    const p: Record<string, Float64Array> = {};
    for (const e of model.layout.entries) p[e.name.replace(/^rnn\./, '')] = Float64Array.from(model.getParam(e.name));
    if (c.tie) p['head.weight'] = Float64Array.from(model.getParam('embedding.weight'));
    const cfg: CellsConfig = { ...c, input: 'tokens', output: 'softmax', embedding: { E: c.E, ...(c.pad === null ? {} : { paddingIdx: c.pad }) } };
    const ref = { T, B, x: x.flat(), y: y.flat(), h0, ...(c.cell === 'lstm' ? { c0 } : {}) };
    const expected = refGradientsCells(cfg, p, ref);
    const got = model.computeGradients({ x, y, a0: h0, ...(c.cell === 'lstm' ? { c0 } : {}) });
    const loss = refForwardCells(cfg, p, ref).loss;
    assert.ok(Math.abs(got.loss - loss) <= 1e-5 * Math.max(1, loss), `loss ${got.loss} vs ${loss}`);
    for (const e of model.layout.entries) {
      const name = e.name.replace(/^rnn\./, '');
      const want = c.tie && name === 'embedding.weight'
        ? expected.grads[name].map((v, j) => v + expected.grads['head.weight'][j]) : expected.grads[name];
      checkGradient(e.name, got.grads[e.name], want);
    }
    checkGradient('h0', got.da0, expected.dh0);
    model.dispose();
  });
});

Grad('many-to-one gru bi, source padding id: the table gets each sequence\'s rows, the padding row nothing', async () => {
  const c = { cell: 'gru', layers: 1, bidirectional: true, input: 'tokens', output: 'softmax', reduction: 'sum', n_x: 6, n_a: 3, n_y: 3 } as const;
  const model = await createModel({ architecture: 'many-to-one', ...c, embedding: { size: 4, paddingIdx: 0 }, seed: 7 });
  const x = [[1, 0, 2], [3], [5, 4, 0, 1]], y = [2, 0, 1];
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = { ...c, embedding: { E: 4, table: 'embedding.weight' } };
  assert.ok(Math.abs(got.loss - lastStateLoss(ref, p, x, y)) < 1e-5 * got.loss, 'loss');
  const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x, y));
  expected['embedding.weight'].fill(0, 0, 4);                           // padding_idx: no gradient
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('one-to-one lstm: a token classifier through a table', async () => {
  const c = { cell: 'lstm', layers: 2, input: 'tokens', output: 'softmax', reduction: 'mean', n_x: 5, n_a: 3, n_y: 2 } as const;
  const model = await createModel({ architecture: 'one-to-one', ...c, embedding: 3, seed: 8 });
  const x = [0, 4, 2, 2], y = [1, 0, 1, 0];
  const got = model.computeGradients({ x, y });
  const p = refParams(model);
  const ref = { ...c, bidirectional: false, embedding: { E: 3, table: 'embedding.weight' } };
  const expected = finiteDifferences(p, () => lastStateLoss(ref, p, x.map((v) => [v]), y));
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  model.dispose();
});

Grad('one-to-many lstm, tied: the table is the decoder\'s input and its output layer', async () => {
  const c = { cell: 'lstm', layers: 1, output: 'softmax', reduction: 'sum', n_a: 3, n_y: 5 } as const;
  const model = await createModel({ architecture: 'one-to-many', ...c, embedding: 3, tieWeights: true, seed: 9 });
  const first = [1, 4, 0], y = [[2, 3, 0], [1], [4, 4, 2, 1]];
  const got = model.computeGradients({ x: first, y });
  const p = refParams(model);
  p['head.weight'] = Float64Array.from(p['embedding.weight']);
  const ref = { ...c, embedding: { E: 3, table: 'embedding.weight' } };
  assert.ok(Math.abs(got.loss - oneToManyLoss(ref, p, first, y)) < 1e-5 * got.loss, 'loss');
  const expected = finiteDifferences(p, () => oneToManyLoss(ref, p, first, y));
  const tied = expected['embedding.weight'].map((v, j) => v + expected['head.weight'][j]);
  for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], e.name === 'embedding.weight' ? tied : expected[e.name]);
  model.dispose();
});

const encDecCases = [
  { name: 'source and target tables, bidirectional lstm → lstm (linear bridge)', share: false, tie: false, enc: { cell: 'lstm', layers: 1, bidirectional: true }, dec: { cell: 'lstm', layers: 1 } },
  { name: 'one shared table, tied to the head, gru → gru', share: true, tie: true, enc: { cell: 'gru', layers: 1, bidirectional: false }, dec: { cell: 'gru', layers: 1 } },
] as const;

encDecCases.forEach((c, i) => {
  Grad(`encoder-decoder: ${c.name}`, async () => {
    const V = 5, n_a = 3;
    const model = await createModel({
      architecture: 'encoder-decoder', n_x: V, n_y: V, n_a, input: 'tokens', output: 'softmax', embedding: 3,
      shareEmbeddings: c.share, tieWeights: c.tie, encoder: c.enc, decoder: c.dec, startToken: 1, seed: 20 + i,
    });
    const x = [[1, 2, 3, 0], [4], [0, 2]], y = [[2, 0], [3, 3, 1], [4]];
    const got = model.computeGradients({ x, y });
    const p = refParams(model);
    const target = c.share ? 'encoder.embedding.weight' : 'decoder.embedding.weight';
    if (c.tie) p['head.weight'] = Float64Array.from(p[target]);
    const ref = {
      encoder: { ...c.enc, n_x: V, n_a, input: 'tokens', embedding: { E: 3, table: 'encoder.embedding.weight' } },
      decoder: { ...c.dec, n_a, n_y: V, output: 'softmax', embedding: { E: 3, table: target } },
      bridge: model.config.bridge, start: 1, reduction: 'sum',
    } as const;
    assert.ok(Math.abs(got.loss - encDecLoss(ref, p, x, y)) < 1e-5 * got.loss, 'loss');
    const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
    if (c.tie) expected[target] = expected[target].map((v, j) => v + expected['head.weight'][j]);
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    model.dispose();
  });
});

Grad.run();

// ---

const Frozen = suite('embedding: a frozen table does not move');

const optimizers: OptimizerConfig[] = [
  { type: 'sgd', learningRate: 0.1, momentum: 0.9, weightDecay: 0.1, nesterov: true },
  { type: 'adam', learningRate: 0.01, weightDecay: 0.1 },
  { type: 'adamw', learningRate: 0.01, weightDecay: 0.5 },
  { type: 'rmsprop', learningRate: 0.01, momentum: 0.5, weightDecay: 0.1 },
  { type: 'adagrad', learningRate: 0.1, weightDecay: 0.1, initialAccumulatorValue: 0.1 },
];

for (const optimizer of optimizers) {
  Frozen(`under ${optimizer.type} with weight decay${'momentum' in optimizer ? ' and momentum' : ''}, clipping and fit: every other tensor trains`, async () => {
    const model = await createModel({
      architecture: 'many-to-many', cell: 'gru', n_x: 8, n_a: 6, n_y: 3, input: 'tokens', embedding: { size: 4, frozen: true }, seed: 4,
    });
    const table = model.getParam('embedding.weight'), before = model.getWeights();
    const rng = new Random(5);
    const data = { x: Array.from({ length: 16 }, () => [rng.int(8), rng.int(8), rng.int(8)]), y: Array.from({ length: 16 }, () => [rng.int(3), rng.int(3), rng.int(3)]) };
    await model.fit(data, { epochs: 3, batchSize: 4, optimizer, clipNorm: 1 });
    model.trainStep(data, { optimizer, clipValue: 0.01 });
    checkSame('embedding.weight', model.getParam('embedding.weight'), table);
    const g = model.computeGradients(data);
    checkSame('its gradient', g.grads['embedding.weight'], new Float32Array(32));
    for (const e of model.layout.entries.filter((e) => e.name !== 'embedding.weight')) {
      const now = model.getParam(e.name);
      assert.ok(now.some((v, j) => v !== before[e.offset + j]), `${e.name} trains`);
    }
    // the optimizer keeps moments for the trainable values only, and a checkpoint round-trips
    const state = model.getTrainingState();
    model.setTrainingState(state);
    checkSame('embedding.weight after a checkpoint', model.getParam('embedding.weight'), table);
    model.dispose();
  });
}

Frozen('pretrained vectors: setParam loads them, frozen keeps them; the same model unfrozen moves them', async () => {
  const V = 6, E = 3;
  const vectors = Float32Array.from({ length: V * E }, (_, i) => Math.sin(i));
  const train = async (frozen: boolean) => {
    const m = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: V, n_a: 4, n_y: 2, input: 'tokens', embedding: { size: E, frozen }, seed: 1 });
    m.setParam('embedding.weight', vectors);
    await m.fit({ x: [[1, 2], [3, 4, 5], [0]], y: [0, 1, 1] }, { epochs: 5, batchSize: 2, learningRate: 0.05 });
    const t = m.getParam('embedding.weight');
    m.dispose();
    return t;
  };
  checkSame('frozen', await train(true), vectors);
  const moved = await train(false);
  assert.ok(moved.some((v, i) => v !== vectors[i]), 'unfrozen vectors train');
});

Frozen.run();

// ---

const Config = suite('embedding: config, names and errors');

Config('names: nn.Embedding + the recurrent module under rnn. + head, PyTorch shapes; the config round-trips through the file', async () => {
  const model = await createModel({ architecture: 'many-to-many', cell: 'lstm', n_x: 20, n_a: 8, n_y: 5, layers: 2, bidirectional: true, input: 'tokens', embedding: { size: 6, paddingIdx: 3 }, seed: 2 });
  const shapes = Object.fromEntries(model.layout.entries.map((e) => [e.name, e.shape]));
  assert.equal(shapes['embedding.weight'], [20, 6]);
  assert.equal(shapes['rnn.weight_ih_l0'], [32, 6]);
  assert.equal(shapes['rnn.weight_ih_l1_reverse'], [32, 16]);
  assert.equal(shapes['head.weight'], [5, 16]);
  assert.equal(model.config.embedding, { size: 6, paddingIdx: 3, frozen: false });
  checkSame('the padding row starts at zero', model.getParam('embedding.weight').subarray(18, 24), new Float32Array(6));
  const again = await loadModel(model.save());
  assert.equal(again.toJSON(), model.toJSON());
  checkSame('weights', again.getWeights(), model.getWeights());
  // a model of many rows is 20 × 6 + the recurrent tensors of E = 6 inputs, not of V = 20
  const oneHot = await createModel({ architecture: 'many-to-many', cell: 'lstm', n_x: 20, n_a: 8, n_y: 5, layers: 2, bidirectional: true, input: 'tokens', seed: 2 });
  assert.is(model.numParams - oneHot.numParams, 20 * 6 - 2 * 32 * (20 - 6));
  model.dispose(); again.dispose(); oneHot.dispose();
});

Config('bad embedding configs are refused, naming the field', async () => {
  const base = { architecture: 'many-to-many', n_x: 10, n_a: 4, n_y: 3, input: 'tokens' } as const;
  const refuse = async (config: object, type: ErrorConstructor, pattern: RegExp) => {
    try {
      await createModel(config as ModelConfig);
    } catch (e) {
      assert.instance(e, type, (e as Error).message);
      assert.match((e as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected ${pattern}`);
  };
  await refuse({ ...base, input: 'dense', embedding: 4 }, TypeError, /createModel: embedding maps token ids and needs input 'tokens', got input 'dense'/);
  await refuse({ ...base, embedding: 0 }, RangeError, /embedding must be an integer ≥ 1, got 0/);
  await refuse({ ...base, embedding: '4' }, TypeError, /embedding must be the embedding size E or \{ size, paddingIdx\?, frozen\? \}, got "4"/);
  await refuse({ ...base, embedding: { size: 4, paddingIdx: 10 } }, RangeError, /embedding.paddingIdx must be a token id in \[0, n_x\) = \[0, 10\), got 10/);
  await refuse({ ...base, embedding: { size: 4, frozen: 'yes' } }, TypeError, /embedding.frozen must be true or false/);
  await refuse({ ...base, embedding: { size: 4, dim: 3 } }, TypeError, /createModel: embedding has no field "dim"/);
  await refuse({ ...base, tieWeights: true }, TypeError, /tieWeights ties the output layer to the embedding table; give embedding too/);
  await refuse({ ...base, embedding: 4, tieWeights: true }, RangeError, /needs n_y = n_x and E = n_a/);
  await refuse({ ...base, n_y: 10, embedding: { size: 4, frozen: true }, tieWeights: true }, TypeError, /would freeze the output layer too/);
  await refuse({ architecture: 'one-to-many', n_y: 5, n_a: 4, output: 'linear', embedding: 3 }, TypeError, /needs output 'softmax', got output 'linear'/);
  const ed = { architecture: 'encoder-decoder', n_x: 6, n_y: 7, n_a: 4, input: 'tokens' } as const;
  await refuse({ ...ed, embedding: 3, shareEmbeddings: true }, RangeError, /shareEmbeddings needs one vocabulary for source and target, got n_x = 6 and n_y = 7/);
  await refuse({ ...ed, n_y: 6, encoder: { embedding: 3 }, decoder: { embedding: 4 }, shareEmbeddings: true }, RangeError, /the same embedding settings on both sides/);
  await refuse({ ...ed, input: 'dense', encoder: { embedding: 3 } }, TypeError, /encoder.embedding maps token ids and needs input 'tokens'/);
  await refuse({ ...ed, input: 'dense', output: 'linear', embedding: 3 }, TypeError, /this model reads none/);
  await refuse({ ...ed, embedding: 3, tieWeights: true }, RangeError, /needs n_y = n_y and E = decoder.n_a/);
  await refuse({ architecture: 'many-to-one', n_x: 6, n_a: 4, n_y: 2, input: 'tokens', embedding: 3, shareEmbeddings: true }, TypeError, /'many-to-one' takes no shareEmbeddings/);
});

Config('token ids past the vocabulary are refused before wasm runs, and the model is unchanged', async () => {
  const model = await createRNN({ n_x: 5, n_a: 3, n_y: 2, input: 'tokens', embedding: 2, seed: 1 });
  const w = model.getWeights();
  throwsWith(() => model.forward({ x: [[1, 5]] }), RangeError, /x\[0\]\[1\] = 5 is out of range; token ids must be in \[0, n_x\) = \[0, 5\)/);
  checkSame('weights', model.getWeights(), w);
  model.dispose();
});

Config.run();

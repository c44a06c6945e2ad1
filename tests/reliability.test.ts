// Regression tests of issue 9's defects: the loss forward() reports, sizes and lengths refused
// before anything is allocated, model files checked against their config before a model is
// built (every error naming the function called), unknown keys, the encoder-decoder's step(),
// and Symbol.dispose. Each test failed before its fix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Arena, CharTokenizer, createModel, createRNN, decodeSafetensors, encodeSafetensors, getEngine, loadModel, loadRNN,
  MAX_BEAM_CANDIDATES, MAX_GENERATED, MAX_LENGTH, MAX_PARAMS,
} from '../dist/index.js';
import { rejectsWith, throwsWith, unsealed } from './_utils.js';

/** A model file with its config metadata replaced by `config` (any JSON value), changed on
 *  purpose: without its checksum. */
function withConfig(bytes: Uint8Array, config: unknown): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return encodeSafetensors(tensors, { ...unsealed(file.metadata), config: JSON.stringify(config) });
}

/** A model file with one tensor's values replaced, without its checksum. */
function withTensor(bytes: Uint8Array, name: string, data: Float32Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = [...file.tensors].map(([n, t]) => ({ name: n, shape: t.shape, data: n === name ? data : t.data }));
  return encodeSafetensors(tensors, unsealed(file.metadata));
}

// ---

const Loss = suite('the loss forward() reports');

/** Softmax logits that overflow to +Infinity in every class: the cross-entropy is NaN. */
function overflow(m: { setParam(name: string, v: ArrayLike<number>): void }, n_a: number, n_y: number): void {
  m.setParam('head.weight', new Float32Array(n_y * n_a).fill(3e38));
  m.setParam('head.bias', new Float32Array(n_y).fill(3e38));
}

Loss('a NaN loss is returned as NaN, not left out (RNN, one-to-one, many-to-one); without targets there is none', async () => {
  const rnn = await createRNN({ n_x: 1, n_a: 1, n_y: 2, activation: 'relu', seed: 1 });
  rnn.setParam('W_ax', [1]);
  overflow(rnn, 1, 2);
  const f = rnn.forward({ x: [[[1], [1]]], y: [[0, 1]] });
  assert.ok('loss' in f && Number.isNaN(f.loss), `RNN loss ${f.loss}`);
  assert.not.ok('loss' in rnn.forward({ x: [[[1], [1]]] }), 'no targets, no loss');
  const one = await createModel({ architecture: 'one-to-one', n_x: 1, n_a: 1, n_y: 2, activation: 'relu', seed: 1 });
  one.setParam('W_ax', [1]);
  overflow(one, 1, 2);
  const g = one.forward({ x: [[1]], y: [1] });
  assert.ok('loss' in g && Number.isNaN(g.loss), `one-to-one loss ${g.loss}`);
  assert.not.ok('loss' in one.forward({ x: [[1]] }));
  const many = await createModel({ architecture: 'many-to-one', n_x: 1, n_a: 1, n_y: 2, activation: 'relu', seed: 1 });
  many.setParam('W_ax', [1]);
  overflow(many, 1, 2);
  const h = many.forward({ x: [[[1], [1]]], y: [0] });
  assert.ok('loss' in h && Number.isNaN(h.loss), `many-to-one loss ${h.loss}`);
  rnn.dispose(); one.dispose(); many.dispose();
});

Loss("reduction 'mean' over no targets (every step −1) is NaN with a zero gradient, as PyTorch", async () => {
  for (const architecture of [undefined, 'many-to-many'] as const) {
    const config = { n_x: 3, n_a: 4, n_y: 3, input: 'tokens', reduction: 'mean', seed: 2 } as const;
    const m = architecture ? await createModel({ ...config, architecture }) : await createRNN(config);
    const none = { x: [[0, 1, 2], [2, 1]], y: [[-1, -1, -1], [-1, -1]] };
    assert.ok(Number.isNaN(m.forward(none).loss), 'forward');
    const { loss, grads } = m.computeGradients(none);
    assert.ok(Number.isNaN(loss), 'computeGradients');
    for (const [name, g] of Object.entries(grads)) assert.ok(g.every((v) => v === 0), `${name}: zero gradient`);
    assert.ok(Number.isNaN(m.evaluate(none).loss), 'evaluate');
    const weights = m.getWeights();
    throwsWith(() => m.trainStep(none), RangeError, /trainStep: the loss is NaN at optimizer step 1; the weights were left unchanged/);
    assert.is(m.trainStep(none, { onNonFinite: 'skip' }).applied, false);
    assert.equal(m.getWeights(), weights, 'nothing stepped');
    // 'sum' over no targets is 0, and a batch with targets has a finite mean
    const sum = await createRNN({ ...config, reduction: 'sum' });
    assert.is(sum.forward(none).loss, 0);
    assert.ok(Number.isFinite(m.forward({ x: none.x, y: [[-1, 0, -1], [-1, -1]] }).loss!));
    m.dispose(); sum.dispose();
  }
});

Loss("fit treats a batch with no targets under 'mean' as a non-finite loss: refused, skipped or stopped", async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', reduction: 'mean', seed: 4 });
  const data = { x: [[0, 1], [1, 2]], y: [[-1, -1], [0, 1]] };
  const weights = m.getWeights();
  await rejectsWith(m.fit(data, { batchSize: 1, shuffle: false }), RangeError, /^fit: the loss is NaN at optimizer step 1 \(epoch 1 of 1, batch 1 of 2\)/);
  assert.equal(m.getWeights(), weights);
  const skipped = await m.fit(data, { batchSize: 1, shuffle: false, onNonFinite: 'skip' });
  assert.equal([skipped.steps, skipped.skippedSteps], [1, 1]);
  assert.ok(Number.isFinite(skipped.epochLosses[0]), 'the epoch loss counts the batch with targets only');
  m.dispose();
});

Loss("a batch whose targets are all ignored says so, not to lower the learning rate (trainStep, fit, the ignoreIndex)", async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 3, input: 'tokens', reduction: 'mean', ignoreIndex: -100, seed: 5 });
  const none = { x: [[0, 1], [2]], y: [-100, -1] };
  const said = /the loss is NaN at optimizer step 1; the weights were left unchanged \(every target of the batch is skipped \(−1 or the ignoreIndex\) or weighs 0, so reduction 'mean' divides by 0 and the gradient is 0, as in PyTorch; pass onNonFinite: 'skip' to pass over such batches, or use reduction 'sum'\)$/;
  throwsWith(() => m.trainStep(none), RangeError, said);
  await rejectsWith(m.fit({ x: [[0, 1], [1, 2]], y: [-100, 1] }, { batchSize: 1, shuffle: false }), RangeError,
    /^fit: the loss is NaN at optimizer step 1 \(epoch 1 of 1, batch 1 of 2\); .*\(every target of the batch is skipped/);
  // a loss that overflows (a gradient that is not 0) keeps the advice for a divergence
  const dense = await createRNN({ n_x: 2, n_a: 3, n_y: 2, reduction: 'mean', output: 'linear', seed: 5 });
  dense.setParam('head.bias', [3e38, 0]);
  throwsWith(() => dense.trainStep({ x: [[[0, 1]]], y: [[[1, 1]]] }), RangeError, /\(lower the learning rate, set clipNorm, or pass onNonFinite: 'skip'\)$/);
  m.dispose(); dense.dispose();
});

Loss("truncated BPTT takes no step for a window with no targets under reduction 'mean'", async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', reduction: 'mean', seed: 3 });
  const r = m.trainStep({ x: [[0, 1, 2, 0]], y: [[-1, -1, 1, 2]] }, { tbptt: 2, optimizer: 'sgd', learningRate: 0.1 });
  assert.is(r.steps, 1, 'one window has targets');
  assert.is(r.skipped, 0);
  assert.ok(Number.isFinite(r.loss), `the batch's loss ${r.loss}`);
  m.dispose();
});

Loss.run();

// ---

const Sizes = suite('sizes are checked from the config, before anything is allocated');

Sizes('a huge layers, n_a or n_x is a RangeError naming the field, at once', async () => {
  const before = Arena.liveRegions;
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, layers: 4294967296 }), RangeError,
    /^createRNN: layers = 4294967296 makes 171798691846 parameters \(with n_x = 3, n_a = 4, n_y = 2\); a model holds at most 268419072/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 1e6, n_y: 2 }), RangeError, /^createRNN: n_a = 1000000 makes .* parameters/);
  await rejectsWith(createRNN({ n_x: 3e8, n_a: 4, n_y: 2, input: 'tokens' }), RangeError, /^createRNN: n_x = 300000000 makes/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, encoder: { layers: 1e9 } }), RangeError,
    /^createModel: encoder\.layers = 1000000000 makes .* parameters \(with n_x = 3, n_y = 3, encoder\.n_a = 4, decoder\.n_a = 4, decoder\.layers = 1\)/);
  await rejectsWith(createModel({ architecture: 'one-to-many', n_y: 3, n_a: 40000 }), RangeError, /^createModel: n_a = 40000 makes/);
  // a count past the largest double is not "NaN parameters"
  await rejectsWith(createRNN({ n_x: 3, n_a: 1e308, n_y: 2 }), RangeError, /^createRNN: n_a = 1e\+308 makes more than 1\.8e\+308 parameters/);
  assert.is(Arena.liveRegions, before, 'nothing was allocated');
});

Sizes("a file whose config asks for a huge model is refused from the config, naming loadRNN / loadModel", async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const file = m.save();
  const config = m.toJSON();
  await rejectsWith(loadRNN(withConfig(file, { ...config, layers: 4294967296 })), RangeError, /^loadRNN: the file's config: layers = 4294967296 makes/);
  // 10^6 layers would fit in memory, but not this file: refused before a layout is built
  await rejectsWith(loadRNN(withConfig(file, { ...config, layers: 1e6 })), RangeError,
    /^loadRNN: the config \(n_x = 3, n_a = 4, n_y = 2, layers = 1000000\) makes a model of 4000002 tensors, the file holds 6/);
  await rejectsWith(loadModel(withConfig(file, { ...config, architecture: 'many-to-many', n_a: 1e6 })), RangeError, /^loadModel: the file's config: n_a = 1000000 makes/);
  m.dispose();
});

Sizes.run();

// ---

const Lengths = suite('generated lengths are bounded, or streamed');

Lengths('sample, generate, generateMany, generateBatch and beamSearch refuse lengths past their bound at once', async () => {
  const V = 5;
  const rnn = await createRNN({ n_x: V, n_a: 4, n_y: V, input: 'tokens', seed: 1 });
  throwsWith(() => rnn.sample({ length: 1e9 }), RangeError, /^sample: length must be at most 1000000, got 1000000000/);
  const gen = await createModel({ architecture: 'one-to-many', n_y: V, n_a: 4, startToken: 0, seed: 1 });
  throwsWith(() => gen.generate({ maxLength: 1e12 }), RangeError, /^generate: maxLength must be at most 1000000, got 1000000000000 \(stream\(\) yields/);
  throwsWith(() => gen.generateMany(10_000, { maxLength: 100_000 }), RangeError, /^generateMany: maxLength = 100000 steps of 10000 values each makes 1000000000 values; one call returns at most 10000000/);
  throwsWith(() => gen.beamSearch({ beamWidth: 1e9, maxLength: 5 }), RangeError, /^beamSearch: beamWidth = 1000000000 with a vocabulary of 5 ranks .* candidates per step; at most 4194304/);
  const vectors = await createModel({ architecture: 'one-to-many', n_y: 1000, n_a: 4, output: 'linear', seed: 1 });
  throwsWith(() => vectors.generate({ maxLength: 100_000 }), RangeError, /^generate: maxLength = 100000 steps of 1000 values each/);
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: V, n_y: V, n_a: 4, input: 'tokens', seed: 1 });
  throwsWith(() => ed.generate([1, 2], { maxLength: 1e12 }), RangeError, /^generate: maxLength must be at most 1000000/);
  throwsWith(() => ed.generateBatch([[1], [2]], { maxLength: 1e7 }), RangeError, /^generateBatch: maxLength must be at most 1000000/);
  throwsWith(() => ed.beamSearch([1], { beamWidth: 1e7, maxLength: 3 }), RangeError, /^beamSearch: beamWidth = 10000000/);
  // stream builds no array: any length, read lazily
  const it = gen.stream({ maxLength: 1e12 });
  const three = [it.next().value, it.next().value, it.next().value] as number[];
  assert.ok(three.every((t) => Number.isInteger(t) && t >= 0 && t < V), `streamed ${three}`);
  const it2 = ed.stream([1, 2], { maxLength: Number.MAX_SAFE_INTEGER, stop: null });
  assert.ok(Number.isInteger(it2.next().value));
  for (const m of [rnn, gen, vectors, ed]) m.dispose();
});

Lengths('the bounds are exported as documented', () => {
  assert.equal([MAX_PARAMS, MAX_LENGTH, MAX_GENERATED, MAX_BEAM_CANDIDATES], [268419072, 1_000_000, 10_000_000, 4_194_304]);
});

Lengths.run();

// ---

const Files = suite('model files are checked in full before a model is built');

Files('a config that is null, not an object, or of the wrong types is refused naming the loader and the field', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const file = m.save();
  for (const [load, where] of [[loadRNN, 'loadRNN'], [loadModel, 'loadModel']] as const) {
    await rejectsWith(load(withConfig(file, null)), TypeError, new RegExp(`^${where}: the file's config must be a JSON object, got null`));
    await rejectsWith(load(withConfig(file, [1, 2])), TypeError, new RegExp(`^${where}: the file's config must be a JSON object, got an array`));
    await rejectsWith(load(withConfig(file, { ...m.toJSON(), n_a: '4' })), TypeError, new RegExp(`^${where}: the file's config: n_a must be an integer ≥ 1, got "4"`));
    await rejectsWith(load(withConfig(file, { ...m.toJSON(), cell: 5 })), TypeError, new RegExp(`^${where}: the file's config: cell must be one of`));
    await rejectsWith(load(withConfig(file, { ...m.toJSON(), layer: 2 })), TypeError, new RegExp(`^${where}: the file's config: config has no field "layer"; did you mean layers\\?`));
  }
  await rejectsWith(loadModel(withConfig(file, { ...m.toJSON(), tokenizers: { x: { kind: 'char', tokens: 5 } } })), TypeError,
    /^loadModel: the file's tokenizers\.x: /);
  await rejectsWith(loadModel(withConfig(file, { ...m.toJSON(), tokenizers: null })), TypeError, /^loadModel: the file's tokenizers must be an object/);
  m.dispose();
});

Files('non-finite weights, and broken bytes, are refused naming loadRNN / loadWeights (not setWeights or safetensors)', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const nan = withTensor(m.save(), 'weight_hh_l0', new Float32Array(16).fill(NaN));
  await rejectsWith(loadRNN(nan), RangeError, /^loadRNN: tensor "weight_hh_l0" holds NaN at \[0\]; a model file holds finite values only/);
  await rejectsWith(loadModel(nan), RangeError, /^loadModel: tensor "weight_hh_l0" holds NaN/);
  const weights = m.getWeights();
  throwsWith(() => m.loadWeights(nan), RangeError, /^loadWeights: tensor "weight_hh_l0" holds NaN/);
  throwsWith(() => m.loadWeights(m.save().subarray(0, 20)), Error, /^loadWeights: safetensors: the header length \d+ goes past the end/);
  await rejectsWith(loadRNN(new Uint8Array(3)), Error, /^loadRNN: safetensors: the file is 3 bytes/);
  throwsWith(() => m.setTrainingState(new Uint8Array(3)), Error, /^setTrainingState: safetensors: the file is 3 bytes/);
  assert.equal(m.getWeights(), weights, 'unchanged');
  m.dispose();
});

Files('a file that does not match its config fails before the model is built: no memory is taken', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const { kernels } = await getEngine('auto');
  const bytes = kernels.memory.buffer.byteLength;
  const regions = Arena.liveRegions;
  // a config for 10 000 × 10 000 recurrent weights (400 MB) on a file of 4 × 4 ones
  const damaged = withConfig(m.save(), { ...m.toJSON(), n_a: 10_000 });
  await rejectsWith(loadRNN(damaged), RangeError, /^loadRNN: tensor "weight_ih_l0" has shape \[4, 3\], the model's weight_ih_l0 needs \[10000, 3\]/);
  await rejectsWith(loadModel(damaged), RangeError, /^loadModel: tensor "weight_ih_l0" has shape \[4, 3\]/);
  assert.is(kernels.memory.buffer.byteLength, bytes, 'WebAssembly memory did not grow');
  assert.is(Arena.liveRegions, regions, 'no region was reserved');
  m.dispose();
});

Files('loadRNN reads a many-to-many file, and refuses another architecture pointing to loadModel', async () => {
  const mm = await createModel({ architecture: 'many-to-many', n_x: 2, n_a: 4, n_y: 2, input: 'tokens', seed: 1, tokenizers: { x: CharTokenizer.fromText('a', { bos: false, eos: false }) } });
  const rnn = await loadRNN(mm.save());
  assert.equal(rnn.getWeights(), mm.getWeights());
  const one = await createModel({ architecture: 'one-to-one', n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  await rejectsWith(loadRNN(one.save()), TypeError, /^loadRNN: the file holds a 'one-to-one' model; load it with loadModel/);
  mm.dispose(); rnn.dispose(); one.dispose();
});

Files.run();

// ---

const Keys = suite('unknown keys are refused with the closest known one');

Keys('model configs: createRNN, every architecture, encoder and decoder, tokenizers', async () => {
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, layer: 2 } as any), TypeError, /^createRNN: config has no field "layer"; did you mean layers\?/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, bidirectonal: true } as any), TypeError, /did you mean bidirectional\?/);
  await rejectsWith(createRNN({ n_x: 3, n_a: 4, n_y: 2, zzz: 1 } as any), TypeError, /config has no field "zzz"; it takes cell, n_a, layers/);
  const cases: [object, RegExp][] = [
    [{ architecture: 'one-to-one', n_x: 3, n_a: 4, n_y: 2, outputs: 'linear' }, /"outputs"; did you mean output\?/],
    [{ architecture: 'one-to-many', n_y: 3, n_a: 4, stoptoken: 1 }, /"stoptoken"; did you mean stopToken\?/],
    [{ architecture: 'many-to-one', n_x: 3, n_a: 4, n_y: 2, reductin: 'mean' }, /"reductin"; did you mean reduction\?/],
    [{ architecture: 'many-to-many', n_x: 3, n_a: 4, n_y: 2, celll: 'gru' }, /"celll"; did you mean cell\?/],
    [{ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, atention: 'dot' }, /"atention"; did you mean attention\?/],
    [{ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, encoder: { bidirectonal: true } }, /^createModel: encoder has no field "bidirectonal"; did you mean bidirectional\?/],
    [{ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, decoder: { layer: 2 } }, /^createModel: decoder has no field "layer"; did you mean layers\?/],
    [{ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, input: 'tokens', tokenizers: { z: 1 } }, /^createModel: tokenizers has no field "z"/],
  ];
  for (const [config, pattern] of cases) await rejectsWith(createModel(config as any), TypeError, pattern);
});

Keys('options: training, loading, generating, state', async () => {
  const V = 4;
  const m = await createRNN({ n_x: V, n_a: 4, n_y: V, input: 'tokens', seed: 1 });
  const data = { x: [[0, 1, 2]], y: [[1, 2, 3]] };
  throwsWith(() => m.trainStep(data, { learningrate: 0.1 } as any), TypeError, /^trainStep: options has no field "learningrate"; did you mean learningRate\?/);
  throwsWith(() => m.trainStep(data, { optimizer: { type: 'adam', beta: 0.9 } } as any), TypeError, /^trainStep: optimizer has no field "beta"; did you mean beta1\?/);
  throwsWith(() => m.trainStep(data, { optimizer: { type: 'adam', momentum: 0.9 } } as any), TypeError, /^trainStep: optimizer has no field "momentum"; it takes type, learningRate, beta1/);
  throwsWith(() => m.trainStep(data, { schedule: { type: 'step', stepsize: 3 } } as any), TypeError, /^trainStep: schedule has no field "stepsize"; did you mean stepSize\?/);
  throwsWith(() => m.trainStep(data, { schedule: { type: 'constant', warmup: { step: 3 } } } as any), TypeError, /^trainStep: schedule\.warmup has no field "step"; did you mean steps\?/);
  await rejectsWith(m.fit(data, { epoch: 2 } as any), TypeError, /^fit: options has no field "epoch"; did you mean epochs\?/);
  await rejectsWith(m.fit(data, { earlyStopping: { patient: 2 } } as any), TypeError, /^fit: earlyStopping has no field "patient"; did you mean patience\?/);
  throwsWith(() => m.evaluate(data, { batchsize: 2 } as any), TypeError, /^evaluate: options has no field "batchsize"; did you mean batchSize\?/);
  throwsWith(() => m.sample({ length: 3, temprature: 0.5 } as any), TypeError, /^sample: options has no field "temprature"; did you mean temperature\?/);
  throwsWith(() => m.loadWeights(m.save(), { strct: false } as any), TypeError, /^loadWeights: options has no field "strct"; did you mean strict\?/);
  await rejectsWith(loadRNN(m.save(), { backnd: 'scalar' } as any), TypeError, /^loadRNN: options has no field "backnd"; did you mean backend\?/);
  await rejectsWith(loadModel(m.save(), { architectures: 'many-to-many' } as any), TypeError, /^loadModel: options has no field "architectures"; did you mean architecture\?/);
  const gen = await createModel({ architecture: 'one-to-many', n_y: V, n_a: 4, startToken: 0, seed: 1 });
  throwsWith(() => gen.generate({ maxlength: 3 } as any), TypeError, /^generate: options has no field "maxlength"; did you mean maxLength\?/);
  throwsWith(() => gen.generateMany(2, { maxLength: 3, prefix: [1] } as any), TypeError, /^generateMany: options has no field "prefix"/);
  throwsWith(() => gen.beamSearch({ beamwidth: 2, maxLength: 3 } as any), TypeError, /^beamSearch: options has no field "beamwidth"; did you mean beamWidth\?/);
  throwsWith(() => gen.resetState({ a_0: [0] } as any), TypeError, /^resetState: state has no field "a_0"; did you mean a0\?/);
  // a key whose value is undefined is as absent, as it is for every default
  m.trainStep(data, { learningRate: undefined, clipNorm: undefined });
  m.dispose(); gen.dispose();
});

Keys.run();

// ---

const Step = suite("the encoder-decoder's step() needs a source");

Step('step() before resetState is a TypeError; after resetState(source) or resetState() it runs', async () => {
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: 4, n_y: 4, n_a: 4, input: 'tokens', attention: 'general', seed: 1 });
  throwsWith(() => ed.step(0), TypeError, /^step: no source is encoded yet; call resetState\(source\) first/);
  ed.resetState([1, 2, 3]);
  assert.is(ed.step(0).length, 4);
  ed.resetState();
  assert.is(ed.step(0).length, 4);
  ed.dispose();
});

Step.run();

// ---

const Dispose = suite('Symbol.dispose');

Dispose('[Symbol.dispose]() disposes a model (for `using`), and twice is harmless', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const regions = Arena.liveRegions;
  assert.type(m[Symbol.dispose], 'function');
  m[Symbol.dispose]();
  assert.ok(m.isDisposed);
  assert.ok(Arena.liveRegions < regions, 'its regions are freed');
  m[Symbol.dispose]();
});

Dispose.run();

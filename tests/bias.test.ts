// Recurrent layers without biases (bias: false, PyTorch's bias=False): the option and its
// checks; the layout, params and counts without bias_ih / bias_hh; the arithmetic of zero
// biases, bit for bit, on every architecture's training and generating paths; gradients
// against finite differences of the f64 references; files, ONNX (in ONNX Runtime too) and
// Keras; training on one thread and over workers, and checkpoints that resume bit for bit.
// And the default: models with biases keep the bits they had before the option
// (tests/fixtures/bias_bits.json, from the build before it). PyTorch's own bias=False modules
// are tests/torch_nobias.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { onnx } from 'onnx-proto';
import {
  createModel, createRNN, createWorkerPool, decodeSafetensors, loadKerasModel, loadModel, loadONNX, loadRNN, MAX_PARAMS, Random, toONNX,
  type Model, type ModelConfig, type WorkerPool,
} from '../dist/index.js';
import { refForwardCells, refGradientsCells, type CellsConfig } from './_reference_cells.js';
import { encDecLoss, finiteDifferences, lastStateLoss, oneToManyLoss } from './_reference_arch.js';
import { predict, randomizeWeights, ready, save, tfl } from './_keras.js';
import {
  checkFitOverWorkers, checkGradient, checkRecordedBits, checkResumeBitForBit, checkSame, checkWorkerGradient, echo, randomStep, randomTarget, refParams, rejectsWith, throwsWith, uniforms,
} from './_utils.js';
import { checkSameGeneration, everyArchitecture } from './_bias_cases.js';

ort.env.wasm.numThreads = 1;

const architectures = everyArchitecture(5);

const isRecurrentBias = (name: string) => /(^|\.)bias_(ih|hh)_l\d+(_reverse)?$/.test(name);

// ---

const Option = suite('bias: the option');

Option('bias must be a boolean: a TypeError naming the field (top level, encoder., decoder.) and what arrived', async () => {
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 2, bias: 'false' as never }), TypeError, /^createRNN: bias must be true or false, got "false"$/);
  for (const architecture of ['one-to-one', 'many-to-one', 'many-to-many'] as const) {
    await rejectsWith(createModel({ architecture, n_x: 2, n_a: 2, n_y: 2, bias: 0 as never }), TypeError, /^createModel: bias must be true or false, got 0$/);
  }
  await rejectsWith(createModel({ architecture: 'one-to-many', n_a: 2, n_y: 2, bias: 'yes' as never }), TypeError, /^createModel: bias must be true or false, got "yes"$/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_a: 2, n_y: 2, bias: 1 as never }), TypeError, /^createModel: bias must be true or false, got 1$/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_a: 2, n_y: 2, encoder: { bias: 'no' as never } }), TypeError, /^createModel: encoder\.bias must be true or false, got "no"$/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_a: 2, n_y: 2, decoder: { bias: [] as never } }), TypeError, /^createModel: decoder\.bias must be true or false, got/);
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 2, biases: false } as never), TypeError, /^createRNN: config has no field "biases".*bias/);
});

Option('the config says bias: false; a model with biases has no such field, so its config and file are as they were', async () => {
  const plain = await createRNN({ n_x: 2, n_a: 2, n_y: 2, seed: 1 });
  const explicit = await createRNN({ n_x: 2, n_a: 2, n_y: 2, bias: true, seed: 1 });
  assert.not.ok('bias' in plain.config);
  assert.equal(explicit.toJSON(), plain.toJSON(), 'bias: true is the default, not recorded');
  checkSame('file', explicit.save(), plain.save());
  const free = await createRNN({ n_x: 2, n_a: 2, n_y: 2, bias: false, seed: 1 });
  assert.is(free.config.bias, false);
  assert.is((free.toJSON() as { bias?: boolean }).bias, false);
  const copy = await createRNN(free.toJSON());
  assert.equal(copy.toJSON(), free.toJSON(), 'the config round-trips through the factory');
  for (const m of [plain, explicit, free, copy]) m.dispose();
});

Option("the encoder-decoder takes bias per side, the top level's for both unless a side sets its own", async () => {
  const base = { architecture: 'encoder-decoder', n_x: 4, n_y: 4, n_a: 3, input: 'tokens', seed: 1 } as const;
  const names = async (config: object) => {
    const m = await createModel({ ...base, ...config } as ModelConfig) as Model & { config: any };
    const out = { names: m.layout.entries.map((e) => e.name).filter(isRecurrentBias), encoder: m.config.encoder.bias, decoder: m.config.decoder.bias };
    m.dispose();
    return out;
  };
  assert.equal(await names({ bias: false }), { names: [], encoder: false, decoder: false });
  assert.equal(await names({ encoder: { bias: false } }),
    { names: ['decoder.bias_ih_l0', 'decoder.bias_hh_l0'], encoder: false, decoder: undefined });
  assert.equal(await names({ bias: false, decoder: { bias: true } }),
    { names: ['decoder.bias_ih_l0', 'decoder.bias_hh_l0'], encoder: false, decoder: undefined });
  assert.equal(await names({ decoder: { bias: false } }),
    { names: ['encoder.bias_ih_l0', 'encoder.bias_hh_l0'], encoder: undefined, decoder: false });
});

Option('the layout has no bias_ih / bias_hh (nor b_x, b_a); the output layer and the bridge keep theirs; the counts are the bias-free ones', async () => {
  for (const { name, config } of architectures) {
    const free = await createModel({ ...config, bias: false, seed: 1 } as ModelConfig) as Model;
    const full = await createModel({ ...config, seed: 1 } as ModelConfig) as Model;
    const params = Object.keys(free.params);
    assert.ok(!params.some(isRecurrentBias), `${name}: ${params.join(' ')}`);
    assert.ok(params.includes('head.bias'), `${name}: the output layer keeps its bias`);
    const biases = full.layout.entries.filter((e) => isRecurrentBias(e.name));
    assert.ok(biases.length > 0);
    assert.equal(free.layout.entries.map((e) => e.name), full.layout.entries.filter((e) => !isRecurrentBias(e.name)).map((e) => e.name), name);
    assert.is(free.numParams, full.numParams - biases.reduce((s, e) => s + e.length, 0), `${name}: numParams`);
    assert.is(free.layout.entries.reduce((s, e) => s + e.length, 0), free.numParams);
    free.dispose(); full.dispose();
  }
  const textbook = await createRNN({ n_x: 3, n_a: 4, n_y: 2, bias: false, seed: 1 });
  assert.equal(['W_ax', 'W_aa', 'W_ya', 'b_y'].map((n) => textbook.getParam(n).length), [12, 16, 8, 2]);
  throwsWith(() => textbook.getParam('b_x'), RangeError, /^getParam: no parameter named "b_x"; this model has weight_ih_l0 \(W_ax\), .* \(its recurrent layers have no biases: bias: false\)$/);
  throwsWith(() => textbook.params.b_a, RangeError, /^params\.b_a: no parameter named "b_a"; .*\(its recurrent layers have no biases: bias: false\)$/);
  textbook.dispose();
  const bridged = await createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, encoder: { bidirectional: true }, bias: false, seed: 1 });
  assert.ok('bridge.bias' in bridged.params, 'the linear bridge keeps its bias');
  bridged.dispose();
});

Option('the size limit counts the parameters a model without biases has', async () => {
  // 4 gates × 20 000 × (1 + 20 000) recurrent weights, plus the output layer: no biases
  const weights = 4 * 20000 * 20001 + 20000 + 1;
  assert.ok(weights > MAX_PARAMS);
  await rejectsWith(createRNN({ cell: 'lstm', n_x: 1, n_a: 20000, n_y: 1, bias: false }), RangeError, new RegExp(`^createRNN: n_a = 20000 makes ${weights} parameters`));
  await rejectsWith(createRNN({ cell: 'lstm', n_x: 1, n_a: 20000, n_y: 1 }), RangeError, new RegExp(`^createRNN: n_a = 20000 makes ${weights + 2 * 4 * 20000} parameters`));
});

Option.run();

// ---

const Default = suite('models with biases: the bits of the build before the option');

Default('ŷ, losses, gradients, trained weights and every generating path, bit for bit (simd, scalar)', () => {
  checkRecordedBits('make_bias_bits.mjs', 'bias_bits.json');
});

Default.run();

// ---

const Zero = suite('bias: false computes what zero biases compute, bit for bit');

/** A model without biases, and the same model with biases set to zero. */
async function twins(config: ModelConfig, seed: number): Promise<[any, any]> {
  const free = await createModel({ ...config, bias: false, seed } as ModelConfig);
  const full = await createModel({ ...config, seed } as ModelConfig);
  for (const e of full.layout.entries) full.setParam(e.name, free.layout.get(e.name) ? free.getParam(e.name) : new Float32Array(e.length));
  return [free, full];
}

for (const { name, config, data, generates } of architectures) {
  Zero(`${name}: forward, loss, every gradient${generates ? ', and what it generates' : ''}`, async () => {
    for (const backend of ['simd', 'scalar'] as const) {
      const [free, full] = await twins({ ...config, backend } as ModelConfig, 3);
      const batch = { x: data.x.slice(0, 5), y: data.y.slice(0, 5) };
      const [f, g] = [free.forward(batch), full.forward(batch)];
      checkSame(`${backend}: yhat`, f.yhat, g.yhat);
      checkSame(`${backend}: loss`, [f.loss], [g.loss]);
      const [df, dg] = [free.computeGradients(batch), full.computeGradients(batch)];
      for (const e of free.layout.entries) checkSame(`${backend}: ∂${e.name}`, df.grads[e.name], dg.grads[e.name]);
      checkSameGeneration(free, full, generates, backend);
      free.dispose(); full.dispose();
    }
  });
}

Zero('step() of a model without biases equals its forward() over the same steps, bit for bit', async () => {
  const m = await createModel({ architecture: 'many-to-many', cell: 'lstm', layers: 2, input: 'tokens', n_x: 6, n_a: 5, n_y: 6, bias: false, seed: 2 });
  const x = [1, 4, 2, 0, 5];
  const yhat = m.forward({ x: [x] }).yhat;
  m.resetState();
  x.forEach((token, t) => checkSame(`step ${t}`, m.step(token), yhat.subarray(t * 6, (t + 1) * 6)));
  m.dispose();
});

Zero.run();

// ---

const Grad = suite('bias: false against finite differences of the f64 references (zero biases)');

const cellCases: (CellsConfig & { T: number; B: number })[] = [
  { cell: 'lstm', layers: 2, bidirectional: true, n_x: 3, n_a: 3, n_y: 2, input: 'dense', output: 'softmax', reduction: 'sum', T: 4, B: 2 },
  { cell: 'gru', resetAfter: true, layers: 1, bidirectional: false, n_x: 4, n_a: 4, n_y: 3, input: 'dense', output: 'linear', reduction: 'mean', T: 5, B: 3 },
  { cell: 'gru', resetAfter: false, layers: 2, bidirectional: false, n_x: 5, n_a: 3, n_y: 3, input: 'tokens', output: 'sigmoid', reduction: 'sum', T: 3, B: 2 },
  { cell: 'rnn', activation: 'relu', layers: 2, bidirectional: true, n_x: 3, n_a: 4, n_y: 2, input: 'dense', output: 'softmax', reduction: 'mean', T: 4, B: 2 },
  { cell: 'rnn', activation: 'tanh', layers: 1, bidirectional: false, n_x: 4, n_a: 3, n_y: 4, input: 'tokens', output: 'softmax', reduction: 'sum', T: 5, B: 2 },
];

cellCases.forEach((c, i) => {
  Grad(`${c.cell}${c.cell === 'gru' ? (c.resetAfter ? ' reset-after' : ' reset-before') : c.cell === 'rnn' ? ` ${c.activation}` : ''} L=${c.layers}${c.bidirectional ? ' bi' : ''} ${c.input}/${c.output}/${c.reduction}: parameters, x, h0, c0`, async () => {
    const { T, B, ...cfg } = c;
    const model = await createRNN({ ...cfg, embedding: undefined, bias: false, seed: 40 + i });
    const r = new Random(50 + i);
    const S = c.layers * (c.bidirectional ? 2 : 1) * B * c.n_a;
    const x = Array.from({ length: B }, () => Array.from({ length: T }, () => randomStep(r, c.input, c.n_x)));
    const y = Array.from({ length: B }, () => Array.from({ length: T }, () => randomTarget(r, c.output, c.n_y)));
    const h0 = uniforms(r, S, 0.8), c0 = uniforms(r, S, 0.8);
    const p = refParams(model);
    const ref = { T, B, x: (x as any[]).flat(2), y: (y as any[]).flat(2), h0, ...(c.cell === 'lstm' ? { c0 } : {}) };
    const refCfg = { ...cfg, bias: false };
    const got = model.computeGradients({ x, y, a0: h0, ...(c.cell === 'lstm' ? { c0 } : {}) } as any);
    const loss = refForwardCells(refCfg, p, ref).loss;
    assert.ok(Math.abs(got.loss - loss) <= 1e-5 * Math.max(1, Math.abs(loss)), `loss ${got.loss} vs ${loss}`);
    const expected = refGradientsCells(refCfg, p, ref);
    assert.equal(Object.keys(expected.grads).sort(), Object.keys(got.grads).sort());
    for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected.grads[e.name]);
    checkGradient('h0', got.da0, expected.dh0);
    if (c.cell === 'lstm') checkGradient('c0', got.dc0!, expected.dc0!);
    if (c.input === 'dense') checkGradient('x', got.dx!, expected.dx!);
    model.dispose();
  });
});

Grad('many-to-one lstm L=2 bi and one-to-many gru L=2, without biases: every parameter', async () => {
  const n_x = 3, n_a = 3, n_y = 3;
  const c = { cell: 'lstm', layers: 2, bidirectional: true, input: 'dense', output: 'softmax', reduction: 'mean', n_x, n_a, n_y, bias: false } as const;
  const m = await createModel({ architecture: 'many-to-one', ...c, seed: 61 });
  const r = new Random(62);
  const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => randomStep(r, 'dense', n_x)));
  const y = x.map(() => r.int(n_y));
  const got = m.computeGradients({ x, y } as any);
  const p = refParams(m);
  assert.ok(Math.abs(got.loss - lastStateLoss(c, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => lastStateLoss(c, p, x, y));
  for (const e of m.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  m.dispose();

  const d = { cell: 'gru', layers: 2, output: 'softmax', reduction: 'sum', n_a: 3, n_y: 4, bias: false } as const;
  const o = await createModel({ architecture: 'one-to-many', ...d, seed: 63 });
  const first = [2, 0, 3], ys = [[1, 2, 3], [0], [3, 3, 1, 2]];
  const g2 = o.computeGradients({ x: first, y: ys });
  const p2 = refParams(o);
  assert.ok(Math.abs(g2.loss - oneToManyLoss(d, p2, first, ys)) < 1e-5 * Math.max(1, g2.loss), 'loss');
  const e2 = finiteDifferences(p2, () => oneToManyLoss(d, p2, first, ys));
  for (const e of o.layout.entries) checkGradient(e.name, g2.grads[e.name], e2[e.name]);
  o.dispose();
});

for (const side of ['encoder', 'decoder', 'both'] as const) {
  Grad(`encoder-decoder lstm → lstm, linear bridge, no biases in the ${side === 'both' ? 'encoder and decoder' : side}`, async () => {
    const n_x = 4, n_y = 3, n_a = 3;
    const sides = side === 'encoder' ? { encoder: { bidirectional: true, bias: false } }
      : side === 'decoder' ? { encoder: { bidirectional: true }, decoder: { bias: false } }
        : { encoder: { bidirectional: true }, bias: false };
    const m = await createModel({ architecture: 'encoder-decoder', cell: 'lstm', n_x, n_y, n_a, input: 'tokens', ...sides, startToken: 1, seed: 70 } as ModelConfig) as any;
    assert.is(m.config.bridge, 'linear');
    const r = new Random(71);
    const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => r.int(n_x)));
    const y = [2, 3, 1].map((T) => Array.from({ length: T }, () => r.int(n_y)));
    const got = m.computeGradients({ x, y });
    const p = refParams(m);
    const ref = {
      encoder: { cell: 'lstm', layers: 1, bidirectional: true, n_x, n_a, input: 'tokens', bias: side !== 'decoder' ? false : undefined },
      decoder: { cell: 'lstm', layers: 1, n_a, n_y, output: 'softmax', bias: side !== 'encoder' ? false : undefined },
      bridge: 'linear', start: 1, reduction: 'sum',
    } as const;
    assert.ok(Math.abs(got.loss - encDecLoss(ref, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
    const expected = finiteDifferences(p, () => encDecLoss(ref, p, x, y));
    for (const e of m.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
    m.dispose();
  });
}

Grad.run();

// ---

const Files = suite('bias: false in files: save and load, ONNX, Keras');

Files('save → loadModel gives the same model, every architecture; the file holds no recurrent bias', async () => {
  for (const { name, config, data } of architectures) {
    const m = await createModel({ ...config, bias: false, seed: 8 } as ModelConfig) as any;
    const bytes = m.save();
    const file = decodeSafetensors(bytes);
    assert.ok(![...file.tensors.keys()].some(isRecurrentBias), name);
    assert.match(file.metadata.config, /"bias":false/);
    const back = await loadModel(bytes) as any;
    assert.equal(back.toJSON(), m.toJSON(), `${name}: config`);
    const batch = { x: data.x.slice(0, 4), y: data.y.slice(0, 4) };
    checkSame(`${name}: yhat`, back.forward(batch).yhat, m.forward(batch).yhat);
    m.dispose(); back.dispose();
  }
  const rnn = await createRNN({ cell: 'gru', n_x: 3, n_a: 4, n_y: 2, layers: 2, bias: false, seed: 9 });
  const again = await loadRNN(rnn.save());
  assert.is(again.config.bias, false);
  checkSame('loadRNN', again.getWeights(), rnn.getWeights());
  rnn.dispose(); again.dispose();
});

Files('a file from a model with biases does not load as one without, and the other way round; the error says which', async () => {
  const full = await createRNN({ cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const free = await createRNN({ cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, bias: false, seed: 1 });
  throwsWith(() => free.loadWeights(full.save()), RangeError, /^loadWeights: the file has recurrent biases \(bias_ih_l0, bias_hh_l0\), but the model's recurrent layers have none \(bias: false\)/);
  throwsWith(() => full.loadWeights(free.save()), RangeError, /^loadWeights: the file has no tensor "bias_ih_l0" .*a model with bias: false in its config reads it$/);
  full.dispose(); free.dispose();
});

Files('toONNX leaves B out of every node; ONNX Runtime runs the file and gives forward(); loadONNX gives the model back', async () => {
  const cases = [
    { architecture: 'many-to-many', cell: 'lstm', layers: 2, bidirectional: true, n_x: 3, n_a: 4, n_y: 3 },
    { architecture: 'many-to-one', cell: 'gru', resetAfter: false, input: 'tokens', n_x: 5, n_a: 4, n_y: 2, output: 'sigmoid' },
    { architecture: 'many-to-many', cell: 'rnn', activation: 'relu', input: 'tokens', n_x: 5, n_a: 4, n_y: 5, embedding: 3 },
    { architecture: 'one-to-one', cell: 'gru', layers: 2, n_x: 3, n_a: 4, n_y: 3 },
  ] as const;
  for (const [i, c] of cases.entries()) {
    const m = await createModel({ ...c, bias: false, seed: 10 + i } as ModelConfig) as any;
    const bytes = toONNX(m);
    const graph = onnx.ModelProto.decode(bytes).graph!;
    const nodes = graph.node!.filter((n) => ['RNN', 'LSTM', 'GRU'].includes(n.opType!));
    assert.is(nodes.length, m.config.layers);
    for (const n of nodes) assert.is(n.input![3], '', `${n.name}: no B`);
    assert.ok(!graph.initializer!.some((t) => t.name!.startsWith('B_l')), 'no B initializer');
    const r = new Random(20 + i);
    const step = () => (m.config.input === 'tokens' ? r.int(m.config.n_x) : uniforms(r, m.config.n_x));
    const single = c.architecture === 'one-to-one';
    const x = single ? [step(), step()] : [Array.from({ length: 4 }, step), Array.from({ length: 4 }, step)];
    const flat = (x as any[]).flat(2) as number[];
    const shape = single ? [2] : [2, 4];
    const feeds: Record<string, ort.Tensor> = {
      x: m.config.input === 'tokens' ? new ort.Tensor('int64', BigInt64Array.from(flat, BigInt), shape)
        : new ort.Tensor('float32', Float32Array.from(flat), [...shape, m.config.n_x]),
    };
    if (!single) feeds.lengths = new ort.Tensor('int32', Int32Array.of(4, 4), [2]);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run(feeds);
    const want = m.forward({ x }).yhat;
    const got = out.yhat.data as Float32Array;
    for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k] - want[k]) <= 1e-5, `ONNX Runtime [${k}]: ${got[k]} vs ${want[k]}`);
    await session.release();
    const back = await loadONNX(bytes) as any;
    assert.is(back.config.bias, false);
    assert.equal(back.toJSON(), m.toJSON());
    checkSame('yhat', back.forward({ x }).yhat, want);
    m.dispose(); back.dispose();
  }
});

Files("loadONNX: a file whose config says bias: false but whose nodes have B is refused as inconsistent", async () => {
  const m = await createRNN({ cell: 'gru', n_x: 3, n_a: 2, n_y: 2, seed: 1 });
  const proto = onnx.ModelProto.decode(toONNX(m));
  const meta = proto.metadataProps!.find((p) => p.key === 'rnn-wasm.config')!;
  meta.value = JSON.stringify({ ...JSON.parse(meta.value!), bias: false });
  await rejectsWith(loadONNX(onnx.ModelProto.encode(proto).finish()), TypeError, /^loadONNX: the file's rnn-wasm\.config metadata says bias = false, but its graph holds none$/);
  m.dispose();
});

Files('loadONNX: where only some nodes leave B out, the model has biases and theirs are zeros', async () => {
  const m = await createRNN({ cell: 'gru', layers: 2, n_x: 3, n_a: 4, n_y: 2, output: 'linear', seed: 2 });
  const proto = onnx.ModelProto.decode(toONNX(m));
  const second = proto.graph!.node!.filter((n) => n.opType === 'GRU')[1];
  assert.is(second.input![3], 'B_l1');
  second.input![3] = '';
  proto.graph!.initializer = proto.graph!.initializer!.filter((t) => t.name !== 'B_l1');
  const back = await loadONNX(onnx.ModelProto.encode(proto).finish()) as any;
  assert.not.ok('bias' in back.config);
  assert.equal(Array.from(back.getParam('bias_ih_l1')), new Array(12).fill(0));
  assert.equal(Array.from(back.getParam('bias_hh_l1')), new Array(12).fill(0));
  checkSame('layer 0 keeps its biases', back.getParam('bias_ih_l0'), m.getParam('bias_ih_l0'));
  m.setParam('bias_ih_l1', new Float32Array(12));
  m.setParam('bias_hh_l1', new Float32Array(12));
  const x = [[[0.5, -1, 0.25], [1, 0, -0.5]]];
  checkSame('yhat', back.forward({ x }).yhat, m.forward({ x }).yhat);
  m.dispose(); back.dispose();
});

Files('Keras: recurrent layers with use_bias false load as bias: false and predict what tfjs predicts; where only some have none, theirs are zeros', async () => {
  await ready();
  const sig = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;
  const x = (seed: number) => { const r = new Random(seed); return Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => uniforms(r, 3))); };
  const build = (second: boolean) => tfl.sequential({ layers: [
    tfl.layers.lstm({ units: 4, useBias: false, returnSequences: true, inputShape: [null, 3], ...sig }),
    tfl.layers.lstm({ units: 4, useBias: second, returnSequences: true, ...sig }),
    tfl.layers.dense({ units: 2, activation: 'softmax' }),
  ] });
  for (const second of [false, true]) {
    const keras = build(second);
    randomizeWeights(keras, 3);
    const files = await save(keras);
    const model = await loadKerasModel(files.json, files.files, { seed: 1 }) as any;
    assert.is(model.config.bias, second ? undefined : false);
    assert.is(model.layout.entries.some((e: { name: string }) => isRecurrentBias(e.name)), second);
    if (second) assert.equal(Array.from(model.getParam('bias_ih_l0')), new Array(16).fill(0), 'the layer without biases: zeros');
    for (const seed of [1, 2]) {
      const want = predict(keras, x(seed)), got = model.forward({ x: x(seed) }).yhat;
      for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k] - want[k]) <= 1e-5, `[${k}] ${got[k]} vs ${want[k]}`);
    }
    model.dispose();
    keras.dispose();
  }
});

Files.run();

// ---

const Training = suite('bias: false in training: one thread, workers, checkpoints');

Training('a model without biases learns (the echo task), and no bias tensor appears along the way', async () => {
  const data = echo(new Random(1), 48, 10, 5, 1);
  const m = await createRNN({ cell: 'lstm', input: 'tokens', n_x: 5, n_a: 16, n_y: 5, bias: false, reduction: 'mean', seed: 1 });
  const { epochLosses } = await m.fit(data, { epochs: 25, batchSize: 8, optimizer: 'adam', learningRate: 0.02 });
  assert.ok(epochLosses[24] < 0.25 * epochLosses[0], `losses ${epochLosses[0]} → ${epochLosses[24]}`);
  assert.ok(!Object.keys(m.params).some(isRecurrentBias));
  const state = decodeSafetensors(m.getTrainingState());
  assert.ok(![...state.tensors.keys()].some((n) => /bias_(ih|hh)/.test(n)), 'neither weights nor moments of recurrent biases');
  m.dispose();
});

let pool: WorkerPool;
Training.before(async () => { pool = await createWorkerPool({ size: 2 }); });
Training.after(async () => { await pool.dispose(); });

Training('over 2 workers: the gradient is the batch\'s (every architecture), and a fit ends where one thread\'s does', async () => {
  for (const { name, config, data } of architectures) {
    await checkWorkerGradient(name, { ...config, bias: false, reduction: 'mean', seed: 4 } as ModelConfig, { x: data.x.slice(0, 7), y: data.y.slice(0, 7) } as never, pool);
  }
  const lm = architectures[2];
  const { architecture: _, ...rnn } = lm.config as ModelConfig & { architecture: string };
  await checkFitOverWorkers({ ...rnn, bias: false, seed: 5 } as never, lm.data, { epochs: 3, batchSize: 5, optimizer: 'sgd', learningRate: 0.1, shuffle: true }, pool);
});

Training('a fit stopped mid-epoch and resumed from its checkpoint in a new model ends bit for bit as the uninterrupted run', async () => {
  const config = { architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: 6, n_y: 6, n_a: 6, layers: 2, dropout: 0.2, bias: false, startToken: 0, seed: 1 } as const;
  const data = architectures[6].data;
  const options = { epochs: 3, batchSize: 3, optimizer: 'adam', learningRate: 0.01, clipNorm: 1 } as const;
  const bytes = await checkResumeBitForBit('resumed', (seed) => createModel({ ...config, seed }), data, options);
  // a checkpoint of a model without biases does not restore into one with them
  const { bias: _, ...withBiases } = config;
  const other = await createModel(withBiases);
  throwsWith(() => other.setTrainingState(bytes), RangeError, /^setTrainingState: the checkpoint was saved from a model with another configuration: encoder\.bias is false in the checkpoint, unset in this model/);
  other.dispose();
});

Training.run();

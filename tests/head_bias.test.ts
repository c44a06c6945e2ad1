// An output layer without a bias (headBias: false, nn.Linear's bias=False, Keras Dense's
// use_bias=False): the option and its checks; the layout, params and counts without head.bias
// (nor b_y); the arithmetic of a zero output bias, bit for bit, on every architecture's
// training and generating paths; gradients against finite differences of the f64 references;
// files, ONNX (in ONNX Runtime too) and Keras; training on one thread and over workers, and
// checkpoints that resume bit for bit. Models with an output bias keep the bits they had before
// the option: tests/fixtures/loss_bits.json and bias_bits.json (checked in loss_options.test.ts
// and bias.test.ts) record heads with biases on every architecture. PyTorch's own
// nn.Linear(bias=False) heads are tests/torch_headbias.test.ts.
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
  checkFitOverWorkers, checkGradient, checkResumeBitForBit, checkSame, checkWorkerGradient, echo, randomStep, randomTarget, refParams, rejectsWith, throwsWith, uniforms,
} from './_utils.js';
import { checkSameGeneration, everyArchitecture } from './_bias_cases.js';

ort.env.wasm.numThreads = 1;

const architectures = everyArchitecture(6);


// ---

const Option = suite('headBias: the option');

Option('headBias must be a boolean: a TypeError naming the field and what arrived; not a field of an encoder-decoder side', async () => {
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 2, headBias: 'false' as never }), TypeError, /^createRNN: headBias must be true or false, got "false"$/);
  for (const architecture of ['one-to-one', 'many-to-one', 'many-to-many'] as const) {
    await rejectsWith(createModel({ architecture, n_x: 2, n_a: 2, n_y: 2, headBias: 0 as never }), TypeError, /^createModel: headBias must be true or false, got 0$/);
  }
  await rejectsWith(createModel({ architecture: 'one-to-many', n_a: 2, n_y: 2, headBias: 'no' as never }), TypeError, /^createModel: headBias must be true or false, got "no"$/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_a: 2, n_y: 2, headBias: 1 as never }), TypeError, /^createModel: headBias must be true or false, got 1$/);
  await rejectsWith(createModel({ architecture: 'encoder-decoder', n_x: 2, n_a: 2, n_y: 2, decoder: { headBias: false } as never }), TypeError, /^createModel: decoder has no field "headBias"/);
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 2, headbias: false } as never), TypeError, /^createRNN: config has no field "headbias".*headBias/);
});

Option('the config says headBias: false; a model with an output bias has no such field, so its config and file are as they were', async () => {
  const plain = await createRNN({ n_x: 2, n_a: 2, n_y: 2, seed: 1 });
  const explicit = await createRNN({ n_x: 2, n_a: 2, n_y: 2, headBias: true, seed: 1 });
  assert.not.ok('headBias' in plain.config);
  assert.equal(explicit.toJSON(), plain.toJSON(), 'headBias: true is the default, not recorded');
  checkSame('file', explicit.save(), plain.save());
  const free = await createRNN({ n_x: 2, n_a: 2, n_y: 2, headBias: false, seed: 1 });
  assert.is(free.config.headBias, false);
  assert.is((free.toJSON() as { headBias?: boolean }).headBias, false);
  const copy = await createRNN(free.toJSON());
  assert.equal(copy.toJSON(), free.toJSON(), 'the config round-trips through the factory');
  for (const m of [plain, explicit, free, copy]) m.dispose();
});

Option('the layout has no head.bias (nor b_y); the recurrent biases and the bridge keep theirs; the counts are the bias-free ones', async () => {
  for (const { name, config } of architectures) {
    const free = await createModel({ ...config, headBias: false, seed: 1 } as ModelConfig) as Model;
    const full = await createModel({ ...config, seed: 1 } as ModelConfig) as Model;
    const params = Object.keys(free.params);
    assert.not.ok(params.includes('head.bias'), `${name}: ${params.join(' ')}`);
    assert.ok(params.some((n) => /bias_ih_l0/.test(n)), `${name}: the recurrent layers keep their biases`);
    assert.equal(free.layout.entries.map((e) => e.name), full.layout.entries.filter((e) => e.name !== 'head.bias').map((e) => e.name), name);
    assert.is(free.numParams, full.numParams - (config as { n_y: number }).n_y, `${name}: numParams`);
    assert.is(free.getWeights().length, free.numParams);
    free.dispose(); full.dispose();
  }
  const textbook = await createRNN({ n_x: 3, n_a: 4, n_y: 2, headBias: false, seed: 1 });
  assert.equal(['W_ax', 'W_aa', 'b_x', 'b_a', 'W_ya'].map((n) => textbook.getParam(n).length), [12, 16, 4, 4, 8]);
  throwsWith(() => textbook.getParam('b_y'), RangeError, /^getParam: no parameter named "b_y"; this model has .* \(its output layer has no bias: headBias: false\)$/);
  throwsWith(() => textbook.params['head.bias'], RangeError, /^params\.head\.bias: no parameter named "head\.bias"; .*\(its output layer has no bias: headBias: false\)$/);
  textbook.dispose();
  const both = await createRNN({ n_x: 3, n_a: 4, n_y: 2, bias: false, headBias: false, seed: 1 });
  assert.equal(Object.keys(both.params), ['weight_ih_l0', 'weight_hh_l0', 'head.weight']);
  both.dispose();
  const bridged = await createModel({ architecture: 'encoder-decoder', n_x: 3, n_y: 3, n_a: 4, encoder: { bidirectional: true }, headBias: false, seed: 1 });
  assert.ok('bridge.bias' in bridged.params, 'the linear bridge keeps its bias');
  bridged.dispose();
});

Option('the size limit counts the parameters a model without an output bias has', async () => {
  // a vanilla cell of n_x = n_a = 1 (4 values) under an output layer of n_y = MAX_PARAMS rows
  const n_y = MAX_PARAMS;
  await rejectsWith(createRNN({ n_x: 1, n_a: 1, n_y, headBias: false }), RangeError, new RegExp(`^createRNN: n_y = ${n_y} makes ${4 + n_y} parameters`));
  await rejectsWith(createRNN({ n_x: 1, n_a: 1, n_y }), RangeError, new RegExp(`^createRNN: n_y = ${n_y} makes ${4 + 2 * n_y} parameters`));
});

Option.run();

// ---

const Zero = suite('headBias: false computes what a zero output bias computes, bit for bit');

/** A model without an output bias, and the same model with its output bias set to zero. */
async function twins(config: ModelConfig, seed: number): Promise<[any, any]> {
  const free = await createModel({ ...config, headBias: false, seed } as ModelConfig);
  const full = await createModel({ ...config, seed } as ModelConfig);
  for (const e of full.layout.entries) full.setParam(e.name, free.layout.get(e.name) ? free.getParam(e.name) : new Float32Array(e.length));
  return [free, full];
}

for (const { name, config, data, generates } of architectures) {
  Zero(`${name}: forward, loss, every gradient${generates ? ', and what it generates' : ''}`, async () => {
    for (const backend of ['simd', 'scalar'] as const) {
      for (const cells of [{}, { bias: false }]) {
        const [free, full] = await twins({ ...config, ...cells, backend } as ModelConfig, 3);
        const label = `${backend}${cells.bias === false ? ', bias: false' : ''}`;
        const batch = { x: data.x.slice(0, 5), y: data.y.slice(0, 5) };
        const [f, g] = [free.forward(batch), full.forward(batch)];
        checkSame(`${label}: yhat`, f.yhat, g.yhat);
        checkSame(`${label}: loss`, [f.loss], [g.loss]);
        const [df, dg] = [free.computeGradients(batch), full.computeGradients(batch)];
        for (const e of free.layout.entries) checkSame(`${label}: ∂${e.name}`, df.grads[e.name], dg.grads[e.name]);
        // a training step moves the same weights the same way
        free.trainStep(batch, { optimizer: 'adam', learningRate: 0.05 });
        full.trainStep(batch, { optimizer: 'adam', learningRate: 0.05 });
        for (const e of free.layout.entries) checkSame(`${label}: trained ${e.name}`, free.getParam(e.name), full.getParam(e.name));
        full.setParam('head.bias', new Float32Array(free.n_y ?? (config as { n_y: number }).n_y));
        if (generates) checkSameGeneration(free, full, generates, label);
        else assert.equal(free.forward({ x: data.x.slice(5, 8) }).yhat, full.forward({ x: data.x.slice(5, 8) }).yhat, `${label}: predict`);
        free.dispose(); full.dispose();
      }
    }
  });
}

Zero('the encoder-decoder without attention (a plain decoder) and a many-to-one: generation and the last-state stream, bit for bit', async () => {
  const [free, full] = await twins({ architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: 6, n_y: 6, n_a: 5, layers: 2, startToken: 0, stopToken: 5 } as ModelConfig, 9);
  const same = (what: string, run: (m: any) => unknown) => assert.equal(run(free), run(full), what);
  same('generate', (m) => m.generate([1, 2, 3], { maxLength: 10, strategy: 'sample', seed: 4 }));
  same('beamSearch', (m) => m.beamSearch([3, 1, 4], { beamWidth: 3, maxLength: 8 }));
  same('stream', (m) => [...m.stream([2, 3], { maxLength: 8 })]);
  free.dispose(); full.dispose();
  const [a, b] = await twins({ architecture: 'many-to-one', cell: 'gru', input: 'tokens', n_x: 6, n_a: 4, n_y: 3 } as ModelConfig, 10);
  a.resetState(); b.resetState();
  checkSame('step', [...a.step(1), ...a.step(4)], [...b.step(1), ...b.step(4)]);
  a.dispose(); b.dispose();
});

Zero('step() of a model without an output bias equals its forward() over the same steps, bit for bit', async () => {
  const m = await createModel({ architecture: 'many-to-many', cell: 'lstm', layers: 2, input: 'tokens', n_x: 6, n_a: 5, n_y: 6, headBias: false, seed: 2 });
  const x = [1, 4, 2, 0, 5];
  const yhat = m.forward({ x: [x] }).yhat;
  m.resetState();
  x.forEach((token, t) => checkSame(`step ${t}`, m.step(token), yhat.subarray(t * 6, (t + 1) * 6)));
  m.dispose();
});

Zero.run();

// ---

const Grad = suite('headBias: false against finite differences of the f64 references (a zero output bias)');

const cellCases: (CellsConfig & { T: number; B: number })[] = [
  { cell: 'lstm', layers: 2, bidirectional: true, n_x: 3, n_a: 3, n_y: 2, input: 'dense', output: 'softmax', reduction: 'sum', T: 4, B: 2 },
  { cell: 'gru', resetAfter: true, layers: 1, bidirectional: false, n_x: 4, n_a: 4, n_y: 3, input: 'dense', output: 'linear', reduction: 'mean', T: 5, B: 3 },
  { cell: 'rnn', activation: 'tanh', layers: 1, bidirectional: false, n_x: 4, n_a: 3, n_y: 4, input: 'tokens', output: 'sigmoid', reduction: 'sum', T: 5, B: 2, bias: false },
];

cellCases.forEach((c, i) => {
  Grad(`${c.cell} L=${c.layers}${c.bidirectional ? ' bi' : ''} ${c.input}/${c.output}/${c.reduction}${c.bias === false ? ', bias: false' : ''}: parameters, x, h0, c0`, async () => {
    const { T, B, ...cfg } = c;
    const model = await createRNN({ ...cfg, embedding: undefined, headBias: false, seed: 40 + i });
    const r = new Random(50 + i);
    const S = c.layers * (c.bidirectional ? 2 : 1) * B * c.n_a;
    const x = Array.from({ length: B }, () => Array.from({ length: T }, () => randomStep(r, c.input, c.n_x)));
    const y = Array.from({ length: B }, () => Array.from({ length: T }, () => randomTarget(r, c.output, c.n_y)));
    const h0 = uniforms(r, S, 0.8), c0 = uniforms(r, S, 0.8);
    const p = refParams(model);
    assert.not.ok('head.bias' in p);
    const ref = { T, B, x: (x as any[]).flat(2), y: (y as any[]).flat(2), h0, ...(c.cell === 'lstm' ? { c0 } : {}) };
    const refCfg = { ...cfg, headBias: false };
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

Grad('many-to-one lstm L=2 bi, one-to-many gru L=2 and an encoder-decoder, without an output bias: every parameter', async () => {
  const n_x = 3, n_a = 3, n_y = 3;
  const c = { cell: 'lstm', layers: 2, bidirectional: true, input: 'dense', output: 'softmax', reduction: 'mean', n_x, n_a, n_y } as const;
  const m = await createModel({ architecture: 'many-to-one', ...c, headBias: false, seed: 61 });
  const r = new Random(62);
  const x = [3, 1, 4].map((T) => Array.from({ length: T }, () => randomStep(r, 'dense', n_x)));
  const y = x.map(() => r.int(n_y));
  const got = m.computeGradients({ x, y } as any);
  const p = refParams(m);
  assert.ok(Math.abs(got.loss - lastStateLoss(c, p, x, y)) < 1e-5 * Math.max(1, got.loss), 'loss');
  const expected = finiteDifferences(p, () => lastStateLoss(c, p, x, y));
  for (const e of m.layout.entries) checkGradient(e.name, got.grads[e.name], expected[e.name]);
  m.dispose();

  const d = { cell: 'gru', layers: 2, output: 'sigmoid', reduction: 'sum', n_a: 3, n_y: 4 } as const;
  const o = await createModel({ architecture: 'one-to-many', ...d, headBias: false, seed: 63 });
  const first = [[1, 0, 0.5, 0], [0, 1, 0, 0.25]], ys = [[[1, 0, 1, 0], [0, 0, 1, 1]], [[0.5, 0.5, 0, 1]]];
  const g2 = o.computeGradients({ x: first, y: ys } as any);
  const p2 = refParams(o);
  assert.ok(Math.abs(g2.loss - oneToManyLoss(d, p2, first, ys)) < 1e-5 * Math.max(1, g2.loss), 'loss');
  const e2 = finiteDifferences(p2, () => oneToManyLoss(d, p2, first, ys));
  for (const e of o.layout.entries) checkGradient(e.name, g2.grads[e.name], e2[e.name]);
  o.dispose();

  const ed = await createModel({ architecture: 'encoder-decoder', cell: 'lstm', n_x: 4, n_y: 3, n_a: 3, input: 'tokens', encoder: { bidirectional: true }, headBias: false, startToken: 1, seed: 70 }) as any;
  const r3 = new Random(71);
  const xs3 = [3, 1, 4].map((T) => Array.from({ length: T }, () => r3.int(4)));
  const ys3 = [2, 3, 1].map((T) => Array.from({ length: T }, () => r3.int(3)));
  const g3 = ed.computeGradients({ x: xs3, y: ys3 });
  const p3 = refParams(ed);
  const ref = {
    encoder: { cell: 'lstm', layers: 1, bidirectional: true, n_x: 4, n_a: 3, input: 'tokens' },
    decoder: { cell: 'lstm', layers: 1, n_a: 3, n_y: 3, output: 'softmax' },
    bridge: 'linear', start: 1, reduction: 'sum',
  } as const;
  assert.ok(Math.abs(g3.loss - encDecLoss(ref, p3, xs3, ys3)) < 1e-5 * Math.max(1, g3.loss), 'loss');
  const e3 = finiteDifferences(p3, () => encDecLoss(ref, p3, xs3, ys3));
  for (const e of ed.layout.entries) checkGradient(e.name, g3.grads[e.name], e3[e.name]);
  ed.dispose();
});

Grad.run();

// ---

const Files = suite('headBias: false in files: save and load, ONNX, Keras');

Files('save → loadModel gives the same model, every architecture; the file holds no head.bias', async () => {
  for (const { name, config, data } of architectures) {
    const m = await createModel({ ...config, headBias: false, seed: 8 } as ModelConfig) as any;
    const bytes = m.save();
    const file = decodeSafetensors(bytes);
    assert.not.ok(file.tensors.has('head.bias'), name);
    assert.match(file.metadata.config, /"headBias":false/);
    const back = await loadModel(bytes) as any;
    assert.equal(back.toJSON(), m.toJSON(), `${name}: config`);
    const batch = { x: data.x.slice(0, 4), y: data.y.slice(0, 4) };
    checkSame(`${name}: yhat`, back.forward(batch).yhat, m.forward(batch).yhat);
    m.dispose(); back.dispose();
  }
  const rnn = await createRNN({ cell: 'gru', n_x: 3, n_a: 4, n_y: 2, layers: 2, headBias: false, seed: 9 });
  const again = await loadRNN(rnn.save());
  assert.is(again.config.headBias, false);
  checkSame('loadRNN', again.getWeights(), rnn.getWeights());
  rnn.dispose(); again.dispose();
});

Files('a file from a model with an output bias does not load as one without, and the other way round; the error says which', async () => {
  const full = await createRNN({ cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  const free = await createRNN({ cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, headBias: false, seed: 1 });
  throwsWith(() => free.loadWeights(full.save()), RangeError, /^loadWeights: the file's output layer has a bias \(head\.bias\), but the model's output layer has none \(headBias: false\)/);
  throwsWith(() => full.loadWeights(free.save()), RangeError, /^loadWeights: the file's output layer has a weight \(head\.weight\) but no bias \(head\.bias\), .*a model with headBias: false in its config reads it$/);
  // loadModel reads the config the file holds, so each loads as what it is
  const back = await loadModel(free.save()) as any;
  assert.is(back.config.headBias, false);
  full.dispose(); free.dispose(); back.dispose();
});

Files('a tied language model without an output bias: the file holds the table once, under both names, and loads back', async () => {
  const m = await createModel({ architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 6, n_a: 4, n_y: 6, embedding: 4, tieWeights: true, headBias: false, seed: 3 }) as any;
  assert.equal(m.layout.entries.map((e: { name: string }) => e.name), ['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'embedding.weight']);
  assert.is(m.layout.get('head.weight'), m.layout.get('embedding.weight'), 'the output weight is the table');
  const file = decodeSafetensors(m.save());
  assert.equal([...file.tensors.keys()].sort(), ['embedding.weight', 'head.weight', 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0']);
  const back = await loadModel(m.save()) as any;
  checkSame('yhat', back.forward({ x: [[1, 2, 3]] }).yhat, m.forward({ x: [[1, 2, 3]] }).yhat);
  m.dispose(); back.dispose();
});

Files('toONNX: the output layer is the MatMul without Add, or a Gemm without C; ONNX Runtime gives forward(); loadONNX gives the model back', async () => {
  const cases = [
    { architecture: 'many-to-many', cell: 'lstm', layers: 2, bidirectional: true, n_x: 3, n_a: 4, n_y: 3 },
    { architecture: 'many-to-one', cell: 'gru', resetAfter: false, input: 'tokens', n_x: 5, n_a: 4, n_y: 2, output: 'sigmoid', bias: false },
    { architecture: 'many-to-many', cell: 'rnn', activation: 'relu', input: 'tokens', n_x: 5, n_a: 4, n_y: 5, embedding: 4, tieWeights: true, output: 'linear' },
    { architecture: 'one-to-one', cell: 'gru', layers: 2, n_x: 3, n_a: 4, n_y: 3 },
  ] as const;
  for (const [i, c] of cases.entries()) {
    const m = await createModel({ ...c, headBias: false, seed: 10 + i } as ModelConfig) as any;
    const bytes = toONNX(m);
    const graph = onnx.ModelProto.decode(bytes).graph!;
    assert.not.ok(graph.initializer!.some((t) => t.name === 'head.bias'), 'no head.bias initializer');
    assert.not.ok(graph.node!.some((n) => n.opType === 'Add'), 'no Add');
    for (const n of graph.node!.filter((n) => n.opType === 'Gemm')) assert.is(n.input!.length, 2, 'a Gemm without C');
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
    assert.is(back.config.headBias, false);
    assert.equal(back.toJSON(), m.toJSON());
    checkSame('yhat', back.forward({ x }).yhat, want);
    m.dispose(); back.dispose();
  }
});

Files('loadONNX: a file whose config disagrees with its graph about the output bias is refused as inconsistent', async () => {
  const m = await createRNN({ cell: 'gru', n_x: 3, n_a: 2, n_y: 2, seed: 1 });
  const proto = onnx.ModelProto.decode(toONNX(m));
  const meta = proto.metadataProps!.find((p) => p.key === 'rnn-wasm.config')!;
  meta.value = JSON.stringify({ ...JSON.parse(meta.value!), headBias: false });
  await rejectsWith(loadONNX(onnx.ModelProto.encode(proto).finish()), TypeError, /^loadONNX: the file's rnn-wasm\.config metadata says headBias = false, but its graph holds none$/);
  const free = await createRNN({ cell: 'gru', n_x: 3, n_a: 2, n_y: 2, headBias: false, seed: 1 });
  const p2 = onnx.ModelProto.decode(toONNX(free));
  const meta2 = p2.metadataProps!.find((p) => p.key === 'rnn-wasm.config')!;
  const { headBias: _, ...rest } = JSON.parse(meta2.value!);
  meta2.value = JSON.stringify(rest);
  await rejectsWith(loadONNX(onnx.ModelProto.encode(p2).finish()), TypeError, /^loadONNX: the file's rnn-wasm\.config metadata says headBias = none, but its graph holds false$/);
  m.dispose(); free.dispose();
});

Files('Keras: a Dense with use_bias false loads as headBias: false (not a zero bias that trains) and predicts what tfjs predicts', async () => {
  await ready();
  const sig = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;
  const x = (seed: number) => { const r = new Random(seed); return Array.from({ length: 2 }, () => Array.from({ length: 4 }, () => uniforms(r, 3))); };
  for (const sequences of [true, false]) {
    const keras = tfl.sequential({ layers: [
      tfl.layers.lstm({ units: 4, returnSequences: sequences, inputShape: [null, 3], ...sig }),
      tfl.layers.dense({ units: 2, activation: 'softmax', useBias: false }),
    ] });
    randomizeWeights(keras, 3);
    const files = await save(keras);
    const model = await loadKerasModel(files.json, files.files, { seed: 1 }) as any;
    assert.is(model.config.headBias, false);
    assert.not.ok(model.layout.get('head.bias'));
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

const Training = suite('headBias: false in training: one thread, workers, checkpoints');

Training('a model without an output bias learns (the echo task), and no head.bias appears along the way', async () => {
  const data = echo(new Random(1), 48, 10, 5, 1);
  const m = await createRNN({ cell: 'lstm', input: 'tokens', n_x: 5, n_a: 16, n_y: 5, headBias: false, reduction: 'mean', seed: 1 });
  const { epochLosses } = await m.fit(data, { epochs: 25, batchSize: 8, optimizer: 'adam', learningRate: 0.02 });
  assert.ok(epochLosses[24] < 0.25 * epochLosses[0], `losses ${epochLosses[0]} → ${epochLosses[24]}`);
  assert.not.ok('head.bias' in m.params);
  const state = decodeSafetensors(m.getTrainingState());
  assert.ok(![...state.tensors.keys()].some((n) => n.includes('head.bias')), 'neither weights nor moments of an output bias');
  m.dispose();
});

let pool: WorkerPool;
Training.before(async () => { pool = await createWorkerPool({ size: 2 }); });
Training.after(async () => { await pool.dispose(); });

Training('over 2 workers: the gradient is the batch\'s (every architecture), and a fit ends where one thread\'s does', async () => {
  for (const { name, config, data } of architectures) {
    await checkWorkerGradient(name, { ...config, headBias: false, reduction: 'mean', seed: 4 } as ModelConfig, { x: data.x.slice(0, 7), y: data.y.slice(0, 7) } as never, pool);
  }
  const lm = architectures[2];
  const { architecture: _, ...rnn } = lm.config as ModelConfig & { architecture: string };
  await checkFitOverWorkers({ ...rnn, headBias: false, seed: 5 } as never, lm.data, { epochs: 3, batchSize: 5, optimizer: 'sgd', learningRate: 0.1, shuffle: true }, pool);
});

Training('a fit stopped mid-epoch and resumed from its checkpoint in a new model ends bit for bit as the uninterrupted run', async () => {
  const config = { architecture: 'encoder-decoder', cell: 'lstm', input: 'tokens', n_x: 6, n_y: 6, n_a: 6, layers: 2, dropout: 0.2, headBias: false, startToken: 0, seed: 1 } as const;
  const data = architectures[6].data;
  const options = { epochs: 3, batchSize: 3, optimizer: 'adam', learningRate: 0.01, clipNorm: 1 } as const;
  const bytes = await checkResumeBitForBit('resumed', (seed) => createModel({ ...config, seed }), data, options);
  // a checkpoint of a model without an output bias does not restore into one with it
  const { headBias: _, ...withBias } = config;
  const other = await createModel(withBias);
  throwsWith(() => other.setTrainingState(bytes), RangeError, /^setTrainingState: the checkpoint was saved from a model with another configuration: headBias is false in the checkpoint, unset in this model/);
  other.dispose();
});

Training.run();

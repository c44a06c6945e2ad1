// toONNX: every exported model runs in ONNX Runtime (onnxruntime-web's wasm build, in Node)
// and gives rnn-wasm's forward() within 1e-5 — every cell, one and two layers, one and two
// directions, dense and token inputs, each output, sequences of different lengths in one
// batch — and the file decodes with the official onnx.proto schema (the onnx-proto package).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-web';
import { onnx } from 'onnx-proto';
import { createModel, createRNN, loadKerasModel, Random, toONNX, type Model } from '../dist/index.js';
import { randomizeWeights, ready, save, tfl } from './_keras.js';
import { throwsWith } from './_utils.js';

ort.env.wasm.numThreads = 1;
// onnxruntime-web's Node build sets globalThis.Worker (to worker_threads' Worker) when it first
// runs; the other test files share this process and expect Node without it, so it goes back
const worker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
function restoreGlobals(): void {
  if (worker) Object.defineProperty(globalThis, 'Worker', worker);
  else delete (globalThis as { Worker?: unknown }).Worker;
}

type Arch = 'many-to-many' | 'many-to-one' | 'one-to-one';
interface Case { architecture: Arch; cell: 'rnn' | 'lstm' | 'gru'; layers: number; bidirectional: boolean; input: 'dense' | 'tokens'; output: 'softmax' | 'sigmoid' | 'linear' }

const n_x = 5, n_a = 4, n_y = 3;

/** Inputs of the given lengths, as rnn-wasm takes them and padded for ONNX Runtime. */
function inputs(rng: Random, c: Case, lengths: number[]) {
  const B = lengths.length, T = Math.max(...lengths);
  const step = () => (c.input === 'tokens' ? rng.int(n_x) : Array.from({ length: n_x }, () => 2 * rng.uniform() - 1));
  if (c.architecture === 'one-to-one') {
    const x = lengths.map(step);
    const feed = c.input === 'tokens' ? new ort.Tensor('int64', BigInt64Array.from(x as number[], BigInt), [B])
      : new ort.Tensor('float32', Float32Array.from((x as number[][]).flat()), [B, n_x]);
    return { x, feeds: { x: feed } as Record<string, ort.Tensor>, T: 1 };
  }
  const x = lengths.map((L) => Array.from({ length: L }, step));
  const pad = (s: unknown[]) => [...s, ...new Array(T - s.length).fill(c.input === 'tokens' ? 0 : new Array(n_x).fill(0))];
  const padded = x.map(pad).flat(2) as number[];
  const feed = c.input === 'tokens' ? new ort.Tensor('int64', BigInt64Array.from(padded, BigInt), [B, T])
    : new ort.Tensor('float32', Float32Array.from(padded), [B, T, n_x]);
  return { x, feeds: { x: feed, lengths: new ort.Tensor('int32', Int32Array.from(lengths), [B]) } as Record<string, ort.Tensor>, T };
}

/** |a − b| ≤ 1e-5 at every index `keep` allows. */
function close(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, keep: (i: number) => boolean = () => true): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (keep(i) && !(Math.abs(actual[i] - expected[i]) <= 1e-5)) assert.unreachable(`${label}[${i}]: ONNX Runtime ${actual[i]}, rnn-wasm ${expected[i]}`);
  }
}

async function runCase(c: Case, seed: number): Promise<void> {
  const { architecture, ...rest } = c;
  const model = await createModel({ architecture, ...rest, ...(architecture === 'one-to-one' ? { bidirectional: undefined } : {}), n_x, n_a, n_y, seed } as any) as Model;
  try {
    const session = await ort.InferenceSession.create(toONNX(model));
    const lengths = architecture === 'one-to-one' ? [1, 1, 1] : [6, 2, 4];
    const { x, feeds, T } = inputs(new Random(seed), c, lengths);
    const out = await session.run(feeds);
    const f = (model as any).forward({ x });
    // padded steps are not compared: ONNX Runtime's head reads zeros there
    const valid = (i: number) => architecture !== 'many-to-many' || Math.floor(i / n_y) % T < lengths[Math.floor(i / (n_y * T))];
    close('yhat', out.yhat.data as Float32Array, f.yhat, valid);
    close('aT', out.aT.data as Float32Array, architecture === 'one-to-one' ? f.a : f.aT);
    if (c.cell === 'lstm' && architecture !== 'one-to-one') close('cT', out.cT.data as Float32Array, f.cT);
    await session.release();
  } finally {
    model.dispose();
  }
}

const Runtime = suite('toONNX runs in ONNX Runtime and matches forward()');

const outputs = ['softmax', 'sigmoid', 'linear'] as const;
let k = 0;
for (const architecture of ['many-to-many', 'many-to-one'] as const) {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    for (const layers of [1, 2]) {
      for (const bidirectional of [false, true]) {
        const c: Case = { architecture, cell, layers, bidirectional, input: k % 2 ? 'tokens' : 'dense', output: outputs[k++ % 3] };
        Runtime(`${architecture} ${cell} L=${layers}${bidirectional ? ' bi' : ''} ${c.input}/${c.output}, ragged`, () => runCase(c, k));
      }
    }
  }
}
for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  for (const input of ['dense', 'tokens'] as const) {
    Runtime(`one-to-one ${cell} L=2 ${input}`, () => runCase({ architecture: 'one-to-one', cell, layers: 2, bidirectional: false, input, output: 'softmax' }, 7));
  }
}

Runtime('the cell options: relu, and the GRU that resets before the matmul (linear_before_reset = 0)', async () => {
  await runCase({ architecture: 'many-to-many', cell: 'rnn', layers: 2, bidirectional: true, input: 'dense', output: 'linear', activation: 'relu' } as Case, 3);
  await runCase({ architecture: 'many-to-many', cell: 'gru', layers: 2, bidirectional: true, input: 'dense', output: 'softmax', resetAfter: false } as Case, 4);
  await runCase({ architecture: 'many-to-one', cell: 'gru', layers: 1, bidirectional: false, input: 'tokens', output: 'sigmoid', resetAfter: false } as Case, 5);
});

Runtime('a model from createRNN exports, and lengths: false leaves the lengths input out', async () => {
  const model = await createRNN({ cell: 'lstm', n_x: 3, n_a: 5, n_y: 2, layers: 2, output: 'linear', seed: 2 });
  const bytes = toONNX(model, { lengths: false });
  const session = await ort.InferenceSession.create(bytes);
  assert.equal(session.inputNames, ['x']);
  const x = [[[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]], [[1, 0, -1], [0.5, 0.5, 0.5]]];
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.flat(2)), [2, 2, 3]) });
  close('yhat', out.yhat.data as Float32Array, model.forward({ x }).yhat);
  await session.release();
  model.dispose();
});

Runtime('in, fine-tuned, out: a Keras model from tfjs-layers, trained in rnn-wasm, runs in ONNX Runtime', async () => {
  await ready();
  const keras = tfl.sequential({ layers: [
    tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }) as tfl.RNN, inputShape: [null, 3] }),
    tfl.layers.dense({ units: 2, activation: 'softmax' }),
  ] });
  randomizeWeights(keras, 2);
  const saved = await save(keras, 1);
  keras.dispose();
  const model = await loadKerasModel(saved.json, saved.files, { seed: 1 });
  const rng = new Random(3);
  const x = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => [rng.uniform(), rng.uniform(), rng.uniform()]));
  const y = x.map((s) => s.map((v) => (v[0] > 0.5 ? 1 : 0)));
  for (let i = 0; i < 5; i++) (model as any).trainStep({ x, y }, { learningRate: 0.05 });
  const session = await ort.InferenceSession.create(toONNX(model, { lengths: false }));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x.flat(2)), [6, 5, 3]) });
  close('yhat', out.yhat.data as Float32Array, (model as any).forward({ x }).yhat);
  await session.release();
  model.dispose();
});

const Format = suite('toONNX: the file');

Format('decodes with the official onnx.proto (onnx-proto): opset, nodes, weights in ONNX layouts', async () => {
  const model = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 3, n_a: 2, n_y: 4, layers: 2, bidirectional: true, seed: 1 });
  const m = onnx.ModelProto.decode(toONNX(model));
  assert.equal(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 14]]);
  const ops = m.graph!.node!.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'LSTM').length, 2);
  assert.ok(ops.includes('Gemm') && ops.includes('Softmax'), ops.join(' '));
  const dims = (name: string) => m.graph!.initializer!.find((t) => t.name === name)!.dims!.map(Number);
  assert.equal(dims('W_l0'), [2, 8, 3]);     // (directions, 4 gates × n_a, n_x)
  assert.equal(dims('R_l1'), [2, 8, 2]);
  assert.equal(dims('B_l1'), [2, 16]);
  // ONNX's LSTM gate order is i, o, f, c; PyTorch's i, f, g, o: ONNX's block 1 is PyTorch's block 3
  const W = m.graph!.initializer!.find((t) => t.name === 'W_l0')!;
  const w = new Float32Array(new Uint8Array(W.rawData!).slice().buffer);
  const torch = model.getParam('weight_ih_l0');
  assert.equal(Array.from(w.subarray(2 * 3, 4 * 3)), Array.from(torch.subarray(6 * 3, 8 * 3)));   // blocks of n_a × n_x = 6
  const meta = m.metadataProps!.find((p) => p.key === 'rnn-wasm.config')!;
  assert.is(JSON.parse(meta.value!).architecture, 'many-to-one');
  model.dispose();
});

Format('models that generate step by step are refused, and bad arguments are named', async () => {
  const gen = await createModel({ architecture: 'one-to-many', n_a: 4, n_y: 5, seed: 1 });
  throwsWith(() => toONNX(gen), TypeError, /toONNX: a 'one-to-many' model generates .* decoding loop/);
  gen.dispose();
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: 4, n_a: 4, n_y: 5, seed: 1 });
  throwsWith(() => toONNX(ed), TypeError, /'encoder-decoder' model/);
  ed.dispose();
  throwsWith(() => toONNX({} as any), TypeError, /toONNX: model must be an rnn-wasm model/);
  const m = await createRNN({ n_x: 2, n_a: 2, n_y: 2, seed: 1 });
  throwsWith(() => toONNX(m, { lengths: 'yes' } as any), TypeError, /options\.lengths must be a boolean/);
  throwsWith(() => toONNX(m, { length: false } as any), TypeError, /toONNX: options has no field "length"; did you mean lengths\?/);
  m.dispose();
  throwsWith(() => toONNX(m), TypeError, /disposed/);
});

Format.after(restoreGlobals);

Runtime.run();
Format.run();

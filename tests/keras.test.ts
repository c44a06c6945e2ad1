// loadKerasModel: models built and saved with TensorFlow.js's own tfjs-layers load, and
// predict what tfjs predicts within 1e-5 on random inputs — every layer and option rnn-wasm
// maps — then fine-tune; what does not map is refused, naming the layer and the setting.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKerasModel, Random, type KerasLoadOptions } from '../dist/index.js';
import { predict, randomizeWeights, ready, roundTrip as checkKeras, save, saved, tf, tfl } from './_keras.js';
import { rejectsWith } from './_utils.js';

const n_x = 3, T = 5, B = 4;

function inputs(seed: number, steps = T): number[][][] {
  const rng = new Random(seed);
  return Array.from({ length: B }, () => Array.from({ length: steps }, () => Array.from({ length: n_x }, () => 2 * rng.uniform() - 1)));
}

/** Load a model from tfjs-layers and check it predicts the same on (B, T, n_x) inputs. */
const roundTrip = (label: string, build: () => tfl.LayersModel, expect: Record<string, unknown>, options: KerasLoadOptions = {}) =>
  checkKeras(label, build, expect, inputs, options);

const sig = { recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' } as const;
const input = tfl.layers.inputLayer;

const Predict = suite('Keras models from tfjs-layers predict the same in rnn-wasm');
Predict.before(ready);

Predict('SimpleRNN (tanh) → TimeDistributed(Dense softmax): many-to-many', () => roundTrip('rnn-td', () => tfl.sequential({
  layers: [
    tfl.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [null, n_x], recurrentInitializer: 'glorotUniform' }),
    tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 5, activation: 'softmax' }) }),
  ],
}), { architecture: 'many-to-many', cell: 'rnn', activation: 'tanh', output: 'softmax', n_y: 5 }));

Predict('two stacked SimpleRNN (relu) → Dense linear: many-to-one', () => roundTrip('rnn-relu', () => tfl.sequential({
  layers: [
    tfl.layers.simpleRNN({ units: 4, activation: 'relu', returnSequences: true, inputShape: [T, n_x], recurrentInitializer: 'glorotUniform' }),
    tfl.layers.simpleRNN({ units: 4, activation: 'relu', recurrentInitializer: 'glorotUniform' }),
    tfl.layers.dense({ units: 2 }),
  ],
}), { architecture: 'many-to-one', layers: 2, activation: 'relu', output: 'linear' }));

Predict('LSTM → Dense sigmoid: many-to-one', () => roundTrip('lstm-sig', () => tfl.sequential({
  layers: [tfl.layers.lstm({ units: 6, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 3, activation: 'sigmoid' })],
}), { architecture: 'many-to-one', cell: 'lstm', n_a: 6, output: 'sigmoid' }));

Predict('Bidirectional LSTM × 2 with Dropout between and before a Dense softmax on every step', () => roundTrip('lstm-bi', () => tfl.sequential({
  layers: [
    input({ batchInputShape: [null, null, n_x] }),
    tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 3, returnSequences: true, ...sig }) as tfl.RNN }),
    tfl.layers.dropout({ rate: 0.3 }),
    tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 3, returnSequences: true, ...sig }) as tfl.RNN }),
    tfl.layers.dropout({ rate: 0.2 }),
    tfl.layers.dense({ units: 4, activation: 'softmax' }),
  ],
}), { architecture: 'many-to-many', bidirectional: true, layers: 2, dropout: 0.3, outputDropout: 0.2 }));

Predict('Bidirectional GRU (reset_after false) → Dense softmax: many-to-one', () => roundTrip('gru-bi', () => tfl.sequential({
  layers: [
    tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 4, ...sig }) as tfl.RNN, inputShape: [null, n_x] }),
    tfl.layers.dense({ units: 3, activation: 'softmax' }),
  ],
}), { architecture: 'many-to-one', cell: 'gru', resetAfter: false, bidirectional: true }));

Predict('two GRU without biases (bias: false) and no Dense: the recurrent output itself (identity output layer)', () => roundTrip('gru-raw', () => tfl.sequential({
  layers: [
    tfl.layers.gru({ units: 4, useBias: false, returnSequences: true, inputShape: [null, n_x], ...sig }),
    tfl.layers.gru({ units: 4, useBias: false, returnSequences: true, ...sig }),
  ],
}), { architecture: 'many-to-many', n_y: 4, output: 'linear', bias: false }));

Predict('LSTM without bias (bias: false), unit_forget_bias, Dense without bias + Activation softmax', () => roundTrip('lstm-nobias', () => tfl.sequential({
  layers: [
    tfl.layers.lstm({ units: 5, useBias: false, unitForgetBias: true, returnSequences: true, inputShape: [null, n_x], ...sig }),
    tfl.layers.dense({ units: 3, useBias: false }),
    tfl.layers.activation({ activation: 'softmax' }),
  ],
}), { output: 'softmax', bias: false }));

Predict('Softmax layers: on every step over the last axis, and after a many-to-one Dense (tfjs\'s default axis 1)', async () => {
  await roundTrip('gru-softmax-layer', () => tfl.sequential({
    layers: [
      tfl.layers.gru({ units: 3, returnSequences: true, inputShape: [null, n_x], ...sig }),
      tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 4 }) }),
      tfl.layers.softmax({ axis: -1 }),
    ],
  }), { architecture: 'many-to-many', output: 'softmax' });
  await roundTrip('lstm-softmax-layer', () => tfl.sequential({
    layers: [tfl.layers.lstm({ units: 3, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 4 }), tfl.layers.softmax()],
  }), { architecture: 'many-to-one', output: 'softmax' });
});

Predict('a functional model: Input → Bidirectional(SimpleRNN) → Dense', () => roundTrip('functional', () => {
  const x = tfl.input({ shape: [null, n_x] });
  const h = tfl.layers.bidirectional({ layer: tfl.layers.simpleRNN({ units: 3, recurrentInitializer: 'glorotUniform' }) as tfl.RNN }).apply(x) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ units: 2, activation: 'sigmoid' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}, { architecture: 'many-to-one', bidirectional: true, output: 'sigmoid' }));

Predict('LSTM → Dropout → Dense: the Dropout, which many-to-one has no place for, is off as at inference', () => roundTrip('lstm-drop', () => tfl.sequential({
  layers: [tfl.layers.lstm({ units: 4, inputShape: [null, n_x], ...sig }), tfl.layers.dropout({ rate: 0.5 }), tfl.layers.dense({ units: 2, activation: 'softmax' })],
}), { architecture: 'many-to-one', dropout: 0 }));

Predict('a recurrent_dropout is refused by default, and loads with trainingSettings: ignore', async () => {
  const build = () => tfl.sequential({ layers: [tfl.layers.gru({ units: 3, recurrentDropout: 0.25, returnSequences: true, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 2 })] });
  const s = await save(build());
  await rejectsWith(loadKerasModel(s.json, s.files), TypeError,
    /loadKerasModel: layer 'gru_GRU\d+' \(GRU\) has recurrent_dropout 0.25, which acts in training .*trainingSettings: 'ignore'/);
  await roundTrip('gru-rdrop', build, { architecture: 'many-to-many' }, { trainingSettings: 'ignore' });
});

Predict('fine-tuning a loaded model lowers its loss', async () => {
  const keras = tfl.sequential({ layers: [tfl.layers.gru({ units: 6, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 2, activation: 'softmax' })] });
  randomizeWeights(keras, 3);
  const saved = await save(keras, 1);
  keras.dispose();
  const model = await loadKerasModel(saved.json, saved.files['group1-shard1of1.bin'], { seed: 5 });
  const x = inputs(9, 7), y = x.map((s) => (s[0][0] > 0 ? 1 : 0));
  const before = (model as any).evaluate({ x, y }).loss;
  for (let i = 0; i < 30; i++) (model as any).trainStep({ x, y }, { learningRate: 0.02 });
  const after = (model as any).evaluate({ x, y }).loss;
  assert.ok(after < 0.7 * before, `loss ${before} → ${after}`);
  assert.is(model.config.seed, 5);
  model.dispose();
});

/** Weights re-encoded as tensorflowjs_converter's --quantize_uint8 / _uint16 / _float16 would. */
function quantize(specs: any[], data: ArrayBuffer, dtype: 'uint8' | 'uint16' | 'float16') {
  const f = new Float32Array(data);
  let at = 0;
  const parts: Uint8Array[] = [];
  const out = specs.map((s) => {
    const n = s.shape.reduce((a: number, b: number) => a * b, 1);
    const w = f.subarray(at, (at += n));
    if (dtype === 'float16') {
      const h = new Uint16Array(n);
      w.forEach((v, i) => { h[i] = toHalf(v); });
      parts.push(new Uint8Array(h.buffer));
      return { ...s, quantization: { dtype } };
    }
    const min = Math.min(...w), max = Math.max(...w), levels = dtype === 'uint8' ? 255 : 65535;
    const scale = (max - min) / levels || 1;
    const q = dtype === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    w.forEach((v, i) => { q[i] = Math.round((v - min) / scale); });
    parts.push(new Uint8Array(q.buffer));
    return { ...s, quantization: { dtype, scale, min } };
  });
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((o, p) => { bytes.set(p, o); return o + p.length; }, 0);
  return { specs: out, bytes };
}

/** float32 → IEEE half bits, rounding to nearest (the weights here are normal numbers). */
function toHalf(v: number): number {
  const f = new Float32Array([v]), u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = ((u >>> 23) & 0xff) - 127 + 15, frac = u & 0x7fffff;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | Math.round(frac / 8192);
}

Predict('quantized and float16 weights dequantize as tfjs does', async () => {
  const keras = tfl.sequential({ layers: [tfl.layers.lstm({ units: 4, returnSequences: true, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 3 })] });
  randomizeWeights(keras, 8);
  const saved = await save(keras, 1);
  const x = inputs(3);
  for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
    const spec = (saved.json.weightsManifest as any)[0].weights;
    const { specs, bytes } = quantize(spec, saved.files['group1-shard1of1.bin'].slice().buffer, dtype);
    const reference = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: saved.json.modelTopology as any, weightSpecs: specs, weightData: bytes.slice().buffer }));
    const want = predict(reference, x);
    const model = await loadKerasModel({ ...saved.json, weightsManifest: [{ paths: ['q.bin'], weights: specs }] }, { 'q.bin': bytes });
    const got = (model as any).forward({ x }).yhat;
    for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-5)) assert.unreachable(`${dtype} [${i}]: rnn-wasm ${got[i]}, tfjs ${want[i]}`);
    model.dispose();
    reference.dispose();
  }
  keras.dispose();
});

Predict('the ModelArtifacts of tf.io.withSaveHandler load as they are (weightData inside)', async () => {
  const keras = tfl.sequential({ layers: [tfl.layers.simpleRNN({ units: 3, inputShape: [null, n_x], recurrentInitializer: 'glorotUniform' }), tfl.layers.dense({ units: 2 })] });
  randomizeWeights(keras, 4);
  let artifacts: any;
  await keras.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const model = await loadKerasModel(artifacts);
  const x = inputs(5);
  const want = predict(keras, x), got = (model as any).forward({ x }).yhat;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5, `[${i}] ${got[i]} vs ${want[i]}`);
  model.dispose();
  keras.dispose();
});

const Refused = suite('Keras settings rnn-wasm does not have are refused, naming the layer and the setting');
Refused.before(ready);

Refused('hard_sigmoid (tfjs-layers\' default recurrent activation)', async () => {
  const s = await saved(() => [tfl.layers.lstm({ units: 2, inputShape: [null, n_x], recurrentInitializer: 'glorotUniform' })]);
  await rejectsWith(loadKerasModel(s.json, s.files), TypeError, /layer 'lstm_LSTM\d+' \(LSTM\) has recurrent_activation "hard_sigmoid"; rnn-wasm's gates use 'sigmoid'/);
});

Refused('stateful, go_backwards, merge_mode sum, recurrent_dropout, a Masking layer, a Conv1D', async () => {
  const cases: [() => tfl.layers.Layer[], RegExp, string?][] = [
    [() => [tfl.layers.simpleRNN({ units: 2, stateful: true, batchInputShape: [2, T, n_x], recurrentInitializer: 'glorotUniform' })], /stateful: true/],
    [() => [tfl.layers.simpleRNN({ units: 2, goBackwards: true, inputShape: [null, n_x], recurrentInitializer: 'glorotUniform' })], /go_backwards: true/],
    [() => [tfl.layers.bidirectional({ layer: tfl.layers.simpleRNN({ units: 2, recurrentInitializer: 'glorotUniform' }) as tfl.RNN, mergeMode: 'sum', inputShape: [null, n_x] })], /merge_mode "sum"/],
    [() => [tfl.layers.gru({ units: 2, recurrentDropout: 0.1, inputShape: [null, n_x], ...sig })], /\(GRU\) has recurrent_dropout 0.1/],
    [() => [tfl.layers.masking({ inputShape: [null, n_x] }), tfl.layers.lstm({ units: 2, ...sig })], /is a Masking layer/],
    [() => [tfl.layers.conv1d({ filters: 2, kernelSize: 2, inputShape: [T, n_x] }), tfl.layers.lstm({ units: 2, ...sig })], /is a Conv1D, which rnn-wasm's models do not have/],
    [() => [tfl.layers.lstm({ units: 2, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 3, activation: 'relu' })], /activation "relu"; rnn-wasm's output layer is softmax, sigmoid or linear/],
    [() => [tfl.layers.lstm({ units: 2, returnSequences: true, inputShape: [null, n_x], ...sig }), tfl.layers.gru({ units: 2, ...sig })], /a different cell, units/],
  ];
  for (const [layers, pattern] of cases) await rejectsWith(loadKerasModel((await saved(layers)).json, (await saved(layers)).files), TypeError, pattern);
});

Refused('damaged files: bad JSON, missing or short weight files, unknown weights, a graph model', async () => {
  const s = await saved(() => [tfl.layers.gru({ units: 2, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 2 })]);
  await rejectsWith(loadKerasModel('{"modelTopology": ', s.files), TypeError, /loadKerasModel: modelJson is not valid JSON/);
  await rejectsWith(loadKerasModel({ ...s.json, format: 'graph-model' }, s.files), TypeError, /modelJson.format is "graph-model"; rnn-wasm reads 'layers-model' files/);
  await rejectsWith(loadKerasModel(s.json, { 'group1-shard1of2.bin': s.files['group1-shard1of2.bin'] }), TypeError, /weights has no buffer for 'group1-shard2of2.bin'/);
  const short = { ...s.files, 'group1-shard2of2.bin': s.files['group1-shard2of2.bin'].subarray(4) };
  await rejectsWith(loadKerasModel(s.json, short), RangeError, /holds \d+ bytes, its weights take \d+/);
  const manifest = JSON.parse(JSON.stringify(s.json.weightsManifest));
  manifest[0].weights.push({ name: 'extra/kernel', shape: [1], dtype: 'float32' });
  const extra = new Uint8Array(4);
  await rejectsWith(loadKerasModel({ ...s.json, weightsManifest: manifest }, [s.files['group1-shard1of2.bin'], new Uint8Array([...s.files['group1-shard2of2.bin'], ...extra])]), TypeError, /the weights include extra\/kernel/);
  await rejectsWith(loadKerasModel(s.json, s.files, { trainingSettings: 'maybe' as any }), TypeError, /options.trainingSettings must be 'refuse' or 'ignore'/);
  await rejectsWith(loadKerasModel(s.json, s.files, { trainingSetting: 'ignore' } as any), TypeError, /options has no field "trainingSetting"; did you mean trainingSettings\?/);
});

Predict.run();
Refused.run();

const Fuzz = suite('loadKerasModel: damaged model.json and weights');
Fuzz.before(ready);

/** A copy of a JSON value with one random change deep inside: a key removed, a value replaced. */
function mutate(rng: Random, v: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(v));
  const junk = [null, -1, 0, 2.5, 'tanh', 'x', true, [], {}, [null, 3], 1e9];
  let node = copy;
  for (let depth = 0; depth < 12; depth++) {
    const keys = node && typeof node === 'object' ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const k = keys[rng.int(keys.length)];
    const child = node[k];
    if (child && typeof child === 'object' && rng.int(4) !== 0) { node = child; continue; }
    if (rng.int(3) === 0 && !Array.isArray(node)) delete node[k];
    else node[k] = junk[rng.int(junk.length)];
    break;
  }
  return copy;
}

Fuzz('mutated files load or throw a TypeError / RangeError from loadKerasModel, never anything else', async () => {
  const rng = new Random(Number(process.env.FUZZ_SEED ?? 31));
  const models = [
    tfl.sequential({ layers: [tfl.layers.bidirectional({ layer: tfl.layers.lstm({ units: 2, returnSequences: true, ...sig }) as tfl.RNN, inputShape: [null, n_x] }), tfl.layers.dropout({ rate: 0.1 }), tfl.layers.dense({ units: 2, activation: 'softmax' })] }),
    tfl.sequential({ layers: [tfl.layers.gru({ units: 3, inputShape: [null, n_x], ...sig }), tfl.layers.dense({ units: 2 })] }),
    tfl.sequential({ layers: [tfl.layers.embedding({ inputDim: 6, outputDim: 3, inputShape: [null] }), tfl.layers.lstm({ units: 2, ...sig }), tfl.layers.dense({ units: 6, activation: 'softmax' })] }),
  ];
  const seeds = await Promise.all(models.map((m) => save(m)));
  models.forEach((m) => m.dispose());
  const runs = Number(process.env.FUZZ_RUNS ?? 200);
  for (let i = 0; i < runs; i++) {
    const s = seeds[i % seeds.length];
    let json: any = s.json, files: Record<string, Uint8Array> = s.files;
    if (rng.int(4) === 0) {
      const name = Object.keys(files)[rng.int(Object.keys(files).length)];
      const bytes = files[name].slice(0, rng.int(files[name].length + 1));
      files = { ...files, [name]: bytes };
    } else if (rng.int(2) === 0) {
      json = mutate(rng, json);
    } else {
      json = { ...json, modelTopology: mutate(rng, json.modelTopology) };   // most changes, in the layers
    }
    try {
      (await loadKerasModel(json, files)).dispose();
    } catch (e) {
      const ok = (e instanceof TypeError || e instanceof RangeError) && /^loadKerasModel: /.test((e as Error).message);
      if (!ok) assert.unreachable(`mutation ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
  }
});

Fuzz.run();

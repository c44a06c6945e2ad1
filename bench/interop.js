// Inference of one model in three runtimes: a Keras LSTM built with tfjs-layers (run by tfjs on
// its wasm backend), the same model loaded into rnn-wasm with loadKerasModel, and rnn-wasm's
// toONNX of it run by ONNX Runtime Web (wasm, one thread, as in a page without cross-origin
// isolation). Validates first — the three must agree within 1e-4 on the batch — then times
// forward passes, the runtimes interleaved round by round so a burst of load from elsewhere on
// a shared machine hits one round of one runtime. Prints sequences per second (fastest and
// median round) and the ratio to rnn-wasm's.
//
//   npm run build && npm --prefix bench install && node bench/interop.js
//
// onnxruntime-web comes from the repository's own dev dependencies. T = time steps, B =
// sequences per call, n_x inputs, n_a hidden size, n_y outputs.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-web';
import { loadKerasModel, Random, toONNX } from 'rnn-wasm';

const SIZE = { n_x: 32, n_a: 128, n_y: 10, layers: 2 };
const SHAPES = [{ B: 32, T: 64 }, { B: 1, T: 64 }];
const ROUNDS = 9;
const MIN_ROUND_MS = 300;

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const median = (xs) => xs.slice().sort((a, b) => a - b)[(xs.length - 1) >> 1];

/** The Keras model, with every weight uniform in [−0.3, 0.3). */
function buildKeras() {
  const layers = Array.from({ length: SIZE.layers }, (_, l) => tfl.layers.lstm({
    units: SIZE.n_a, returnSequences: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform',
    ...(l === 0 ? { inputShape: [null, SIZE.n_x] } : {}),
  }));
  const model = tfl.sequential({ layers: [...layers, tfl.layers.dense({ units: SIZE.n_y, activation: 'softmax' })] });
  model.setWeights(model.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.3, 0.3, 'float32', i + 1)));
  return model;
}

async function saved(model) {
  let artifacts;
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  return artifacts;
}

/** The three runtimes, each a function of one batch returning ŷ (B, T, n_y) flat. */
async function contenders(keras) {
  const rnn = await loadKerasModel(await saved(keras));
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(toONNX(rnn, { lengths: false }));
  return [
    { name: 'rnn-wasm (loadKerasModel)', run: async (b) => rnn.forward({ x: b.sequences }).yhat },
    { name: 'ONNX Runtime Web, wasm (toONNX)', run: async (b) => (await session.run({ x: b.ort })).yhat.data },
    { name: 'tfjs-layers, wasm backend', run: async (b) => { const y = keras.predict(b.tfjs); const d = y.dataSync(); y.dispose(); return d; } },
  ];
}

function batch({ B, T }, seed) {
  const rng = new Random(seed);
  const flat = Float32Array.from({ length: B * T * SIZE.n_x }, () => 2 * rng.uniform() - 1);
  const sequences = Array.from({ length: B }, (_, b) => flat.subarray(b * T * SIZE.n_x, (b + 1) * T * SIZE.n_x));
  return { flat, sequences, ort: new ort.Tensor('float32', flat, [B, T, SIZE.n_x]), tfjs: tf.tensor3d(flat, [B, T, SIZE.n_x]) };
}

/** Calls per second of one runtime over at least MIN_ROUND_MS. */
async function round(c, b) {
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < MIN_ROUND_MS) { await c.run(b); calls++; }
  return (calls * 1000) / (performance.now() - start);
}

await tf.setBackend('wasm');
console.log(`inference: ${SIZE.layers}-layer LSTM, n_x ${SIZE.n_x}, n_a ${SIZE.n_a}, n_y ${SIZE.n_y} (softmax on every step)`);
console.log(`${os.cpus()[0]?.model}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}\n`);
const keras = buildKeras();
const list = await contenders(keras);
for (const shape of SHAPES) {
  const b = batch(shape, 7);
  const outs = await Promise.all(list.map((c) => c.run(b)));
  const worst = Math.max(...outs.slice(1).map((o) => Math.max(...Array.from(o, (v, i) => Math.abs(v - outs[0][i])))));
  if (!(worst < 1e-4)) throw new Error(`the runtimes disagree on B ${shape.B}, T ${shape.T}: largest difference ${worst}`);
  const rates = list.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < list.length; i++) rates[i].push(await round(list[i], b));
  console.log(`B ${shape.B}, T ${shape.T}: the three agree within ${worst.toExponential(1)}`);
  console.log('| runtime | sequences/s (fastest round) | sequences/s (median) | vs rnn-wasm (median) |');
  console.log('| --- | --- | --- | --- |');
  const base = median(rates[0]) * shape.B;
  list.forEach((c, i) => {
    const best = Math.max(...rates[i]) * shape.B, mid = median(rates[i]) * shape.B;
    console.log(`| ${c.name} | ${fmt(best, 0)} | ${fmt(mid, 0)} | ${fmt(mid / base, 2)}× |`);
  });
  console.log('');
  b.tfjs.dispose();
}

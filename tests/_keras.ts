// Helpers for the Keras import tests: TensorFlow.js (tfjs-layers on the cpu backend) in Node,
// models saved through tf.io.withSaveHandler into the files a model.save('file://…') writes
// (model.json with a weightsManifest, the weights split into shards), predictions, and the
// check that a model loaded in rnn-wasm predicts what tfjs predicts.
import * as assert from 'uvu/assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadKerasModel, type KerasLoadOptions } from '../dist/index.js';

tf.enableProdMode();   // no console banner about the node backend
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@tensorflow/tfjs-backend-cpu');

export { tf, tfl };

export async function ready(): Promise<void> {
  await tf.setBackend('cpu');
}

/** Set every weight to uniform values in [−0.5, 0.5) from a seed, biases included. */
export function randomizeWeights(model: tfl.LayersModel, seed: number): void {
  model.setWeights(model.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed * 1000 + i)));
}

/** What model.save writes to disk: model.json and weight files by name. */
export interface SavedFiles {
  json: Record<string, unknown>;
  files: Record<string, Uint8Array>;
}

/** Save a model as tfjs's file saver would, with the weights in `shards` files. */
export async function save(model: tfl.LayersModel, shards = 2): Promise<SavedFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts!;
  const data = new Uint8Array(a.weightData as ArrayBuffer);
  const size = Math.ceil(data.length / shards);
  const paths = Array.from({ length: shards }, (_, k) => `group1-shard${k + 1}of${shards}.bin`);
  const files = Object.fromEntries(paths.map((p, k) => [p, data.slice(k * size, (k + 1) * size)]));
  const json = {
    modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy,
    weightsManifest: [{ paths, weights: a.weightSpecs }],
  };
  return { json: JSON.parse(JSON.stringify(json)), files };
}

/** The saved files of a Sequential model of these layers (disposed once saved). */
export async function saved(layers: () => tfl.layers.Layer[]): Promise<SavedFiles> {
  const m = tfl.sequential({ layers: layers() });
  const s = await save(m);
  m.dispose();
  return s;
}

/** model.predict on (B, T, n_x) inputs, or (B, T) token ids, flat. */
export function predict(model: tfl.LayersModel, x: number[][][] | number[][]): Float32Array {
  const input = Array.isArray(x[0][0]) ? tf.tensor3d(x as number[][][]) : tf.tensor2d(x as number[][]);
  const out = model.predict(input) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  input.dispose();
  out.dispose();
  return Float32Array.from(data);
}

/** |rnn-wasm − tfjs| ≤ 1e-5 everywhere. */
export function closeToKeras(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  assert.is(got.length, want.length, `${label}: output size`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= 1e-5)) assert.unreachable(`${label} [${i}]: rnn-wasm ${got[i]}, tfjs ${want[i]}`);
  }
}

/** Build with tfjs-layers, randomize, save, load in rnn-wasm, check the config holds `expect`
 *  (and `check` what else it will), and compare predictions on inputs(1) and inputs(2). */
export async function roundTrip(label: string, build: () => tfl.LayersModel, expect: Record<string, unknown>, inputs: (seed: number) => number[][][] | number[][],
                                options: KerasLoadOptions = {}, check?: (model: any, keras: tfl.LayersModel) => void): Promise<void> {
  const keras = build();
  randomizeWeights(keras, label.length);
  const files = await save(keras);
  const model = await loadKerasModel(files.json, files.files, options);
  try {
    for (const [k, v] of Object.entries(expect)) assert.equal(k === 'architecture' ? model.architecture : (model.config as any)[k], v, k);
    check?.(model, keras);
    for (const seed of [1, 2]) {
      const x = inputs(seed);
      closeToKeras(label, (model as any).forward({ x }).yhat, predict(keras, x));
    }
  } finally {
    model.dispose();
    keras.dispose();
  }
}

// Helpers for the Keras import tests: TensorFlow.js (tfjs-layers on the cpu backend) in Node,
// models saved through tf.io.withSaveHandler into the files a model.save('file://…') writes
// (model.json with a weightsManifest, the weights split into shards), and predictions.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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

/** model.predict on (B, T, n_x) inputs, flat. */
export function predict(model: tfl.LayersModel, x: number[][][]): Float32Array {
  const input = tf.tensor3d(x);
  const out = model.predict(input) as tf.Tensor;
  const data = out.dataSync() as Float32Array;
  input.dispose();
  out.dispose();
  return Float32Array.from(data);
}

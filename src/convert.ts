// What the importers share (keras.ts, onnx-import.ts): moving gate blocks between frameworks'
// orders, transposing kernels, and making the model an import describes — every tensor in
// PyTorch's names and layout, checked against the model's layout before the model is
// returned, so a failed import never leaves a half-loaded model behind.
//
// Gate orders (blocks of n_a rows in weight_ih / weight_hh / the biases):
//   PyTorch (rnn-wasm)   LSTM i, f, g, o        GRU r, z, n
//   Keras / TF.js        LSTM i, f, c, o        GRU z, r, h
//   ONNX                 LSTM i, o, f, c        GRU z, r, h

import { createModel, type ModelConfig } from './architectures.js';
import type { CellKind } from './layout.js';
import { KEYS } from './keys.js';
import { checkChoice, checkInt, checkKeys, describe } from './validate.js';
import type { Backend } from './wasm.js';
import type { ManyToMany } from './arch/many-to-many.js';
import type { ManyToOne } from './arch/many-to-one.js';
import type { OneToOne } from './arch/one-to-one.js';

/** The models an importer can return. */
export type ImportedModel = ManyToMany | ManyToOne | OneToOne;

/** PyTorch's gate block k is the source's block ORDER[source][cell][k]. */
export const GATE_ORDER: Record<'keras' | 'onnx', Record<CellKind, readonly number[]>> = {
  keras: { rnn: [0], lstm: [0, 1, 2, 3], gru: [1, 0, 2] },
  onnx: { rnn: [0], lstm: [0, 2, 3, 1], gru: [1, 0, 2] },
};

/** The inverse order: the source's block j is PyTorch's block inverse[j]. */
export function inverseOrder(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((src, k) => { inv[src] = k; });
  return inv;
}

/** Rows of `data` (gates · n rows of `cols` values) with the gate blocks moved: output block k
 *  is input block order[k]. Biases are the case cols = 1. */
export function reorderGates(data: Float32Array, order: readonly number[], cols: number): Float32Array {
  const block = data.length / order.length;
  if (!Number.isInteger(block / cols)) throw new RangeError(`reorderGates: ${data.length} values do not split into ${order.length} gates of rows of ${cols}`);
  const out = new Float32Array(data.length);
  order.forEach((src, k) => out.set(data.subarray(src * block, (src + 1) * block), k * block));
  return out;
}

/** The transpose of a (rows, cols) row-major matrix. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The identity matrix (n, n), for a model read without an output layer. */
export function identity(n: number): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** An import: the config of the model to make and every tensor by PyTorch name. */
export interface Import {
  config: ModelConfig & { architecture: 'many-to-many' | 'many-to-one' | 'one-to-one' };
  tensors: Map<string, Float32Array>;
}

/** Options every importer takes. */
export interface ImportOptions {
  /** Kernel build. Default 'auto'. */
  backend?: Backend;
  /** Seed for the model's shuffling, dropout and sampling (its weights come from the file).
   *  Default: the seed saved in the file, if any, else drawn at random and recorded in
   *  config.seed. */
  seed?: number;
}

/** Check an importer's options (`where` names the importer, and its list of keys). */
export function checkImportOptions(where: 'loadONNX' | 'loadKerasModel', options: unknown): ImportOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, KEYS[where]);
  const o = options as ImportOptions;
  if (o.backend !== undefined) checkChoice(where, 'options.backend', o.backend, ['auto', 'simd', 'scalar'] as const);
  if (o.seed !== undefined) checkInt(where, 'options.seed', o.seed, 0);
  return o;
}

/** Make the model and set every tensor; any mismatch disposes it and throws. */
export async function buildImport(where: string, plan: Import, options: ImportOptions): Promise<ImportedModel> {
  const { backend, seed } = options;
  let model: ImportedModel;
  try {
    model = await createModel({ ...plan.config, backend, ...(seed === undefined ? {} : { seed }) } as ModelConfig) as ImportedModel;
  } catch (e) {
    // the file's own config (sizes, or saved settings) is what createModel refused
    const Type = e instanceof RangeError ? RangeError : TypeError;
    throw new Type(`${where}: the model the file describes cannot be made: ${(e as Error).message}`);
  }
  try {
    const missing = model.layout.entries.filter((e) => !plan.tensors.has(e.name)).map((e) => e.name);
    const extra = [...plan.tensors.keys()].filter((n) => model.layout.get(n) === undefined);
    if (missing.length > 0 || extra.length > 0) {
      throw new RangeError(`${where}: the file's tensors do not fill the model (missing ${missing.join(', ') || 'none'}; extra ${extra.join(', ') || 'none'})`);
    }
    for (const e of model.layout.entries) {
      const t = plan.tensors.get(e.name)!;
      if (t.length !== e.length) throw new RangeError(`${where}: ${e.name} has ${t.length} values, the model needs [${e.shape.join(', ')}] = ${e.length}`);
      if (!t.every(Number.isFinite)) throw new RangeError(`${where}: ${e.name} holds a value that is not finite (NaN or ±Infinity)`);
    }
    const flat = new Float32Array(model.layout.size);
    for (const e of model.layout.entries) flat.set(plan.tensors.get(e.name)!, e.offset);
    model.setWeights(flat);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

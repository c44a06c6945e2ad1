// loadKerasModel: a Keras model saved for TensorFlow.js (model.json and its weight files, from
// tfjs-layers' model.save or tensorflowjs_converter) as the rnn-wasm model that computes the
// same function. Pure data in, no file access (rnn-wasm/node reads the files).
//
//   Keras                                  rnn-wasm
//   InputLayer                             the input size (checked against the first kernel)
//   Embedding (first)                      embedding: output_dim over input_dim tokens;
//                                          trainable: false → frozen: true
//   SimpleRNN | LSTM | GRU, stacked        the stack: cell 'rnn' | 'lstm' | 'gru', layers
//   Bidirectional(…, merge_mode 'concat')  bidirectional: true
//   return_sequences of the last layer     true → many-to-many (an RNN); false → many-to-one
//   Dense | TimeDistributed(Dense)         the output layer; activation softmax | sigmoid |
//     (+ Activation / Softmax layer)       linear; none: an identity output layer
//   Dropout between recurrent layers       dropout; before a many-to-many Dense: outputDropout;
//                                          elsewhere off (as at inference in Keras)
//
// Weights: weight_ih = kernelᵀ and weight_hh = recurrent_kernelᵀ with the gate blocks moved
// from Keras's order (LSTM i,f,c,o is PyTorch's i,f,g,o; GRU z,r,h → r,z,n); the one Keras bias
// goes to bias_ih with bias_hh = 0, or GRU reset_after's two biases to bias_ih and bias_hh;
// recurrent layers that all have use_bias: false make a model without biases (bias: false),
// where only some do, theirs are zeros in a model with biases (which computes the same);
// head.weight = Dense kernelᵀ; embedding.weight = embeddings, (input_dim, output_dim) in both,
// with the recurrent tensors under 'rnn.'. Every setting either maps exactly or is refused,
// naming the layer and the setting.

import {
  buildImport, checkImportOptions, GATE_ORDER, identity, reorderGates, transpose, withEmbedding, type Import, type ImportOptions,
} from './convert.js';
import { kerasLayers, type KerasLayer } from './keras-topology.js';
import { readWeights, type KerasTensor, type KerasWeightData } from './keras-weights.js';
import { GATES, type CellKind } from './layout.js';
import { describe } from './validate.js';
import type { ManyToMany } from './arch/many-to-many.js';
import type { ManyToOne } from './arch/many-to-one.js';

export type { KerasWeightData } from './keras-weights.js';

/** Options of loadKerasModel. */
export interface KerasLoadOptions extends ImportOptions {
  /** Keras settings that act only in training and have no place in the rnn-wasm model — a
   *  recurrent layer's dropout / recurrent_dropout, regularizers, constraints, frozen layers
   *  (trainable: false; a frozen Embedding is not one of them: it loads as a frozen table), a
   *  Dropout's noise_shape: 'refuse' the model, naming the layer and the setting, or 'ignore'
   *  them (predictions are the same; fine-tuning runs without them).
   *  Dropout layers always load: where rnn-wasm has dropout in the same place they become its
   *  dropout / outputDropout, elsewhere they are off, at inference as in Keras, and in
   *  fine-tuning. Default 'refuse'. */
  trainingSettings?: 'refuse' | 'ignore';
}

/** One recurrent layer of the Keras model. */
interface Recurrent {
  layer: KerasLayer;
  cell: CellKind;
  units: number;
  D: number;
  returnSequences: boolean;
  activation: 'tanh' | 'relu';
  resetAfter: boolean;
  useBias: boolean;
}

/** The Embedding layer in front of the recurrent layers. */
interface Table {
  layer: KerasLayer;
  V: number;
  E: number;
  frozen: boolean;
}

/** What the layers say, in order. */
interface Reading {
  /** The layer that declares the input's shape (an InputLayer, or the first layer). */
  input?: { layer: KerasLayer; shape: unknown };
  embedding?: Table;
  recurrent: Recurrent[];
  dense?: { layer: KerasLayer; units: number; useBias: boolean; steps: boolean };
  output: 'softmax' | 'sigmoid' | 'linear';
  /** Dropout layers and the number of recurrent layers before each. */
  dropouts: { layer: KerasLayer; rate: number; after: number; afterDense: boolean }[];
}

const CELLS: Record<string, CellKind> = { SimpleRNN: 'rnn', LSTM: 'lstm', GRU: 'gru' };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Load a Keras model saved for TensorFlow.js. modelJson is model.json (its text or parsed
 *  object: { modelTopology, weightsManifest }) or tfjs ModelArtifacts ({ modelTopology,
 *  weightSpecs, weightData }); weights are the weight files' bytes (see KerasWeightData), or
 *  omitted when modelJson carries weightData. */
export async function loadKerasModel(modelJson: string | object, weights?: KerasWeightData, options: KerasLoadOptions = {}): Promise<ManyToMany | ManyToOne> {
  const where = 'loadKerasModel';
  checkImportOptions(where, options);
  const refuse = trainingPolicy(where, options.trainingSettings);
  const json = parseJson(where, modelJson);
  const tensors = readWeights(where, manifestOf(where, json), weightsOf(where, json, weights));
  const reading = readLayers(where, kerasLayers(where, json.modelTopology), refuse);
  const plan = planOf(where, reading, tensors);
  return await buildImport(where, plan, options) as ManyToMany | ManyToOne;
}

function trainingPolicy(where: string, v: unknown): (layer: KerasLayer, setting: string) => void {
  if (v !== undefined && v !== 'refuse' && v !== 'ignore') throw new TypeError(`${where}: options.trainingSettings must be 'refuse' or 'ignore', got ${describe(v)}`);
  return (layer, setting) => {
    if (v === 'ignore') return;
    throw new TypeError(`${where}: layer '${layer.name}' (${layer.className}) has ${setting}, which acts in training and has no place in rnn-wasm's model; pass { trainingSettings: 'ignore' } to load it without (its predictions are the same)`);
  };
}

function parseJson(where: string, modelJson: unknown): Record<string, unknown> {
  let json = modelJson;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new TypeError(`${where}: modelJson is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(json) || json.modelTopology === undefined) {
    throw new TypeError(`${where}: modelJson must be a TensorFlow.js model.json ({ modelTopology, weightsManifest }), got ${describe(json)}`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new TypeError(`${where}: modelJson.format is ${describe(json.format)}; rnn-wasm reads 'layers-model' files (Keras models), not converted graph models`);
  }
  return json;
}

function manifestOf(where: string, json: Record<string, unknown>): unknown {
  if (json.weightsManifest !== undefined) return json.weightsManifest;
  if (Array.isArray(json.weightSpecs)) return [{ paths: [], weights: json.weightSpecs }];
  throw new TypeError(`${where}: modelJson has neither weightsManifest nor weightSpecs`);
}

function weightsOf(where: string, json: Record<string, unknown>, weights: KerasWeightData | undefined): KerasWeightData {
  if (weights !== undefined) return weights;
  const data = json.weightData;
  const isBytes = (b: unknown): b is ArrayBuffer | ArrayBufferView => b instanceof ArrayBuffer || ArrayBuffer.isView(b);
  if (Array.isArray(data) && data.every(isBytes)) {
    // tfjs ModelArtifacts may split weightData into several ArrayBuffers, in order
    const parts = data.map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => { out.set(p, at); return at + p.length; }, 0);
    return out;
  }
  if (isBytes(data)) return data;
  throw new TypeError(`${where}: weights are required (the bytes of the files the manifest names), got ${describe(weights)}${data === undefined ? '' : ` and modelJson.weightData ${describe(data)}`}`);
}

// --- layers ---

function readLayers(where: string, layers: KerasLayer[], refuse: (l: KerasLayer, setting: string) => void): Reading {
  const r: Reading = { recurrent: [], output: 'linear', dropouts: [] };
  layers.forEach((l, i) => {
    if (l.config.trainable === false && l.className !== 'Embedding') refuse(l, 'trainable: false (a frozen layer)');
    readLayer(where, l, r, refuse);
    const shape = l.config.batch_input_shape ?? l.config.batch_shape;
    if (shape !== undefined && (i === 0 || l.className === 'InputLayer')) r.input = { layer: l, shape };
  });
  if (r.recurrent.length === 0) throw new TypeError(`${where}: the model has no SimpleRNN, LSTM or GRU layer; rnn-wasm reads recurrent models`);
  return r;
}

function readLayer(where: string, l: KerasLayer, r: Reading, refuse: (l: KerasLayer, setting: string) => void): void {
  const c = l.config;
  switch (l.className) {
    case 'InputLayer':
      if (c.sparse === true || c.ragged === true) throw new TypeError(`${where}: input layer '${l.name}' is ${c.sparse ? 'sparse' : 'ragged'}; rnn-wasm takes sequences of different lengths as plain arrays`);
      return;
    case 'SimpleRNN': case 'LSTM': case 'GRU':
      return addRecurrent(where, r, l, l.className, c, 1, refuse);
    case 'Bidirectional':
      return bidirectional(where, r, l, refuse);
    case 'Dropout':
      if (typeof c.rate !== 'number' || !(c.rate >= 0 && c.rate < 1)) throw new TypeError(`${where}: Dropout layer '${l.name}' has rate ${describe(c.rate)}`);
      if (c.noise_shape != null) refuse(l, 'a noise_shape');
      r.dropouts.push({ layer: l, rate: c.rate, after: r.recurrent.length, afterDense: r.dense !== undefined });
      return;
    case 'Dense':
      return addDense(where, r, l, c, refuse);
    case 'TimeDistributed': {
      const inner = isObject(c.layer) ? c.layer : undefined;
      if (inner?.class_name !== 'Dense' || !isObject(inner.config)) throw new TypeError(`${where}: TimeDistributed layer '${l.name}' wraps a ${describe(inner?.class_name)}; rnn-wasm reads TimeDistributed(Dense)`);
      return addDense(where, r, l, inner.config, refuse);
    }
    case 'Activation': case 'Softmax':
      return addActivation(where, r, l);
    case 'Embedding':
      return addEmbedding(where, r, l, refuse);
    case 'Masking':
      throw new TypeError(`${where}: layer '${l.name}' is a Masking layer; rnn-wasm takes sequences of different lengths as they are (no padding to mask), and does not skip masked steps inside a sequence`);
    default:
      throw new TypeError(`${where}: layer '${l.name}' is a ${l.className}, which rnn-wasm's models do not have`);
  }
}

/** An Embedding: the model's first layer after its input, read exactly or refused. */
function addEmbedding(where: string, r: Reading, l: KerasLayer, refuse: (l: KerasLayer, setting: string) => void): void {
  const c = l.config;
  if (r.embedding || r.recurrent.length > 0 || r.dropouts.length > 0) {
    throw new TypeError(`${where}: Embedding layer '${l.name}' does not come first; rnn-wasm's embedding reads the model's token ids`);
  }
  const size = (key: string) => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new TypeError(`${where}: Embedding layer '${l.name}' has ${key} ${describe(v)}; it must be a positive integer`);
    return v;
  };
  const V = size('input_dim'), E = size('output_dim');
  if (flag(where, l, c, 'mask_zero', false, true)) {
    throw new TypeError(`${where}: Embedding layer '${l.name}' has mask_zero: true; Keras then skips every step whose id is 0, wherever it is, and rnn-wasm runs every step it is given (it takes sequences of their own lengths instead of padding them), so this model cannot be loaded as it is. ` +
      'If 0 only ever pads the end of a sequence, set mask_zero to false in model.json and give rnn-wasm the sequences unpadded: their outputs are then the same');
  }
  if (flag(where, l, c, 'sparse', false, true)) throw new TypeError(`${where}: Embedding layer '${l.name}' has sparse: true (it returns sparse tensors, which rnn-wasm's layers do not read)`);
  if (c.lora_rank != null) throw new TypeError(`${where}: Embedding layer '${l.name}' has lora_rank ${describe(c.lora_rank)}; rnn-wasm reads a plain table, not a LoRA update beside it`);
  for (const k of ['embeddings_regularizer', 'activity_regularizer', 'embeddings_constraint']) if (c[k] != null) refuse(l, `a ${k}`);
  r.embedding = { layer: l, V, E, frozen: c.trainable === false };
}

function inputSize(where: string, l: KerasLayer, shape: unknown): number {
  if (!Array.isArray(shape) || shape.length !== 3) {
    throw new TypeError(`${where}: layer '${l.name}' takes inputs of shape ${describe(shape)}; rnn-wasm's recurrent models take (batch, time, features)`);
  }
  const n = shape[2];
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new TypeError(`${where}: layer '${l.name}' has no fixed feature size (input shape ${describe(shape)})`);
  const dtype = l.config.dtype;
  if (dtype !== undefined && dtype !== 'float32' && !(isObject(dtype) && isObject(dtype.config) && dtype.config.name === 'float32')) {
    throw new TypeError(`${where}: layer '${l.name}' takes ${describe(dtype)} inputs; rnn-wasm's dense input is float32`);
  }
  return n;
}

function bidirectional(where: string, r: Reading, l: KerasLayer, refuse: (l: KerasLayer, setting: string) => void): void {
  const c = l.config, inner = isObject(c.layer) ? c.layer : undefined;
  const cls = inner?.class_name;
  if (typeof cls !== 'string' || !CELLS[cls] || !isObject(inner!.config)) throw new TypeError(`${where}: Bidirectional layer '${l.name}' wraps a ${describe(cls)}; rnn-wasm reads SimpleRNN, LSTM and GRU`);
  const merge = c.merge_mode ?? 'concat';
  if (merge !== 'concat') throw new TypeError(`${where}: Bidirectional layer '${l.name}' has merge_mode ${describe(merge)}; rnn-wasm concatenates the two directions ('concat')`);
  const back = c.backward_layer;
  if (isObject(back) && isObject(back.config)) {
    const f = inner!.config as Record<string, unknown>, b = back.config;
    const keys = ['units', 'activation', 'recurrent_activation', 'use_bias', 'return_sequences', 'reset_after'];
    if (back.class_name !== cls || b.go_backwards !== true || keys.some((k) => JSON.stringify(f[k]) !== JSON.stringify(b[k]))) {
      throw new TypeError(`${where}: Bidirectional layer '${l.name}' has a backward_layer unlike its forward layer; rnn-wasm runs the same cell both ways`);
    }
  }
  addRecurrent(where, r, l, cls, inner!.config as Record<string, unknown>, 2, refuse);
}

function addRecurrent(where: string, r: Reading, l: KerasLayer, cls: string, c: Record<string, unknown>,
                      D: number, refuse: (l: KerasLayer, setting: string) => void): void {
  const cell = CELLS[cls];
  const bad = (setting: string, why: string) => new TypeError(`${where}: layer '${l.name}' (${cls}) has ${setting}; ${why}`);
  if (r.dense) throw bad('a Dense layer before it', 'rnn-wasm\'s output layer comes after the recurrent layers');
  const units = c.units;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) throw bad(`units ${describe(units)}`, 'units must be a positive integer');
  for (const key of ['stateful', 'go_backwards', 'return_state', 'time_major']) {
    if (flag(where, l, c, key, false)) throw bad(`${key}: true`, key === 'stateful' ? 'rnn-wasm keeps state across calls with step() / a0, not inside predict' : 'rnn-wasm\'s layers do not have it');
  }
  const activation = c.activation === undefined ? 'tanh' : c.activation;
  if (!(activation === 'tanh' || (cell === 'rnn' && activation === 'relu'))) throw bad(`activation ${describe(activation)}`, `rnn-wasm's ${cell} cell uses ${cell === 'rnn' ? "'tanh' or 'relu'" : "'tanh'"}`);
  if (cell !== 'rnn' && c.recurrent_activation !== 'sigmoid') {
    throw bad(`recurrent_activation ${describe(c.recurrent_activation)}`, `rnn-wasm's gates use 'sigmoid' (hard_sigmoid, the old Keras and TensorFlow.js default, is a different function)`);
  }
  if (cell === 'gru' && typeof c.reset_after !== 'boolean') throw bad(`reset_after ${describe(c.reset_after)}`, 'it must say true or false');
  const returnSequences = flag(where, l, c, 'return_sequences', false), useBias = flag(where, l, c, 'use_bias', true);
  if ((c.dropout as number) > 0) refuse(l, `dropout ${c.dropout} on its inputs`);
  if ((c.recurrent_dropout as number) > 0) refuse(l, `recurrent_dropout ${c.recurrent_dropout}`);
  for (const k of ['kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint']) {
    if (c[k] != null) refuse(l, `a ${k}`);
  }
  const prev = r.recurrent[r.recurrent.length - 1];
  if (prev && !prev.returnSequences) throw bad('a recurrent layer before it that returns one state', 'a stacked layer reads every step of the one below (return_sequences: true)');
  const rec: Recurrent = {
    layer: l, cell, units, D, returnSequences, activation: activation as 'tanh' | 'relu',
    resetAfter: cell === 'gru' ? c.reset_after === true : true, useBias,
  };
  if (prev && (prev.cell !== cell || prev.units !== units || prev.D !== D || prev.activation !== rec.activation || prev.resetAfter !== rec.resetAfter)) {
    throw bad('a different cell, units, direction, activation or reset_after from the layer below', 'rnn-wasm stacks layers that are all alike');
  }
  r.recurrent.push(rec);
}

/** A boolean setting: absent (or null, where tfjs writes an unset option so) is the default,
 *  anything but true / false is refused. */
function flag(where: string, l: KerasLayer, c: Record<string, unknown>, key: string, fallback: boolean, nullable = false): boolean {
  const v = c[key];
  if (v === undefined || (nullable && v === null)) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`${where}: layer '${l.name}' (${l.className}) has ${key} ${describe(v)}; it must be true or false`);
  return v;
}

function addDense(where: string, r: Reading, l: KerasLayer, c: Record<string, unknown>, refuse: (l: KerasLayer, setting: string) => void): void {
  if (r.dense) throw new TypeError(`${where}: layer '${l.name}' is a second Dense layer; rnn-wasm's models have one output layer`);
  if (r.recurrent.length === 0) throw new TypeError(`${where}: Dense layer '${l.name}' comes before any recurrent layer; rnn-wasm's output layer reads the recurrent layers`);
  const units = c.units;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) throw new TypeError(`${where}: Dense layer '${l.name}' has units ${describe(units)}`);
  for (const k of ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint']) if (c[k] != null) refuse(l, `a ${k}`);
  r.dense = { layer: l, units, useBias: flag(where, l, c, 'use_bias', true), steps: r.recurrent[r.recurrent.length - 1].returnSequences };
  r.output = squashOf(where, l, c.activation ?? 'linear');
}

function addActivation(where: string, r: Reading, l: KerasLayer): void {
  const fn = l.className === 'Softmax' ? 'softmax' : squashOf(where, l, l.config.activation);
  if (!r.dense || r.output !== 'linear') {
    throw new TypeError(`${where}: layer '${l.name}' (${l.className}) does not follow a linear Dense layer; rnn-wasm applies one non-linearity to its output layer`);
  }
  if (l.className === 'Softmax') {
    // the last axis of (batch, time, n_y) or (batch, n_y); tfjs writes its default as 1
    const raw = Array.isArray(l.config.axis) && l.config.axis.length === 1 ? l.config.axis[0] : l.config.axis ?? -1;
    const last = r.dense.steps ? 2 : 1;
    if (raw !== -1 && raw !== last) throw new TypeError(`${where}: Softmax layer '${l.name}' normalizes over axis ${describe(l.config.axis)}; rnn-wasm's softmax is over the outputs (the last axis, ${last})`);
  }
  r.output = fn;
}

function squashOf(where: string, l: KerasLayer, a: unknown): Reading['output'] {
  if (a === 'softmax' || a === 'sigmoid' || a === 'linear') return a;
  throw new TypeError(`${where}: layer '${l.name}' has activation ${describe(a)}; rnn-wasm's output layer is softmax, sigmoid or linear`);
}

// --- the model ---

function planOf(where: string, r: Reading, tensors: Map<string, KerasTensor>): Import {
  const top = r.recurrent[r.recurrent.length - 1];
  const { cell, units: H, D } = top;
  const architecture = top.returnSequences ? 'many-to-many' : 'many-to-one';
  const used = new Set<string>();
  const take = (l: KerasLayer, path: (inner: string[]) => boolean, what: string, shape: number[]) => takeWeight(where, tensors, used, l, path, what, shape);
  const out = new Map<string, Float32Array>();
  const bias = r.recurrent.some((rec) => rec.useBias);
  let n_in = 0;
  r.recurrent.forEach((rec, layer) => {
    for (let d = 0; d < D; d++) {
      const dir = D === 1 ? () => true : (inner: string[]) => inner.some((part) => part.startsWith(d === 0 ? 'forward_' : 'backward_'));
      const kernel = take(rec.layer, dir, 'kernel', [layer > 0 ? D * H : r.embedding?.E ?? -1, GATES[cell] * H]);
      if (layer === 0) n_in = kernel.shape[0];
      layerTensors(out, rec, layer, d, kernel, take(rec.layer, dir, 'recurrent_kernel', [H, GATES[cell] * H]),
        rec.useBias ? take(rec.layer, dir, 'bias', rec.resetAfter && cell === 'gru' ? [2, GATES[cell] * H] : [GATES[cell] * H]) : undefined, bias);
    }
  });
  checkInput(where, r, n_in);
  const n_y = r.dense ? r.dense.units : D * H;
  if (r.dense) {
    const k = take(r.dense.layer, () => true, 'kernel', [D * H, n_y]);
    out.set('head.weight', transpose(k.data, D * H, n_y));
    // a Dense without a bias is an output layer without one (headBias: false), not a zero bias that trains
    if (r.dense.useBias) out.set('head.bias', take(r.dense.layer, () => true, 'bias', [n_y]).data);
  } else {
    out.set('head.weight', identity(n_y));
    out.set('head.bias', new Float32Array(n_y));
  }
  const table = r.embedding && { ...r.embedding, weight: take(r.embedding.layer, () => true, 'embeddings', [r.embedding.V, r.embedding.E]).data };
  const unused = [...tensors.keys()].filter((n) => !used.has(n));
  if (unused.length > 0) throw new TypeError(`${where}: the weights include ${unused.join(', ')}, which no layer rnn-wasm reads uses`);
  const config = {
    architecture, cell, n_x: n_in, n_a: H, n_y, layers: r.recurrent.length, bidirectional: D === 2, input: 'dense' as const, output: r.output,
    ...(cell === 'rnn' ? { activation: top.activation } : {}), ...(cell === 'gru' ? { resetAfter: top.resetAfter } : {}),
    ...(bias ? {} : { bias: false }), ...(r.dense && !r.dense.useBias ? { headBias: false } : {}), ...dropoutConfig(r, architecture),
  };
  const plan = { config, tensors: out } as Import;
  return table ? withEmbedding(where, plan, table) : plan;
}

/** The input the model declares, if it does: token ids (batch, time) in front of an
 *  Embedding, else (batch, time, features) of the first kernel's width. */
function checkInput(where: string, r: Reading, n_in: number): void {
  if (!r.input) return;
  const { layer, shape } = r.input;
  if (!r.embedding) {
    const size = inputSize(where, layer, shape);
    if (size !== n_in) throw new RangeError(`${where}: the input has ${size} features, but layer '${r.recurrent[0].layer.name}' has a kernel for ${n_in}`);
  } else if (!Array.isArray(shape) || shape.length !== 2) {
    throw new TypeError(`${where}: layer '${layer.name}' takes inputs of shape ${describe(shape)}; an Embedding reads token ids of shape (batch, time)`);
  }
}

/** Find one weight of a layer by its name and the last path component (`inner` picks among
 *  the components between them), and check its shape (−1: any size). */
function takeWeight(where: string, tensors: Map<string, KerasTensor>, used: Set<string>, l: KerasLayer,
                    inner: (parts: string[]) => boolean, what: string, shape: number[]): KerasTensor & { name: string } {
  // the layer's name is one component of the path: 'lstm/kernel', 'lstm/lstm_cell/kernel',
  // 'bidirectional/forward_lstm/lstm_cell/kernel', or under a model's name
  const hits = [...tensors.keys()].filter((n) => {
    const parts = n.split('/'), at = parts.lastIndexOf(l.name);
    return at >= 0 && at < parts.length - 1 && parts[parts.length - 1] === what && inner(parts.slice(at + 1, -1));
  });
  if (hits.length !== 1) throw new TypeError(`${where}: layer '${l.name}' needs one weight '${what}', the manifest has ${hits.length ? hits.join(', ') : 'none'}`);
  const t = tensors.get(hits[0])!;
  const fits = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!fits) throw new RangeError(`${where}: weight '${hits[0]}' has shape [${t.shape.join(', ')}], expected [${shape.map((d) => (d === -1 ? 'n_in' : d)).join(', ')}]`);
  used.add(hits[0]);
  return { ...t, name: hits[0] };
}

/** One direction of one layer in PyTorch's layout; biases only for a model that has them
 *  (`biases`), zeros for a layer without. */
function layerTensors(out: Map<string, Float32Array>, rec: Recurrent, layer: number, d: number,
                      kernel: KerasTensor, recurrent: KerasTensor, bias: KerasTensor | undefined, biases: boolean): void {
  const order = GATE_ORDER.keras[rec.cell], rows = GATES[rec.cell] * rec.units;
  const name = (n: string) => `${n}_l${layer}${d === 1 ? '_reverse' : ''}`;
  out.set(name('weight_ih'), reorderGates(transpose(kernel.data, kernel.shape[0], rows), order, kernel.shape[0]));
  out.set(name('weight_hh'), reorderGates(transpose(recurrent.data, rec.units, rows), order, rec.units));
  if (!biases) return;
  const two = bias && bias.shape.length === 2;
  out.set(name('bias_ih'), bias ? reorderGates(bias.data.subarray(0, rows), order, 1) : new Float32Array(rows));
  out.set(name('bias_hh'), two ? reorderGates(bias!.data.subarray(rows), order, 1) : new Float32Array(rows));
}

/** Dropout layers as rnn-wasm's dropout: between stacked layers (one rate between every pair)
 *  and before a many-to-many model's output layer (outputDropout). A Dropout layer anywhere
 *  else is, as in Keras, off at inference, and is left out of training (rnn-wasm's model has no
 *  dropout there). */
function dropoutConfig(r: Reading, architecture: string): { dropout?: number; outputDropout?: number } {
  const L = r.recurrent.length;
  const between = r.dropouts.filter((d) => d.after >= 1 && d.after < L);
  const before = r.dropouts.filter((d) => d.after === L && !d.afterDense);
  const everyGap = new Set(between.map((d) => d.after)).size === L - 1 && between.length === L - 1;
  const out: { dropout?: number; outputDropout?: number } = {};
  if (L > 1 && everyGap && between.every((d) => d.rate === between[0].rate)) out.dropout = between[0].rate;
  if (before.length === 1 && architecture === 'many-to-many') out.outputDropout = before[0].rate;
  return out;
}

// loadONNX: a model from an ONNX file — one written by toONNX, or by torch.onnx.export for
// nn.RNN / nn.LSTM / nn.GRU (batch-first or not, any number of layers, one or two directions,
// packed sequences included) with an nn.Linear, and softmax or sigmoid, on every step's output
// or on the final state.
// onnx-graph.ts reads the graph; here its layers and output layer are checked to form one
// rnn-wasm stack and head, turned into a config and tensors in PyTorch's layout (gate blocks
// moved from ONNX's order, B split into b_ih and b_hh), and the model is made in one step.
// B is an optional input: layers that all leave it out (torch.onnx.export of a module with
// bias=False, toONNX of a model with bias: false) make a model without biases; where only some
// do, theirs are zeros in a model with biases, which computes the same. An output layer without
// a bias (a MatMul without its Add, a Gemm without C: nn.Linear's bias=False) makes a model with
// headBias: false.
//
//   the output layer reads          the model
//   every step of the top layer     many-to-many (an RNN)
//   the top layer's final states    many-to-one   (its last step, for one direction without
//                                                 sequence lengths, is the same thing)
//   a one-step input's states       one-to-one
//   nothing (no output layer)       the same, with an identity output layer (W_ya = I, b_y = 0)
//
// Token ids read through a Gather of a constant table are the embedding (embedding.weight, the
// recurrent tensors under 'rnn.'); an output layer whose weight is that table, value for
// value, is tied to it. ONNX does not record nn.Embedding's padding_idx or a frozen table:
// options.embedding says them, and a file from toONNX carries them in its config.

import { tokenizerFromJSON, type TokenizerJSON } from './tokenizer.js';
import {
  buildImport, checkImportOptions, GATE_ORDER, identity, reorderGates, withEmbedding,
  type Import, type ImportedModel, type ImportedTable, type ImportOptions,
} from './convert.js';
import { CONFIG_KEY } from './onnx-export.js';
import { readGraph, type Block, type GraphReading, type Layer } from './onnx-graph.js';
import { decodeOnnx, type OnnxModel } from './onnx-proto.js';
import type { Floats } from './onnx-values.js';
import { KEYS } from './keys.js';
import { checkBoolean, checkInt, checkObject } from './validate.js';
import { checkBytes } from './io.js';
import { GATES } from './layout.js';

/** What an ONNX file does not record about its embedding table. */
export interface ONNXEmbeddingOptions {
  /** nn.Embedding's padding_idx: the id whose row gets no gradient when the model is
   *  fine-tuned (torch.onnx.export writes the embedding as a plain Gather, without it); null:
   *  none. Default: none, or what a file from toONNX records. */
  paddingIdx?: number | null;
  /** Keep the table fixed in fine-tuning. Default false, or what a file from toONNX records. */
  frozen?: boolean;
}

/** Options of loadONNX. */
export interface LoadONNXOptions extends ImportOptions {
  /** Settings of the embedding table of a file whose token ids go through one; they take
   *  precedence over what a file from toONNX records. */
  embedding?: ONNXEmbeddingOptions;
}

/** Read an ONNX file into a model: many-to-many, many-to-one or one-to-one, whichever the
 *  graph computes. Anything in the graph rnn-wasm does not compute exactly is refused, with
 *  an error naming the node. */
export async function loadONNX(bytes: Uint8Array | ArrayBuffer, options: LoadONNXOptions = {}): Promise<ImportedModel> {
  const where = 'loadONNX';
  const file = checkBytes(where, bytes, 'an ONNX file');
  checkImportOptions(where, options);
  if (options.embedding !== undefined) checkTableOptions(where, options.embedding);
  const plan = planOf(where, decodeOnnx(where, file), options.embedding);
  return buildImport(where, plan, options);
}

function checkTableOptions(where: string, o: ONNXEmbeddingOptions): void {
  checkObject(where, 'options.embedding', o, KEYS.onnxEmbedding);
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) checkInt(where, 'options.embedding.paddingIdx', o.paddingIdx, 0);
  if (o.frozen !== undefined) checkBoolean(where, 'options.embedding.frozen', o.frozen);
}

function planOf(where: string, file: OnnxModel, tableOptions: ONNXEmbeddingOptions | undefined): Import {
  if (file.functions) throw new TypeError(`${where}: the model defines its own functions, which rnn-wasm does not run`);
  if (file.graph.sparse) throw new TypeError(`${where}: the graph has sparse initializers, which rnn-wasm does not read`);
  const reading = readGraph(where, file.graph, opsetOf(where, file));
  const stack = checkStack(where, reading.layers);
  for (const o of reading.others) {
    if (o.value?.kind !== 'act') throw new TypeError(`${where}: graph output '${o.name}' is not computed from the input; rnn-wasm's models return outputs and states`);
  }
  const architecture = checkReadout(where, reading, stack);
  const { head, input } = reading;
  const n_y = head ? head.n_y : stack.D * stack.H;
  const bias = reading.layers.some((l) => l.B !== undefined);
  const config = {
    architecture, cell: stack.cell, n_x: input.size, n_a: stack.H, n_y, layers: reading.layers.length,
    input: input.kind, output: head?.fn ?? 'linear',
    ...(architecture === 'one-to-one' ? {} : { bidirectional: stack.D === 2 }),
    ...(stack.cell === 'rnn' ? { activation: stack.activation } : {}),
    ...(stack.cell === 'gru' ? { resetAfter: stack.resetAfter } : {}),
    ...(bias ? {} : { bias: false }),
    ...(head && !head.b ? { headBias: false } : {}),
  } as Import['config'];
  const tensors = layerTensors(reading.layers, bias);
  tensors.set('head.weight', head ? head.W : identity(n_y));
  if (!head || head.b) tensors.set('head.bias', head?.b ?? new Float32Array(n_y));
  const saved = savedConfig(where, file.metadata);
  if (!reading.embedding && tableOptions !== undefined) {
    throw new TypeError(`${where}: options.embedding is for a file whose token ids go through an embedding table (a Gather); this file has none`);
  }
  const plan = reading.embedding ? withEmbedding(where, { config, tensors }, tableOf(where, reading.embedding.table, saved, tableOptions)) : { config, tensors };
  return saved ? withSavedConfig(where, saved, plan) : plan;
}

/** The embedding's settings: the options', else the saved config's, else none. A file from
 *  toONNX says whether the output layer is tied; another ties it when its weight is the table. */
function tableOf(where: string, table: Floats, saved: Record<string, unknown> | undefined, options: ONNXEmbeddingOptions = {}): ImportedTable {
  const [V, E] = table.dims;
  const own = typeof saved?.embedding === 'object' && saved.embedding !== null ? saved.embedding as ONNXEmbeddingOptions : {};
  const paddingIdx = options.paddingIdx !== undefined ? options.paddingIdx : own.paddingIdx;
  if (options.paddingIdx != null && options.paddingIdx >= V) {
    throw new RangeError(`${where}: options.embedding.paddingIdx must be a token id in [0, V) = [0, ${V}) for the file's table, got ${options.paddingIdx}`);
  }
  const frozen = options.frozen ?? own.frozen === true;
  if (options.frozen && saved?.tieWeights === true) {
    throw new TypeError(`${where}: options.embedding.frozen would freeze the file's output layer too, which is tied to the table (tieWeights)`);
  }
  return { weight: table.data, V, E, frozen, paddingIdx, tie: saved ? saved.tieWeights === true : undefined };
}

function opsetOf(where: string, file: OnnxModel): number {
  const own = file.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!own) throw new TypeError(`${where}: the model imports no version of the standard ONNX operators`);
  if (own.version < 9) throw new RangeError(`${where}: the model uses ONNX opset ${own.version}; rnn-wasm reads opset 9 and later`);
  return own.version;
}

/** Every layer must be the same kind of cell, size, directions and lengths: one stack. */
function checkStack(where: string, layers: Layer[]): Layer {
  const first = layers[0];
  for (const l of layers) {
    const same = l.cell === first.cell && l.H === first.H && l.D === first.D && l.activation === first.activation
      && l.resetAfter === first.resetAfter && l.lengths === first.lengths;
    if (!same) {
      throw new TypeError(`${where}: node '${l.node.name}' differs from node '${first.node.name}' in its cell, hidden_size, direction, activation, linear_before_reset or sequence_lens; rnn-wasm stacks layers that are all alike`);
    }
  }
  return first;
}

/** The output layer (or the graph's output) must read every direction of the top layer:
 *  at every step (many-to-many) or at each sequence's end (many-to-one, one-to-one). */
function checkReadout(where: string, r: GraphReading, top: Layer): Import['config']['architecture'] {
  const L = r.layers.length, D = top.D;
  const F = r.output.axes[r.output.axes.length - 1];
  if (F.name !== 'F' || r.output.axes.some((a) => a.name === 'S')) throw new TypeError(`${where}: the graph's first output is not one vector per step or per sequence`);
  const want = r.head ? (r.head.fn ? 'p' : 'z') : undefined;
  if (want && (F.blocks.length !== 1 || F.blocks[0].src !== want)) {
    throw new TypeError(`${where}: the graph's first output is not what its output layer ends in (${want === 'p' ? `the ${r.head!.fn}` : 'the logits'})`);
  }
  const read = r.head ? r.head.input : F.blocks;
  const steps = r.head ? r.head.steps : r.outputSteps;
  const src: Block['src'] = steps || r.output.lastStep ? 'y' : 'h';
  if (r.output.lastStep && (D !== 1 || top.lengths)) {
    throw new TypeError(`${where}: the output reads the last time step of ${D === 2 ? 'a bidirectional layer (whose reverse half there has seen one step)' : 'outputs padded by sequence_lens'}; rnn-wasm's many-to-one reads each direction's final state`);
  }
  const full = read.length === D && read.every((b, d) => b.src === src && b.slot?.layer === L - 1 && b.slot.dir === d);
  if (!full) throw new TypeError(`${where}: the output reads ${describeBlocks(read)}; rnn-wasm's models read every direction of the top layer (layer ${L - 1})`);
  if (steps) return 'many-to-many';
  if (!r.single) return 'many-to-one';
  if (D !== 1) throw new TypeError(`${where}: a one-step model must run in one direction`);
  return 'one-to-one';
}

function describeBlocks(blocks: Block[]): string {
  return blocks.map((b) => (b.slot ? `${b.src} of layer ${b.slot.layer} direction ${b.slot.dir}` : b.src)).join(', ') || 'nothing';
}

/** Every layer's tensors in PyTorch's names, layouts and gate order; biases only when `bias`
 *  (zeros for a layer without B). */
function layerTensors(layers: Layer[], bias: boolean): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  layers.forEach((l, layer) => {
    const order = GATE_ORDER.onnx[l.cell], rows = GATES[l.cell] * l.H;
    for (let d = 0; d < l.D; d++) {
      const name = (n: string) => `${n}_l${layer}${d === 1 ? '_reverse' : ''}`;
      const part = (data: Float32Array, size: number, k: number) => data.subarray(k * size, (k + 1) * size);
      out.set(name('weight_ih'), reorderGates(part(l.W.data, rows * l.n_in, d), order, l.n_in));
      out.set(name('weight_hh'), reorderGates(part(l.R.data, rows * l.H, d), order, l.H));
      if (!bias) continue;
      const B = l.B?.data ?? new Float32Array(l.D * 2 * rows);
      out.set(name('bias_ih'), reorderGates(part(B, rows, 2 * d), order, 1));
      out.set(name('bias_hh'), reorderGates(part(B, rows, 2 * d + 1), order, 1));
    }
  });
  return out;
}

/** The config a file written by toONNX carries in its metadata, if it has one. */
function savedConfig(where: string, metadata: Record<string, string>): Record<string, unknown> | undefined {
  const text = metadata[CONFIG_KEY];
  if (text === undefined) return undefined;
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`${where}: the file's ${CONFIG_KEY} metadata is not valid JSON (${(e as Error).message})`);
  }
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) throw new TypeError(`${where}: the file's ${CONFIG_KEY} metadata is not an object`);
  return saved as Record<string, unknown>;
}

/** A file written by toONNX: its config must agree with the graph, and gives back what the
 *  graph cannot say (seed, reduction, dropout, tokenizers, one-to-one). */
function withSavedConfig(where: string, saved: Record<string, unknown>, plan: Import): Import {
  const derived = plan.config as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(derived), 'embedding', 'bias', 'headBias'])) {
    const [s, d] = [comparable(key, saved[key]), comparable(key, derived[key])];
    const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
    if (s !== d) throw new TypeError(`${where}: the file's ${CONFIG_KEY} metadata says ${key} = ${show(saved[key])}, but its graph holds ${show(derived[key])}`);
  }
  const { tokenizers, backend: _, ...rest } = saved as { tokenizers?: Record<string, TokenizerJSON>; backend?: unknown };
  const config = { ...rest, ...derived } as Import['config'];
  if (tokenizers !== undefined) {
    if (typeof tokenizers !== 'object' || tokenizers === null) throw new TypeError(`${where}: the file's tokenizers must be an object`);
    (config as { tokenizers?: object }).tokenizers = Object.fromEntries(Object.entries(tokenizers).map(([k, t]) => [k, tokenizerFromJSON(t)]));
  }
  return { ...plan, config };
}

/** A config field as the graph can tell it: defaults filled in, an embedding by its size. */
function comparable(key: string, v: unknown): unknown {
  if (key === 'architecture') return v ?? 'many-to-many';
  if (key === 'bidirectional') return v ?? false;
  if (key === 'bias' || key === 'headBias') return v ?? true;
  if (key === 'embedding') return typeof v === 'object' && v !== null ? (v as { size?: unknown }).size : v;
  return v;
}

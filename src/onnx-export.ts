// toONNX: a model as an ONNX file (opset 14) built from the standard RNN / LSTM / GRU
// operators, one node per layer, that ONNX Runtime (and every other ONNX runtime) runs.
//
//   x (B, T, n_x) float, or (B, T) int64 token ids → OneHot (rnn-wasm's one-hot token input),
//     or Gather of the rows of embedding.weight (V, E) (a model with an embedding)
//   Transpose → (T, B, F); per layer: RNN|LSTM|GRU (direction forward | bidirectional,
//     sequence_lens = lengths) → Y (T, D, B, n_a) → (T, B, D·n_a) for the next layer
//   many-to-many: Transpose → (B, T, D·n_a) → MatMul W_yaᵀ → Add b_y → Softmax | Sigmoid → yhat
//   many-to-one:  Y_h of the top layer (D, B, n_a) → (B, D·n_a) → Gemm → Softmax | Sigmoid → yhat
//   tied weights: the head reads the table's own initializer, embedding.weight (Gemm with
//     transB, or MatMul of its Transpose), so the file holds it once
//   one-to-one:   x (B, n_x) or (B) ids, one step: as many-to-one with T = 1
//   aT = the final states of every layer (L·D, B, n_a), PyTorch's h_n; cT the LSTM's c_n
//
// Weights go in ONNX's layouts: W (D, G·n_a, I), R (D, G·n_a, n_a), B (D, 2·G·n_a) =
// [b_ih; b_hh], gate blocks in ONNX's order (LSTM i,o,f,c; GRU z,r,h; GRU with resetAfter is
// linear_before_reset = 1). Layers without biases (bias: false) leave B out: it is an optional
// input, zero when absent, as the cells compute; an output layer without a bias (headBias:
// false) is the MatMul without its Add, or a Gemm without C. The model's config rides along in the metadata ('rnn-wasm.config'),
// so loadONNX gives back the same model, seed, tokenizers and all.

import { GATE_ORDER, inverseOrder, reorderGates, transpose } from './convert.js';
import { RNN } from './model.js';
import { Network } from './network.js';
import { AttrType, DataType, encodeOnnx, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';
import { KEYS } from './keys.js';
import { checkKeys, describe } from './validate.js';
import { GATES, type CellKind } from './layout.js';
import { ManyToOne } from './arch/many-to-one.js';
import { OneToOne } from './arch/one-to-one.js';

/** The metadata key holding the model's config. */
export const CONFIG_KEY = 'rnn-wasm.config';
/** The operator set the files use. */
export const OPSET = 14;

/** Options of toONNX. */
export interface ONNXExportOptions {
  /** Give the graph a `lengths` input (int32, one per sequence) that every recurrent node reads
   *  as sequence_lens, so a padded batch of sequences of different lengths runs as it does in
   *  rnn-wasm. Sequence models only (one-to-one has one step). Default true. */
  lengths?: boolean;
}

/** What the export reads from a model. */
interface Spec {
  kind: 'sequence' | 'last' | 'single';
  cell: CellKind;
  n_x: number;
  n_a: number;
  n_y: number;
  layers: number;
  D: number;
  tokens: boolean;
  output: 'softmax' | 'sigmoid' | 'linear';
  activation: 'tanh' | 'relu';
  resetAfter: boolean;
  /** The recurrent layers have biases (B inputs). */
  bias: boolean;
  /** The output layer has a bias (headBias). */
  headBias: boolean;
  lengths: boolean;
  /** The embedding table (V = n_x rows of E), if the model has one. */
  embedding?: { E: number };
  /** The output layer's weight is the table. */
  tied: boolean;
  /** The recurrent tensors' name prefix: 'rnn.' beside an embedding. */
  prefix: string;
}

/** The model as an ONNX file. Sequence models (createRNN, many-to-many), many-to-one and
 *  one-to-one export; one-to-many and encoder-decoder models, which generate step by step,
 *  are refused. */
export function toONNX(model: Network, options: ONNXExportOptions = {}): Uint8Array<ArrayBuffer> {
  const where = 'toONNX';
  const spec = readSpec(where, model, options);
  const g = new GraphBuilder();
  const x = inputs(g, spec, model);
  const { top, finals, cells } = recurrentLayers(g, spec, model, x);
  output(g, spec, model, top, finals[finals.length - 1]);
  g.node('Concat', finals, [int('axis', 0)], ['aT']);
  if (spec.cell === 'lstm') g.node('Concat', cells, [int('axis', 0)], ['cT']);
  const B = 'B', S = spec.layers * spec.D;
  const outputs: OnnxValueInfo[] = [
    { name: 'yhat', elemType: DataType.FLOAT, shape: spec.kind === 'sequence' ? [B, 'T', spec.n_y] : [B, spec.n_y] },
    { name: 'aT', elemType: DataType.FLOAT, shape: [S, B, spec.n_a] },
  ];
  if (spec.cell === 'lstm') outputs.push({ name: 'cT', elemType: DataType.FLOAT, shape: [S, B, spec.n_a] });
  return encodeOnnx({
    irVersion: 7,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'rnn-wasm',
    producerVersion: '',
    graph: { name: 'rnn-wasm', nodes: g.nodes, initializers: g.inits, inputs: g.inputs, outputs, sparse: false },
    metadata: { [CONFIG_KEY]: JSON.stringify(model.toJSON()) },
    functions: false,
  });
}

function readSpec(where: string, model: unknown, options: ONNXExportOptions): Spec {
  if (!(model instanceof Network)) throw new TypeError(`${where}: model must be an rnn-wasm model (createRNN / createModel), got ${describe(model)}`);
  if (model.isDisposed) throw new TypeError(`${where}: the model has been disposed`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, KEYS.toONNX);
  if (options.lengths !== undefined && typeof options.lengths !== 'boolean') throw new TypeError(`${where}: options.lengths must be a boolean, got ${describe(options.lengths)}`);
  let kind: Spec['kind'];
  if (model instanceof RNN) kind = 'sequence';
  else if (model instanceof ManyToOne) kind = 'last';
  else if (model instanceof OneToOne) kind = 'single';
  else {
    const arch = (model as { architecture?: string }).architecture ?? 'this';
    throw new TypeError(`${where}: a '${arch}' model generates its output one step at a time, feeding each output back (a decoding loop), which one ONNX graph of RNN/LSTM/GRU operators does not express; sequence models, many-to-one and one-to-one models export`);
  }
  const c = (model as RNN | ManyToOne | OneToOne).config as unknown as Record<string, unknown>;
  const table = model.layout.embedding('embedding');
  return {
    kind,
    cell: c.cell as CellKind,
    n_x: c.n_x as number,
    n_a: c.n_a as number,
    n_y: c.n_y as number,
    layers: c.layers as number,
    D: c.bidirectional === true ? 2 : 1,
    tokens: c.input === 'tokens',
    output: c.output as Spec['output'],
    activation: c.activation as Spec['activation'],
    resetAfter: c.resetAfter as boolean,
    bias: c.bias !== false,
    headBias: c.headBias !== false,
    lengths: kind !== 'single' && options.lengths !== false,
    ...(table ? { embedding: { E: table.shape[1] } } : {}),
    tied: c.tieWeights === true,
    prefix: table ? 'rnn.' : '',
  };
}

/** Graph inputs, and the input as (T, B, F) floats; returns its name. */
function inputs(g: GraphBuilder, s: Spec, model: Network): string {
  const dims = s.kind === 'single' ? ['B'] : ['B', 'T'];
  g.inputs.push({ name: 'x', elemType: s.tokens ? DataType.INT64 : DataType.FLOAT, shape: s.tokens ? dims : [...dims, s.n_x] });
  if (s.lengths) g.inputs.push({ name: 'lengths', elemType: DataType.INT32, shape: ['B'] });
  let x = 'x';
  if (s.embedding) {
    x = g.node('Gather', [g.floats('embedding.weight', [s.n_x, s.embedding.E], model.getParam('embedding.weight')), x], [int('axis', 0)])[0];
  } else if (s.tokens) {
    // rnn-wasm's token input is a one-hot vector of n_x
    x = g.node('OneHot', [x, g.ints('depth', [s.n_x], []), g.floats('onehot_values', [2], Float32Array.of(0, 1))], [int('axis', -1)])[0];
  }
  if (s.kind === 'single') x = g.node('Unsqueeze', [x, g.ints('step_axis', [1])])[0];
  return g.node('Transpose', [x], [ints('perm', [1, 0, 2])])[0];
}

/** One node per layer; returns the top layer's (T, B, D·n_a) output and every layer's final
 *  states (D, B, n_a). */
function recurrentLayers(g: GraphBuilder, s: Spec, model: Network, x: string) {
  const op = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' }[s.cell];
  const finals: string[] = [], cells: string[] = [];
  for (let l = 0; l < s.layers; l++) {
    const { W, R, B } = layerWeights(g, s, model, l);
    // an empty name is an absent optional input
    const ins = [x, W, R, B ?? '', s.lengths ? 'lengths' : ''];
    const outs = g.node(op, ins, layerAttributes(s), s.cell === 'lstm' ? 3 : 2);
    finals.push(outs[1]);
    if (s.cell === 'lstm') cells.push(outs[2]);
    x = s.D === 1
      ? g.node('Squeeze', [outs[0], g.ints('direction_axis', [1])])[0]
      : g.node('Reshape', [g.node('Transpose', [outs[0]], [ints('perm', [0, 2, 1, 3])])[0], g.ints('merge_directions', [0, 0, -1])])[0];
  }
  return { top: x, finals, cells };
}

function layerAttributes(s: Spec): OnnxAttribute[] {
  const attrs = [int('hidden_size', s.n_a), str('direction', s.D === 2 ? 'bidirectional' : 'forward')];
  if (s.cell === 'rnn') attrs.push(strs('activations', new Array(s.D).fill(s.activation === 'relu' ? 'Relu' : 'Tanh')));
  if (s.cell === 'gru') attrs.push(int('linear_before_reset', s.resetAfter ? 1 : 0));
  return attrs;
}

/** W (D, G·n_a, I), R (D, G·n_a, n_a), B (D, 2·G·n_a) of layer l in ONNX's gate order (no B for
 *  layers without biases). */
function layerWeights(g: GraphBuilder, s: Spec, model: Network, l: number) {
  const order = inverseOrder(GATE_ORDER.onnx[s.cell]);
  const rows = GATES[s.cell] * s.n_a, n_in = l > 0 ? s.D * s.n_a : s.embedding?.E ?? s.n_x;
  const W = new Float32Array(s.D * rows * n_in), R = new Float32Array(s.D * rows * s.n_a), B = new Float32Array(s.D * 2 * rows);
  for (let d = 0; d < s.D; d++) {
    const p = (name: string) => model.getParam(`${s.prefix}${name}_l${l}${d === 1 ? '_reverse' : ''}`);
    W.set(reorderGates(p('weight_ih'), order, n_in), d * rows * n_in);
    R.set(reorderGates(p('weight_hh'), order, s.n_a), d * rows * s.n_a);
    if (!s.bias) continue;
    B.set(reorderGates(p('bias_ih'), order, 1), d * 2 * rows);
    B.set(reorderGates(p('bias_hh'), order, 1), d * 2 * rows + rows);
  }
  return {
    W: g.floats(`W_l${l}`, [s.D, rows, n_in], W),
    R: g.floats(`R_l${l}`, [s.D, rows, s.n_a], R),
    B: s.bias ? g.floats(`B_l${l}`, [s.D, 2 * rows], B) : undefined,
  };
}

/** The output layer and its non-linearity, ending in 'yhat'. An output layer without a bias
 *  is the MatMul alone, or a Gemm without its optional C. */
function output(g: GraphBuilder, s: Spec, model: Network, top: string, final: string): void {
  const n_in = s.D * s.n_a;
  const W = model.getParam('head.weight'), b = s.headBias ? g.floats('head.bias', [s.n_y], model.getParam('head.bias')) : undefined;
  // tied: the table's initializer, which the Gather already wrote
  const weight = () => (s.tied ? 'embedding.weight' : g.floats('head.weight', [s.n_y, n_in], W));
  const name = s.output === 'linear' ? 'yhat' : undefined;
  let z: string;
  if (s.kind === 'sequence') {
    const rows = g.node('Transpose', [top], [ints('perm', [1, 0, 2])])[0];
    const Wt = s.tied ? g.node('Transpose', [weight()], [ints('perm', [1, 0])])[0] : g.floats('head.weight_t', [n_in, s.n_y], transpose(W, s.n_y, n_in));
    z = b ? g.node('Add', [g.node('MatMul', [rows, Wt])[0], b], [], name ? [name] : 1)[0] : g.node('MatMul', [rows, Wt], [], name ? [name] : 1)[0];
  } else {
    const perB = g.node('Transpose', [final], [ints('perm', [1, 0, 2])])[0];
    const flat = g.node('Reshape', [perB, g.ints('merge_states', [0, -1])])[0];
    z = g.node('Gemm', b ? [flat, weight(), b] : [flat, weight()], [int('transB', 1)], name ? [name] : 1)[0];
  }
  if (s.output === 'softmax') g.node('Softmax', [z], [int('axis', -1)], ['yhat']);
  else if (s.output === 'sigmoid') g.node('Sigmoid', [z], [], ['yhat']);
}

// --- building the graph ---

class GraphBuilder {
  nodes: OnnxNode[] = [];
  inits: OnnxTensor[] = [];
  inputs: OnnxValueInfo[] = [];
  private count = 0;

  /** Add a node; `outputs` is a count (fresh names) or the names. Returns the output names. */
  node(op: string, inputs: string[], attributes: OnnxAttribute[] = [], outputs: number | string[] = 1): string[] {
    const id = `${op}_${this.count++}`;
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, k) => `${id}_out${k}`) : outputs;
    this.nodes.push({ name: id, opType: op, domain: '', inputs, outputs: names, attributes });
    return names;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    const raw = new Uint8Array(data.length * 4);
    const v = new DataView(raw.buffer);
    data.forEach((x, i) => v.setFloat32(4 * i, x, true));
    return this.init(name, DataType.FLOAT, dims, raw);
  }

  /** An int64 tensor; dims default to a vector. */
  ints(name: string, values: number[], dims = [values.length]): string {
    const raw = new Uint8Array(values.length * 8);
    const v = new DataView(raw.buffer);
    values.forEach((x, i) => v.setBigInt64(8 * i, BigInt(x), true));
    return this.init(name, DataType.INT64, dims, raw);
  }

  private init(name: string, dataType: number, dims: number[], raw: Uint8Array): string {
    const existing = this.inits.find((t) => t.name === name);
    if (existing) {
      // shared constants (axes, shapes) are written once, and must be the same constant
      const same = existing.raw!.length === raw.length && existing.raw!.every((b, i) => b === raw[i]);
      if (!same) throw new Error(`toONNX: two different constants named '${name}'`);
      return name;
    }
    this.inits.push({ name, dataType, dims, raw, floats: [], int32s: [], int64s: [], doubles: [], external: false });
    return name;
  }
}

const attr = (name: string, type: number, fields: Partial<OnnxAttribute>): OnnxAttribute =>
  ({ name, type, floats: [], ints: [], strings: [], graph: false, ...fields });
const int = (name: string, i: number) => attr(name, AttrType.INT, { i });
const ints = (name: string, v: number[]) => attr(name, AttrType.INTS, { ints: v });
const str = (name: string, s: string) => attr(name, AttrType.STRING, { s });
const strs = (name: string, v: string[]) => attr(name, AttrType.STRINGS, { strings: v });

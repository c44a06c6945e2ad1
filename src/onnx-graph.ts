// Reading an ONNX graph as a recurrent model: every node is run symbolically, in order, and
// each value is either a constant (onnx-values.ts folds those) or a tensor that depends on the
// input, described by what each of its axes holds:
//
//   B, T        batch and time ('U0', 'U1' for the two leading axes of a rank-3 input until a
//               recurrent node says which is time; 'one' for a unit axis from Unsqueeze)
//   S           state slots: one per (layer, direction), as in Y (T, D, B, H) or h_n (L·D, B, H)
//   F           features: runs of values and what they are — the input x, its one-hot form,
//               a layer's outputs y, final states h / c (per slot), the output layer's logits
//               z, or its outputs p after Softmax / Sigmoid
//
// Recurrent nodes (RNN, LSTM, GRU) are recorded as layers, and MatMul / Gemm (+ Add) on a
// layer's outputs as the output layer. The rearrangements exporters put between them
// (Transpose, Squeeze, Unsqueeze, Reshape, Gather, Slice, Concat, Identity, Cast, Dropout at
// inference) move the axis descriptions along. Any node that computes something else, or
// feeds a layer what rnn-wasm's stack does not, is refused, naming the node.

import { AttrType, DataType, type OnnxGraph, type OnnxNode, type OnnxValueInfo } from './onnx-proto.js';
import {
  attribute, axesOf, axisOf, fold, intAttr, nodeName, numbers, permOf, requiredInputs, shapeOf, tensorValue, unsqueezeDims,
  type Const, type Dim, type Floats,
} from './onnx-values.js';
import { transpose } from './convert.js';
import { GATES, type CellKind } from './layout.js';

export type AxisName = 'B' | 'T' | 'U0' | 'U1' | 'one';
export interface Slot { layer: number; dir: number }
export interface Block { src: 'x' | 'onehot' | 'y' | 'h' | 'c' | 'z' | 'p'; size: number; slot?: Slot }
export type Axis = { name: AxisName } | { name: 'S'; slots: Slot[] } | { name: 'F'; blocks: Block[] };
/** A tensor computed from the input. lastStep: a layer's output read at the last time step;
 *  origin: the graph input it is a view of, while it is one; sorted: its batch is in the
 *  order of decreasing length (see Perm). */
export interface Act { kind: 'act'; axes: Axis[]; lastStep?: boolean; origin?: string; sorted?: boolean }
/** Integer token ids (or lengths) from a graph input; sorted: lengths in decreasing order. */
export interface Ids { kind: 'ids'; axes: AxisName[]; input: string; sorted?: boolean }
/** An order of the batch, as torch.onnx.export writes around packed sequences: 'sort' (TopK's
 *  indices: longest first), its inverse 'unsort' (ScatterElements of 0 … B−1 by 'sort'), or
 *  'iota' (Range(0, B, 1), the order as it is). Gathering the batch by 'sort' and later by
 *  'unsort' gives every sequence back its place. */
export interface Perm { kind: 'perm'; order: 'iota' | 'sort' | 'unsort' }
type Value = Const | Act | Ids | Perm;

/** A recurrent node: one layer, weights in ONNX's layout. */
export interface Layer {
  node: OnnxNode;
  cell: CellKind;
  D: number;
  H: number;
  n_in: number;
  W: Floats;
  R: Floats;
  B?: Floats;
  activation: 'tanh' | 'relu';
  resetAfter: boolean;
  /** The graph input read as sequence_lens, if any. */
  lengths?: string;
}

/** The output layer: W (n_y, n_in) in PyTorch's layout, applied to `input`. */
export interface Head {
  node: OnnxNode;
  W: Float32Array;
  n_y: number;
  b?: Float32Array;
  input: Block[];
  /** Applied at every step (true) or to per-sequence states (false). */
  steps: boolean;
  fn?: 'softmax' | 'sigmoid';
}

/** What the graph holds, once every node has been read. */
export interface GraphReading {
  layers: Layer[];
  head?: Head;
  /** The model's input: a dense vector of `size` features, or token ids one-hot over `size`. */
  input: { kind: 'dense' | 'tokens'; size: number };
  /** The time axis is a unit axis made from a one-step input (a one-to-one model). */
  single: boolean;
  /** The first graph output's value, and the others'. */
  output: Act;
  /** The first output has a time axis (one value per step). */
  outputSteps: boolean;
  others: { name: string; value: Value | undefined }[];
}

const CELLS: Record<string, CellKind> = { RNN: 'rnn', LSTM: 'lstm', GRU: 'gru' };

/** Run the graph symbolically. */
export function readGraph(where: string, graph: OnnxGraph, opset: number): GraphReading {
  return new GraphReader(where, graph, opset).read();
}

class GraphReader {
  private values = new Map<string, Value>();
  private bind = new Map<string, 'T' | 'B'>();
  private layers: Layer[] = [];
  private head?: Head;
  private input?: { kind: 'dense' | 'tokens'; size: number; name: string };
  private single = false;
  private used = new Set<string>();

  constructor(private readonly where: string, private readonly graph: OnnxGraph, private readonly opset: number) {}

  read(): GraphReading {
    const w = this.where, g = this.graph;
    for (const t of g.initializers) this.define(t.name, tensorValue(w, t, `initializer '${t.name}'`), 'an initializer');
    for (const v of g.inputs) if (!this.values.has(v.name)) this.define(v.name, this.graphInput(v), 'a graph input');
    for (const n of g.nodes) this.node(n);
    if (this.layers.length === 0) throw new TypeError(`${w}: the graph has no RNN, LSTM or GRU node; rnn-wasm reads recurrent models`);
    if (g.outputs.length === 0) throw new TypeError(`${w}: the graph has no outputs`);
    const [first, ...rest] = g.outputs.map((o) => ({ name: o.name, value: this.values.get(o.name) }));
    if (first.value?.kind !== 'act') throw new TypeError(`${w}: the graph's first output '${first.name}' does not depend on the input`);
    for (const v of g.inputs) {
      if (!this.used.has(v.name) && !g.initializers.some((t) => t.name === v.name)) throw new TypeError(`${w}: graph input '${v.name}' is not used as the model's input or as sequence lengths`);
    }
    for (const o of [first, ...rest]) {
      if ((o.value as Act | undefined)?.sorted) throw new TypeError(`${w}: graph output '${o.name}' is in the order of decreasing length, never put back in the input's order`);
    }
    const outputSteps = first.value.axes.some((a) => this.name(a) === 'T');
    return { layers: this.layers, head: this.head, input: this.input!, single: this.single, output: first.value, outputSteps, others: rest };
  }

  /** The axis name after binding U0 / U1. */
  name(a: Axis): string {
    return this.bind.get(a.name) ?? a.name;
  }

  private define(name: string, v: Value, what: string): void {
    if (this.values.has(name)) throw new TypeError(`${this.where}: the graph defines '${name}' twice (${what})`);
    this.values.set(name, v);
  }

  private graphInput(v: OnnxValueInfo): Value {
    const w = this.where;
    const shape = v.shape;
    if (!shape) throw new TypeError(`${w}: graph input '${v.name}' has no shape; rnn-wasm needs its rank and feature size`);
    if (v.elemType === DataType.FLOAT && (shape.length === 3 || shape.length === 2)) {
      const size = shape[shape.length - 1];
      if (typeof size !== 'number' || size < 1) throw new TypeError(`${w}: graph input '${v.name}' has no fixed feature size (its last dimension is ${size ?? 'unknown'})`);
      const lead: Axis[] = shape.length === 3 ? [{ name: 'U0' }, { name: 'U1' }] : [{ name: 'B' }];
      return { kind: 'act', axes: [...lead, { name: 'F', blocks: [{ src: 'x', size }] }], origin: v.name };
    }
    if ((v.elemType === DataType.INT64 || v.elemType === DataType.INT32) && (shape.length === 2 || shape.length === 1)) {
      return { kind: 'ids', axes: shape.length === 2 ? ['U0', 'U1'] : ['B'], input: v.name };
    }
    throw new TypeError(`${w}: graph input '${v.name}' has element type ${v.elemType} and rank ${shape.length}; rnn-wasm reads float inputs (batch, time, features) or int64 token ids (batch, time)`);
  }

  // --- nodes ---

  private node(n: OnnxNode): void {
    const w = this.where;
    if (n.domain !== '' && n.domain !== 'ai.onnx') throw new TypeError(`${w}: ${nodeName(n)} is from operator domain '${n.domain}', which rnn-wasm does not run`);
    const need = requiredInputs(n.opType, this.opset);
    if (n.inputs.length < need || n.inputs.slice(0, need).includes('')) throw new TypeError(`${w}: ${nodeName(n)} has ${n.inputs.filter(Boolean).length} inputs; it needs ${need}`);
    const ins = n.inputs.map((name) => {
      if (name === '') return undefined;
      const v = this.values.get(name);
      if (v === undefined) throw new TypeError(`${w}: ${nodeName(n)} reads '${name}', which nothing before it defines`);
      return v;
    });
    const outs = this.run(n, ins);
    n.outputs.forEach((o, i) => { if (o !== '' && outs[i] !== undefined) this.define(o, outs[i]!, nodeName(n)); });
  }

  private run(n: OnnxNode, ins: (Value | undefined)[]): (Value | undefined)[] {
    const w = this.where;
    if (n.opType === 'Constant') return [this.constant(n)];
    if (ins.every((v) => v === undefined || isConst(v))) {
      const folded = fold(w, n, ins as (Const | undefined)[], this.opset);
      if (folded) return [folded];
    }
    if (CELLS[n.opType]) return this.recurrent(n, ins);
    if (n.opType === 'TopK') return this.topK(n, ins);
    const handler = this.handlers[n.opType];
    if (!handler) throw new TypeError(`${w}: ${nodeName(n)} is an operator rnn-wasm does not run`);
    const out = handler(n, ins);
    return [out];
  }

  private constant(n: OnnxNode): Const {
    const a = n.attributes[0];
    const w = this.where;
    if (n.attributes.length !== 1) throw new TypeError(`${w}: ${nodeName(n)} must have exactly one value attribute`);
    if (a.name === 'value' && a.t) return tensorValue(w, a.t, nodeName(n));
    if (a.name === 'value_float' && a.type === AttrType.FLOAT) return { kind: 'floats', dims: [], data: Float32Array.of(a.f ?? 0) };
    if (a.name === 'value_floats' && a.type === AttrType.FLOATS) return { kind: 'floats', dims: [a.floats.length], data: Float32Array.from(a.floats) };
    if (a.name === 'value_int' && a.type === AttrType.INT) return { kind: 'ints', dims: [], values: [a.i ?? 0] };
    if (a.name === 'value_ints' && a.type === AttrType.INTS) return { kind: 'ints', dims: [a.ints.length], values: a.ints };
    throw new TypeError(`${w}: ${nodeName(n)} holds a ${a.name}, which rnn-wasm does not read`);
  }

  private readonly handlers: Record<string, (n: OnnxNode, ins: (Value | undefined)[]) => Value> = {
    Identity: (n, [x]) => this.passThrough(n, x),
    Dropout: (n, ins) => this.dropout(n, ins),
    Cast: (n, [x]) => this.cast(n, x),
    Transpose: (n, [x]) => this.transposeAct(n, x),
    Squeeze: (n, ins) => this.squeezeAct(n, ins),
    Unsqueeze: (n, ins) => this.unsqueezeAct(n, ins),
    Reshape: (n, [x, shape]) => this.reshapeAct(n, x, shape),
    Gather: (n, [x, idx]) => this.gatherAct(n, x, idx),
    Slice: (n, ins) => this.sliceAct(n, ins),
    Concat: (n, ins) => this.concatAct(n, ins),
    Shape: (n, [x]) => this.shape(n, x),
    Range: (n, ins) => this.range(n, ins),
    ScatterElements: (n, ins) => this.inverse(n, ins),
    OneHot: (n, ins) => this.oneHot(n, ins),
    MatMul: (n, [x, W]) => this.matmul(n, x, W),
    Gemm: (n, ins) => this.gemm(n, ins),
    Add: (n, [a, b]) => this.bias(n, a, b),
    Softmax: (n, [x]) => this.squash(n, x, 'softmax'),
    Sigmoid: (n, [x]) => this.squash(n, x, 'sigmoid'),
  };

  private act(n: OnnxNode, v: Value | undefined): Act {
    if (v?.kind !== 'act') throw new TypeError(`${this.where}: ${nodeName(n)} reads a value rnn-wasm cannot place in a recurrent model here`);
    return v;
  }

  private passThrough(n: OnnxNode, x: Value | undefined): Value {
    if (x?.kind !== 'act' && x?.kind !== 'ids') throw new TypeError(`${this.where}: ${nodeName(n)} reads nothing rnn-wasm can follow`);
    return x;
  }

  /** Dropout at inference: the identity (training_mode, if given, must be a constant false). */
  private dropout(n: OnnxNode, [x, , training]: (Value | undefined)[]): Value {
    const off = training === undefined || (training.kind === 'ints' && training.values.every((v) => v === 0));
    if (!off) throw new TypeError(`${this.where}: ${nodeName(n)} runs in training mode; export the model in eval mode`);
    return this.passThrough(n, x);
  }

  private cast(n: OnnxNode, x: Value | undefined): Value {
    const to = intAttr(this.where, n, 'to', 0);
    const int = to === DataType.INT64 || to === DataType.INT32;
    if ((x?.kind === 'act' && to === DataType.FLOAT) || ((x?.kind === 'ids' || x?.kind === 'perm') && int)) return x;
    throw new TypeError(`${this.where}: ${nodeName(n)} casts to data type ${to}, which changes the values rnn-wasm would compute`);
  }

  private transposeAct(n: OnnxNode, x: Value | undefined): Value {
    const axes = x?.kind === 'ids' ? x.axes : this.act(n, x).axes;
    const r = axes.length;
    const perm = permOf(this.where, n, r);
    if (x!.kind === 'ids') return { ...x!, axes: perm.map((p) => x!.axes[p]) } as Ids;
    return { ...(x as Act), axes: perm.map((p) => (x as Act).axes[p]) };
  }

  private squeezeAct(n: OnnxNode, ins: (Value | undefined)[]): Value {
    const x = this.act(n, ins[0]);
    const axes = axesOf(this.where, n, ins as (Const | undefined)[], this.opset, 'axes')
      ?? x.axes.flatMap((a, i) => (a.name === 'one' || (a.name === 'S' && a.slots.length === 1) ? [i] : []));
    const at = new Set(axes.map((a) => axisOf(this.where, n, a, x.axes.length)));
    let out: Act = x;
    for (const i of [...at].sort((a, b) => b - a)) {
      const a = x.axes[i];
      if (a.name === 'one') out = { ...out, axes: out.axes.filter((_, k) => k !== i) };
      else if (a.name === 'S' && a.slots.length === 1) out = this.pickSlot(n, out, i, 0);
      else throw new TypeError(`${this.where}: ${nodeName(n)} squeezes an axis that is not of size 1 (${a.name})`);
    }
    return out;
  }

  private unsqueezeAct(n: OnnxNode, ins: (Value | undefined)[]): Value {
    const x = ins[0];
    const axes = axesOf(this.where, n, ins as (Const | undefined)[], this.opset, 'axes');
    if (x?.kind === 'ids') return { ...x, axes: unsqueezeDims(this.where, n, x.axes, axes).map((a) => (a === 1 ? 'one' : a)) } as Ids;
    const act = this.act(n, x);
    return { ...act, axes: unsqueezeDims(this.where, n, act.axes, axes).map((a) => (a === 1 ? { name: 'one' } : a)) as Axis[] };
  }

  /** A slot chosen on the S axis at index i: the axis goes, the per-slot features name it. */
  private pickSlot(n: OnnxNode, x: Act, i: number, k: number): Act {
    const s = x.axes[i] as { name: 'S'; slots: Slot[] };
    const slot = s.slots[k];
    return { ...x, axes: x.axes.filter((_, j) => j !== i).map((a) => (a.name === 'F' ? { name: 'F', blocks: this.resolveBlocks(n, a.blocks, [slot]) } : a)) };
  }

  /** Per-slot feature blocks made concrete for the given slots, in order. */
  private resolveBlocks(n: OnnxNode, blocks: Block[], slots: Slot[]): Block[] {
    if (blocks.length !== 1 || blocks[0].slot !== undefined) throw new TypeError(`${this.where}: ${nodeName(n)} rearranges states in a way rnn-wasm does not follow`);
    return slots.map((slot) => ({ ...blocks[0], slot }));
  }

  /** Reshape: only merging a state axis into the features after it (directions side by side),
   *  or a reshape that changes nothing. */
  private reshapeAct(n: OnnxNode, x: Value | undefined, shape: Value | undefined): Value {
    const act = this.act(n, x);
    const target = numbers(this.where, n, shape, 'shape');
    const dims = act.axes.map((a) => this.dimOf(a));
    const r = act.axes.length;
    const keep = (i: number) => target[i] === 0 || target[i] === dims[i];
    if (target.length === r && target.every((_, i) => keep(i) || (target[i] === -1 && target.filter((t) => t === -1).length === 1 && typeof dims[i] === 'number'))) return act;
    const S = act.axes[r - 2], F = act.axes[r - 1];
    const merged = typeof dims[r - 2] === 'number' && typeof dims[r - 1] === 'number' ? (dims[r - 2] as number) * (dims[r - 1] as number) : NaN;
    if (target.length === r - 1 && S?.name === 'S' && F?.name === 'F' && target.slice(0, r - 2).every((_, i) => keep(i))
        && (target[r - 2] === -1 || target[r - 2] === merged)) {
      return { ...act, axes: [...act.axes.slice(0, r - 2), { name: 'F', blocks: this.resolveBlocks(n, F.blocks, S.slots) }] };
    }
    throw new TypeError(`${this.where}: ${nodeName(n)} reshapes [${dims.join(', ')}] to [${target.join(', ')}], which rnn-wasm does not follow`);
  }

  private dimOf(a: Axis): Dim {
    if (a.name === 'F') return a.blocks.reduce((s, b) => s + b.size, 0);
    if (a.name === 'S') return a.slots.length;
    return a.name === 'one' ? 1 : this.name(a);
  }

  private gatherAct(n: OnnxNode, x: Value | undefined, idx: Value | undefined): Value {
    const w = this.where;
    if (x?.kind === 'floats' && idx?.kind === 'ids') {
      throw new TypeError(`${w}: ${nodeName(n)} looks token ids up in a table (an embedding); rnn-wasm's token input is one-hot, and it has no embedding layer to load it into`);
    }
    const act = this.act(n, x);
    if (idx?.kind === 'perm') return this.reorder(n, act, idx);
    if (idx?.kind !== 'ints' || idx.dims.length !== 0 || typeof idx.values[0] !== 'number') throw new TypeError(`${w}: ${nodeName(n)} gathers with indices rnn-wasm does not follow (one constant index is read)`);
    const i = axisOf(w, n, intAttr(w, n, 'axis', 0), act.axes.length);
    const a = act.axes[i], k = idx.values[0];
    if (a.name === 'S') {
      const j = k < 0 ? k + a.slots.length : k;
      if (!(j >= 0 && j < a.slots.length)) throw new RangeError(`${w}: ${nodeName(n)} gathers index ${k} of ${a.slots.length} states`);
      return this.pickSlot(n, act, i, j);
    }
    if (this.name(a) === 'T' && k === -1 && !act.lastStep) return { ...act, axes: act.axes.filter((_, j) => j !== i), lastStep: true };
    if (a.name === 'one' && (k === 0 || k === -1)) return { ...act, axes: act.axes.filter((_, j) => j !== i) };
    throw new TypeError(`${w}: ${nodeName(n)} gathers index ${k} on the ${this.name(a)} axis; rnn-wasm reads a state, or the last step of the outputs`);
  }

  private sliceAct(n: OnnxNode, ins: (Value | undefined)[]): Value {
    const w = this.where;
    const act = this.act(n, ins[0]);
    const get = (k: number, name: string) => (this.opset < 10 ? attribute(n, name)?.ints : ins[k] && numbers(w, n, ins[k], name));
    const [starts, ends, axes, steps] = [get(1, 'starts'), get(2, 'ends'), get(3, 'axes'), this.opset < 10 ? undefined : get(4, 'steps')];
    if (!starts || !ends || starts.length !== 1 || ends.length !== 1 || (steps && steps[0] !== 1)) throw new TypeError(`${w}: ${nodeName(n)} slices in a way rnn-wasm does not follow`);
    const i = axisOf(w, n, axes?.[0] ?? 0, act.axes.length);
    const a = act.axes[i];
    if (a.name !== 'S') throw new TypeError(`${w}: ${nodeName(n)} slices the ${this.name(a)} axis; rnn-wasm reads whole sequences`);
    const len = a.slots.length, clamp = (v: number) => Math.min(Math.max(v < 0 ? v + len : v, 0), len);
    const slots = a.slots.slice(clamp(starts[0]), clamp(ends[0]));
    if (slots.length === 0) throw new RangeError(`${w}: ${nodeName(n)} selects no state`);
    return { ...act, axes: act.axes.map((b, j) => (j === i ? { name: 'S', slots } : b)) };
  }

  /** Concat of states (on the S axis) or of features (on the F axis). */
  private concatAct(n: OnnxNode, ins: (Value | undefined)[]): Value {
    const w = this.where;
    const acts = ins.map((v) => this.act(n, v));
    const r = acts[0].axes.length;
    const i = axisOf(w, n, intAttr(w, n, 'axis', 0), r);
    const same = acts.every((x) => x.axes.length === r && x.axes.every((a, k) => k === i || a.name === 'F' || this.name(a) === this.name(acts[0].axes[k])));
    const on = acts[0].axes[i].name;
    if (!same || acts.some((x) => x.axes[i].name !== on || x.lastStep !== acts[0].lastStep)) throw new TypeError(`${w}: ${nodeName(n)} concatenates tensors rnn-wasm cannot line up`);
    if (on === 'S') {
      const f = acts.map((x) => x.axes.find((a) => a.name === 'F') as { blocks: Block[] });
      if (f.some((b) => b.blocks.length !== 1 || b.blocks[0].slot || b.blocks[0].src !== f[0].blocks[0].src || b.blocks[0].size !== f[0].blocks[0].size)) {
        throw new TypeError(`${w}: ${nodeName(n)} concatenates states of different kinds`);
      }
      return { ...acts[0], axes: acts[0].axes.map((a, k) => (k === i ? { name: 'S', slots: acts.flatMap((x) => (x.axes[i] as { slots: Slot[] }).slots) } : a)) };
    }
    if (on === 'F' && acts.every((x) => !x.axes.some((a) => a.name === 'S'))) {
      return { ...acts[0], axes: acts[0].axes.map((a, k) => (k === i ? { name: 'F', blocks: acts.flatMap((x) => (x.axes[i] as { blocks: Block[] }).blocks) } : a)) };
    }
    throw new TypeError(`${w}: ${nodeName(n)} concatenates along the ${on} axis, which rnn-wasm does not follow`);
  }

  /** OneHot(ids, depth, [0, 1]) on the last axis: rnn-wasm's token input. */
  private oneHot(n: OnnxNode, [ids, depth, values]: (Value | undefined)[]): Value {
    const w = this.where;
    if (ids?.kind !== 'ids') throw new TypeError(`${w}: ${nodeName(n)} one-hot encodes something other than the graph's token ids`);
    const d = depth?.kind === 'ints' || depth?.kind === 'floats' ? (depth.kind === 'ints' ? depth.values : Array.from(depth.data)) : [];
    const v = values?.kind === 'floats' ? Array.from(values.data) : [];
    const axis = intAttr(w, n, 'axis', -1);
    if (d.length !== 1 || typeof d[0] !== 'number' || !(d[0] >= 1) || !Number.isInteger(d[0]) || v.length !== 2 || v[0] !== 0 || v[1] !== 1 || (axis !== -1 && axis !== ids.axes.length)) {
      throw new TypeError(`${w}: ${nodeName(n)} must one-hot encode on the last axis with a constant depth and float values [0, 1]`);
    }
    this.setInput(n, 'tokens', d[0], ids.input);
    return { kind: 'act', axes: [...ids.axes.map((name) => ({ name })), { name: 'F', blocks: [{ src: 'onehot', size: d[0] }] }] };
  }

  private setInput(n: OnnxNode, kind: 'dense' | 'tokens', size: number, name: string): void {
    this.used.add(name);
    if (this.input && (this.input.name !== name || this.input.kind !== kind || this.input.size !== size)) {
      throw new TypeError(`${this.where}: ${nodeName(n)} reads the input a second way; rnn-wasm's first layer reads one input`);
    }
    this.input = { kind, size, name };
  }

  // --- recurrent nodes ---

  private recurrent(n: OnnxNode, ins: (Value | undefined)[]): Value[] {
    const w = this.where;
    const cell = CELLS[n.opType];
    const H = intAttr(w, n, 'hidden_size', 0);
    if (!(H >= 1)) throw new TypeError(`${w}: ${nodeName(n)} has no hidden_size`);
    const dir = attribute(n, 'direction')?.s ?? 'forward';
    if (dir !== 'forward' && dir !== 'bidirectional') throw new TypeError(`${w}: ${nodeName(n)} runs in direction '${dir}'; rnn-wasm's layers run forward or in both directions`);
    const D = dir === 'bidirectional' ? 2 : 1;
    const layout = intAttr(w, n, 'layout', 0);
    if (layout !== 0 && layout !== 1) throw new TypeError(`${w}: ${nodeName(n)} has layout ${layout}`);
    this.checkCellAttributes(n, cell, D);
    const x = this.act(n, ins[0]);
    const { layer, n_in } = this.layerInput(n, x, layout);
    const weights = this.layerWeights(n, cell, ins, D, H, n_in);
    const lengths = this.sequenceLengths(n, ins[4], x);
    this.zeroState(n, ins[5], D, H, 'initial_h');
    if (cell === 'lstm') this.zeroState(n, ins[6], D, H, 'initial_c');
    if (cell === 'lstm' && ins[7] !== undefined && !(ins[7].kind === 'floats' && ins[7].data.every((v) => v === 0))) {
      throw new TypeError(`${w}: ${nodeName(n)} has peephole weights P; rnn-wasm's LSTM (PyTorch's) has none`);
    }
    if (this.layers[layer]) throw new TypeError(`${w}: ${nodeName(n)} and ${nodeName(this.layers[layer].node)} both read layer ${layer}'s input; rnn-wasm stacks one layer on another`);
    const activation = cell === 'rnn' && attribute(n, 'activations')?.strings[0] === 'Relu' ? 'relu' : 'tanh';
    this.layers[layer] = { node: n, cell, D, H, n_in, ...weights, activation, resetAfter: intAttr(w, n, 'linear_before_reset', 0) === 1, lengths };
    const time = layout === 0 ? x.axes[0] : x.axes[1];
    const slots = Array.from({ length: D }, (_, dir) => ({ layer, dir }));
    const S: Axis = { name: 'S', slots }, Bx: Axis = { name: 'B' };
    const F = (src: Block['src']): Axis => ({ name: 'F', blocks: [{ src, size: H }] });
    const sorted = x.sorted ? { sorted: true } : {};
    const Y: Act = { kind: 'act', axes: layout === 0 ? [time, S, Bx, F('y')] : [Bx, time, S, F('y')], ...sorted };
    const state = (src: Block['src']): Act => ({ kind: 'act', axes: layout === 0 ? [S, Bx, F(src)] : [Bx, S, F(src)], ...sorted });
    return cell === 'lstm' ? [Y, state('h'), state('c')] : [Y, state('h')];
  }

  private checkCellAttributes(n: OnnxNode, cell: CellKind, D: number): void {
    const w = this.where;
    for (const name of ['clip', 'activation_alpha', 'activation_beta']) {
      if (attribute(n, name)) throw new TypeError(`${w}: ${nodeName(n)} sets ${name}, which rnn-wasm's cells do not have`);
    }
    if (intAttr(w, n, 'input_forget', 0) !== 0) throw new TypeError(`${w}: ${nodeName(n)} couples the input and forget gates (input_forget = 1); rnn-wasm's LSTM does not`);
    const lbr = intAttr(w, n, 'linear_before_reset', 0);
    if (lbr !== 0 && lbr !== 1) throw new TypeError(`${w}: ${nodeName(n)} has linear_before_reset ${lbr}`);
    const acts = attribute(n, 'activations')?.strings;
    if (!acts) return;
    const want: Record<CellKind, string[][]> = { rnn: [['Tanh'], ['Relu']], lstm: [['Sigmoid', 'Tanh', 'Tanh']], gru: [['Sigmoid', 'Tanh']] };
    const ok = want[cell].some((one) => acts.length === one.length * D && acts.every((a, i) => a.toLowerCase() === one[i % one.length].toLowerCase()));
    if (!ok) throw new TypeError(`${w}: ${nodeName(n)} has activations [${acts.join(', ')}]; rnn-wasm's ${cell} cell computes ${want[cell].map((a) => `[${a.join(', ')}]`).join(' or ')} per direction`);
  }

  /** Which layer a node is, from what it reads; binds the input's axes on the first layer. */
  private layerInput(n: OnnxNode, x: Act, layout: number): { layer: number; n_in: number } {
    const w = this.where;
    if (x.axes.length !== 3 || x.axes[2].name !== 'F' || x.lastStep) throw new TypeError(`${w}: ${nodeName(n)} reads a tensor that is not a sequence of feature vectors`);
    const [time, batch] = layout === 0 ? [x.axes[0], x.axes[1]] : [x.axes[1], x.axes[0]];
    this.bindAxis(n, time, 'T');
    this.bindAxis(n, batch, 'B');
    const blocks = x.axes[2].blocks;
    const n_in = blocks.reduce((s, b) => s + b.size, 0);
    if (blocks.length === 1 && (blocks[0].src === 'x' || blocks[0].src === 'onehot')) {
      if (blocks[0].src === 'x') this.setInput(n, 'dense', n_in, x.origin!);
      if (time.name === 'one') this.single = true;
      return { layer: 0, n_in };
    }
    const below = blocks[0]?.slot?.layer ?? -1;
    const full = blocks.length === this.layers[below]?.D && blocks.every((b, d) => b.src === 'y' && b.slot?.layer === below && b.slot.dir === d);
    if (!full) throw new TypeError(`${w}: ${nodeName(n)} reads something other than the model's input or every output of the layer below it`);
    return { layer: below + 1, n_in };
  }

  private bindAxis(n: OnnxNode, a: Axis, as: 'T' | 'B'): void {
    const name = this.name(a);
    if (name === as || (as === 'T' && name === 'one')) return;
    if ((name === 'U0' || name === 'U1') && !this.bind.has(name)) {
      this.bind.set(name, as);
      this.bind.set(name === 'U0' ? 'U1' : 'U0', as === 'T' ? 'B' : 'T');
      return;
    }
    throw new TypeError(`${this.where}: ${nodeName(n)} reads the ${name} axis as its ${as === 'T' ? 'time' : 'batch'} axis`);
  }

  private layerWeights(n: OnnxNode, cell: CellKind, ins: (Value | undefined)[], D: number, H: number, n_in: number) {
    const rows = GATES[cell] * H;
    const get = (k: number, name: string, dims: number[], optional: boolean): Floats | undefined => {
      const v = ins[k];
      if (v === undefined && optional) return undefined;
      if (v?.kind !== 'floats') throw new TypeError(`${this.where}: ${nodeName(n)} needs its ${name} as a constant float tensor`);
      if (v.dims.length !== dims.length || v.dims.some((d, i) => d !== dims[i])) {
        throw new RangeError(`${this.where}: ${nodeName(n)} has ${name} of shape [${v.dims.join(', ')}], expected [${dims.join(', ')}] (directions, gates × hidden_size, …)`);
      }
      return v;
    };
    return { W: get(1, 'W', [D, rows, n_in], false)!, R: get(2, 'R', [D, rows, H], false)!, B: get(3, 'B', [D, 2 * rows], true) };
  }

  /** sequence_lens: a graph input of one length per sequence, in the order of X's batch. */
  private sequenceLengths(n: OnnxNode, v: Value | undefined, x: Act): string | undefined {
    if (v === undefined && !x.sorted) return undefined;
    if (v?.kind !== 'ids' || v.axes.length !== 1) throw new TypeError(`${this.where}: ${nodeName(n)} reads sequence_lens from something other than a graph input of one length per sequence`);
    if (!v.sorted !== !x.sorted) throw new TypeError(`${this.where}: ${nodeName(n)} reads sequence lengths in another order than its batch`);
    this.used.add(v.input);
    return v.input;
  }

  // --- the batch sorted by length (torch's packed sequences) ---

  /** Shape of the input's tensors, of token ids or lengths, or of a batch order. */
  private shape(n: OnnxNode, x: Value | undefined): Value {
    if (x?.kind === 'ids') return shapeOf(this.where, n, x.axes.map((a) => this.bind.get(a) ?? a));
    if (x?.kind === 'perm') return shapeOf(this.where, n, ['B']);
    return shapeOf(this.where, n, this.act(n, x).axes.map((a) => this.dimOf(a)));
  }

  /** TopK of all the lengths, largest first: the lengths sorted, and the order that sorts. */
  private topK(n: OnnxNode, [x, k]: (Value | undefined)[]): Value[] {
    const w = this.where;
    const all = k?.kind === 'ints' && k.values.length === 1 && (k.values[0] === 'B' || this.bind.get(k.values[0] as string) === 'B');
    const largest = intAttr(w, n, 'largest', 1) === 1 && intAttr(w, n, 'sorted', 1) === 1;
    if (x?.kind !== 'ids' || x.axes.length !== 1 || x.sorted || !all || !largest || this.opset < 10) {
      throw new TypeError(`${w}: ${nodeName(n)} is a TopK other than sorting every sequence's length, longest first`);
    }
    return [{ ...x, sorted: true }, { kind: 'perm', order: 'sort' }];
  }

  /** Range(0, B, 1): the batch's own order. */
  private range(n: OnnxNode, [start, limit, delta]: (Value | undefined)[]): Value {
    const one = (v: Value | undefined) => (v?.kind === 'ints' && v.values.length === 1 ? v.values[0] : undefined);
    const B = one(limit);
    if (one(start) !== 0 || one(delta) !== 1 || !(B === 'B' || this.bind.get(B as string) === 'B')) {
      throw new TypeError(`${this.where}: ${nodeName(n)} is a Range other than 0, 1, …, batch − 1`);
    }
    return { kind: 'perm', order: 'iota' };
  }

  /** ScatterElements(zeros, order, 0 … B−1): the inverse of the order. */
  private inverse(n: OnnxNode, [data, idx, updates]: (Value | undefined)[]): Value {
    const ok = data?.kind === 'zeros' && idx?.kind === 'perm' && idx.order !== 'iota' && updates?.kind === 'perm' && updates.order === 'iota'
      && intAttr(this.where, n, 'axis', 0) === 0 && (attribute(n, 'reduction')?.s ?? 'none') === 'none';
    if (!ok) throw new TypeError(`${this.where}: ${nodeName(n)} is a ScatterElements other than inverting the order of the batch`);
    return { kind: 'perm', order: (idx as Perm).order === 'sort' ? 'unsort' : 'sort' };
  }

  /** Gather of the batch axis by an order: sorted by length, or back in the input's order. */
  private reorder(n: OnnxNode, x: Act, p: Perm): Act {
    const i = axisOf(this.where, n, intAttr(this.where, n, 'axis', 0), x.axes.length);
    this.bindAxis(n, x.axes[i], 'B');
    if (p.order === 'iota') return x;
    if ((p.order === 'sort') === !!x.sorted) throw new TypeError(`${this.where}: ${nodeName(n)} orders the batch ${p.order === 'sort' ? 'by length twice' : 'back without sorting it'}`);
    return { ...x, sorted: p.order === 'sort' };
  }

  /** An initial state must be absent or zeros of shape (D, batch, H). */
  private zeroState(n: OnnxNode, v: Value | undefined, D: number, H: number, name: string): void {
    if (v === undefined) return;
    const zero = v.kind === 'zeros' || (v.kind === 'floats' && v.data.every((x) => x === 0));
    const dims = (v as Const).dims;
    const batch = dims?.[1];
    const fits = dims?.length === 3 && dims[0] === D && dims[2] === H && (typeof batch === 'number' || this.bind.get(batch as string) === 'B' || batch === 'B');
    if (!zero || !fits) throw new TypeError(`${this.where}: ${nodeName(n)} starts from an ${name} other than zeros of shape (${D}, batch, ${H}); rnn-wasm's models start from zeros, or from the a0 / c0 given to forward()`);
  }

  // --- the output layer ---

  private matmul(n: OnnxNode, x: Value | undefined, W: Value | undefined): Value {
    const act = this.act(n, x);
    if (W?.kind !== 'floats' || W.dims.length !== 2) throw new TypeError(`${this.where}: ${nodeName(n)} multiplies by something other than a constant matrix`);
    const [K, N] = W.dims;
    return this.addHead(n, act, transpose(W.data, K, N), N, K);
  }

  private gemm(n: OnnxNode, [x, W, C]: (Value | undefined)[]): Value {
    const w = this.where;
    const act = this.act(n, x);
    if (intAttr(w, n, 'transA', 0) !== 0 || (attribute(n, 'alpha')?.f ?? 1) !== 1 || (attribute(n, 'beta')?.f ?? 1) !== 1) {
      throw new TypeError(`${w}: ${nodeName(n)} scales or transposes its input (alpha, beta, transA); rnn-wasm's output layer is W a + b`);
    }
    if (W?.kind !== 'floats' || W.dims.length !== 2) throw new TypeError(`${w}: ${nodeName(n)} multiplies by something other than a constant matrix`);
    const transB = intAttr(w, n, 'transB', 0) === 1;
    const [N, K] = transB ? W.dims : [W.dims[1], W.dims[0]];
    const out = this.addHead(n, act, transB ? W.data : transpose(W.data, W.dims[0], W.dims[1]), N, K);
    if (C !== undefined) this.setBias(n, C, N);
    return out;
  }

  private addHead(n: OnnxNode, x: Act, W: Float32Array, N: number, K: number): Act {
    const w = this.where;
    const F = x.axes[x.axes.length - 1];
    if (this.head) throw new TypeError(`${w}: ${nodeName(n)} is a second output layer after ${nodeName(this.head.node)}; rnn-wasm's models have one`);
    if (F.name !== 'F' || x.axes.some((a) => a.name === 'S') || this.dimOf(F) !== K) throw new TypeError(`${w}: ${nodeName(n)} multiplies a tensor whose last axis is not the ${K} features it expects`);
    if (F.blocks.some((b) => b.src !== 'y' && b.src !== 'h')) throw new TypeError(`${w}: ${nodeName(n)} multiplies something other than recurrent outputs or states`);
    const steps = x.axes.some((a) => this.name(a) === 'T');
    this.head = { node: n, W, n_y: N, input: F.blocks, steps };
    return { ...x, axes: [...x.axes.slice(0, -1), { name: 'F', blocks: [{ src: 'z', size: N }] }] };
  }

  private bias(n: OnnxNode, a: Value | undefined, b: Value | undefined): Value {
    const [x, c] = a?.kind === 'act' ? [a, b] : [b, a];
    const act = this.act(n, x);
    const F = act.axes[act.axes.length - 1];
    if (!this.head || F.name !== 'F' || F.blocks[0].src !== 'z' || this.head.b) throw new TypeError(`${this.where}: ${nodeName(n)} adds to something other than the output layer's product`);
    this.setBias(n, c, this.head.n_y);
    return act;
  }

  private setBias(n: OnnxNode, c: Value | undefined, N: number): void {
    const ok = c?.kind === 'floats' && c.data.length === N && (c.dims.length === 1 || (c.dims.length === 2 && c.dims[0] === 1));
    if (!ok) throw new TypeError(`${this.where}: ${nodeName(n)} adds something other than a constant bias of ${N} values`);
    this.head!.b = (c as Floats).data;
  }

  private squash(n: OnnxNode, x: Value | undefined, fn: 'softmax' | 'sigmoid'): Value {
    const act = this.act(n, x);
    const r = act.axes.length;
    const F = act.axes[r - 1];
    const axis = fn === 'softmax' ? axisOf(this.where, n, intAttr(this.where, n, 'axis', this.opset < 13 ? 1 : -1), r) : r - 1;
    if (F.name !== 'F' || F.blocks[0].src !== 'z' || axis !== r - 1 || this.head!.fn) {
      throw new TypeError(`${this.where}: ${nodeName(n)} applies ${fn} to something other than the output layer's logits over their last axis`);
    }
    this.head!.fn = fn;
    return { ...act, axes: [...act.axes.slice(0, -1), { name: 'F', blocks: [{ src: 'p', size: this.head!.n_y }] }] };
  }
}

function isConst(v: Value): v is Const {
  return v.kind === 'floats' || v.kind === 'ints' || v.kind === 'zeros';
}

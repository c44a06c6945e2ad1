// The constant part of an ONNX graph, as loadONNX evaluates it: initializers and Constant
// nodes decoded into values, and the nodes that only rearrange constants folded into new
// constants — Identity, Cast, Unsqueeze, Squeeze, Transpose, Slice, Concat, Reshape, Gather,
// Shape, ConstantOfShape, Expand. That is how torch.onnx.export writes the zero initial states
// (Shape → Gather → Concat → ConstantOfShape) and, without constant folding, the reordered
// recurrent weights (Slice → Concat → Unsqueeze). Integer vectors may hold symbolic sizes (a
// batch size read with Shape), and a tensor of zeros may have a symbolic shape; nothing else
// is symbolic here. Every size is checked before anything is allocated.

import { AttrType, DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** A size: a number, or the name of an axis whose size is known only when the model runs. */
export type Dim = number | string;

/** A float32 tensor. */
export interface Floats { kind: 'floats'; dims: number[]; data: Float32Array }
/** An integer tensor; entries may be symbolic sizes. */
export interface Ints { kind: 'ints'; dims: number[]; values: Dim[] }
/** A float tensor of zeros whose shape may be symbolic. */
export interface Zeros { kind: 'zeros'; dims: Dim[] }
export type Const = Floats | Ints | Zeros;

/** Largest tensor a graph may hold or make, in elements. */
export const MAX_ELEMENTS = 2 ** 27;

/** The name of a node in messages. */
export const nodeName = (n: OnnxNode) => `node '${n.name || n.outputs[0] || '?'}' (${n.opType})`;

// --- tensors from the file ---

/** Decode a tensor of the file (an initializer or a Constant's value). */
export function tensorValue(where: string, t: OnnxTensor, what: string): Floats | Ints {
  if (t.external) throw new TypeError(`${where}: ${what} keeps its data in an external file; save the model with its weights inside the .onnx file`);
  const count = elements(where, t.dims, what);
  if (t.dataType === DataType.FLOAT) {
    const v = t.raw && rawData(where, t.raw, count, 4, what);
    const data = v ? Float32Array.from({ length: count }, (_, i) => v.getFloat32(4 * i, true)) : Float32Array.from(t.floats);
    return { kind: 'floats', dims: t.dims, data: checkCount(where, data, count, what) };
  }
  if (t.dataType === DataType.INT64 || t.dataType === DataType.INT32) {
    const long = t.dataType === DataType.INT64;
    const v = t.raw && rawData(where, t.raw, count, long ? 8 : 4, what);
    const values = !v ? (long ? t.int64s : t.int32s)
      : Array.from({ length: count }, (_, i) => (long ? safe(where, v.getBigInt64(8 * i, true), what) : v.getInt32(4 * i, true)));
    return { kind: 'ints', dims: t.dims, values: checkCount(where, values, count, what) };
  }
  const names: Record<number, string> = { [DataType.DOUBLE]: 'float64', [DataType.FLOAT16]: 'float16' };
  const type = names[t.dataType] ?? `data type ${t.dataType}`;
  throw new TypeError(`${where}: ${what} is ${type}; rnn-wasm reads float32 weights and int32/int64 indices (convert the model to float32 first)`);
}

/** The number of elements of dims, checked. */
export function elements(where: string, dims: readonly Dim[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new RangeError(`${where}: ${what} has an invalid shape [${dims.join(', ')}]`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new RangeError(`${where}: ${what} has shape [${dims.join(', ')}], more than ${MAX_ELEMENTS} elements`);
  }
  return n;
}

/** A view of raw little-endian data, checked to hold count values of size bytes. */
function rawData(where: string, raw: Uint8Array, count: number, size: number, what: string): DataView {
  if (raw.length !== count * size) throw new RangeError(`${where}: ${what} has ${raw.length} bytes of data, its shape needs ${count} × ${size} = ${count * size}`);
  return new DataView(raw.buffer, raw.byteOffset, raw.length);
}

function checkCount<T extends ArrayLike<unknown>>(where: string, data: T, count: number, what: string): T {
  if (data.length !== count) throw new RangeError(`${where}: ${what} has ${data.length} values, its shape needs ${count}`);
  return data;
}

function safe(where: string, v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`${where}: ${what} holds an integer out of range (${v})`);
  return Number(v);
}

// --- attributes ---

/** A node's attribute by name, if present. */
export function attribute(n: OnnxNode, name: string): OnnxAttribute | undefined {
  return n.attributes.find((a) => a.name === name);
}

export function intAttr(where: string, n: OnnxNode, name: string, fallback: number): number {
  const a = attribute(n, name);
  if (a === undefined) return fallback;
  if (a.type !== AttrType.INT || a.i === undefined) throw new TypeError(`${where}: ${nodeName(n)} has attribute ${name} of type ${a.type}, expected an integer`);
  return a.i;
}

export function intsAttr(where: string, n: OnnxNode, name: string): number[] | undefined {
  const a = attribute(n, name);
  if (a === undefined) return undefined;
  if (a.type !== AttrType.INTS) throw new TypeError(`${where}: ${nodeName(n)} has attribute ${name} of type ${a.type}, expected integers`);
  return a.ints;
}

// --- folding ---

/** Inputs each operator needs (the first ones; the rest are optional). */
export function requiredInputs(op: string, opset: number): number {
  const fixed: Record<string, number> = {
    Reshape: 2, Gather: 2, Expand: 2, OneHot: 3, MatMul: 2, Gemm: 2, Add: 2, RNN: 3, LSTM: 3, GRU: 3, Constant: 0,
    TopK: 2, Range: 3, ScatterElements: 3,
  };
  if (op === 'Unsqueeze') return opset < 13 ? 1 : 2;
  if (op === 'Slice') return opset < 10 ? 1 : 3;
  return fixed[op] ?? 1;
}

/** A node's value when all of its inputs are constant, or undefined when it is not a node
 *  that only rearranges constants. */
export function fold(where: string, n: OnnxNode, ins: (Const | undefined)[], opset: number): Const | undefined {
  const f = FOLDERS[n.opType];
  if (!f || ins.some((v, i) => v === undefined && n.inputs[i] !== '')) return undefined;
  return f(where, n, ins, opset);
}

type Folder = (where: string, n: OnnxNode, ins: (Const | undefined)[], opset: number) => Const;

const FOLDERS: Record<string, Folder> = {
  Identity: (_w, _n, [x]) => x!,
  Cast: foldCast,
  Shape: foldShape,
  Unsqueeze: (w, n, ins, opset) => reshapeConst(w, n, ins[0]!, unsqueezeDims(w, n, ins[0]!.dims, axesOf(w, n, ins, opset, 'axes'))),
  Squeeze: (w, n, ins, opset) => reshapeConst(w, n, ins[0]!, squeezeDims(w, n, ins[0]!.dims, axesOf(w, n, ins, opset, 'axes'))),
  Reshape: (w, n, [x, shape]) => reshapeConst(w, n, x!, reshapeDims(w, n, x!.dims, numbers(w, n, shape!, 'shape'), intAttr(w, n, 'allowzero', 0))),
  Transpose: foldTranspose,
  Slice: foldSlice,
  Concat: foldConcat,
  Gather: foldGather,
  ConstantOfShape: foldConstantOfShape,
  ReduceProd: foldReduceProd,
  Expand: foldExpand,
};

function foldCast(where: string, n: OnnxNode, [x]: (Const | undefined)[]): Const {
  const to = intAttr(where, n, 'to', 0);
  const isInt = to === DataType.INT64 || to === DataType.INT32;
  if ((x!.kind === 'ints' && isInt) || (x!.kind !== 'ints' && to === DataType.FLOAT)) return x!;
  throw new TypeError(`${where}: ${nodeName(n)} casts a ${x!.kind === 'ints' ? 'integer' : 'float'} tensor to data type ${to}, which rnn-wasm does not run`);
}

function foldShape(where: string, n: OnnxNode, [x]: (Const | undefined)[]): Ints {
  return shapeOf(where, n, x!.dims);
}

/** Shape: the dims (opset 15's start and end may select some). */
export function shapeOf(where: string, n: OnnxNode, dims: readonly Dim[]): Ints {
  const r = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const values = dims.slice(clamp(intAttr(where, n, 'start', 0)), clamp(intAttr(where, n, 'end', r)));
  return { kind: 'ints', dims: [values.length], values };
}

/** The numeric values of an integer input (a shape, axes, indices). */
export function numbers(where: string, n: OnnxNode, v: { kind: string } | undefined, what: string): number[] {
  if (v?.kind !== 'ints' || (v as Ints).values.some((d) => typeof d !== 'number')) {
    throw new TypeError(`${where}: ${nodeName(n)} needs its ${what} as constant integers`);
  }
  return (v as Ints).values as number[];
}

/** Axes from the attribute (before opset 13) or the second input. */
export function axesOf(where: string, n: OnnxNode, ins: (Const | undefined)[], opset: number, name: string): number[] | undefined {
  if (opset < 13) return intsAttr(where, n, name);
  return ins[1] === undefined ? undefined : numbers(where, n, ins[1], name);
}

/** A normalized axis of a rank-r tensor. */
export function axisOf(where: string, n: OnnxNode, axis: number, r: number): number {
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) throw new RangeError(`${where}: ${nodeName(n)} names axis ${axis} of a tensor of rank ${r}`);
  return a;
}

export function unsqueezeDims<D>(where: string, n: OnnxNode, dims: readonly D[], axes: number[] | undefined): (D | 1)[] {
  if (!axes) throw new TypeError(`${where}: ${nodeName(n)} has no axes`);
  const r = dims.length + axes.length;
  const at = new Set(axes.map((a) => axisOf(where, n, a, r)));
  if (at.size !== axes.length) throw new RangeError(`${where}: ${nodeName(n)} repeats an axis`);
  const out: (D | 1)[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(at.has(i) ? 1 : dims[k++]);
  return out;
}

export function squeezeDims<D>(where: string, n: OnnxNode, dims: readonly D[], axes: number[] | undefined): D[] {
  const at = new Set((axes ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(where, n, a, dims.length)));
  for (const a of at) if (dims[a] !== 1) throw new RangeError(`${where}: ${nodeName(n)} squeezes axis ${a} of size ${dims[a]}`);
  return dims.filter((_, i) => !at.has(i));
}

/** Reshape's target dims: 0 copies a dim (unless allowzero), −1 takes what is left. */
export function reshapeDims(where: string, n: OnnxNode, dims: readonly Dim[], shape: number[], allowzero: number): number[] {
  const total = elements(where, dims, `the input of ${nodeName(n)}`);
  const out = shape.map((s, i) => (s === 0 && !allowzero ? (dims[i] as number) : s));
  const free = out.filter((s) => s === -1).length;
  const known = out.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  if (free > 1 || out.some((s) => s === undefined || s < -1) || (free === 1 ? known === 0 || total % known !== 0 : known !== total)) {
    throw new RangeError(`${where}: ${nodeName(n)} cannot reshape [${dims.join(', ')}] to [${shape.join(', ')}]`);
  }
  return out.map((s) => (s === -1 ? total / known : s));
}

/** A constant with new dims and the same data in the same order. */
function reshapeConst(where: string, n: OnnxNode, x: Const, dims: Dim[]): Const {
  if (x.kind === 'zeros') return { kind: 'zeros', dims };
  if (dims.some((d) => typeof d !== 'number')) throw new TypeError(`${where}: ${nodeName(n)} gives a constant a symbolic shape`);
  return { ...x, dims: dims as number[] };
}

/** Transpose's perm for a rank-r tensor (default: reversed), checked to be a permutation. */
export function permOf(where: string, n: OnnxNode, r: number): number[] {
  const perm = intsAttr(where, n, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  if (perm.length !== r || perm.some((p) => !(p >= 0 && p < r)) || new Set(perm).size !== r) {
    throw new RangeError(`${where}: ${nodeName(n)} has perm [${perm.join(', ')}] for a tensor of rank ${r}`);
  }
  return perm;
}

function foldTranspose(where: string, n: OnnxNode, [x]: (Const | undefined)[]): Const {
  const perm = permOf(where, n, x!.dims.length);
  if (x!.kind === 'zeros') return { kind: 'zeros', dims: perm.map((p) => x!.dims[p]) };
  const dims = perm.map((p) => x!.dims[p] as number);
  return withData(x!, dims, permute(x!.dims as number[], perm));
}

/** For each output element (row-major over the permuted dims), the input element's index. */
function permute(dims: number[], perm: number[]): Int32Array {
  const strides = stridesOf(dims);
  const outDims = perm.map((p) => dims[p]);
  const count = outDims.reduce((a, b) => a * b, 1);
  const index = new Int32Array(count);
  const pos = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = 0;
    for (let k = 0; k < pos.length; k++) src += pos[k] * strides[perm[k]];
    index[i] = src;
    for (let k = pos.length - 1; k >= 0 && ++pos[k] === outDims[k]; k--) pos[k] = 0;
  }
  return index;
}

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let k = dims.length - 2; k >= 0; k--) s[k] = s[k + 1] * dims[k + 1];
  return s;
}

/** A constant of the same kind with elements picked by index. */
function withData(x: Floats | Ints, dims: number[], index: Int32Array): Floats | Ints {
  if (x.kind === 'floats') return { kind: 'floats', dims, data: Float32Array.from(index, (i) => x.data[i]) };
  return { kind: 'ints', dims, values: Array.from(index, (i) => x.values[i]) };
}

function foldSlice(where: string, n: OnnxNode, ins: (Const | undefined)[], opset: number): Const {
  const x = ins[0]!;
  const get = (k: number, name: string) => (opset < 10 ? intsAttr(where, n, name) : ins[k] && numbers(where, n, ins[k]!, name));
  const starts = get(1, 'starts'), ends = get(2, 'ends');
  if (!starts || !ends || starts.length !== ends.length) throw new TypeError(`${where}: ${nodeName(n)} needs starts and ends of one length`);
  const axes = get(3, 'axes') ?? starts.map((_, i) => i);
  const steps = opset < 10 ? undefined : get(4, 'steps');
  if (steps?.some((s) => s !== 1)) throw new TypeError(`${where}: ${nodeName(n)} slices with steps [${steps.join(', ')}]; only steps of 1 are read`);
  const ranges = x.dims.map((d) => [0, d] as [number, Dim]);
  axes.forEach((a, i) => {
    const k = axisOf(where, n, a, x.dims.length), d = x.dims[k];
    if (typeof d !== 'number') {
      if (starts[i] !== 0 || ends[i] < 2 ** 31 - 1) throw new TypeError(`${where}: ${nodeName(n)} slices an axis of symbolic size`);
      return;
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    ranges[k] = [clamp(starts[i]), Math.max(clamp(starts[i]), clamp(ends[i]))];
  });
  const dims = ranges.map(([s, e]) => (typeof e === 'number' ? e - s : e));
  if (x.kind === 'zeros') return { kind: 'zeros', dims };
  return withData(x, dims as number[], sliceIndex(x.dims, ranges as [number, number][]));
}

function sliceIndex(dims: number[], ranges: [number, number][]): Int32Array {
  const strides = stridesOf(dims);
  const outDims = ranges.map(([s, e]) => e - s);
  const count = outDims.reduce((a, b) => a * b, 1);
  const index = new Int32Array(count);
  const pos = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = 0;
    for (let k = 0; k < dims.length; k++) src += (ranges[k][0] + pos[k]) * strides[k];
    index[i] = src;
    for (let k = pos.length - 1; k >= 0 && ++pos[k] === outDims[k]; k--) pos[k] = 0;
  }
  return index;
}

function foldConcat(where: string, n: OnnxNode, ins: (Const | undefined)[]): Const {
  const xs = ins as Const[];
  const kind = xs[0].kind;
  if (xs.some((x) => x?.kind !== kind || x.kind === 'zeros')) {
    throw new TypeError(`${where}: ${nodeName(n)} concatenates tensors rnn-wasm cannot combine here`);
  }
  const r = xs[0].dims.length;
  const axis = axisOf(where, n, intAttr(where, n, 'axis', 0), r);
  const dims = [...xs[0].dims] as number[];
  for (const x of xs.slice(1)) {
    if (x.dims.length !== r || x.dims.some((d, k) => k !== axis && d !== dims[k])) throw new RangeError(`${where}: ${nodeName(n)} concatenates tensors of different shapes`);
    dims[axis] += x.dims[axis] as number;
  }
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const parts = xs.map((x) => (x as Floats | Ints)).map((x) => ({ x, run: (x.dims as number[]).slice(axis).reduce((a, b) => a * b, 1) }));
  const order: [number, number][] = [];
  for (let o = 0; o < outer; o++) parts.forEach(({ run }, p) => { for (let i = 0; i < run; i++) order.push([p, o * run + i]); });
  if (kind === 'floats') return { kind, dims, data: Float32Array.from(order, ([p, i]) => (parts[p].x as Floats).data[i]) };
  return { kind: 'ints', dims, values: order.map(([p, i]) => (parts[p].x as Ints).values[i]) };
}

function foldGather(where: string, n: OnnxNode, [x, idx]: (Const | undefined)[]): Const {
  if (x!.kind === 'zeros') throw new TypeError(`${where}: ${nodeName(n)} gathers from a tensor of symbolic shape`);
  const data = x as Floats | Ints;
  const axis = axisOf(where, n, intAttr(where, n, 'axis', 0), data.dims.length);
  const indices = numbers(where, n, idx!, 'indices');
  const size = data.dims[axis];
  const dims = [...data.dims.slice(0, axis), ...(idx as Ints).dims, ...data.dims.slice(axis + 1)];
  const outer = data.dims.slice(0, axis).reduce((a, b) => a * b, 1), inner = data.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  elements(where, dims, `the output of ${nodeName(n)}`);
  const index = new Int32Array(outer * indices.length * inner);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (const raw of indices) {
      const i = raw < 0 ? raw + size : raw;
      if (!(i >= 0 && i < size)) throw new RangeError(`${where}: ${nodeName(n)} gathers index ${raw} of an axis of size ${size}`);
      for (let j = 0; j < inner; j++) index[k++] = (o * size + i) * inner + j;
    }
  }
  return withData(data, dims, index);
}

function foldConstantOfShape(where: string, n: OnnxNode, [shape]: (Const | undefined)[]): Const {
  if (shape!.kind !== 'ints') throw new TypeError(`${where}: ${nodeName(n)} needs an integer shape`);
  const a = attribute(n, 'value');
  const v = a?.t ? tensorValue(where, a.t, `the value of ${nodeName(n)}`) : { kind: 'floats' as const, dims: [1], data: new Float32Array(1) };
  const first = v.kind === 'floats' ? v.data[0] : v.values[0];
  if (first !== 0) throw new TypeError(`${where}: ${nodeName(n)} fills a tensor with ${first}; rnn-wasm reads only zeros (initial states, and the start of a batch order) here`);
  return { kind: 'zeros', dims: shape!.values };
}

function foldExpand(where: string, n: OnnxNode, [x, shape]: (Const | undefined)[]): Const {
  const zero = x!.kind === 'zeros' || (x!.kind === 'floats' && x!.data.every((v) => v === 0));
  if (!zero || shape!.kind !== 'ints') throw new TypeError(`${where}: ${nodeName(n)} expands a tensor other than float zeros, which rnn-wasm does not read here`);
  // numpy broadcasting, aligned from the right
  const r = Math.max(x!.dims.length, shape!.values.length);
  const at = (dims: readonly Dim[], k: number) => dims[dims.length - r + k] ?? 1;
  const dims = Array.from({ length: r }, (_, k) => {
    const a = at(x!.dims, k), b = at(shape!.values, k);
    if (a === 1 || a === b) return b;
    if (b === 1) return a;
    // a symbolic size against a number: the number is what the model can run with
    if (typeof a !== typeof b) return typeof a === 'number' ? a : b;
    throw new RangeError(`${where}: ${nodeName(n)} cannot expand [${x!.dims.join(', ')}] to [${shape!.values.join(', ')}]`);
  });
  return { kind: 'zeros', dims };
}

/** ReduceProd of a vector to a scalar: the product, or the one symbolic size it holds. */
function foldReduceProd(where: string, n: OnnxNode, [x]: (Const | undefined)[]): Const {
  const v = x?.kind === 'ints' && x.dims.length === 1 ? x.values : undefined;
  const all = intAttr(where, n, 'keepdims', 1) === 0 && intsAttr(where, n, 'axes') === undefined;
  if (!v || !all || (v.length !== 1 && v.some((d) => typeof d !== 'number'))) {
    throw new TypeError(`${where}: ${nodeName(n)} is a ReduceProd other than the size of a shape`);
  }
  const value = v.length === 1 ? v[0] : (v as number[]).reduce((a, b) => a * b, 1);
  return { kind: 'ints', dims: [], values: [value] };
}

// The ONNX file format: the messages of onnx.proto that a model of recurrent layers uses,
// decoded from and encoded to bytes with the wire format of protobuf.ts. Field numbers are
// those of the official onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
// TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto,
// StringStringEntryProto); fields a model of this library never needs (functions, training
// info, sparse tensors, nested graphs) are skipped when read, and noted where their presence
// changes what the file means.
// see: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto

import { ProtoReader, ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  /** raw_data: little-endian values, a view of the file's bytes. */
  raw?: Uint8Array;
  /** float_data, int32_data, int64_data, double_data, whichever the file used. */
  floats: number[];
  int32s: number[];
  int64s: number[];
  doubles: number[];
  /** The data lives in another file (data_location = EXTERNAL, or external_data entries). */
  external: boolean;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  strings: string[];
  /** The attribute holds a subgraph (If, Loop, Scan bodies), which is not decoded. */
  graph: boolean;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A graph input or output: element type and shape (a number, a symbol, or unknown). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape?: (number | string | undefined)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** The graph has sparse initializers (not supported). */
  sparse: boolean;
}

export interface OnnxModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  metadata: Record<string, string>;
  /** The model defines local functions (not supported). */
  functions: boolean;
}

// --- decoding ---

/** Decode an ONNX model file; a damaged file is refused with a RangeError naming the byte. */
export function decodeOnnx(where: string, bytes: Uint8Array): OnnxModel {
  const r = new ProtoReader(where, bytes, 'ModelProto');
  const m: OnnxModel = { irVersion: 0, opsets: [], producerName: '', producerVersion: '', graph: emptyGraph(), metadata: {}, functions: false };
  let hasGraph = false;
  while (r.next()) {
    switch (r.field) {
      case 1: m.irVersion = r.int(); break;
      case 2: m.producerName = r.string(); break;
      case 3: m.producerVersion = r.string(); break;
      case 7: m.graph = readGraph(r.message('GraphProto')); hasGraph = true; break;
      case 8: m.opsets.push(readOpset(r.message('OperatorSetIdProto'))); break;
      case 14: { const [k, v] = readEntry(r.message('StringStringEntryProto')); m.metadata[k] = v; break; }
      case 25: m.functions = true; r.skip(); break;
      default: r.skip();
    }
  }
  if (!hasGraph) r.fail('a ModelProto without a graph');
  return m;
}

function emptyGraph(): OnnxGraph {
  return { name: '', nodes: [], initializers: [], inputs: [], outputs: [], sparse: false };
}

function readGraph(r: ProtoReader): OnnxGraph {
  const g = emptyGraph();
  while (r.next()) {
    switch (r.field) {
      case 1: g.nodes.push(readNode(r.message('NodeProto'))); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializers.push(readTensor(r.message('TensorProto'))); break;
      case 11: g.inputs.push(readValueInfo(r.message('ValueInfoProto'))); break;
      case 12: g.outputs.push(readValueInfo(r.message('ValueInfoProto'))); break;
      case 15: g.sparse = true; r.skip(); break;
      default: r.skip();
    }
  }
  return g;
}

function readNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (r.next()) {
    switch (r.field) {
      case 1: n.inputs.push(r.string()); break;
      case 2: n.outputs.push(r.string()); break;
      case 3: n.name = r.string(); break;
      case 4: n.opType = r.string(); break;
      case 5: n.attributes.push(readAttribute(r.message('AttributeProto'))); break;
      case 7: n.domain = r.string(); break;
      default: r.skip();
    }
  }
  return n;
}

function readAttribute(r: ProtoReader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0, floats: [], ints: [], strings: [], graph: false };
  while (r.next()) {
    switch (r.field) {
      case 1: a.name = r.string(); break;
      case 2: a.f = r.float(); break;
      case 3: a.i = r.int(); break;
      case 4: a.s = r.string(); break;
      case 5: a.t = readTensor(r.message('TensorProto')); break;
      case 6: case 11: a.graph = true; r.skip(); break;
      case 7: r.floats(a.floats); break;
      case 8: r.ints(a.ints); break;
      case 9: a.strings.push(r.string()); break;
      case 20: a.type = r.int(); break;
      default: r.skip();
    }
  }
  return a;
}

function readTensor(r: ProtoReader): OnnxTensor {
  const t: OnnxTensor = { name: '', dataType: 0, dims: [], floats: [], int32s: [], int64s: [], doubles: [], external: false };
  while (r.next()) {
    switch (r.field) {
      case 1: r.ints(t.dims); break;
      case 2: t.dataType = r.int(); break;
      case 4: r.floats(t.floats); break;
      case 5: r.ints(t.int32s); break;
      case 7: r.ints(t.int64s); break;
      case 8: t.name = r.string(); break;
      case 9: t.raw = r.bytes(); break;
      case 10: r.doubles(t.doubles); break;
      case 13: t.external = true; r.skip(); break;
      case 14: t.external = t.external || r.int() === 1; break;
      default: r.skip();
    }
  }
  return t;
}

function readValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0 };
  while (r.next()) {
    if (r.field === 1) v.name = r.string();
    else if (r.field === 2) Object.assign(v, readType(r.message('TypeProto')));
    else r.skip();
  }
  return v;
}

/** TypeProto: only tensor types carry an element type and shape; others leave elemType 0. */
function readType(r: ProtoReader): { elemType: number; shape?: (number | string | undefined)[] } {
  const out: { elemType: number; shape?: (number | string | undefined)[] } = { elemType: 0 };
  while (r.next()) {
    if (r.field !== 1) { r.skip(); continue; }
    const t = r.message('TypeProto.Tensor');
    while (t.next()) {
      if (t.field === 1) out.elemType = t.int();
      else if (t.field === 2) out.shape = readShape(t.message('TensorShapeProto'));
      else t.skip();
    }
  }
  return out;
}

function readShape(r: ProtoReader): (number | string | undefined)[] {
  const dims: (number | string | undefined)[] = [];
  while (r.next()) {
    if (r.field !== 1) { r.skip(); continue; }
    const d = r.message('TensorShapeProto.Dimension');
    let dim: number | string | undefined;
    while (d.next()) {
      if (d.field === 1) dim = d.int();
      else if (d.field === 2) dim = d.string();
      else d.skip();
    }
    dims.push(dim);
  }
  return dims;
}

function readOpset(r: ProtoReader): { domain: string; version: number } {
  const o = { domain: '', version: 0 };
  while (r.next()) {
    if (r.field === 1) o.domain = r.string();
    else if (r.field === 2) o.version = r.int();
    else r.skip();
  }
  return o;
}

function readEntry(r: ProtoReader): [string, string] {
  let k = '', v = '';
  while (r.next()) {
    if (r.field === 1) k = r.string();
    else if (r.field === 2) v = r.string();
    else r.skip();
  }
  return [k, v];
}

// --- encoding ---

/** Encode a model. Tensors are written with raw_data (little-endian), as PyTorch writes them. */
export function encodeOnnx(m: OnnxModel): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter();
  w.int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  w.message(7, (g) => writeGraph(g, m.graph));
  for (const o of m.opsets) w.message(8, (x) => x.string(1, o.domain).int(2, o.version));
  for (const [k, v] of Object.entries(m.metadata)) w.message(14, (x) => x.string(1, k).string(2, v));
  return w.finish();
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.message(1, (x) => writeNode(x, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (x) => writeTensor(x, t));
  for (const v of g.inputs) w.message(11, (x) => writeValueInfo(x, v));
  for (const v of g.outputs) w.message(12, (x) => writeValueInfo(x, v));
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.message(5, (x) => writeAttribute(x, a));
  if (n.domain) w.string(7, n.domain);
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.message(5, (x) => writeTensor(x, a.t!));
  for (const f of a.floats) w.float(7, f);
  for (const i of a.ints) w.int(8, i);
  for (const s of a.strings) w.string(9, s);
  w.int(20, a.type);
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType).string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, v.elemType);
    if (v.shape) {
      tensor.message(2, (shape) => {
        for (const d of v.shape!) {
          shape.message(1, (dim) => {
            if (typeof d === 'number') dim.int(1, d);
            else if (typeof d === 'string') dim.string(2, d);
          });
        }
      });
    }
  }));
}

// The weights of a TensorFlow.js model: the manifest in model.json (groups of weights, each
// group stored across one or more files, every weight's name, shape, dtype and optional
// quantization) and the bytes of those files, decoded into float32 tensors by name. Everything
// is checked against the manifest — every byte accounted for, every shape matching its data —
// before any tensor is returned.
// see: https://github.com/tensorflow/tfjs/blob/master/tfjs-core/src/io/types.ts (WeightsManifestConfig)

import { describe } from './validate.js';

/** The weight files' bytes: one buffer (all files concatenated in manifest order), a list with
 *  one buffer per file in manifest order, or buffers by the paths the manifest names. */
export type KerasWeightData = ArrayBuffer | ArrayBufferView | readonly (ArrayBuffer | ArrayBufferView)[] | Readonly<Record<string, ArrayBuffer | ArrayBufferView>>;

/** One weight as the manifest describes it. */
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

export interface KerasTensor {
  shape: number[];
  data: Float32Array;
}

/** Decode the weights a manifest describes from the given bytes. */
export function readWeights(where: string, manifest: unknown, data: KerasWeightData): Map<string, KerasTensor> {
  const groups = checkManifest(where, manifest);
  const sizes = groups.map((g) => g.weights.reduce((s, w) => s + byteSize(where, w), 0));
  const buffers = groupBuffers(where, groups.map((g) => g.paths), sizes, data);
  const out = new Map<string, KerasTensor>();
  groups.forEach((g, k) => {
    if (buffers[k].length !== sizes[k]) {
      throw new RangeError(`${where}: weight group ${k} (${g.paths.join(', ') || 'no files'}) holds ${buffers[k].length} bytes, its weights take ${sizes[k]}`);
    }
    let offset = 0;
    for (const spec of g.weights) {
      if (out.has(spec.name)) throw new TypeError(`${where}: the manifest names weight '${spec.name}' twice`);
      out.set(spec.name, { shape: spec.shape, data: decodeWeight(where, spec, buffers[k], offset) });
      offset += byteSize(where, spec);
    }
  });
  return out;
}

function checkManifest(where: string, manifest: unknown): { paths: string[]; weights: WeightSpec[] }[] {
  if (!Array.isArray(manifest)) throw new TypeError(`${where}: the model's weightsManifest must be an array of weight groups, got ${describe(manifest)}`);
  return manifest.map((g, k) => {
    const group = g as { paths?: unknown; weights?: unknown };
    if (typeof g !== 'object' || g === null || !Array.isArray(group.paths) || !group.paths.every((p) => typeof p === 'string') || !Array.isArray(group.weights)) {
      throw new TypeError(`${where}: weightsManifest[${k}] must be { paths: string[], weights: [...] }, got ${describe(g)}`);
    }
    return { paths: group.paths as string[], weights: group.weights.map((w, i) => checkSpec(where, w, `weightsManifest[${k}].weights[${i}]`)) };
  });
}

function checkSpec(where: string, w: unknown, at: string): WeightSpec {
  const s = w as WeightSpec;
  if (typeof w !== 'object' || w === null || typeof s.name !== 'string' || typeof s.dtype !== 'string' || !Array.isArray(s.shape)
      || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${where}: ${at} must be { name, shape, dtype }, got ${describe(w)}`);
  }
  if (s.quantization !== undefined && (typeof s.quantization !== 'object' || s.quantization === null || typeof s.quantization.dtype !== 'string')) {
    throw new TypeError(`${where}: ${at}.quantization must be { dtype, scale?, min? }, got ${describe(s.quantization)}`);
  }
  return s;
}

const toBytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array =>
  (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
const isBytes = (b: unknown): b is ArrayBuffer | ArrayBufferView => b instanceof ArrayBuffer || ArrayBuffer.isView(b);

/** One byte array per weight group. */
function groupBuffers(where: string, paths: string[][], sizes: number[], data: KerasWeightData): Uint8Array[] {
  const all = paths.flat();
  if (isBytes(data)) {
    // everything in one buffer, the groups one after another
    const bytes = toBytes(data);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (bytes.length !== total) throw new RangeError(`${where}: the weight data holds ${bytes.length} bytes, the manifest's weights take ${total}`);
    let at = 0;
    return sizes.map((n) => bytes.subarray(at, (at += n)));
  }
  let files: Uint8Array[];
  if (Array.isArray(data)) {
    if (data.length !== all.length || !data.every(isBytes)) {
      throw new TypeError(`${where}: weights must hold one buffer per weight file (${all.length}: ${all.join(', ')}), got ${data.length} ${data.every(isBytes) ? 'buffers' : 'values, not all buffers'}`);
    }
    files = data.map(toBytes);
  } else if (typeof data === 'object' && data !== null) {
    const byPath = data as Record<string, ArrayBuffer | ArrayBufferView>;
    files = all.map((p) => {
      const b = byPath[p];
      if (!isBytes(b)) throw new TypeError(`${where}: weights has no buffer for '${p}' (it has ${Object.keys(byPath).join(', ') || 'none'})`);
      return toBytes(b);
    });
  } else {
    throw new TypeError(`${where}: weights must be an ArrayBuffer / Uint8Array, a list of them or an object of them by path, got ${describe(data)}`);
  }
  let k = 0;
  return paths.map((p) => concat(files.slice(k, (k += p.length))));
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const BYTES: Record<string, number> = { float32: 4, uint8: 1, uint16: 2, float16: 2 };

/** Bytes a weight takes in its file. */
function byteSize(where: string, spec: WeightSpec): number {
  const stored = spec.quantization?.dtype ?? spec.dtype;
  if (spec.dtype !== 'float32') throw new TypeError(`${where}: weight '${spec.name}' is ${spec.dtype}; rnn-wasm's weights are float32`);
  const size = BYTES[stored];
  if (!size) throw new TypeError(`${where}: weight '${spec.name}' is stored as ${stored}, which rnn-wasm does not read (float32, uint8, uint16, float16)`);
  const count = spec.shape.reduce((a, b) => a * b, 1);
  if (!(count <= 2 ** 28)) throw new RangeError(`${where}: weight '${spec.name}' has shape [${spec.shape.join(', ')}], more than 2^28 values`);
  return count * size;
}

/** Decode one weight starting at byte `offset` of its group (its size already checked). */
function decodeWeight(where: string, spec: WeightSpec, bytes: Uint8Array, offset: number): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, count * BYTES[stored]);
  const data = new Float32Array(count);
  if (stored === 'float32') for (let i = 0; i < count; i++) data[i] = v.getFloat32(4 * i, true);
  else if (stored === 'float16') for (let i = 0; i < count; i++) data[i] = half(v.getUint16(2 * i, true));
  else {
    const { scale, min } = spec.quantization as { scale?: number; min?: number };
    if (typeof scale !== 'number' || typeof min !== 'number') throw new TypeError(`${where}: weight '${spec.name}' is quantized to ${stored} without a scale and min`);
    // tfjs's dequantization: q · scale + min
    for (let i = 0; i < count; i++) data[i] = (stored === 'uint8' ? v.getUint8(i) : v.getUint16(2 * i, true)) * scale + min;
  }
  return data;
}

/** An IEEE half-precision value (exact in float32). */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

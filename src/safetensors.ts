// The safetensors file format: encode float32 tensors, and decode with full validation.
// Standalone and dependency-free (TextEncoder, TextDecoder, DataView), so it runs in Node,
// browsers and workers alike.
// see: https://github.com/huggingface/safetensors#format (the reference validator is
// safetensors/src/tensor.rs)
//
//   [8 bytes]  N, the header length, little-endian u64
//   [N bytes]  UTF-8 JSON header:
//              {"__metadata__": {string: string},                         (optional)
//               name: {"dtype": "F32", "shape": [d0, d1, …], "data_offsets": [begin, end]}, …}
//              may be padded with spaces; our writer pads so the data starts 8-byte aligned
//   [rest]     the byte buffer: each tensor little-endian, row-major, at [begin, end) relative
//              to the start of the buffer; tensors are contiguous, never overlap, and cover
//              the buffer exactly (no gaps, nothing after the last one)
//
// Decoding checks everything before returning anything, and copies each tensor's data out:
// nothing returned is a view of the input bytes.

/** Largest header accepted, as in the reference implementation (DOS guard). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Every dtype the format defines; only F32 tensors can be decoded here. */
const KNOWN_DTYPES = new Set([
  'BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64',
]);

/** Why a file was refused: a stable code per failure, and a message naming the problem. */
export type SafetensorsErrorCode =
  | 'too-short' | 'header-too-large' | 'header-beyond-file' | 'invalid-utf8' | 'invalid-json'
  | 'header-not-object' | 'invalid-metadata' | 'invalid-entry' | 'unsupported-dtype' | 'invalid-shape'
  | 'invalid-offsets' | 'offset-out-of-range' | 'offset-gap' | 'offset-overlap' | 'size-mismatch'
  | 'trailing-bytes' | 'checksum-mismatch';

/** A file that is not a valid (or not a supported) safetensors file. */
export class SafetensorsError extends Error {
  readonly code: SafetensorsErrorCode;
  constructor(code: SafetensorsErrorCode, message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
    this.code = code;
  }
}

export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  /** A copy; never a view of the file's bytes. */
  data: Float32Array<ArrayBuffer>;
}

export interface DecodedSafetensors {
  /** Tensors in the order of their data in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The "__metadata__" map; empty when the file has none. */
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** A short printable form of any value, for messages. */
function show(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;  // cycles, BigInt
  }
  if (s === undefined) s = typeof v === 'object' ? Object.prototype.toString.call(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Compares names by Unicode code point, i.e. by their UTF-8 bytes, as the Rust writer sorts. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (ch) => ch.codePointAt(0)!), y = Array.from(b, (ch) => ch.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Tensors in the order the writer lays out their data: sorted by name. */
export function fileOrder<T extends { name: string }>(tensors: readonly T[]): T[] {
  return tensors.slice().sort((a, b) => byCodePoint(a.name, b.name));
}

/** An own, enumerable property, even for names like "__proto__". */
function put<V>(obj: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Float32 tensors → a safetensors file. Tensors are written sorted by name (as
 * safetensors.torch.save_file does for a single dtype), the header is compact JSON padded
 * with spaces to a multiple of 8 bytes, and "__metadata__" (first) only when it has keys,
 * so equal inputs give identical bytes.
 */
export function encodeSafetensors(
  tensors: { name: string; shape: number[]; data: Float32Array }[],
  metadata?: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  if (!Array.isArray(tensors)) throw new TypeError(`encodeSafetensors: tensors must be an array, got ${show(tensors)}`);
  const seen = new Set<string>();
  for (const [i, t] of tensors.entries()) {
    if (!isObject(t) || typeof t.name !== 'string') throw new TypeError(`encodeSafetensors: tensors[${i}] needs a string name`);
    if (t.name === '__metadata__') throw new TypeError('encodeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    if (seen.has(t.name)) throw new Error(`encodeSafetensors: tensor "${t.name}" appears twice`);
    seen.add(t.name);
    if (!(t.data instanceof Float32Array)) throw new TypeError(`encodeSafetensors: tensor "${t.name}" data must be a Float32Array`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
      throw new RangeError(`encodeSafetensors: tensor "${t.name}" shape must be non-negative integers, got ${show(t.shape)}`);
    }
    const n = t.shape.reduce((u, v) => u * v, 1);
    if (n !== t.data.length) {
      throw new RangeError(`encodeSafetensors: tensor "${t.name}" has ${t.data.length} values, its shape ${show(t.shape)} needs ${n}`);
    }
  }
  const meta: [string, string][] = [];
  if (metadata !== undefined) {
    if (!isObject(metadata)) throw new TypeError(`encodeSafetensors: metadata must be an object of strings, got ${show(metadata)}`);
    for (const key of Object.keys(metadata).sort(byCodePoint)) {
      const value = metadata[key];
      if (typeof value !== 'string') throw new TypeError(`encodeSafetensors: metadata "${key}" must be a string, got ${show(value)}`);
      meta.push([key, value]);
    }
  }

  // header: metadata first, then each tensor at the next offset
  const order = fileOrder(tensors);
  const header: Record<string, unknown> = {};
  if (meta.length > 0) {
    const m: Record<string, string> = {};
    for (const [k, v] of meta) put(m, k, v);
    put(header, '__metadata__', m);
  }
  let offset = 0;
  for (const t of order) {
    put(header, t.name, { dtype: 'F32', shape: t.shape.slice(), data_offsets: [offset, offset + 4 * t.data.length] });
    offset += 4 * t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const N = Math.ceil(json.length / 8) * 8;

  const bytes = new Uint8Array(8 + N + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(N), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + N);  // pad with spaces
  let at = 8 + N;
  for (const t of order) {
    if (LITTLE_ENDIAN) bytes.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += t.data.byteLength;
  }
  return bytes;
}

/**
 * A safetensors file → its float32 tensors (copies) and metadata. Throws SafetensorsError,
 * naming the problem, for anything that is not a complete, valid file of F32 tensors; a
 * TypeError if bytes is not a Uint8Array.
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`decodeSafetensors: bytes must be a Uint8Array, got ${show(bytes)}`);
  if (bytes.length < 8) throw new SafetensorsError('too-short', `the file is ${bytes.length} bytes, shorter than the 8-byte header length`);

  // header length, then the header text
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const N64 = view.getBigUint64(0, true);
  if (N64 > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError('header-too-large', `the header length ${N64} is above the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const N = Number(N64);
  if (8 + N > bytes.length) {
    throw new SafetensorsError('header-beyond-file', `the header length ${N} goes past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + N));
  } catch {
    throw new SafetensorsError('invalid-utf8', 'the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('invalid-json', `the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new SafetensorsError('header-not-object', `the header must be a JSON object, got ${show(header)}`);

  // every entry: metadata, or a tensor with dtype, shape and offsets
  const metadata: Record<string, string> = {};
  const entries: { name: string; shape: number[]; n: number; begin: number; end: number }[] = [];
  for (const name of Object.keys(header)) {
    const entry = header[name];
    if (name === '__metadata__') {
      if (!isObject(entry)) throw new SafetensorsError('invalid-metadata', `"__metadata__" must be an object of strings, got ${show(entry)}`);
      for (const key of Object.keys(entry)) {
        const value = entry[key];
        if (typeof value !== 'string') {
          throw new SafetensorsError('invalid-metadata', `"__metadata__" value "${key}" must be a string, got ${show(value)}`);
        }
        put(metadata, key, value);
      }
      continue;
    }
    if (!isObject(entry)) throw new SafetensorsError('invalid-entry', `tensor "${name}" must be an object, got ${show(entry)}`);
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.hasOwn(entry, field)) throw new SafetensorsError('invalid-entry', `tensor "${name}" has no "${field}"`);
    }
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') throw new SafetensorsError('invalid-entry', `tensor "${name}" dtype must be a string, got ${show(dtype)}`);
    if (dtype !== 'F32') {
      throw new SafetensorsError('unsupported-dtype', KNOWN_DTYPES.has(dtype)
        ? `tensor "${name}" has dtype ${dtype}; only F32 tensors can be loaded`
        : `tensor "${name}" has unknown dtype ${show(dtype)}; only F32 tensors can be loaded`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError('invalid-shape', `tensor "${name}" shape must be a list of non-negative integers, got ${show(shape)}`);
    }
    let n = 1;
    for (const d of shape as number[]) {
      n *= d;
      if (!Number.isSafeInteger(n * 4)) throw new SafetensorsError('invalid-shape', `tensor "${name}" shape ${show(shape)} is too large`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new SafetensorsError('invalid-offsets', `tensor "${name}" data_offsets must be two non-negative integers, got ${show(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (end < begin) throw new SafetensorsError('invalid-offsets', `tensor "${name}" data_offsets [${begin}, ${end}] end before they begin`);
    entries.push({ name, shape: (shape as number[]).map((d) => d + 0), n, begin, end });  // + 0: no −0
  }

  // the tensors in buffer order must tile the buffer exactly
  const size = bytes.length - 8 - N;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || byCodePoint(a.name, b.name));
  let expected = 0;
  for (const e of entries) {
    if (e.end > size) {
      throw new SafetensorsError('offset-out-of-range', `tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] go past the ${size}-byte data buffer`);
    }
    if (e.begin > expected) {
      throw new SafetensorsError('offset-gap', `tensor "${e.name}" starts at byte ${e.begin}, leaving bytes ${expected}..${e.begin} unused`);
    }
    if (e.begin < expected) {
      throw new SafetensorsError('offset-overlap', `tensor "${e.name}" starts at byte ${e.begin}, inside the previous tensor (which ends at ${expected})`);
    }
    if (e.end - e.begin !== 4 * e.n) {
      throw new SafetensorsError('size-mismatch', `tensor "${e.name}" has ${e.end - e.begin} bytes, its shape ${show(e.shape)} of F32 needs ${4 * e.n}`);
    }
    expected = e.end;
  }
  if (expected !== size) {
    throw new SafetensorsError('trailing-bytes', `the data buffer has ${size - expected} bytes after the last tensor (at ${expected} of ${size})`);
  }

  // valid: copy each tensor out
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const data = new Float32Array(e.n);
    const at = 8 + N + e.begin;
    if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes.subarray(at, at + 4 * e.n));
    else for (let i = 0; i < e.n; i++) data[i] = view.getFloat32(at + 4 * i, true);
    tensors.set(e.name, { dtype: 'F32', shape: e.shape, data });
  }
  return { tensors, metadata };
}

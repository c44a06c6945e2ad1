// The safetensors codec (src/safetensors.ts): round trips, every refused file with its
// message, a seeded fuzz loop of flipped and truncated files, and a file written by the
// Python side (tests/fixtures/make_torch.py wrote tests/fixtures/torch_lstm.safetensors).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, SafetensorsError } from '../src/safetensors.js';
import { cellsShapes } from './_reference_cells.js';

/** Seeded uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A file from a header text (or raw header bytes) and a data buffer; N defaults to the header's length. */
function file(header: string | Uint8Array, data: Uint8Array | number = 0, N?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, N ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Decoding must throw a SafetensorsError with this code and a message matching re. */
function refuses(bytes: Uint8Array, code: string, re: RegExp): void {
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    assert.instance(e, SafetensorsError);
    assert.is((e as SafetensorsError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected "${code}", but the file was accepted`);
}

// ---

const Round = suite('encode → decode round trips');

const sample = () => [
  { name: 'weight_ih_l0', shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 3) },
  { name: 'bias', shape: [5], data: Float32Array.of(-0, 0, Infinity, -Infinity, 1.4e-45) },
  { name: 'scalar', shape: [], data: Float32Array.of(3.25) },
  { name: 'empty', shape: [0], data: new Float32Array(0) },
  { name: 'empty_2d', shape: [2, 0, 3], data: new Float32Array(0) },
];

Round('values bit for bit, incl. −0, ±Inf, subnormals, NaN payloads; shapes incl. rank 0 and zero-size', () => {
  const tensors = sample();
  const nan = new Float32Array(new Uint32Array([0x7fc00001, 0xffc12345, 0x7f800001]).buffer);
  tensors.push({ name: 'nans', shape: [3], data: nan });
  const got = decodeSafetensors(encodeSafetensors(tensors));
  assert.is(got.tensors.size, tensors.length);
  for (const t of tensors) {
    const d = got.tensors.get(t.name)!;
    assert.ok(d, t.name);
    assert.is(d.dtype, 'F32');
    assert.equal(d.shape, t.shape, t.name);
    assert.instance(d.data, Float32Array);
    assert.equal(bits(d.data), bits(t.data), t.name);
  }
  assert.equal(got.metadata, {});
});

Round('metadata; hostile names kept as own entries; Object.prototype untouched', () => {
  const names = ['__proto__', 'constructor', 'toString', '', 'ünïcødé 名前 🚀', 'a"b\\c\n'];
  const tensors = names.map((name, i) => ({ name, shape: [1], data: Float32Array.of(i) }));
  const metadata: Record<string, string> = { format: 'pt', note: 'x"y\u0001' };
  Object.defineProperty(metadata, '__proto__', { value: 'p', enumerable: true });
  const got = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.equal([...got.tensors.keys()].sort(), names.slice().sort());
  names.forEach((name, i) => assert.is(got.tensors.get(name)!.data[0], i, name));
  assert.equal(Object.keys(got.metadata).sort(), ['__proto__', 'format', 'note']);
  assert.is(got.metadata.format, 'pt');
  assert.is(got.metadata.note, 'x"y\u0001');
  assert.is(Object.getOwnPropertyDescriptor(got.metadata, '__proto__')!.value, 'p');
  assert.is(Object.getPrototypeOf(got.metadata), Object.prototype);
  assert.is(({} as any).polluted, undefined);
});

Round('deterministic: sorted by name, header padded with spaces to 8 bytes, same bytes for any input order', () => {
  const a = encodeSafetensors(sample(), { b: '2', a: '1' });
  const b = encodeSafetensors(sample().reverse(), { a: '1', b: '2' });
  assert.equal(Array.from(a), Array.from(b));
  const N = Number(new DataView(a.buffer).getBigUint64(0, true));
  assert.is(N % 8, 0);
  const text = new TextDecoder().decode(a.subarray(8, 8 + N));
  assert.ok(text.startsWith('{"__metadata__":{"a":"1","b":"2"},"bias":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},'), text);
  assert.match(text, /} *$/);
  assert.is(text.trimEnd().length > N - 8, true);
  // decode → encode gives the same bytes again
  const d = decodeSafetensors(a);
  const again = encodeSafetensors([...d.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), d.metadata);
  assert.equal(Array.from(again), Array.from(a));
  // no metadata keys, no "__metadata__"
  assert.not.match(new TextDecoder().decode(encodeSafetensors(sample(), {})), /__metadata__/);
});

Round('decoded data are copies: not views of the input, unaffected by later writes to it', () => {
  const bytes = encodeSafetensors(sample());
  const got = decodeSafetensors(bytes);
  const w = got.tensors.get('weight_ih_l0')!.data;
  assert.is.not(w.buffer, bytes.buffer);
  const before = bits(w);
  bytes.fill(0xff, bytes.length - 60);
  assert.equal(bits(w), before);
});

Round('accepts: a file inside a larger buffer, a Node Buffer, leading whitespace, an unpadded header (unaligned data)', () => {
  const bytes = encodeSafetensors(sample());
  const big = new Uint8Array(bytes.length + 13);
  big.set(bytes, 5);
  assert.equal(bits(decodeSafetensors(big.subarray(5, 5 + bytes.length)).tensors.get('bias')!.data), bits(sample()[1].data));
  assert.is(decodeSafetensors(Buffer.from(bytes)).tensors.size, 5);
  const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
  const tensor = '"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';
  assert.equal(Array.from(decodeSafetensors(file(`  \n{${tensor}}`, data)).tensors.get('t')!.data), [1.5, -2]);
  for (const pad of ['', ' ', '  ', '   ']) {  // header lengths with every remainder mod 4
    assert.equal(Array.from(decodeSafetensors(file(`{${tensor}}${pad}`, data)).tensors.get('t')!.data), [1.5, -2]);
  }
  // no tensors at all
  assert.is(decodeSafetensors(file('{}')).tensors.size, 0);
  assert.equal(decodeSafetensors(file('{"__metadata__":{"k":"v"}}')).metadata, { k: 'v' });
});

Round('encode refuses bad arguments with TypeError / RangeError / Error naming the tensor', () => {
  const t = (name: string, shape: number[], data: any) => ({ name, shape, data });
  assert.throws(() => encodeSafetensors('x' as any), (e: Error) => e instanceof TypeError && /tensors must be an array/.test(e.message));
  assert.throws(() => encodeSafetensors([t('w', [2], [1, 2])]), (e: Error) => e instanceof TypeError && /"w" data must be a Float32Array/.test(e.message));
  assert.throws(() => encodeSafetensors([t('w', [2, 2], new Float32Array(3))]), (e: Error) => e instanceof RangeError && /"w" has 3 values, its shape \[2,2\] needs 4/.test(e.message));
  assert.throws(() => encodeSafetensors([t('w', [-1], new Float32Array(0))]), (e: Error) => e instanceof RangeError && /"w" shape/.test(e.message));
  assert.throws(() => encodeSafetensors([t('w', [1], new Float32Array(1)), t('w', [1], new Float32Array(1))]), /"w" appears twice/);
  assert.throws(() => encodeSafetensors([t('__metadata__', [1], new Float32Array(1))]), (e: Error) => e instanceof TypeError && /reserved/.test(e.message));
  assert.throws(() => encodeSafetensors([], { k: 3 } as any), (e: Error) => e instanceof TypeError && /metadata "k" must be a string/.test(e.message));
});

Round.run();

// ---

const Bad = suite('decode refuses bad files, naming the problem');

const T = (entry: string, name = 'w') => `{"${name}":${entry}}`;
const ok = '{"dtype":"F32","shape":[2],"data_offsets":[0,8]}';

Bad('not a Uint8Array → TypeError', () => {
  for (const v of [new ArrayBuffer(16), 'abc', null, [1, 2, 3], new Uint16Array(8)]) {
    assert.throws(() => decodeSafetensors(v as any), (e: Error) => e instanceof TypeError && /bytes must be a Uint8Array/.test(e.message));
  }
});

Bad('shorter than 8 bytes', () => {
  refuses(new Uint8Array(0), 'too-short', /0 bytes, shorter than the 8-byte header length/);
  refuses(new Uint8Array(7), 'too-short', /7 bytes/);
});

Bad('header length above the 100 MB limit, including 2^64 − 1', () => {
  refuses(file('{}', 0, BigInt(MAX_HEADER_BYTES + 1)), 'header-too-large', /100000001 is above the limit of 100000000/);
  refuses(file('{}', 0, 2n ** 64n - 1n), 'header-too-large', /18446744073709551615/);
  refuses(Uint8Array.of(0, 0, 0, 0, 0xff, 0xff, 0xff, 0, 0x7b), 'header-too-large', /above the limit/);
});

Bad('header length beyond the file', () => {
  refuses(file('{}', 0, 3n), 'header-beyond-file', /header length 3 goes past the end of the 10-byte file/);
  refuses(file('', 0, 1n), 'header-beyond-file', /8-byte file/);
});

Bad('invalid UTF-8 (incl. a lone surrogate, an overlong form, a truncated sequence)', () => {
  for (const bad of [[0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
    refuses(file(Uint8Array.from([0x7b, 0x22, ...bad, 0x22, 0x3a, 0x31, 0x7d])), 'invalid-utf8', /not valid UTF-8/);
  }
});

Bad('invalid JSON (incl. a byte-order mark, NUL padding)', () => {
  refuses(file('{"w":'), 'invalid-json', /not valid JSON/);
  refuses(file('\ufeff{}'), 'invalid-json', /not valid JSON/);
  refuses(file('{}\0\0'), 'invalid-json', /not valid JSON/);
  refuses(file(''), 'invalid-json', /not valid JSON/);
});

Bad('a header that is not an object', () => {
  for (const h of ['[]', 'null', '42', '"x"', 'true', '[{"dtype":"F32"}]']) refuses(file(h), 'header-not-object', /must be a JSON object/);
});

Bad('"__metadata__" that is not an object of strings', () => {
  for (const m of ['[]', '"x"', 'null', '3', '[["a","b"]]']) refuses(file(`{"__metadata__":${m}}`), 'invalid-metadata', /"__metadata__" must be an object of strings/);
  refuses(file('{"__metadata__":{"a":"1","k":3}}'), 'invalid-metadata', /value "k" must be a string, got 3/);
  refuses(file('{"__metadata__":{"k":{"x":"y"}}}'), 'invalid-metadata', /value "k"/);
  refuses(file('{"__metadata__":{"k":null}}'), 'invalid-metadata', /value "k"/);
});

Bad('a tensor entry that is not an object or misses a field', () => {
  refuses(file(T('5')), 'invalid-entry', /tensor "w" must be an object, got 5/);
  refuses(file(T('[0,8]')), 'invalid-entry', /tensor "w" must be an object/);
  refuses(file(T('{"shape":[2],"data_offsets":[0,8]}'), 8), 'invalid-entry', /tensor "w" has no "dtype"/);
  refuses(file(T('{"dtype":"F32","data_offsets":[0,8]}'), 8), 'invalid-entry', /tensor "w" has no "shape"/);
  refuses(file(T('{"dtype":"F32","shape":[2]}'), 8), 'invalid-entry', /tensor "w" has no "data_offsets"/);
  refuses(file(T('{"dtype":32,"shape":[2],"data_offsets":[0,8]}'), 8), 'invalid-entry', /tensor "w" dtype must be a string/);
});

Bad('dtypes other than F32, named with the tensor', () => {
  refuses(file(T('{"dtype":"F16","shape":[2],"data_offsets":[0,4]}', 'half'), 4), 'unsupported-dtype', /tensor "half" has dtype F16; only F32/);
  refuses(file(T('{"dtype":"F64","shape":[1],"data_offsets":[0,8]}'), 8), 'unsupported-dtype', /"w" has dtype F64/);
  refuses(file(T('{"dtype":"f32","shape":[2],"data_offsets":[0,8]}'), 8), 'unsupported-dtype', /"w" has unknown dtype "f32"/);
});

Bad('shapes: negative, fractional, non-numbers, 1e400, beyond 2^53, products too large', () => {
  for (const s of ['[-1]', '[1.5]', '["2"]', '[1e400]', '[9007199254740993]', '2', 'null', '[null]', '{"0":2}']) {
    refuses(file(T(`{"dtype":"F32","shape":${s},"data_offsets":[0,8]}`), 8), 'invalid-shape', /tensor "w" shape must be a list of non-negative integers/);
  }
  refuses(file(T('{"dtype":"F32","shape":[1073741824,1073741824,8],"data_offsets":[0,8]}'), 8), 'invalid-shape', /"w" shape \[1073741824,1073741824,8\] is too large/);
});

Bad('data_offsets: wrong arity, non-integers, negative, end before begin', () => {
  for (const o of ['[0]', '[0,8,16]', '[-8,0]', '[0.5,8]', '["0","8"]', '8', 'null', '[0,1e400]']) {
    refuses(file(T(`{"dtype":"F32","shape":[2],"data_offsets":${o}}`), 8), 'invalid-offsets', /tensor "w" data_offsets must be two non-negative integers/);
  }
  refuses(file(T('{"dtype":"F32","shape":[0],"data_offsets":[8,4]}'), 8), 'invalid-offsets', /"w" data_offsets \[8, 4\] end before they begin/);
});

Bad('offsets past the buffer (incl. truncated data)', () => {
  refuses(file(T(ok), 4), 'offset-out-of-range', /tensor "w" data_offsets \[0, 8\] go past the 4-byte data buffer/);
  refuses(file(T('{"dtype":"F32","shape":[2],"data_offsets":[9007199254740000,9007199254740008]}'), 8), 'offset-out-of-range', /"w"/);
  const whole = encodeSafetensors(sample());
  refuses(whole.subarray(0, whole.length - 2), 'offset-out-of-range', /"weight_ih_l0".* go past/);
});

Bad('gaps: before the first tensor and between tensors', () => {
  refuses(file(T('{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'), 8), 'offset-gap', /tensor "w" starts at byte 4, leaving bytes 0..4 unused/);
  const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
  refuses(file(h, 12), 'offset-gap', /tensor "b" starts at byte 8, leaving bytes 4..8 unused/);
});

Bad('overlaps: partial and identical ranges', () => {
  const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
  refuses(file(h, 12), 'offset-overlap', /tensor "b" starts at byte 4, inside the previous tensor \(which ends at 8\)/);
  const same = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  refuses(file(same, 8), 'offset-overlap', /tensor "b" starts at byte 0/);
});

Bad('byte length that does not match shape × 4', () => {
  refuses(file(T('{"dtype":"F32","shape":[2],"data_offsets":[0,12]}'), 12), 'size-mismatch', /tensor "w" has 12 bytes, its shape \[2\] of F32 needs 8/);
  refuses(file(T('{"dtype":"F32","shape":[],"data_offsets":[0,0]}')), 'size-mismatch', /has 0 bytes, its shape \[\] of F32 needs 4/);
  refuses(file(T('{"dtype":"F32","shape":[3,0],"data_offsets":[0,4]}'), 4), 'size-mismatch', /needs 0/);
});

Bad('bytes after the last tensor (polyglot files)', () => {
  const whole = encodeSafetensors(sample());
  const extra = new Uint8Array(whole.length + 34);
  extra.set(whole);
  extra.set(new TextEncoder().encode('extra_bogus_data_for_polyglot_file'), whole.length);
  refuses(extra, 'trailing-bytes', /34 bytes after the last tensor/);
  refuses(file('{}', 1), 'trailing-bytes', /1 bytes after the last tensor/);
});

Bad('a bad tensor anywhere refuses the whole file', () => {
  // valid tensors first in the buffer, the bad one last
  const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[2],"data_offsets":[4,8]}}';
  refuses(file(h, 8), 'size-mismatch', /"z"/);
});

Bad.run();

// ---

const Fuzz = suite('fuzz: damaged files are refused with a SafetensorsError or decode to something valid');

/** A decoded result must be self-consistent: F32 copies whose sizes match their shapes. */
function checkValid(bytes: Uint8Array, d: ReturnType<typeof decodeSafetensors>): void {
  const N = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  let total = 0;
  for (const [name, t] of d.tensors) {
    assert.is(t.dtype, 'F32', name);
    assert.instance(t.data, Float32Array);
    assert.ok(t.shape.every((v) => Number.isSafeInteger(v) && v >= 0), name);
    assert.is(t.data.length, t.shape.reduce((u, v) => u * v, 1), name);
    assert.is.not(t.data.buffer, bytes.buffer);
    total += t.data.byteLength;
  }
  assert.is(8 + N + total, bytes.length, 'tensors cover the buffer');
  for (const v of Object.values(d.metadata)) assert.type(v, 'string');
}

Fuzz('4000 seeded mutations of valid files: flips, truncations, splices, digit edits, length fields', () => {
  const bases = [
    encodeSafetensors(sample(), { format: 'pt' }),
    new Uint8Array(readFileSync(join(__dirname, 'fixtures', 'torch_lstm.safetensors'))),
  ];
  const rand = rng(20240601);
  const int = (n: number) => Math.floor(rand() * n);
  let accepted = 0, refused = 0;
  const codes = new Set<string>();
  for (let k = 0; k < 4000; k++) {
    const base = bases[k % 2];
    const N = Number(new DataView(base.buffer, base.byteOffset).getBigUint64(0, true));
    let b = base.slice();
    switch (k % 6) {
      case 0:  // flip 1–4 random bytes anywhere
        for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1:  // overwrite bytes of the header with random bytes or printable ASCII
        for (let i = 1 + int(3); i > 0; i--) b[8 + int(N)] = rand() < 0.5 ? int(256) : 0x20 + int(95);
        break;
      case 2:  // truncate
        b = b.slice(0, int(b.length));
        break;
      case 3: {  // replace a digit of the header with another digit (often still valid JSON)
        const digits = [];
        for (let i = 8; i < 8 + N; i++) if (b[i] >= 0x30 && b[i] <= 0x39) digits.push(i);
        b[digits[int(digits.length)]] = 0x30 + int(10);
        break;
      }
      case 4: {  // delete or duplicate a run of bytes
        const at = int(b.length), len = 1 + int(16);
        b = rand() < 0.5 ? Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + len)])
          : Uint8Array.from([...b.subarray(0, at + len), ...b.subarray(at)]);
        break;
      }
      default: {  // a different header length
        const view = new DataView(b.buffer);
        const choices = [BigInt(int(b.length + 16)), BigInt(N + int(9) - 4), 2n ** BigInt(int(64)), BigInt(int(2 ** 32))];
        view.setBigUint64(0, choices[int(choices.length)] & (2n ** 64n - 1n), true);
      }
    }
    let result: ReturnType<typeof decodeSafetensors> | undefined;
    try {
      result = decodeSafetensors(b);
    } catch (e) {
      assert.instance(e, SafetensorsError, `case ${k}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      refused++;
      codes.add((e as SafetensorsError).code);
      continue;
    }
    checkValid(b, result);
    accepted++;
  }
  assert.ok(refused > 1000 && accepted > 50, `refused ${refused}, accepted ${accepted}`);
  assert.ok(codes.size >= 10, `the mutations reach many checks: ${[...codes].join(', ')}`);
});

Fuzz.run();

// ---

const Python = suite('a file written on the Python side (tests/fixtures/torch_lstm.safetensors)');

Python('decodes to the state_dict of its torch_lstm.json case, bit for bit, and re-encodes to the same bytes', () => {
  const bytes = new Uint8Array(readFileSync(join(__dirname, 'fixtures', 'torch_lstm.safetensors')));
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.is(metadata.format, 'pt');
  const cases = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_lstm.json'), 'utf8')).cases;
  const c = cases.find((c: any) => c.name === metadata.case);
  assert.ok(c, `case "${metadata.case}" in torch_lstm.json`);
  const shapes = cellsShapes({ ...c.config, input: 'dense' }).filter((s) => !s.name.startsWith('head.'));
  assert.equal([...tensors.keys()].sort(), shapes.map((s) => s.name).sort());
  for (const s of shapes) {
    const t = tensors.get(s.name)!;
    assert.equal(t.shape, s.shape, s.name);
    const expected = Float32Array.from(c.params[s.name] as number[], Math.fround);
    assert.equal(bits(t.data), bits(expected), s.name);
  }
  const again = encodeSafetensors([...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), metadata);
  assert.equal(Array.from(again), Array.from(bytes));
});

Python.run();

// The Protocol Buffers wire format: a bounds-checked reader and a writer, for the ONNX codec
// (onnx-proto.ts). Only what ONNX files use: varints up to 64 bits, 32-bit floats and
// length-delimited fields (strings, bytes, nested messages, packed repeated scalars). Every
// read is checked against the end of its message, so a damaged file is refused with a
// RangeError naming the byte where it went wrong; nothing reads past the buffer.
// see: https://protobuf.dev/programming-guides/encoding/

/** Wire types. */
export const VARINT = 0, I64 = 1, LEN = 2, I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the fields of one message, in order: `while (r.next()) switch (r.field) { … }`. */
export class ProtoReader {
  /** Field number and wire type of the current field (after next()). */
  field = 0;
  wire = 0;
  private pos: number;

  /** `what` names the message in errors ('TensorProto'); `where` is the function the user called. */
  constructor(private readonly where: string, private readonly buf: Uint8Array, private readonly what: string,
              start = 0, private readonly end = buf.length) {
    this.pos = start;
  }

  /** Move to the next field; false at the end of the message. */
  next(): boolean {
    if (this.pos >= this.end) return false;
    const at = this.pos;
    const tag = this.uint();
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0 || ![VARINT, I64, LEN, I32].includes(this.wire)) {
      this.fail(`an invalid field tag ${tag} in ${this.what}`, at);
    }
    return true;
  }

  /** A varint as a signed 64-bit integer, which must be a safe JavaScript integer. */
  int(): number {
    this.expect(VARINT);
    return this.signed();
  }

  /** The varint at the cursor as a signed 64-bit integer that must be a safe integer. */
  private signed(): number {
    const at = this.pos;
    const v = this.varint();
    if (typeof v === 'number') return v;
    const n = BigInt.asIntN(64, v);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`an integer out of range (${n}) in ${this.what}`, at);
    }
    return Number(n);
  }

  /** A 32-bit float (wire type I32). */
  float(): number {
    this.expect(I32);
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field's bytes, as a view of the input (copy what you keep). */
  bytes(): Uint8Array {
    this.expect(LEN);
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A UTF-8 string. */
  string(): string {
    const at = this.pos;
    const b = this.bytes();
    try {
      return utf8.decode(b);
    } catch {
      return this.fail(`a string that is not valid UTF-8 in ${this.what}`, at);
    }
  }

  /** A nested message: a reader over its bytes. */
  message(what: string): ProtoReader {
    this.expect(LEN);
    const n = this.length();
    const r = new ProtoReader(this.where, this.buf, what, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** A repeated integer field, packed (one LEN field) or not (one varint): appends to out. */
  ints(out: number[]): void {
    if (this.wire !== LEN) {
      out.push(this.int());
      return;
    }
    const inner = this.message(this.what);
    while (inner.pos < inner.end) out.push(inner.signed());
  }

  /** A repeated float field, packed or not: appends to out. */
  floats(out: number[]): void {
    if (this.wire !== LEN) {
      out.push(this.float());
      return;
    }
    const b = this.bytes();
    if (b.length % 4 !== 0) this.fail(`packed floats of ${b.length} bytes (not a multiple of 4) in ${this.what}`, this.pos - b.length);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += 4) out.push(v.getFloat32(i, true));
  }

  /** A repeated double field (wire type I64), packed or not: appends to out. */
  doubles(out: number[]): void {
    if (this.wire !== LEN) {
      this.expect(I64);
      this.need(8);
      out.push(new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true));
      this.pos += 8;
      return;
    }
    const b = this.bytes();
    if (b.length % 8 !== 0) this.fail(`packed doubles of ${b.length} bytes (not a multiple of 8) in ${this.what}`, this.pos - b.length);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += 8) out.push(v.getFloat64(i, true));
  }

  /** Skip the current field, whatever its type. */
  skip(): void {
    if (this.wire === VARINT) this.varint();
    else if (this.wire === LEN) this.pos += this.length();
    else this.pos += this.wire === I64 ? this.need(8) : this.need(4);
  }

  /** Throw the file's error, naming the byte. */
  fail(problem: string, at = this.pos): never {
    throw new RangeError(`${this.where}: the file is damaged or not an ONNX model: ${problem} at byte ${at}`);
  }

  private expect(wire: number): void {
    if (this.wire !== wire) this.fail(`field ${this.field} of ${this.what} has wire type ${this.wire}, expected ${wire}`);
  }

  /** Check n more bytes exist in this message; returns n. */
  private need(n: number): number {
    if (this.pos + n > this.end) this.fail(`a field of ${this.what} that runs past the end of its message`);
    return n;
  }

  private length(): number {
    const at = this.pos;
    const n = this.uint();
    if (n > this.end - this.pos) this.fail(`a length of ${n} bytes that runs past the end of ${this.what}`, at);
    return n;
  }

  /** A varint that must fit in 53 bits (tags, lengths). */
  private uint(): number {
    const at = this.pos;
    const v = this.varint();
    if (typeof v !== 'number') this.fail(`a tag or length too large (${v}) in ${this.what}`, at);
    return v;
  }

  /** Up to 10 bytes: a number when it fits in 53 bits, else a bigint of the low 64 bits. */
  private varint(): number | bigint {
    let lo = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail(`a varint cut off by the end of ${this.what}`);
      const b = this.buf[this.pos++];
      if (i < 7) {
        lo += (b & 0x7f) * scale;
        scale *= 128;
        if (b < 0x80) return lo;
      } else {
        return this.longVarint(this.pos - i - 1);
      }
    }
    return this.fail(`a varint longer than 10 bytes in ${this.what}`);
  }

  /** Re-read a varint of more than 7 bytes from `start` as a bigint. */
  private longVarint(start: number): bigint {
    let v = 0n, shift = 0n;
    this.pos = start;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail(`a varint cut off by the end of ${this.what}`);
      const b = this.buf[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) return BigInt.asUintN(64, v);
    }
    return this.fail(`a varint longer than 10 bytes in ${this.what}`);
  }
}

/** Writes one message; nested messages are written by a callback on a child writer. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** A signed integer field (int64 / int32 / enum): negative values take 10 bytes. */
  int(field: number, v: number): this {
    this.tag(field, VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, I32);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** A nested message, written by `fill` into a fresh writer. */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    fill(w);
    return this.bytes(field, w.finish());
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  private varint(v: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf: cannot write ${v} as a varint`);
    this.reserve(10);
    if (v < 0) {
      // two's complement in 64 bits: 10 bytes
      let u = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 10; i++) {
        const b = Number(u & 0x7fn);
        u >>= 7n;
        this.buf[this.len++] = u > 0n ? b | 0x80 : b;
        if (u === 0n) return;
      }
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

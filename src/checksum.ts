// The checksum of the files rnn-wasm writes (model files and training states), so that a file
// damaged on disk or in transit is refused instead of loading wrong weights. It is kept in the
// file's metadata under "checksum": MurmurHash3 (x86, 32-bit, seed 0) of every tensor's bytes,
// the tensors in name order (by code point: the data buffer as rnn-wasm lays it out, whatever
// order another writer uses), followed by the UTF-8 JSON of the other metadata entries as
// [[key, value], …] sorted by key, written as 8 hex digits. A file without one (PyTorch's, or an
// older rnn-wasm's) is read unchecked.
// see: https://github.com/aappleby/smhasher/blob/master/src/MurmurHash3.cpp (MurmurHash3_x86_32)

export const CHECKSUM_KEY = 'checksum';

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** MurmurHash3_x86_32 over a stream of 4-byte words, then a last chunk of bytes. */
class Murmur3 {
  private h = 0;
  private n = 0;

  /** Add the words of an f32 array (its little-endian bytes, as a file holds them). */
  floats(data: Float32Array): void {
    const w = new Uint32Array(data.buffer, data.byteOffset, data.length);
    let h = this.h;
    for (let i = 0; i < w.length; i++) h = mixWord(h, LITTLE_ENDIAN ? w[i] : swap(w[i]));
    this.h = h;
    this.n += 4 * w.length;
  }

  /** Add the last bytes and finish: the hash as an unsigned 32-bit integer. */
  finish(bytes: Uint8Array): number {
    let h = this.h;
    const words = bytes.length >>> 2;
    for (let i = 0; i < words; i++) {
      const at = 4 * i;
      h = mixWord(h, bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24));
    }
    // the tail: 1 to 3 bytes, mixed without the rotation of h
    const rest = bytes.length & 3;
    if (rest > 0) {
      let k = 0;
      for (let j = rest - 1; j >= 0; j--) k = (k << 8) | bytes[4 * words + j];
      h ^= mixKey(k);
    }
    // finalization: fold in the length, then avalanche
    h ^= this.n + bytes.length;
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

function mixKey(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

function mixWord(h: number, k: number): number {
  h ^= mixKey(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function swap(w: number): number {
  return ((w & 0xff) << 24 | (w & 0xff00) << 8 | (w >>> 8) & 0xff00 | w >>> 24) >>> 0;
}

/** The checksum of a file with these tensors' data (given in name order) and this metadata
 *  (its own "checksum" entry, if any, left out). */
export function checksumOf(data: Iterable<Float32Array>, metadata: Record<string, string>): string {
  const m = new Murmur3();
  for (const d of data) m.floats(d);
  const entries = Object.keys(metadata).filter((k) => k !== CHECKSUM_KEY).sort().map((k) => [k, metadata[k]]);
  return m.finish(new TextEncoder().encode(JSON.stringify(entries))).toString(16).padStart(8, '0');
}

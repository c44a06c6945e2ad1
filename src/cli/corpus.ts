/// <reference types="node" />
// A text file as training data, read as a stream so that its size is bounded by memory for
// the token ids, never by a string or an array of characters. Two passes:
//
//   scanText     counts every token (characters, by code point in a table; or words split
//                on whitespace) and hashes the bytes (sha256, so a resumed run can check it
//                has the same text)
//   encodeText   streams the file again and writes each token's id into one typed array,
//                allocated once at its final size (2 bytes per token when the vocabulary
//                fits in 16 bits, else 4)
//
// windows.ts then cuts the ids into examples.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CharTokenizer, WordTokenizer, type Tokenizer } from '../index.js';
import { UsageError } from './args.js';
import type { TokenIds } from './windows.js';

export type TokenKind = 'chars' | 'words';

/** What the first pass learns about a text. */
export interface TextScan {
  bytes: number;
  sha256: string;
  /** Tokens in the text, and how often each appears (in order of first appearance). */
  tokens: number;
  counts: Map<string, number>;
}

/** Count the tokens of a file and hash it, reading it once as a stream. */
export async function scanText(path: string, kind: TokenKind): Promise<TextScan> {
  const hash = createHash('sha256');
  let tokens = 0;
  const onBytes = (chunk: Buffer) => hash.update(chunk);
  if (kind === 'words') {
    const counts = new Map<string, number>();
    const bytes = await readText(path, words((w) => {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      tokens++;
    }), onBytes);
    return { bytes, sha256: hash.digest('hex'), tokens, counts };
  }
  // characters: counted by code point in a table (no string per character), in order of first appearance
  const table = new Float64Array(CODE_POINTS), seen: number[] = [];
  const bytes = await readText(path, codePoints((c) => {
    if (table[c]++ === 0) seen.push(c);
    tokens++;
  }), onBytes);
  const counts = new Map(seen.map((c) => [String.fromCodePoint(c), table[c]]));
  return { bytes, sha256: hash.digest('hex'), tokens, counts };
}

/** The vocabulary of a scanned text: an unknown token, then the maxVocab most frequent
 *  tokens (ties by first appearance), characters sorted by code point, words by frequency. */
export function buildTokenizer(scan: TextScan, kind: TokenKind, maxVocab: number): Tokenizer {
  const tokens = [...scan.counts.keys()].filter((t) => t !== '<unk>')
    .sort((a, b) => scan.counts.get(b)! - scan.counts.get(a)!)
    .slice(0, maxVocab);
  if (kind === 'words') return new WordTokenizer({ tokens: ['<unk>', ...tokens], unk: 0 });
  tokens.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new CharTokenizer({ tokens: ['<unk>', ...tokens], unk: 0 });
}

/** Every token of the file as its id (<unk> for tokens the vocabulary lacks), in one array
 *  of exactly `count` entries. */
export async function encodeText(path: string, kind: TokenKind, tokenizer: Tokenizer, count: number): Promise<TokenIds> {
  const ids = tokenizer.size <= 65536 ? new Uint16Array(count) : new Int32Array(count);
  let n = 0;
  const put = (id: number) => {
    if (n < count) ids[n] = id;
    n++;
  };
  if (kind === 'words') {
    await readText(path, words((w) => put(tokenizer.id(w)!)));
  } else {
    // code point → id, as a table
    const table = new Int32Array(CODE_POINTS).fill(tokenizer.unk ?? 0);
    tokenizer.tokens.forEach((t, id) => { if ([...t].length === 1) table[t.codePointAt(0)!] = id; });
    await readText(path, codePoints((c) => put(table[c])));
  }
  if (n !== count) throw new Error(`${path} changed while it was read (${count} tokens, then ${n})`);
  return ids;
}

/** Unicode code points, U+0000 to U+10FFFF. */
const CODE_POINTS = 0x110000;

/** Stream a file as UTF-8 text, a chunk at a time (a character is never split between two);
 *  onBytes sees the raw bytes. Returns the size in bytes. */
async function readText(path: string, onText: (text: string, final: boolean) => void, onBytes?: (b: Buffer) => void): Promise<number> {
  await checkFile(path);
  const decoder = new TextDecoder('utf-8');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    onBytes?.(chunk);
    onText(decoder.decode(chunk, { stream: true }), false);
  }
  onText(decoder.decode(), true);
  return bytes;
}

/** Text chunks → every code point. */
function codePoints(onCode: (c: number) => void): (text: string) => void {
  return (text) => {
    for (let i = 0; i < text.length; i++) {
      const c = text.codePointAt(i)!;
      if (c > 0xffff) i++;                             // the low half of a surrogate pair
      onCode(c);
    }
  };
}

/** Text chunks → every word (split on whitespace); a word cut by a chunk's end is joined. */
function words(onWord: (w: string) => void): (text: string, final: boolean) => void {
  let carry = '';
  return (text, final) => {
    const parts = (carry + text).split(/\s+/);
    carry = final ? '' : parts.pop()!;
    for (const w of parts) if (w !== '') onWord(w);
  };
}

async function checkFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new UsageError(`cannot read ${JSON.stringify(path)}: no such file`);
  }
  if (!s.isFile()) throw new UsageError(`cannot read ${JSON.stringify(path)}: it is not a file`);
}

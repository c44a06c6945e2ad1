/// <reference types="node" />
// A text file as training data, read as a stream so that its size is bounded by memory for
// the token ids, never by a string or an array of characters. Two passes:
//
//   scanText     counts every token (characters, or words split on whitespace) and hashes
//                the bytes (sha256, so a resumed run can check it has the same text)
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
  const counts = new Map<string, number>();
  let tokens = 0;
  const bytes = await readTokens(path, kind, (token) => {
    counts.set(token, (counts.get(token) ?? 0) + 1);
    tokens++;
  }, (chunk) => hash.update(chunk));
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

/** Every token of the file as its id, in one array of exactly `count` entries. */
export async function encodeText(path: string, kind: TokenKind, tokenizer: Tokenizer, count: number): Promise<TokenIds> {
  const ids = tokenizer.size <= 65536 ? new Uint16Array(count) : new Int32Array(count);
  let n = 0;
  await readTokens(path, kind, (token) => {
    if (n < count) ids[n] = tokenizer.id(token)!;
    n++;
  });
  if (n !== count) throw new Error(`${path} changed while it was read (${count} tokens, then ${n})`);
  return ids;
}

/** Stream a file as UTF-8 and call onToken for each character or word; onBytes sees the raw
 *  chunks. Returns the size in bytes. A word split across two chunks is joined. */
async function readTokens(path: string, kind: TokenKind, onToken: (t: string) => void, onBytes?: (b: Buffer) => void): Promise<number> {
  await checkFile(path);
  const decoder = new TextDecoder('utf-8');
  let carry = '', bytes = 0;
  const emit = (text: string, final: boolean) => {
    if (kind === 'chars') {
      for (const ch of text) onToken(ch);
      return;
    }
    const words = (carry + text).split(/\s+/);
    carry = final ? '' : words.pop()!;
    for (const w of words) if (w !== '') onToken(w);
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    onBytes?.(chunk);
    emit(decoder.decode(chunk, { stream: true }), false);
  }
  emit(decoder.decode(), true);
  return bytes;
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

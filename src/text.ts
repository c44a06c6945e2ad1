// Text read as it comes: lines, words, token ids, windows of T tokens and language-model
// batches from text that arrives in chunks (a file read piece by piece, a fetch body through a
// TextDecoderStream), holding no more than a chunk and a window at a time, so a text of any
// size streams in bounded memory. A line or a word cut by a chunk boundary is carried over to
// the next chunk, never split. rnn-wasm/node (node.ts) reads files into these.
//
// T = tokens per window (a model's steps), B = windows per batch.
import { splitWords, type Tokenizer, type WordSplit } from './tokenizer.js';
import { KEYS } from './keys.js';
import { checkInt, checkObject, describe } from './validate.js';

/** Text in pieces, in order: strings from an iterable or an async iterable. */
export type TextChunks = Iterable<string> | AsyncIterable<string>;

/** Windows of token ids. */
export interface WindowOptions {
  /** Tokens per window. */
  length: number;
  /** Tokens from the start of one window to the start of the next. Default: length (windows
   *  side by side); less overlaps them. */
  stride?: number;
}

/** Language-model batches: inputs are windows of T tokens, targets the same shifted by one. */
export interface LanguageModelBatchOptions {
  /** Steps per sequence: each window holds T + 1 tokens, x<t> the first T, y<t> the last T. */
  T: number;
  /** Sequences per batch (the last batch may hold fewer). */
  batchSize: number;
  /** Tokens between the starts of consecutive windows. Default T (every token is a target once). */
  stride?: number;
}

/** The lines of a text, without their line ends (\n or \r\n). */
export async function* linesOf(chunks: TextChunks): AsyncGenerator<string, void, void> {
  let carry = '';
  for await (const chunk of checkChunks('linesOf', chunks)) {
    const lines = (carry + chunk).split('\n');
    carry = lines.pop()!;
    for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (carry !== '') yield carry.endsWith('\r') ? carry.slice(0, -1) : carry;
}

/** The words of a text, cut as a WordTokenizer cuts (at whitespace, or into words and
 *  punctuation marks), one chunk's worth at a time. */
export async function* wordChunksOf(chunks: TextChunks, split: WordSplit = 'whitespace'): AsyncGenerator<string[], void, void> {
  let carry = '';
  for await (const chunk of checkChunks('wordsOf', chunks)) {
    const text = carry + chunk;
    // what follows the last whitespace may go on in the next chunk
    const cut = lastSpace(text);
    carry = text.slice(cut);
    const words = splitWords(text.slice(0, cut), split);
    if (words.length > 0) yield words;
  }
  const words = splitWords(carry, split);
  if (words.length > 0) yield words;
}

/** The words of a text, one by one (see wordChunksOf). */
export async function* wordsOf(chunks: TextChunks, split: WordSplit = 'whitespace'): AsyncGenerator<string, void, void> {
  for await (const words of wordChunksOf(chunks, split)) yield* words;
}

/** A text's token ids as a tokenizer encodes them (characters, or words cut as the tokenizer
 *  cuts them), one chunk's worth at a time. */
export async function* tokenIdsOf(chunks: TextChunks, tokenizer: Tokenizer): AsyncGenerator<number[], void, void> {
  if (tokenizer.kind === 'char') {
    let carry = '';
    for await (const chunk of checkChunks('tokenIdsOf', chunks)) {
      // a character outside the BMP cut between its two UTF-16 halves waits for the next chunk
      const text = carry + chunk;
      const cut = /[\uD800-\uDBFF]$/.test(text) ? text.length - 1 : text.length;
      carry = text.slice(cut);
      yield tokenizer.encode(text.slice(0, cut));
    }
    if (carry !== '') yield tokenizer.encode(carry);
    return;
  }
  for await (const words of wordChunksOf(chunks, tokenizer.split)) yield tokenizer.encode(words);
}

/** Windows of `length` token ids, `stride` apart, from a text (the tokens after the last full
 *  window are left out). */
export async function* tokenWindows(chunks: TextChunks, tokenizer: Tokenizer, options: WindowOptions): AsyncGenerator<number[], void, void> {
  const where = 'tokenWindows';
  checkObject(where, 'options', options, KEYS.tokenWindows);
  const length = checkInt(where, 'length', options.length);
  const stride = checkInt(where, 'stride', options.stride ?? length);
  let buffer: number[] = [];
  let skip = 0;                       // tokens still to pass over before the next window starts (stride > length)
  for await (const ids of tokenIdsOf(chunks, tokenizer)) {
    buffer = buffer.concat(skip > 0 ? ids.slice(skip) : ids);
    skip = Math.max(0, skip - ids.length);
    let start = 0;
    for (; start + length <= buffer.length; start += stride) yield buffer.slice(start, start + length);
    skip += Math.max(0, start - buffer.length);
    buffer = buffer.slice(start);
  }
}

/** Batches for a language model, ready for fit(): B windows of T + 1 tokens, x the first T of
 *  each and y the last T. */
export async function* languageModelBatches(chunks: TextChunks, tokenizer: Tokenizer,
                                            options: LanguageModelBatchOptions): AsyncGenerator<{ x: number[][]; y: number[][] }, void, void> {
  const where = 'languageModelBatches';
  checkObject(where, 'options', options, KEYS.languageModelBatches);
  const T = checkInt(where, 'T', options.T);
  const B = checkInt(where, 'batchSize', options.batchSize);
  let x: number[][] = [], y: number[][] = [];
  for await (const w of tokenWindows(chunks, tokenizer, { length: T + 1, stride: options.stride ?? T })) {
    x.push(w.slice(0, T));
    y.push(w.slice(1));
    if (x.length === B) {
      yield { x, y };
      x = [];
      y = [];
    }
  }
  if (x.length > 0) yield { x, y };
}

/** Where the text's trailing piece without whitespace starts (text.length: it ends in space). */
function lastSpace(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (/\s/.test(text[i])) return i + 1;
  return 0;
}

/** The chunks, each checked to be a string. */
async function* checkChunks(where: string, chunks: TextChunks): AsyncGenerator<string, void, void> {
  if (typeof chunks !== 'object' || chunks === null || !(Symbol.iterator in chunks || Symbol.asyncIterator in chunks)) {
    throw new TypeError(`${where}: chunks must be an iterable or async iterable of strings, got ${describe(chunks)}`);
  }
  let n = 0;
  for await (const chunk of chunks as AsyncIterable<unknown>) {
    if (typeof chunk !== 'string') {
      throw new TypeError(`${where}: chunk ${n} must be a string, got ${describe(chunk)} (decode bytes first, e.g. through a TextDecoderStream)`);
    }
    n++;
    yield chunk;
  }
}

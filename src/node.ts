/// <reference types="node" />
// rnn-wasm/node: files on disk, for Node only (the main entry never imports node: modules).
// Text files of any size are read as they go (lines, words, token windows, language-model
// batches for fit()), a chunk at a time (see text.ts).
// Every write is atomic: the bytes go to a temporary file in the same directory, are flushed
// to the disk (fsync), and the file is renamed over the target, so a crash or a kill at any
// moment leaves either the old file or the new one, never a torn one. (A kill mid-write can
// leave the temporary file, `.<name>.<pid>.<random>.tmp`, beside the target: nothing reads it,
// and it may be deleted.)
// see: https://man7.org/linux/man-pages/man2/rename.2.html (rename is atomic within a file system)
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Network } from './network.js';
import { languageModelBatches, linesOf, tokenWindows, wordsOf, type LanguageModelBatchOptions, type WindowOptions } from './text.js';
import type { Tokenizer, WordSplit } from './tokenizer.js';
import { checkInt, describe } from './validate.js';

/** Write bytes to path atomically: temp file beside it, fsync, rename over the target, then
 *  fsync the directory (where the platform allows) so the rename itself is durable. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new TypeError(`writeFileAtomic: path must be a non-empty string, got ${typeof path}`);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`writeFileAtomic: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
}

/** Save a model file (model.save()) atomically. */
export function saveModel(model: Network, path: string): Promise<void> {
  return writeFileAtomic(path, model.save());
}

/** Save the whole training state (model.getTrainingState()) atomically. */
export function saveCheckpoint(model: Network, path: string): Promise<void> {
  return writeFileAtomic(path, model.getTrainingState());
}

/** Restore a training state written by saveCheckpoint into a model of the same configuration;
 *  then fit(data, { ...options, resume: true }) continues the run. */
export async function loadCheckpoint(model: Network, path: string): Promise<void> {
  model.setTrainingState(await readBytes(path));
}

async function readBytes(path: string): Promise<Uint8Array> {
  const b = await readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** fsync a directory, so a rename in it survives a power loss. Not every platform can open a
 *  directory (Windows cannot); there the rename is as durable as the platform makes it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR / EPERM / EINVAL on platforms without directory fsync
  } finally {
    await handle?.close();
  }
}

// --- reading text files as they go ---

/** How a text file is read. */
export interface ReadTextOptions {
  /** Bytes read at a time: the memory a stream holds is about this, whatever the file's size.
   *  Default 65536. */
  chunkBytes?: number;
}

/** A file's text in chunks (UTF-8; a character is never cut between chunks), read as it goes.
 *  The result can be iterated many times, each time from the start (fit() reads it once per
 *  epoch). */
export function readText(path: string, options: ReadTextOptions = {}): AsyncIterable<string> {
  const where = 'readText';
  if (typeof path !== 'string' || path === '') throw new TypeError(`${where}: path must be a non-empty string, got ${describe(path)}`);
  const chunkBytes = checkInt(where, 'chunkBytes', options.chunkBytes ?? 65536);
  return {
    [Symbol.asyncIterator]: () => createReadStream(path, { encoding: 'utf8', highWaterMark: chunkBytes })[Symbol.asyncIterator](),
  };
}

/** A file's lines, without line ends, read as it goes (re-iterable). */
export function readLines(path: string, options: ReadTextOptions = {}): AsyncIterable<string> {
  const text = readText(path, options);
  return { [Symbol.asyncIterator]: () => linesOf(text) };
}

/** A file's words (cut at whitespace, or with split: 'words' into words and punctuation
 *  marks), read as it goes (re-iterable). */
export function readWords(path: string, options: ReadTextOptions & { split?: WordSplit } = {}): AsyncIterable<string> {
  const text = readText(path, options);
  return { [Symbol.asyncIterator]: () => wordsOf(text, options.split ?? 'whitespace') };
}

/** Windows of `length` token ids of a file, `stride` apart, in bounded memory (re-iterable). */
export function readTokenWindows(path: string, tokenizer: Tokenizer, options: WindowOptions & ReadTextOptions): AsyncIterable<number[]> {
  const text = readText(path, options);
  return { [Symbol.asyncIterator]: () => tokenWindows(text, tokenizer, options) };
}

/** A language model's batches from a file, for fit(): B windows of T + 1 tokens, x the first
 *  T and y the last T of each; re-iterable, so fit() reads the file once per epoch and a
 *  resumed run reads it again and skips the batches done. */
export function textBatches(path: string, tokenizer: Tokenizer,
                            options: LanguageModelBatchOptions & ReadTextOptions): AsyncIterable<{ x: number[][]; y: number[][] }> {
  const text = readText(path, options);
  return { [Symbol.asyncIterator]: () => languageModelBatches(text, tokenizer, options) };
}

/// <reference types="node" />
// rnn-wasm/node: files on disk, for Node only (the main entry never imports node: modules):
// models, checkpoints and ONNX files written, ONNX files and Keras model folders read, and text
// files of any size read as they go (lines, words, token windows, language-model batches for
// fit()), a chunk at a time (see text.ts).
// Every write is atomic: the bytes go to a temporary file in the same directory, are flushed
// to the disk (fsync), and the file is renamed over the target, so a crash or a kill at any
// moment leaves either the old file or the new one, never a torn one. A kill mid-write can
// leave the temporary file, `.<name>.<pid>.<random>.tmp`, beside the target; the next write to
// the same target deletes such leftovers — only those of that target, and only those whose
// writer is gone (its process no longer runs, or it is this process and not writing now).
// A target that is a directory, or whose folder is missing, is refused before anything is
// written. Errors of the file system name the function called and the path, as
// `<function>: cannot read|write <path>: <reason>`, with the system's error as `cause` and its
// `code` (ENOENT, EISDIR, EACCES …) kept; text files, read lazily, report a missing file when
// they are first iterated.
// see: https://man7.org/linux/man-pages/man2/rename.2.html (rename is atomic within a file system)
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { disposedError } from './arena.js';
import type { Network } from './network.js';
import { loadKerasModel, type KerasLoadOptions } from './keras.js';
import { checkLoadModelOptions, loadModelAs, type LoadModelOptions, type ModelOf } from './architectures.js';
import type { Architecture } from './arch/common.js';
import { loadONNX, toONNX, type LoadONNXOptions, type ONNXExportOptions } from './onnx.js';
import { languageModelBatches, linesOf, tokenWindows, wordsOf, type LanguageModelBatchOptions, type WindowOptions } from './text.js';
import type { Tokenizer, WordSplit } from './tokenizer.js';
import { checkInt, checkObject } from './validate.js';
import { KEYS } from './keys.js';

/** Write bytes to path atomically: temp file beside it, fsync, rename over the target, then
 *  fsync the directory (where the platform allows) so the rename itself is durable. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  checkPath('writeFileAtomic', path);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`writeFileAtomic: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  return writeAtomic('writeFileAtomic', path, bytes);
}

/** writeFileAtomic on behalf of `where`, the function the user called. The temporary file is
 *  removed whatever fails. */
async function writeAtomic(where: string, path: string, bytes: Uint8Array): Promise<void> {
  await checkTarget(where, path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await removeStale(dir, basename(path));
  writing.add(tmp);
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
    throw fileError(where, 'write', path, e);
  } finally {
    writing.delete(tmp);
  }
  await syncDirectory(dir);
}

/** Refuse a target that cannot be written, before anything is: a directory, or a path whose
 *  folder is missing or is not a folder. (Anything else, e.g. no permission, fails the write
 *  itself, which then removes its temporary file.) */
async function checkTarget(where: string, path: string): Promise<void> {
  const dir = dirname(path);
  let folder;
  try {
    folder = await stat(dir);
  } catch (e) {
    throw fileError(where, 'write', path, e, (e as NodeJS.ErrnoException).code === 'ENOENT' ? `the folder ${dir} does not exist` : undefined);
  }
  if (!folder.isDirectory()) throw fileError(where, 'write', path, null, `${dir} is not a folder`, 'ENOTDIR');
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw fileError(where, 'write', path, null, 'it is a directory', 'EISDIR');
}

/** Temporary files this process is writing now. */
const writing = new Set<string>();

/** Delete temporary files a killed writer left beside target `name` in `dir`: those named as
 *  writeFileAtomic names them, for this target, whose process is gone (or is this one and is
 *  not writing them). Another live process's file is left alone. */
async function removeStale(dir: string, name: string): Promise<void> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return;                            // the write itself reports a missing directory
  }
  const prefix = `.${name}.`;
  for (const f of files) {
    const m = f.startsWith(prefix) ? /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(f.slice(prefix.length)) : null;
    if (!m) continue;
    const path = join(dir, f), pid = Number(m[1]);
    if (writing.has(path) || (pid !== process.pid && isRunning(pid))) continue;
    await unlink(path).catch(() => {});
  }
}

/** Whether a process with this id runs (signal 0 only checks; EPERM: it runs as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Save a model file (model.save()) atomically. */
export async function saveModel(model: Network, path: string): Promise<void> {
  checkModel('saveModel', model);
  checkPath('saveModel', path);
  return writeAtomic('saveModel', path, model.save());       // the model as it is at the call
}

/** Read a model file (saveModel, model.save()) into a new model of its architecture (loadModel,
 *  with the same options). */
export async function loadModelFile<A extends Architecture = Architecture>(path: string, options: LoadModelOptions<A> = {}): Promise<ModelOf[A]> {
  const where = 'loadModelFile';
  checkPath(where, path);
  const checked = checkLoadModelOptions(where, options, KEYS.loadModel);
  return loadModelAs(where, await io(where, path, () => readBytes(path)), checked) as Promise<ModelOf[A]>;
}

/** Save the whole training state (model.getTrainingState()) atomically. */
export async function saveCheckpoint(model: Network, path: string): Promise<void> {
  checkModel('saveCheckpoint', model);
  checkPath('saveCheckpoint', path);
  return writeAtomic('saveCheckpoint', path, model.getTrainingState());
}

/** Restore a training state written by saveCheckpoint into a model of the same configuration;
 *  then fit(data, { ...options, resume: true }) continues the run. */
export async function loadCheckpoint(model: Network, path: string): Promise<void> {
  const where = 'loadCheckpoint';
  checkModel(where, model);
  checkPath(where, path);
  const bytes = await io(where, path, () => readBytes(path));
  // setTrainingState checks the file (the config first) and the model; its errors are this function's
  try {
    model.setTrainingState(bytes);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('setTrainingState: ')) e.message = `${where}: ${e.message.slice('setTrainingState: '.length)}`;
    throw e;
  }
}

/** Write a model as an ONNX file (toONNX) atomically. */
export async function saveONNX(model: Network, path: string, options?: ONNXExportOptions): Promise<void> {
  checkModel('saveONNX', model);
  checkPath('saveONNX', path);
  return writeAtomic('saveONNX', path, toONNX(model, options));
}

/** Read an ONNX file into a model (loadONNX). */
export async function loadONNXFile(path: string, options?: LoadONNXOptions) {
  checkPath('loadONNXFile', path);
  return loadONNX(await io('loadONNXFile', path, () => readBytes(path)), options);
}

/** Load a Keras model saved for TensorFlow.js from its folder, or from the path of its
 *  model.json: the weight files the manifest names are read from the same folder (names that
 *  would leave it, absolute or with '..', are refused). */
export async function loadKerasModelFile(path: string, options?: KerasLoadOptions) {
  const where = 'loadKerasModelFile';
  checkPath(where, path);
  const file = (await io(where, path, () => stat(path))).isDirectory() ? join(path, 'model.json') : path;
  const text = new TextDecoder().decode(await io(where, file, () => readBytes(file)));
  let json: { weightsManifest?: { paths?: unknown }[] };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`${where}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const paths = Array.isArray(json?.weightsManifest) ? json.weightsManifest.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : [])) : [];
  const files: Record<string, Uint8Array> = {};
  for (const p of paths) {
    if (typeof p !== 'string' || isAbsolute(p) || normalize(p).split(/[\\/]/).includes('..')) {
      throw new TypeError(`${where}: ${file} names weight file ${JSON.stringify(p)}, outside its folder`);
    }
    const weights = join(dirname(file), p);
    files[p] = await io(where, weights, () => readBytes(weights));
  }
  return loadKerasModel(json, files, options);
}

/** A file system read whose error names the function the user called and the path. */
async function io<T>(where: string, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw fileError(where, 'read', path, e);
  }
}

/** `<where>: cannot read|write <path>: <reason>`, the system's error (if any) as its cause and
 *  its code (ENOENT, EISDIR …) kept, for callers that branch on it. `reason` defaults to the
 *  system's message. */
function fileError(where: string, verb: 'read' | 'write', path: string, cause: unknown, reason?: string, code?: string): Error {
  const e = cause as { message?: string; code?: unknown } | null;
  const err = new Error(`${where}: cannot ${verb} ${path}: ${reason ?? e?.message ?? String(cause)}`, cause ? { cause } : undefined);
  const c = code ?? e?.code;
  return typeof c === 'string' ? Object.assign(err, { code: c }) : err;
}

function checkModel(where: string, model: unknown): void {
  if (typeof model !== 'object' || model === null || typeof (model as Network).getTrainingState !== 'function') {
    throw new TypeError(`${where}: model must be a model from createRNN, createModel or a loader, got ${model === null ? 'null' : typeof model}`);
  }
  if ((model as Network).isDisposed) throw disposedError(where);
}

function checkPath(where: string, path: unknown): void {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${where}: path must be a non-empty string, got ${typeof path}`);
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
  return textOf('readText', path, options, KEYS.readText);
}

/** A file's lines, without line ends, read as it goes (re-iterable). */
export function readLines(path: string, options: ReadTextOptions = {}): AsyncIterable<string> {
  const text = textOf('readLines', path, options, KEYS.readText);
  return { [Symbol.asyncIterator]: () => linesOf(text) };
}

/** A file's words (cut at whitespace, or with split: 'words' into words and punctuation
 *  marks), read as it goes (re-iterable). */
export function readWords(path: string, options: ReadTextOptions & { split?: WordSplit } = {}): AsyncIterable<string> {
  const text = textOf('readWords', path, options, KEYS.readWords);
  return { [Symbol.asyncIterator]: () => wordsOf(text, options.split ?? 'whitespace') };
}

/** Windows of `length` token ids of a file, `stride` apart, in bounded memory (re-iterable). */
export function readTokenWindows(path: string, tokenizer: Tokenizer, options: WindowOptions & ReadTextOptions): AsyncIterable<number[]> {
  const text = textOf('readTokenWindows', path, options, KEYS.readTokenWindows);
  const { length, stride } = options;
  return { [Symbol.asyncIterator]: () => tokenWindows(text, tokenizer, { length, stride }) };
}

/** A language model's batches from a file, for fit(): B windows of T + 1 tokens, x the first
 *  T and y the last T of each; re-iterable, so fit() reads the file once per epoch and a
 *  resumed run reads it again and skips the batches done. */
export function textBatches(path: string, tokenizer: Tokenizer,
                            options: LanguageModelBatchOptions & ReadTextOptions): AsyncIterable<{ x: number[][]; y: number[][] }> {
  const text = textOf('textBatches', path, options, KEYS.textBatches);
  const { T, batchSize, stride } = options;
  return { [Symbol.asyncIterator]: () => languageModelBatches(text, tokenizer, { T, batchSize, stride }) };
}

/** The chunks of a file's text, a new read stream per pass, after the path and options are
 *  checked. The file is opened when a pass starts: a missing file is an error of `where` then. */
function textOf(where: string, path: unknown, options: ReadTextOptions, keys: readonly string[]): AsyncIterable<string> {
  checkPath(where, path);
  checkObject(where, 'options', options, keys);
  const chunkBytes = checkInt(where, 'chunkBytes', options.chunkBytes ?? 65536);
  return { [Symbol.asyncIterator]: () => chunksOf(where, path as string, chunkBytes) };
}

/** One pass over a file's text; errors of the read name `where` and the path. */
async function* chunksOf(where: string, path: string, chunkBytes: number): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: chunkBytes });
  const chunks = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw fileError(where, 'read', path, e);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    stream.destroy();
  }
}

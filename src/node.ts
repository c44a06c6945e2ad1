/// <reference types="node" />
// rnn-wasm/node: files on disk, for Node only (the main entry never imports node: modules):
// models, checkpoints and ONNX files written, ONNX files and Keras model folders read.
// Every write is atomic: the bytes go to a temporary file in the same directory, are flushed
// to the disk (fsync), and the file is renamed over the target, so a crash or a kill at any
// moment leaves either the old file or the new one, never a torn one. A kill mid-write can
// leave the temporary file, `.<name>.<pid>.<random>.tmp`, beside the target; the next write to
// the same target deletes such leftovers — only those of that target, and only those whose
// writer is gone (its process no longer runs, or it is this process and not writing now).
// see: https://man7.org/linux/man-pages/man2/rename.2.html (rename is atomic within a file system)
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import type { Network } from './network.js';
import { loadKerasModel, type KerasLoadOptions } from './keras.js';
import { loadONNX, toONNX, type LoadONNXOptions, type ONNXExportOptions } from './onnx.js';

/** Write bytes to path atomically: temp file beside it, fsync, rename over the target, then
 *  fsync the directory (where the platform allows) so the rename itself is durable. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  checkPath('writeFileAtomic', path);
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`writeFileAtomic: bytes must be a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
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
    throw e;
  } finally {
    writing.delete(tmp);
  }
  await syncDirectory(dir);
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
  return writeFileAtomic(path, model.save());
}

/** Save the whole training state (model.getTrainingState()) atomically. */
export async function saveCheckpoint(model: Network, path: string): Promise<void> {
  checkModel('saveCheckpoint', model);
  checkPath('saveCheckpoint', path);
  return writeFileAtomic(path, model.getTrainingState());
}

/** Restore a training state written by saveCheckpoint into a model of the same configuration;
 *  then fit(data, { ...options, resume: true }) continues the run. */
export async function loadCheckpoint(model: Network, path: string): Promise<void> {
  checkModel('loadCheckpoint', model);
  checkPath('loadCheckpoint', path);
  model.setTrainingState(await readBytes(path));
}

/** Write a model as an ONNX file (toONNX) atomically. */
export async function saveONNX(model: Network, path: string, options?: ONNXExportOptions): Promise<void> {
  checkPath('saveONNX', path);
  return writeFileAtomic(path, toONNX(model, options));
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

/** A file system call whose error names the function the user called and the path (the
 *  error's code, e.g. ENOENT, is kept). */
async function io<T>(where: string, path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw Object.assign(new Error(`${where}: cannot read ${path}: ${err.message}`), { code: err.code });
  }
}

function checkModel(where: string, model: unknown): void {
  if (typeof model !== 'object' || model === null || typeof (model as Network).getTrainingState !== 'function') {
    throw new TypeError(`${where}: model must be a model from createRNN, createModel or a loader, got ${model === null ? 'null' : typeof model}`);
  }
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

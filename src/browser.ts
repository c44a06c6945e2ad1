// Models in the browser's storage and files: save, list, load and delete models in IndexedDB
// under a name; a model as a Blob, a download, or read back from a Blob or an uploaded File.
// Everything is the model file of save() (safetensors with the config and tokenizers), so a
// model saved here loads anywhere, and loading checks it as loadModel does.
//
//   IndexedDB  database "rnn-wasm" (or options.database), version 1, two object stores keyed
//              by name: "files" (the bytes) and "info" (what listSaved reports), written in one
//              transaction so they never disagree; listing never reads the bytes.
//
// Nothing here runs at import time, and nothing in the declarations needs the DOM library:
// IndexedDB, Blob and document are looked up when a function is called, with an error that
// says what is missing (Node has no IndexedDB: there, rnn-wasm/node saves files).
import { checkLoadModelOptions, loadModelAs, type LoadModelOptions, type ModelOf } from './architectures.js';
import type { Architecture } from './arch/common.js';
import { KEYS } from './keys.js';
import { Network } from './network.js';
import { checkKeys, describe } from './validate.js';

/** What listSaved() reports of a saved model. */
export interface SavedModelInfo {
  /** The name it was saved under. */
  name: string;
  /** Size of the model file, in bytes. */
  bytes: number;
  /** When it was saved, in ms since 1970 (Date.now()). */
  savedAt: number;
  /** Its architecture ('many-to-many' for an RNN). */
  architecture: string;
  /** Number of trainable values. */
  numParams: number;
  /** Its config (model.toJSON()) without the tokenizers. */
  config: Record<string, unknown>;
}

/** Where in IndexedDB. */
export interface IndexedDBOptions {
  /** Name of the database. Default 'rnn-wasm'. */
  database?: string;
}

/** The Blob type of the consumer's environment (the DOM's, or Node's), or this minimal one
 *  where its TypeScript has neither, so the declarations compile without the DOM library. */
export type BlobOf = typeof globalThis extends { Blob: { prototype: infer B } } ? B : BlobLike;

/** What these functions need of a Blob or File. */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

const DEFAULT_DATABASE = 'rnn-wasm';
const FILES = 'files';
const INFO = 'info';
const MIME = 'application/octet-stream';
/** The options each function takes: where in IndexedDB, and for loadFromIndexedDB loadModel's. */
const IDB_KEYS = ['database'] as const;
const LOAD_KEYS = [...KEYS.loadModel, ...IDB_KEYS] as const;

/** Save a model in IndexedDB under `name`, replacing any model saved under that name. */
export async function saveToIndexedDB(model: Network, name: string, options: IndexedDBOptions = {}): Promise<SavedModelInfo> {
  const where = 'saveToIndexedDB';
  checkModel(where, model);
  checkName(where, name);
  const bytes = model.save();
  const { tokenizers: _, ...config } = model.toJSON() as Record<string, unknown>;
  const info: SavedModelInfo = {
    name, bytes: bytes.length, savedAt: Date.now(), architecture: String(config.architecture ?? 'many-to-many'), numParams: model.numParams, config,
  };
  const db = await open(where, options);
  try {
    await inTransaction(db, 'readwrite', (files, infos) => {
      files.put(bytes, name);
      infos.put(info, name);
    });
  } finally {
    db.close();
  }
  return info;
}

/** The model saved under `name` (any architecture, as loadModel; options.architecture types
 *  the result and refuses a file of another architecture). */
export async function loadFromIndexedDB<A extends Architecture = Architecture>(
  name: string, options: IndexedDBOptions & LoadModelOptions<A> = {}): Promise<ModelOf[A]> {
  const where = 'loadFromIndexedDB';
  checkName(where, name);
  const load = checkLoadModelOptions(where, options, LOAD_KEYS);
  const db = await open(where, options, LOAD_KEYS);
  let bytes: unknown;
  try {
    bytes = await inTransaction(db, 'readonly', (files) => files.get(name));
  } finally {
    db.close();
  }
  if (bytes === undefined) {
    const names = (await listSaved({ database: options.database })).map((s) => JSON.stringify(s.name));
    throw new RangeError(`${where}: no model is saved under ${JSON.stringify(name)}; saved: ${names.length ? names.join(', ') : 'none'}`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${where}: the entry saved under ${JSON.stringify(name)} is not a model file (a Uint8Array), got ${describe(bytes)}`);
  }
  return loadModelAs(where, bytes, load) as Promise<ModelOf[A]>;
}

/** Every saved model, by name, without reading the model files. */
export async function listSaved(options: IndexedDBOptions = {}): Promise<SavedModelInfo[]> {
  const db = await open('listSaved', options);
  try {
    const all = await inTransaction(db, 'readonly', (_, infos) => infos.getAll());
    return (all as SavedModelInfo[]).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    db.close();
  }
}

/** Delete the model saved under `name`; false when there was none. */
export async function deleteSaved(name: string, options: IndexedDBOptions = {}): Promise<boolean> {
  const where = 'deleteSaved';
  checkName(where, name);
  const db = await open(where, options);
  try {
    return await inTransaction(db, 'readwrite', (files, infos) => {
      const existed = infos.count(name);
      files.delete(name);
      infos.delete(name);
      return existed;
    }) === 1;
  } finally {
    db.close();
  }
}

/** A model's file (model.save(), or those bytes already saved) as a Blob, e.g. for
 *  URL.createObjectURL or a fetch body. */
export function modelToBlob(model: Network | Uint8Array): BlobOf {
  const where = 'modelToBlob';
  const bytes = fileOf(where, model);
  const B = (globalThis as { Blob?: new (parts: unknown[], options: { type: string }) => BlobOf }).Blob;
  if (typeof B !== 'function') throw new Error(`${where}: this JavaScript environment has no Blob; use model.save(), which returns the bytes`);
  return new B([bytes], { type: MIME });
}

/** Offer a model's file (or those bytes) as a download named `filename`, in a page. */
export function downloadModel(model: Network | Uint8Array, filename = 'model.safetensors'): void {
  const where = 'downloadModel';
  const bytes = fileOf(where, model);
  if (typeof filename !== 'string' || filename === '') throw new TypeError(`${where}: filename must be a non-empty string, got ${describe(filename)}`);
  const doc = (globalThis as { document?: Document }).document;
  if (!doc || typeof URL.createObjectURL !== 'function') {
    throw new Error(`${where}: needs a page (document and URL.createObjectURL), which this environment does not have; use modelToBlob or model.save()`);
  }
  const url = URL.createObjectURL(modelToBlob(bytes) as Blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  doc.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A model from a Blob or File holding a model file (an upload, a fetch response's blob()). */
export async function loadFromBlob<A extends Architecture = Architecture>(blob: BlobLike, options: LoadModelOptions<A> = {}): Promise<ModelOf[A]> {
  const where = 'loadFromBlob';
  if (typeof blob !== 'object' || blob === null || typeof (blob as BlobLike).arrayBuffer !== 'function') {
    throw new TypeError(`${where}: blob must be a Blob or File, got ${describe(blob)}`);
  }
  const load = checkLoadModelOptions(where, options, KEYS.loadModel);
  return loadModelAs(where, new Uint8Array(await blob.arrayBuffer()), load) as Promise<ModelOf[A]>;
}

// --- checks ---

/** The file of a model, or bytes given as they are. */
function fileOf(where: string, model: unknown): Uint8Array {
  if (model instanceof Uint8Array) return model;
  if (!(model instanceof Network)) throw new TypeError(`${where}: model must be a model or the bytes of its file (a Uint8Array), got ${describe(model)}`);
  checkModel(where, model);
  return model.save();
}

function checkModel(where: string, model: unknown): asserts model is Network {
  if (!(model instanceof Network)) throw new TypeError(`${where}: model must be a model from createRNN, createModel or loadModel, got ${describe(model)}`);
  if (model.isDisposed) throw new TypeError(`${where}: the model was disposed`);
}

function checkName(where: string, name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`${where}: name must be a string, got ${describe(name)}`);
  if (name === '' || name.length > 1000) throw new RangeError(`${where}: name must be 1 to 1000 characters long, got ${name.length}`);
}

// --- IndexedDB, as promises ---

function open(where: string, options: IndexedDBOptions, keys: readonly string[] = IDB_KEYS): Promise<IDBDatabase> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, keys);
  const database = options.database ?? DEFAULT_DATABASE;
  if (typeof database !== 'string' || database === '') throw new TypeError(`${where}: options.database must be a non-empty string, got ${describe(database)}`);
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) {
    return Promise.reject(new Error(`${where}: IndexedDB is not available in this environment` +
      ` (it is in browsers and web workers; in Node, save files with saveModel from 'rnn-wasm/node')`));
  }
  return new Promise((resolve, reject) => {
    const request = idb.open(database, 1);
    request.onupgradeneeded = () => {
      for (const store of [FILES, INFO]) if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`${where}: cannot open the IndexedDB database ${JSON.stringify(database)}: ${request.error?.message}`));
    request.onblocked = () => reject(new Error(`${where}: the IndexedDB database ${JSON.stringify(database)} is blocked by another tab holding an older version`));
  });
}

/** Run `body` on both stores in one transaction; resolves with the result of the request it
 *  returns once the transaction has committed. */
function inTransaction(db: IDBDatabase, mode: IDBTransactionMode, body: (files: IDBObjectStore, infos: IDBObjectStore) => IDBRequest | void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction([FILES, INFO], mode);
    const request = body(tx.objectStore(FILES), tx.objectStore(INFO));
    tx.oncomplete = () => resolve(request ? request.result : undefined);
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

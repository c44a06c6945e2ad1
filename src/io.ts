// Model files: the parameter region as a safetensors file with PyTorch's tensor names, and
// the model's config as JSON in the header's metadata. Loading maps a file's tensors onto a
// layout — also files written by PyTorch's safetensors.torch.save_file(module.state_dict()),
// whose names carry the module's attribute prefixes ('rnn.weight_ih_l0', 'fc.weight') —
// and checks every name, shape and value before a single weight changes. A tensor a model
// ties (one tensor, several names) is written under each name and read from any of them.
// Files written here carry a checksum (checksum.ts), and one that does not match is refused as
// damaged. Errors name the function the user called (loadRNN, loadModel, loadWeights, setTrainingState).
import { CHECKSUM_KEY, checksumOf } from './checksum.js';
import { RECURRENT_BIAS, type Layout, type TensorEntry } from './layout.js';
import { decodeSafetensors, encodeSafetensors, fileOrder, SafetensorsError, type DecodedSafetensors } from './safetensors.js';
import { checkBoolean, checkKeys, describe } from './validate.js';

/** Metadata keys written by save(). */
export const FORMAT = 'rnn-wasm';
export const FORMAT_VERSION = '1';

export interface LoadOptions {
  /** Prefix of the recurrent module's tensors in the file ('rnn.' for a module attribute
   *  named rnn). Default: found from the file's 'weight_ih_l0' tensor. */
  rnnPrefix?: string;
  /** Prefix of the output layer's tensors ('fc.' for fc.weight / fc.bias). Default: 'head.',
   *  or the only other weight/bias pair in the file. */
  headPrefix?: string;
  /** Prefix of the embedding table's tensor ('encoder.' for an nn.Embedding attribute named
   *  encoder, as in PyTorch's word_language_model example). Default: 'embedding.', else the
   *  only other 2-D weight without a bias of the table's shape. */
  embeddingPrefix?: string;
  /** Refuse a file without the output layer or with tensors the model does not use (true,
   *  default), or keep the model's own head and ignore extra tensors (false). Recurrent biases
   *  in a file for a model without them (bias: false), an output layer's bias for a model whose
   *  output layer has none (headBias: false), and an output layer's weight without its bias for
   *  a model whose output layer has one are refused either way: leaving a bias out, or keeping
   *  the model's own beside the file's weight, would compute another function. */
  strict?: boolean;
}

/** A model file: every tensor under its name, and a tied tensor under each of its names (as
 *  PyTorch's state_dict lists it, so load_state_dict takes the file as it is). */
export function encodeModel(layout: Layout, weights: Float32Array, config: object): Uint8Array<ArrayBuffer> {
  const tensors = layout.entries.flatMap((e) => [e.name, ...(e.tiedNames ?? [])].map((name) => ({
    name, shape: [...e.shape], data: weights.subarray(e.offset, e.offset + e.length),
  })));
  return encodeSafetensors(tensors, sealed(tensors, { format: FORMAT, format_version: FORMAT_VERSION, config: JSON.stringify(config) }));
}

/** `metadata` with the checksum of a file of these tensors and this metadata (checksum.ts). */
export function sealed(tensors: readonly { name: string; data: Float32Array }[], metadata: Record<string, string>): Record<string, string> {
  return { ...metadata, [CHECKSUM_KEY]: checksumOf(fileOrder(tensors).map((t) => t.data), metadata) };
}

/** The checksum a file's metadata says it has, and the one its contents hash to (neither when
 *  it says none: such a file is not checked). */
export function checksums(file: DecodedSafetensors): { said?: string; got?: string } {
  const said = file.metadata[CHECKSUM_KEY];
  if (said === undefined) return {};
  // name order, as sealed() hashes them, whatever order the file lays its data out in
  const tensors = fileOrder([...file.tensors].map(([name, t]) => ({ name, data: t.data })));
  return { said, got: checksumOf(tensors.map((t) => t.data), file.metadata) };
}

/** Refuse a file whose contents do not match the checksum in its metadata (one without a
 *  checksum is not checked). */
function checkChecksum(file: DecodedSafetensors): void {
  const { said, got } = checksums(file);
  if (said !== undefined && got !== said) {
    throw new SafetensorsError('checksum-mismatch', `the file is damaged: its contents hash to ${got}, but its metadata "${CHECKSUM_KEY}" says ` +
      `${JSON.stringify(said.length > 20 ? `${said.slice(0, 17)}...` : said)} (a file changed on purpose loads once "${CHECKSUM_KEY}" is removed from its metadata)`);
  }
}

/** A file's bytes as a Uint8Array: a Uint8Array (as Node's readFile gives) as it is, an ArrayBuffer
 *  (what fetch's arrayBuffer() and FileReader give) wrapped without a copy; anything else is a
 *  TypeError naming `where` and what arrived. */
export function checkBytes(where: string, bytes: unknown, holding: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  const got = ArrayBuffer.isView(bytes) ? `a ${bytes.constructor.name} (its bytes are new Uint8Array(v.buffer, v.byteOffset, v.byteLength))`
    : typeof bytes === 'object' && bytes !== null && !Array.isArray(bytes) && bytes.constructor?.name && bytes.constructor !== Object
      ? `a ${bytes.constructor.name}` : describe(bytes);
  throw new TypeError(`${where}: bytes must be a Uint8Array or an ArrayBuffer holding ${holding}, got ${got}`);
}

/** Decode a model file; any problem with the bytes is an error naming `where`, the function
 *  the user called. */
export function decodeModelFile(where: string, bytes: unknown): DecodedSafetensors {
  const b = checkBytes(where, bytes, 'a safetensors file');
  try {
    const file = decodeSafetensors(b);
    checkChecksum(file);
    return file;
  } catch (e) {
    if (e instanceof SafetensorsError) {
      // a first 8 bytes that no header length could be: another kind of file (text, ONNX, HDF5…)
      const other = e.code === 'header-too-large' ? '; the file is not a safetensors file (ONNX and Keras models load with loadONNX and loadKerasModel)' : '';
      e.message = `${where}: ${e.message}${other}`;
    }
    throw e;
  }
}

/** The config saved in a file's metadata, if any: a JSON object, not yet checked field by
 *  field (the model's factory does that, naming the file's config). */
export function configFromFile(where: string, file: DecodedSafetensors): Record<string, unknown> | undefined {
  const text = file.metadata.config;
  if (text === undefined) return undefined;
  if (file.metadata.format !== FORMAT) {
    throw new TypeError(`${where}: the file's metadata has a config but format ${JSON.stringify(file.metadata.format)}, expected "${FORMAT}"`);
  }
  if (file.metadata.format_version !== FORMAT_VERSION) {
    throw new RangeError(`${where}: the file is format version ${JSON.stringify(file.metadata.format_version)}; this version of rnn-wasm reads version ${FORMAT_VERSION}`);
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new TypeError(`${where}: the file's config metadata is not valid JSON (${(e as Error).message})`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError(`${where}: the file's config must be a JSON object, got ${describe(config)}`);
  }
  return config as Record<string, unknown>;
}

/** Check load options (rnnPrefix, headPrefix, embeddingPrefix, strict) and that `options` has
 *  no other keys than `keys`. */
export function checkLoadOptions(where: string, options: unknown, keys: readonly string[]): LoadOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, keys);
  const o = options as LoadOptions;
  for (const name of ['rnnPrefix', 'headPrefix', 'embeddingPrefix'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'string') throw new TypeError(`${where}: options.${name} must be a string, got ${describe(o[name])}`);
  }
  if (o.strict !== undefined) checkBoolean(where, 'options.strict', o.strict);
  return o;
}

/** Refuse a file with fewer tensors than a layout of `counts` (from layoutCounts) needs, the
 *  output layer aside, before the layout is built: a damaged config (a huge `layers`) fails
 *  here at once. Every other mismatch is named tensor by tensor by matchTensors. */
export function checkTensorCount(where: string, file: DecodedSafetensors, counts: { tensors: number; values: number; biases: number }, sizes: string): void {
  const have = file.tensors.size;
  if (counts.tensors - 2 > have) {
    const hint = counts.biases > 0 ? noBiasesHint(file) : '';
    throw new RangeError(`${where}: the config (${sizes}) makes a model of ${counts.tensors} tensors, the file holds ${have}; the config does not describe this file${hint}`);
  }
}

/** What to say when a model needs recurrent biases: if the file has recurrent weights and no
 *  recurrent bias at all, it is a module made with bias=False, and a model with bias: false
 *  reads it. */
function noBiasesHint(file: DecodedSafetensors): string {
  const names = [...file.tensors.keys()];
  if (!names.some((n) => /(^|\.)weight_ih_l\d+(_reverse)?$/.test(n)) || names.some((n) => RECURRENT_BIAS.test(n))) return '';
  return '; the file has recurrent weights but no recurrent biases (bias_ih_l0, bias_hh_l0, …), as a PyTorch module made with bias=False: ' +
    'a model with bias: false in its config reads it';
}

/** Refuse recurrent biases in the file for cells of the model that have none (bias: false),
 *  looked for where each cell's weight_ih is found (`candidates`), under strict or not. */
function checkNoBiases(where: string, layout: Layout, file: DecodedSafetensors, candidates: Map<TensorEntry, string[]>): void {
  for (const e of layout.entries) {
    if (e.role !== 'weight_ih' || layout.cell(e.stack, e.layer, e.direction).bias_ih) continue;
    const name = candidates.get(e)![0], at = name.lastIndexOf('weight_ih');
    const found = ['bias_ih', 'bias_hh'].map((b) => name.slice(0, at) + b + name.slice(at + 'weight_ih'.length)).filter((n) => file.tensors.has(n));
    if (found.length > 0) {
      throw new RangeError(`${where}: the file has recurrent biases (${found.join(', ')}), but the model's recurrent layers have none (bias: false); ` +
        'a model made with biases (bias: true, the default) reads this file');
    }
  }
}

/** The names under which the file holds the output layer's weight (`candidates`), and the
 *  bias beside each: '<prefix>bias' for '<prefix>weight'. */
function headInFile(layout: Layout, file: DecodedSafetensors, candidates: Map<TensorEntry, string[]>): { weight: string; bias: string }[] {
  const head = layout.head();
  if (!head) return [];
  // a tied weight is also the embedding table, whose own name is not the output layer's
  const table = head.weight.role === 'embedding' ? head.weight.name : undefined;
  return candidates.get(head.weight)!.filter((n) => n !== table && n.endsWith('weight') && file.tensors.has(n))
    .map((weight) => ({ weight, bias: weight.slice(0, -'weight'.length) + 'bias' }));
}

/** Refuse an output layer's bias in the file for a model whose output layer has none
 *  (headBias: false), under strict or not: dropping it would compute another function. */
function checkNoHeadBias(where: string, layout: Layout, file: DecodedSafetensors, candidates: Map<TensorEntry, string[]>): void {
  if (!layout.head() || layout.head()!.bias) return;
  const found = headInFile(layout, file, candidates).find((h) => file.tensors.has(h.bias));
  if (found) {
    throw new RangeError(`${where}: the file's output layer has a bias (${found.bias}), but the model's output layer has none (headBias: false); ` +
      'a model made with an output bias (headBias: true, the default) reads this file');
  }
}

/** What to say when the model's output layer has a bias the file lacks: if the file has the
 *  layer's weight alone, it is an nn.Linear made with bias=False. */
function noHeadBiasHint(layout: Layout, file: DecodedSafetensors, candidates: Map<TensorEntry, string[]>): string | undefined {
  const h = headInFile(layout, file, candidates)[0];
  return h && `the file's output layer has a weight (${h.weight}) but no bias (${h.bias}), as a PyTorch nn.Linear made with bias=False: ` +
    'a model with headBias: false in its config reads it';
}

/** Map a decoded file onto the layout: a new flat weight array, or an error naming the first
 *  problem (missing tensor, wrong shape, a value that is not finite, unknown extra tensor).
 *  `current` fills a missing head when strict is false. Nothing is written anywhere. */
export function weightsFromFile(where: string, layout: Layout, file: DecodedSafetensors,
                                current: Float32Array, options: LoadOptions = {}): Float32Array {
  return applyTensors(matchTensors(where, layout, file, options), current);
}

/** A checked mapping of a file's tensors onto a layout (matchTensors), to apply later. */
export type TensorMatch = readonly (readonly [TensorEntry, Float32Array])[];

/** The flat weights `current` with every matched tensor written over its entry. */
export function applyTensors(match: TensorMatch, current: Float32Array): Float32Array {
  const out = Float32Array.from(current);
  for (const [e, data] of match) out.set(data, e.offset);
  return out;
}

/** Every layout entry with the file's tensor for it, all names, shapes and values checked (a
 *  tied tensor's copies under several names must agree). `takesStrict`: whether the function
 *  called has a `strict` option, which its errors may then suggest. */
export function matchTensors(where: string, layout: Layout, file: DecodedSafetensors, options: LoadOptions = {}, takesStrict = true): TensorMatch {
  const names = [...file.tensors.keys()];
  // nn.LSTM(proj_size = P) stores weight_hr_l{k} and an h of P values: its weight_hh would
  // otherwise be refused for its shape, which does not say why
  const projection = names.find((n) => /(^|\.)weight_hr_l\d+(_reverse)?$/.test(n));
  if (projection !== undefined) {
    const shape = file.tensors.get(projection)!.shape;
    throw new RangeError(`${where}: tensor ${JSON.stringify(projection)} [${shape.join(', ')}] is an LSTM projection (nn.LSTM's proj_size = ${shape[0]}); ` +
      `rnn-wasm's LSTM has none: its hidden state is n_a wide (save the module with proj_size = 0)`);
  }
  const candidates = fileNames(where, layout, file, options);
  checkNoBiases(where, layout, file, candidates);
  checkNoHeadBias(where, layout, file, candidates);
  const used = new Set<string>();
  const out: [TensorEntry, Float32Array][] = [];
  for (const e of layout.entries) {
    const found = candidates.get(e)!.filter((n) => file.tensors.has(n));
    if (found.length === 0) {
      // the file's output weight without its bias: refused even under strict false, where the
      // model's own bias would otherwise stay beside the file's weight
      const headHint = e.role === 'head_bias' ? noHeadBiasHint(layout, file, candidates) : undefined;
      if (headHint) throw new RangeError(`${where}: ${headHint}`);
      if ((e.role === 'head_weight' || e.role === 'head_bias') && options.strict === false) continue;
      const have = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
      const hint = e.role === 'bias_ih' || e.role === 'bias_hh' ? noBiasesHint(file) : '';
      throw new RangeError(`${where}: the file has no tensor ${JSON.stringify(candidates.get(e)![0])} (the model's ${e.name}, shape [${e.shape.join(', ')}]); it has ${have || 'no tensors'}${hint}`);
    }
    const first = file.tensors.get(found[0])!.data;
    for (const name of found) {
      const t = file.tensors.get(name)!;
      if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
        throw new RangeError(`${where}: tensor ${JSON.stringify(name)} has shape [${t.shape.join(', ')}], the model's ${e.name} needs [${e.shape.join(', ')}]`);
      }
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new RangeError(`${where}: tensor ${JSON.stringify(name)} holds ${t.data[bad]} at [${bad}]; a model file holds finite values only`);
      if (t.data.some((v, i) => !Object.is(v, first[i]))) {
        throw new RangeError(`${where}: tensors ${JSON.stringify(found[0])} and ${JSON.stringify(name)} are one tied tensor in this model (${e.name}), but the file holds different values`);
      }
      used.add(name);
    }
    out.push([e, first]);
  }
  const extra = names.filter((n) => !used.has(n));
  if (extra.length > 0 && options.strict !== false) {
    if (file.metadata.checkpoint_version !== undefined) {
      throw new TypeError(`${where}: the file is a training checkpoint (getTrainingState, saveCheckpoint), not a model file; ` +
        (takesStrict ? 'pass strict: false to take only its weights, or restore all of it with setTrainingState(bytes)'
          : 'load the model file saved with it (save, saveModel), or restore the checkpoint on a model created with its config: setTrainingState(bytes), or loadCheckpoint in rnn-wasm/node'));
    }
    const list = extra.length > 12 ? `${extra.slice(0, 12).join(', ')}, … (${extra.length})` : extra.join(', ');
    throw new RangeError(`${where}: the file has tensors this model does not use: ${list} (check the config${takesStrict ? ', or pass strict: false' : ''})`);
  }
  return out;
}

/** For every entry of the layout, the names it may have in the file, most likely first. */
function fileNames(where: string, layout: Layout, file: DecodedSafetensors, options: LoadOptions): Map<TensorEntry, string[]> {
  const names = [...file.tensors.keys()];
  const own = (e: TensorEntry) => [e.name, ...(e.tiedNames ?? [])];
  // a file with every tensor under the model's own names (one written by save()) maps as it is
  const exact = options.rnnPrefix === undefined && options.headPrefix === undefined && options.embeddingPrefix === undefined
    && layout.entries.every((e) => own(e).some((n) => file.tensors.has(n)));
  const out = new Map<TensorEntry, string[]>();
  if (exact) {
    for (const e of layout.entries) out.set(e, own(e));
    return out;
  }
  // recurrent tensors: the file's module prefix + PyTorch's bare name (weight_ih_l0, …);
  // with several recurrent modules (encoder, decoder) the names must be the model's own
  const oneStack = layout.entries.every((e) => e.stack <= 0);
  const rnnPrefix = oneStack ? options.rnnPrefix ?? findPrefix(names, 'weight_ih_l0') : undefined;
  const bare = (e: TensorEntry) => e.name.slice(e.name.lastIndexOf('.') + 1);
  for (const e of layout.entries) if (e.stack >= 0) out.set(e, [rnnPrefix === undefined ? e.name : rnnPrefix + bare(e)]);
  const recurrent = new Set([...out.values()].flat());
  const head = layout.head();
  const tables = new Set(layout.entries.filter((e) => e.role === 'embedding').map((e) => e.name));
  const headPrefix = options.headPrefix ?? findHead(where, file, names.filter((n) => !recurrent.has(n) && !tables.has(n)), head);
  for (const e of layout.entries) {
    if (out.has(e)) continue;
    const tried = own(e);
    if (e === head?.bias) tried.unshift(`${headPrefix}bias`);
    if (e === head?.weight) tried.unshift(`${headPrefix}weight`);
    if (e.role === 'embedding' && options.embeddingPrefix !== undefined) tried.unshift(`${options.embeddingPrefix}weight`);
    out.set(e, tried);
  }
  const taken = new Set([...out.values()].flat());
  for (const e of layout.entries) {
    const table = e.role === 'embedding' ? findTable(e, file, taken, options.embeddingPrefix) : undefined;
    if (table) out.get(e)!.push(table);
  }
  return out;
}

/** A table found under neither its own name nor embeddingPrefix: the one other 2-D weight
 *  without a bias, of its shape, that nothing else takes (word_language_model's
 *  'encoder.weight'; a tied table may then be under the head's name too). */
function findTable(e: TensorEntry, file: DecodedSafetensors, taken: Set<string>, prefix?: string): string | undefined {
  if ([e.name, ...(prefix === undefined ? [] : [`${prefix}weight`])].some((n) => file.tensors.has(n))) return undefined;
  const fits = [...file.tensors.keys()].filter((n) => !taken.has(n) && n.endsWith('weight')
    && !file.tensors.has(n.slice(0, -'weight'.length) + 'bias') && file.tensors.get(n)!.shape.join() === e.shape.join());
  return fits.length === 1 ? fits[0] : undefined;
}

/** The output layer's prefix in a file: 'head.', or that of the only weight/bias pair among
 *  the tensors left after the recurrent ones, or else of the only weight without a bias of the
 *  output layer's shape (an nn.Linear made with bias=False). */
function findHead(where: string, file: DecodedSafetensors, rest: string[], head?: { weight: TensorEntry; bias?: TensorEntry }): string {
  if (file.tensors.has('head.weight') || file.tensors.has('head.bias')) return 'head.';
  const pairs = rest.filter((n) => n.endsWith('.weight') && file.tensors.has(n.slice(0, -'weight'.length) + 'bias'));
  if (pairs.length > 1) {
    throw new RangeError(`${where}: the file has several weight/bias pairs besides the recurrent tensors (${pairs.slice(0, 12).join(', ')}); pass headPrefix to say which is the output layer`);
  }
  if (pairs.length === 1) return pairs[0].slice(0, -'weight'.length);
  if (!head) return 'head.';
  const shape = head.weight.shape.join();
  const lone = rest.filter((n) => n.endsWith('.weight') && !file.tensors.has(n.slice(0, -'weight'.length) + 'bias') && file.tensors.get(n)!.shape.join() === shape);
  if (lone.length > 1 && !head.bias) {
    throw new RangeError(`${where}: the file has several weights without a bias of the output layer's shape [${head.weight.shape.join(', ')}] (${lone.slice(0, 12).join(', ')}); ` +
      'pass headPrefix to say which is the output layer');
  }
  return lone.length === 1 ? lone[0].slice(0, -'weight'.length) : 'head.';
}

function findPrefix(names: string[], suffix: string): string | undefined {
  const hits = names.filter((n) => n === suffix || n.endsWith('.' + suffix));
  return hits.length === 1 ? hits[0].slice(0, -suffix.length) : undefined;
}

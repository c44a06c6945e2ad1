// Model files: the parameter region as a safetensors file with PyTorch's tensor names, and
// the model's config as JSON in the header's metadata. Loading maps a file's tensors onto a
// layout — also files written by PyTorch's safetensors.torch.save_file(module.state_dict()),
// whose names carry the module's attribute prefixes ('rnn.weight_ih_l0', 'fc.weight') —
// and checks every name, shape and value before a single weight changes. Errors name the
// function the user called (loadRNN, loadModel, loadWeights, setTrainingState).
import type { Layout, TensorEntry } from './layout.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type DecodedSafetensors } from './safetensors.js';
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
  /** Refuse a file without the output layer or with tensors the model does not use (true,
   *  default), or keep the model's own head and ignore extra tensors (false). */
  strict?: boolean;
}

export function encodeModel(layout: Layout, weights: Float32Array, config: object): Uint8Array {
  const tensors = layout.entries.map((e) => ({
    name: e.name, shape: [...e.shape], data: weights.subarray(e.offset, e.offset + e.length),
  }));
  return encodeSafetensors(tensors, { format: FORMAT, format_version: FORMAT_VERSION, config: JSON.stringify(config) });
}

/** Decode a model file; any problem with the bytes is an error naming `where`, the function
 *  the user called. */
export function decodeModelFile(where: string, bytes: unknown): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${where}: bytes must be a Uint8Array holding a safetensors file, got ${describe(bytes)}`);
  }
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) e.message = `${where}: ${e.message}`;
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

/** Check load options (rnnPrefix, headPrefix, strict) and that `options` has no other keys
 *  than `keys`. */
export function checkLoadOptions(where: string, options: unknown, keys: readonly string[]): LoadOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, keys);
  const o = options as LoadOptions;
  for (const name of ['rnnPrefix', 'headPrefix'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'string') throw new TypeError(`${where}: options.${name} must be a string, got ${describe(o[name])}`);
  }
  if (o.strict !== undefined) checkBoolean(where, 'options.strict', o.strict);
  return o;
}

/** Refuse a file with fewer tensors than a layout of `counts` (from layoutCounts) needs, the
 *  output layer aside, before the layout is built: a damaged config (a huge `layers`) fails
 *  here at once. Every other mismatch is named tensor by tensor by matchTensors. */
export function checkTensorCount(where: string, file: DecodedSafetensors, counts: { tensors: number; values: number }, sizes: string): void {
  const have = file.tensors.size;
  if (counts.tensors - 2 > have) {
    throw new RangeError(`${where}: the config (${sizes}) makes a model of ${counts.tensors} tensors, the file holds ${have}; the config does not describe this file`);
  }
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

/** Every layout entry with the file's tensor for it, all names, shapes and values checked. */
export function matchTensors(where: string, layout: Layout, file: DecodedSafetensors, options: LoadOptions = {}): TensorMatch {
  const names = [...file.tensors.keys()];
  const fileName = fileNames(where, layout, file, options);
  const used = new Set<string>();
  const out: [TensorEntry, Float32Array][] = [];
  for (const e of layout.entries) {
    const name = fileName.get(e.name) ?? e.name;   // other layers (a bridge) keep their own names
    const t = file.tensors.get(name);
    if (!t) {
      if ((e.role === 'head_weight' || e.role === 'head_bias') && options.strict === false) continue;
      const have = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
      throw new RangeError(`${where}: the file has no tensor ${JSON.stringify(name)} (the model's ${e.name}, shape [${e.shape.join(', ')}]); it has ${have || 'no tensors'}`);
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new RangeError(`${where}: tensor ${JSON.stringify(name)} has shape [${t.shape.join(', ')}], the model's ${e.name} needs [${e.shape.join(', ')}]`);
    }
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`${where}: tensor ${JSON.stringify(name)} holds ${t.data[bad]} at [${bad}]; a model file holds finite values only`);
    out.push([e, t.data]);
    used.add(name);
  }
  const extra = names.filter((n) => !used.has(n));
  if (extra.length > 0 && options.strict !== false) {
    const list = extra.length > 12 ? `${extra.slice(0, 12).join(', ')}, … (${extra.length})` : extra.join(', ');
    throw new RangeError(`${where}: the file has tensors this model does not use: ${list} (check the config, or pass strict: false)`);
  }
  return out;
}

/** The file's name of each recurrent and head tensor of the layout, under the module prefixes
 *  given in the options or found in the file. */
function fileNames(where: string, layout: Layout, file: DecodedSafetensors, options: LoadOptions): Map<string, string> {
  const names = [...file.tensors.keys()];
  // a file with every tensor under the model's own names (one written by save()) maps as it is
  const exact = options.rnnPrefix === undefined && options.headPrefix === undefined
    && layout.entries.every((e) => file.tensors.has(e.name));
  const rnnPrefix = options.rnnPrefix ?? (exact ? '' : findPrefix(names, 'weight_ih_l0') ?? '');
  const fileName = new Map<string, string>();
  for (const e of layout.entries) if (e.stack >= 0) fileName.set(e.name, rnnPrefix + e.name);
  let headPrefix = options.headPrefix ?? (exact ? 'head.' : undefined);
  if (headPrefix === undefined) {
    if (file.tensors.has('head.weight')) headPrefix = 'head.';
    else {
      const recurrentNames = new Set(fileName.values());
      const rest = names.filter((n) => !recurrentNames.has(n));
      const pairs = rest.filter((n) => n.endsWith('.weight') && file.tensors.has(n.slice(0, -'weight'.length) + 'bias'));
      if (pairs.length > 1) {
        throw new RangeError(`${where}: the file has several weight/bias pairs besides the recurrent tensors (${pairs.slice(0, 12).join(', ')}); pass headPrefix to say which is the output layer`);
      }
      headPrefix = pairs.length === 1 ? pairs[0].slice(0, -'weight'.length) : 'head.';
    }
  }
  const head = layout.head();
  if (head) {
    fileName.set(head.weight.name, `${headPrefix}weight`);
    fileName.set(head.bias.name, `${headPrefix}bias`);
  }
  return fileName;
}

function findPrefix(names: string[], suffix: string): string | undefined {
  const hits = names.filter((n) => n === suffix || n.endsWith('.' + suffix));
  return hits.length === 1 ? hits[0].slice(0, -suffix.length) : undefined;
}

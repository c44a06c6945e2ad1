// Model files: the parameter region as a safetensors file with PyTorch's tensor names, and
// the model's config as JSON in the header's metadata. Loading maps a file's tensors onto a
// layout — also files written by PyTorch's safetensors.torch.save_file(module.state_dict()),
// whose names carry the module's attribute prefixes ('rnn.weight_ih_l0', 'fc.weight') —
// and checks every name and shape before a single weight changes.
import type { Layout } from './layout.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors } from './safetensors.js';

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

export function decodeModelFile(where: string, bytes: unknown): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${where}: bytes must be a Uint8Array holding a safetensors file, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  return decodeSafetensors(bytes);
}

/** The config saved in a file's metadata, if any (unvalidated: it comes from the file). */
export function configFromFile(where: string, file: DecodedSafetensors): unknown {
  const text = file.metadata.config;
  if (text === undefined) return undefined;
  if (file.metadata.format !== FORMAT) {
    throw new TypeError(`${where}: the file's metadata has a config but format ${JSON.stringify(file.metadata.format)}, expected "${FORMAT}"`);
  }
  if (file.metadata.format_version !== FORMAT_VERSION) {
    throw new RangeError(`${where}: the file is format version ${file.metadata.format_version}; this version of rnn-wasm reads version ${FORMAT_VERSION}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TypeError(`${where}: the file's config metadata is not valid JSON (${(e as Error).message})`);
  }
}

/** Map a decoded file onto the layout: a new flat weight array, or an error naming the first
 *  problem (missing tensor, wrong shape, unknown extra tensor). `current` fills a missing
 *  head when strict is false. */
export function weightsFromFile(where: string, layout: Layout, file: DecodedSafetensors,
                                current: Float32Array, options: LoadOptions = {}): Float32Array {
  const names = [...file.tensors.keys()];
  // a file with every tensor under the model's own names (one written by save()) maps as it is
  const exact = options.rnnPrefix === undefined && options.headPrefix === undefined
    && layout.entries.every((e) => file.tensors.has(e.name));
  const rnnPrefix = options.rnnPrefix ?? (exact ? '' : findPrefix(names, 'weight_ih_l0') ?? '');
  const recurrent = layout.entries.filter((e) => e.stack >= 0);
  const used = new Set<string>();
  const fileName = new Map<string, string>();
  for (const e of recurrent) fileName.set(e.name, rnnPrefix + e.name);
  let headPrefix = options.headPrefix ?? (exact ? 'head.' : undefined);
  if (headPrefix === undefined) {
    if (file.tensors.has('head.weight')) headPrefix = 'head.';
    else {
      const recurrentNames = new Set(fileName.values());
      const rest = names.filter((n) => !recurrentNames.has(n));
      const pairs = rest.filter((n) => n.endsWith('.weight') && rest.includes(n.slice(0, -'weight'.length) + 'bias'));
      if (pairs.length > 1) {
        throw new RangeError(`${where}: the file has several weight/bias pairs besides the recurrent tensors (${pairs.join(', ')}); pass headPrefix to say which is the output layer`);
      }
      headPrefix = pairs.length === 1 ? pairs[0].slice(0, -'weight'.length) : 'head.';
    }
  }
  const head = layout.head();
  if (head) {
    fileName.set(head.weight.name, `${headPrefix}weight`);
    fileName.set(head.bias.name, `${headPrefix}bias`);
  }
  const out = Float32Array.from(current);
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
    out.set(t.data, e.offset);
    used.add(name);
  }
  const extra = names.filter((n) => !used.has(n));
  if (extra.length > 0 && options.strict !== false) {
    throw new RangeError(`${where}: the file has tensors this model does not use: ${extra.join(', ')} (check the config, or pass strict: false)`);
  }
  return out;
}

function findPrefix(names: string[], suffix: string): string | undefined {
  const hits = names.filter((n) => n === suffix || n.endsWith('.' + suffix));
  return hits.length === 1 ? hits[0].slice(0, -suffix.length) : undefined;
}

// The five ways of wiring a recurrent cell, as one typed factory.
//
//   architecture      inputs → outputs   model           example
//   'one-to-one'      1 → 1              OneToOne        a classifier / regressor (T = 1)
//   'one-to-many'     1 → T_y            OneToMany       generation: ŷ<t> is fed back as x<t+1>
//   'many-to-one'     T_x → 1            ManyToOne       classify a sequence from its last state
//   'many-to-many'    T_x → T_x          ManyToMany      tag every step (RNN, aligned)
//   'encoder-decoder' T_x → T_y          EncoderDecoder  translate: the encoder's final state
//                                                        starts the decoder
//
// createModel takes a config whose `architecture` field picks the model; the returned type
// follows the config (input and output kinds included), so that a batch of the wrong shape —
// per-step targets for a many-to-one model, class ids for a linear output — is a compile
// error in TypeScript and a TypeError/RangeError naming the argument in JavaScript.
// loadModel rebuilds any of them, tokenizers included, from a file written by save(), after
// checking the whole file against its config.

import { applyTensors, checkTensorCount, configFromFile, decodeModelFile, matchTensors } from './io.js';
import { KEYS } from './keys.js';
import { buildLayout, type LayoutSpec } from './layout.js';
import { describeSizes, layoutCounts } from './limits.js';
import { resolveConfig, rnnLayout, type InputOf, type OutputOf, type RNNConfig } from './model.js';
import { tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from './tokenizer.js';
import { checkBackend, checkChoice, checkKeys, describe, labelled, type NoExtra } from './validate.js';
import { withEngine, type Backend, type Build, type Kernels } from './wasm.js';
import type { Architecture } from './arch/common.js';
import {
  EncoderDecoder, encoderDecoderLayout, resolveEncoderDecoder, type EncoderDecoderConfig, type ResolvedEncoderDecoder,
} from './arch/encoder-decoder.js';
import { lastStateLayout } from './arch/last-state.js';
import { ManyToMany, manyToManyTokenizers, type ManyToManyConfig } from './arch/many-to-many.js';
import { ManyToOne, resolveManyToOne, type ManyToOneConfig, type ResolvedManyToOne } from './arch/many-to-one.js';
import { OneToMany, oneToManyLayout, resolveOneToMany, type OneToManyConfig, type ResolvedOneToMany } from './arch/one-to-many.js';
import { OneToOne, resolveOneToOne, type OneToOneConfig, type ResolvedOneToOne } from './arch/one-to-one.js';

/** Any architecture's config: the `architecture` field says which. */
export type ModelConfig = OneToOneConfig | OneToManyConfig | ManyToOneConfig | ManyToManyConfig | EncoderDecoderConfig;

/** Any architecture's model: narrow with `model.architecture`. */
export type Model = OneToOne | OneToMany | ManyToOne | ManyToMany | EncoderDecoder;

/** The model createModel returns for a config type. */
export type ModelFor<C extends ModelConfig> =
  C extends { architecture: 'one-to-one' } ? OneToOne<InputOf<C>, OutputOf<C>>
  : C extends { architecture: 'one-to-many' } ? OneToMany<OutputOf<C>>
  : C extends { architecture: 'many-to-one' } ? ManyToOne<InputOf<C>, OutputOf<C>>
  : C extends { architecture: 'many-to-many' } ? ManyToMany<InputOf<C>, OutputOf<C>>
  : C extends { architecture: 'encoder-decoder' } ? EncoderDecoder<InputOf<C>, OutputOf<C>>
  : never;

/** The model of each architecture name. */
export interface ModelOf {
  'one-to-one': OneToOne;
  'one-to-many': OneToMany;
  'many-to-one': ManyToOne;
  'many-to-many': ManyToMany;
  'encoder-decoder': EncoderDecoder;
}

const ARCHITECTURES = ['one-to-one', 'one-to-many', 'many-to-one', 'many-to-many', 'encoder-decoder'] as const;

/** A config checked in full, before anything is built: its parameter layout, and how to make
 *  the model on an engine's kernels. */
interface Plan {
  /** The config with every default filled in. */
  resolved: object;
  layout: LayoutSpec;
  make(kernels: Kernels, backend: Build): Model;
}

/** Check a config of any architecture and fill in its defaults; `where` names the caller. */
function plan(where: string, config: ModelConfig): Plan {
  if (typeof config !== 'object' || config === null) throw new TypeError(`${where}: config must be an object, got ${describe(config)}`);
  if (config.architecture === undefined) {
    // createRNN's config (and its model's) names no architecture: it is many-to-many's
    throw new TypeError(`${where}: config.architecture is required, one of ${ARCHITECTURES.map((a) => `'${a}'`).join(', ')} ` +
      `(a config for createRNN, or a createRNN model's config, is architecture 'many-to-many')`);
  }
  const architecture = checkChoice(where, 'architecture', config.architecture, ARCHITECTURES);
  switch (architecture) {
    case 'one-to-one': {
      const { resolved, tokenizers } = resolveOneToOne(config as OneToOneConfig, where);
      return { resolved, layout: lastStateLayout(resolved), make: (k, b) => new OneToOne(k, resolved, b, tokenizers) };
    }
    case 'one-to-many': {
      const { resolved, tokenizers } = resolveOneToMany(config as OneToManyConfig, where);
      return { resolved, layout: oneToManyLayout(resolved), make: (k, b) => new OneToMany(k, resolved, b, tokenizers) };
    }
    case 'many-to-one': {
      const { resolved, tokenizers } = resolveManyToOne(config as ManyToOneConfig, where);
      return { resolved, layout: lastStateLayout(resolved), make: (k, b) => new ManyToOne(k, resolved, b, tokenizers) };
    }
    case 'many-to-many': {
      // RNN's own checks and defaults, then the same model with the architecture's API
      const { architecture: _, tokenizers: t, ...rnnConfig } = config as ManyToManyConfig;
      const resolved = resolveConfig(rnnConfig as RNNConfig, where);
      const tokenizers = manyToManyTokenizers(where, t, resolved);
      return { resolved, layout: rnnLayout(resolved), make: (k, b) => new ManyToMany(k, resolved, b, tokenizers) };
    }
    case 'encoder-decoder': {
      const { resolved, tokenizers } = resolveEncoderDecoder(config as EncoderDecoderConfig, where);
      return { resolved, layout: encoderDecoderLayout(resolved), make: (k, b) => new EncoderDecoder(k, resolved, b, tokenizers) };
    }
  }
}

/** Create a model of one of the five architectures. Compiles the kernels on first use;
 *  everything after is synchronous. */
export async function createModel<const C extends ModelConfig>(config: NoExtra<C, Extract<ModelConfig, { architecture: C['architecture'] }>>): Promise<ModelFor<C>> {
  const where = 'createModel';
  const p = plan(where, config);                 // every field is checked before the kernels load
  return withEngine(where, checkBackend(where, 'backend', config.backend),
    (engine) => p.make(engine.kernels, engine.backend)) as Promise<ModelFor<C>>;
}

/** Options of loadModel. */
export interface LoadModelOptions<A extends Architecture = Architecture> {
  /** Kernel build. Default 'auto'. */
  backend?: Backend;
  /** The architecture the file must hold: the result is typed as that model, and a file of
   *  another architecture is refused. Default: any. */
  architecture?: A;
}

/** A model from a file written by save() (any architecture; an RNN file loads as
 *  'many-to-many'), with its config and tokenizers; the bytes as a Uint8Array (as Node's readFile gives)
 *  or an ArrayBuffer (from fetch's arrayBuffer()). The whole file — config, tokenizers,
 *  every tensor's name, shape and values — is checked before the model is built. */
export async function loadModel<A extends Architecture = Architecture>(bytes: Uint8Array | ArrayBuffer, options: LoadModelOptions<A> = {}): Promise<ModelOf[A]> {
  const where = 'loadModel';
  return loadModelAs(where, bytes, checkLoadModelOptions(where, options, KEYS.loadModel)) as Promise<ModelOf[A]>;
}

/** loadModel's options, checked: an object with no keys but `keys`, a backend and maybe an
 *  architecture. `where` names the function called (loadModel, loadFromIndexedDB, …). */
export function checkLoadModelOptions(where: string, options: unknown, keys: readonly string[]): { backend: Backend; architecture?: Architecture } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  checkKeys(where, 'options', options, keys);
  const o = options as LoadModelOptions;
  const backend = checkBackend(where, 'options.backend', o.backend);
  return { backend, architecture: o.architecture === undefined ? undefined : checkChoice(where, 'options.architecture', o.architecture, ARCHITECTURES) };
}

/** loadModel of bytes from elsewhere (IndexedDB, a Blob), with options already checked: every
 *  error names `where`, the function the user called. */
export async function loadModelAs(where: string, bytes: unknown, options: { backend: Backend; architecture?: Architecture }): Promise<Model> {
  const { backend, architecture: wanted } = options;
  const file = decodeModelFile(where, bytes);
  const saved = configFromFile(where, file);
  if (saved === undefined) {
    throw new TypeError(`${where}: the file carries no rnn-wasm config (a PyTorch state_dict?); create the model with createModel and call loadWeights`);
  }
  const { tokenizers: tokenizerJSON, ...rest } = saved as { tokenizers?: unknown; architecture?: unknown };
  const architecture = rest.architecture ?? 'many-to-many';
  if (wanted !== undefined && wanted !== architecture) {
    throw new TypeError(`${where}: the file holds a ${typeof architecture === 'string' ? `'${architecture}'` : describe(architecture)} model, expected '${wanted}'`);
  }
  const config = { ...rest, architecture } as ModelConfig;
  if (tokenizerJSON !== undefined) (config as { tokenizers?: object }).tokenizers = tokenizersFromFile(where, tokenizerJSON);
  restoreSpecials(config, rest);
  const p = plan(`${where}: the file's config`, config);
  checkTensorCount(where, file, layoutCounts(p.layout), describeSizes(p.resolved));
  const match = matchTensors(where, buildLayout(p.layout), file, {}, false);
  const model = await withEngine(where, backend, (engine) => p.make(engine.kernels, engine.backend));
  model.setWeights(applyTensors(match, model.getWeights()));
  return model;
}

/** The tokenizers a file's config carries, rebuilt (each checked by its own constructor). */
function tokenizersFromFile(where: string, json: unknown): { x?: Tokenizer; y?: Tokenizer } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TypeError(`${where}: the file's tokenizers must be an object { x?, y? }, got ${describe(json)}`);
  }
  checkKeys(where, "the file's tokenizers", json, KEYS.tokenizers);
  const tokenizers: { x?: Tokenizer; y?: Tokenizer } = {};
  for (const k of ['x', 'y'] as const) {
    const t = (json as Record<string, unknown>)[k];
    if (t !== undefined) tokenizers[k] = labelled(`${where}: the file's tokenizers.${k}`, () => tokenizerFromJSON(t as TokenizerJSON));
  }
  return tokenizers;
}

/** Saved configs hold startToken / stopToken as null when unset: give them back as absent. */
function restoreSpecials(config: ModelConfig, saved: object): void {
  const c = config as unknown as Record<string, unknown>;
  for (const k of ['startToken', 'stopToken']) {
    if ((saved as Record<string, unknown>)[k] === null) delete c[k];
  }
}

export type {
  ResolvedEncoderDecoder, ResolvedManyToOne, ResolvedOneToMany, ResolvedOneToOne,
};

// The embedding layer: its config, its checks, and its two kernel calls.
//
// Token ids index the rows of a table W_e (V, E), as nn.Embedding does: the first recurrent
// layer reads x<t> = W_e[id<t>], E values per step, instead of a one-hot vector of V. The
// forward pass is a gather of rows into a dense (T·B, E) input; the backward pass adds
// ∂L/∂x<t> into the rows that were used (assembly/embedding.ts). A padding id's row gets no
// gradient (nn.Embedding's padding_idx); a frozen table gets none at all and lies outside the
// optimizer's range (layout.ts), so no update, weight decay or momentum ever moves it.
//
// V = vocabulary size (the model's n_x, or n_y for a decoder that reads its own outputs),
// E = values per token, T·B = rows of a batch.
// see: https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html
import type { Region } from './arena.js';
import type { EmbeddingSpec, Layout, TensorEntry } from './layout.js';
import { KEYS } from './keys.js';
import { checkBoolean, checkInt, checkKeys, describe } from './validate.js';
import type { Kernels } from './wasm.js';

/** An embedding layer's settings. */
export interface EmbeddingOptions {
  /** E: values per token (nn.Embedding's embedding_dim). */
  size: number;
  /** A token id whose row starts at zero and never gets a gradient (nn.Embedding's
   *  padding_idx), in [0, V); null: none. Default: none. */
  paddingIdx?: number | null;
  /** Keep the table fixed in training: no gradient, and no optimizer step, weight decay or
   *  momentum touches it (e.g. pretrained vectors loaded with setParam). Default false. */
  frozen?: boolean;
}

/** `E`, or the full options. */
export type EmbeddingConfig = number | EmbeddingOptions;

/** An embedding config with every default filled in (as saved in model files). */
export interface ResolvedEmbedding {
  size: number;
  paddingIdx: number | null;
  frozen: boolean;
}

/** A model's table as a stack reads it: where it is, its padding id (−1: none), and whether
 *  its gradient is wanted. */
export interface EmbeddingTable {
  entry: TensorEntry;
  paddingIdx: number;
  frozen: boolean;
}

/** Check an embedding config for a vocabulary of V tokens (`vocab` names V in messages). */
export function resolveEmbedding(where: string, name: string, v: unknown, V: number, vocab: string): ResolvedEmbedding {
  const o = (typeof v === 'number' ? { size: v } : v) as EmbeddingOptions;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new TypeError(`${where}: ${name} must be the embedding size E or { size, paddingIdx?, frozen? }, got ${describe(v)}`);
  }
  checkKeys(where, name, o, KEYS.embedding);
  const size = checkInt(where, typeof v === 'number' ? name : `${name}.size`, o.size);
  let paddingIdx: number | null = null;
  if (o.paddingIdx !== undefined && o.paddingIdx !== null) {
    paddingIdx = checkInt(where, `${name}.paddingIdx`, o.paddingIdx, 0);
    if (paddingIdx >= V) throw new RangeError(`${where}: ${name}.paddingIdx must be a token id in [0, ${vocab}) = [0, ${V}), got ${paddingIdx}`);
  }
  return { size, paddingIdx, frozen: checkBoolean(where, `${name}.frozen`, o.frozen ?? false) };
}

/** X (rows, E) = the table's rows for the ids (rows, i32) — a gather. */
export function embeddingForward(kernels: Kernels, params: Region, table: EmbeddingTable, X: number, ids: number, rows: number): void {
  kernels.embedding_forward(X, ids, params.ptr + 4 * table.entry.offset, rows, table.entry.shape[1]);
}

/** Add ∂L/∂X (rows, E) into the gradient of the rows used, except the padding id's — a
 *  scatter-add. Nothing for a frozen table. */
export function embeddingBackward(kernels: Kernels, grads: Region, table: EmbeddingTable, dX: number, ids: number, rows: number): void {
  if (table.frozen) return;
  kernels.embedding_backward(grads.ptr + 4 * table.entry.offset, dX, ids, rows, table.entry.shape[1], table.paddingIdx);
}

// --- configuration of the models ---

/** The embedding fields of a model that reads tokens through one table. */
export interface TokenEmbeddingConfig {
  /** Read token ids through an embedding table (nn.Embedding) of E values per token instead
   *  of as one-hot columns of W_ax: `E`, or { size, paddingIdx?, frozen? }. Token input only.
   *  Default: none (one-hot). */
  embedding?: EmbeddingConfig;
  /** Tie the output layer's weight to the embedding table, one tensor for both (as language
   *  models do): needs n_y = the vocabulary size and E = the output layer's input width.
   *  Default false. */
  tieWeights?: boolean;
}

/** The resolved fields: present only when set, so configs and files without them are unchanged. */
export interface ResolvedTokenEmbedding {
  embedding?: ResolvedEmbedding;
  tieWeights?: true;
}

/** Check a model's embedding and tieWeights. V: vocabulary size (`vocab` names it); head:
 *  the output layer's shape; `unavailable`: why this model cannot take an embedding (its
 *  input is not tokens), if so. */
export function resolveTokenEmbedding(where: string, c: TokenEmbeddingConfig, V: number, vocab: string,
                                      head: { n_y: number; n_in: number; width: string }, unavailable?: string): ResolvedTokenEmbedding {
  const out: ResolvedTokenEmbedding = {};
  if (c.embedding !== undefined) {
    if (unavailable) throw new TypeError(`${where}: embedding ${unavailable}`);
    out.embedding = resolveEmbedding(where, 'embedding', c.embedding, V, vocab);
  }
  if (c.tieWeights !== undefined && checkBoolean(where, 'tieWeights', c.tieWeights)) {
    out.tieWeights = true;
    checkTie(where, 'embedding', out.embedding, V, vocab, head);
  }
  return out;
}

/** tieWeights needs a trainable table of the output layer's shape. */
export function checkTie(where: string, name: string, e: ResolvedEmbedding | undefined, V: number, vocab: string,
                         head: { n_y: number; n_in: number; width: string }): void {
  if (!e) throw new TypeError(`${where}: tieWeights ties the output layer to the embedding table; give ${name} too`);
  if (head.n_y !== V || head.n_in !== e.size) {
    throw new RangeError(`${where}: tieWeights makes the output layer's weight, (n_y, ${head.width}) = (${head.n_y}, ${head.n_in}), ` +
      `the embedding table, (${vocab}, E) = (${V}, ${e.size}); it needs n_y = ${vocab} and E = ${head.width}`);
  }
  if (e.frozen) throw new TypeError(`${where}: tieWeights with a frozen ${name} would freeze the output layer too; freeze neither, or leave the weights untied`);
}

/** The layout's entry for a table named `name` ('embedding', 'encoder.embedding'). */
export function embeddingSpec(name: string, V: number, e: ResolvedEmbedding, tiedNames?: readonly string[]): EmbeddingSpec {
  return { name, V, E: e.size, frozen: e.frozen, ...(e.paddingIdx === null ? {} : { paddingIdx: e.paddingIdx }), ...(tiedNames ? { tiedNames } : {}) };
}

/** A stack's view of the table named `name` in a layout. */
export function embeddingTable(layout: Layout, name: string, e: ResolvedEmbedding): EmbeddingTable {
  return { entry: layout.embedding(name)!, paddingIdx: e.paddingIdx ?? -1, frozen: e.frozen };
}

/** How a one-stack model lays out with (or without) an embedding: the stack's name prefix
 *  ('rnn.' beside the table 'embedding', as PyTorch nests nn.Embedding and the recurrent
 *  module), the width the stack's first layer reads, the head's tie, and the table. */
export function tokenEmbeddingLayout(e: ResolvedTokenEmbedding, V: number, n_x: number) {
  const emb = e.embedding;
  return {
    prefix: emb ? 'rnn.' : '',
    n_x: emb?.size ?? n_x,
    tied: e.tieWeights ? 'embedding' : undefined,
    embeddings: emb ? [embeddingSpec('embedding', V, emb)] : [],
  };
}

/** Why a model with this input kind cannot take an embedding (undefined: it can). */
export function unlessTokens(input: string): string | undefined {
  return input === 'tokens' ? undefined : `maps token ids and needs input 'tokens', got input '${input}'`;
}

/** The output layer's shape (n_y, D · n_a) as tieWeights checks it. */
export function headShape(n_y: number, n_a: number, bidirectional: boolean) {
  return { n_y, n_in: (bidirectional ? 2 : 1) * n_a, width: bidirectional ? '2 · n_a' : 'n_a' };
}

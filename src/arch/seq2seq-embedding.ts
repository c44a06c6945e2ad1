// The encoder-decoder's embedding tables: which side reads its tokens through one, one table
// shared by source and target, and the output layer tied to the target's table — the config
// checks and where the tables sit in the layout.
//
//   source  x<t>   = W_src[id]     'encoder.embedding.weight' (n_x, E_src)   input 'tokens'
//   target  y<t-1> = W_tgt[id]     'decoder.embedding.weight' (n_y, E_tgt)   output 'softmax'
//   shared  W_src = W_tgt          one tensor under both names (n_x = n_y)
//   tied    W_ya = W_tgt           the head's weight, (n_y, n_a_dec): needs E_tgt = n_a_dec
//
// A side with a table keeps its recurrent tensors under '<side>.rnn.' (PyTorch's nesting of
// nn.Embedding and the recurrent module in one encoder or decoder module).
import type { InputKind, OutputKind } from '../data.js';
import {
  checkTie, embeddingSpec, embeddingTable, resolveEmbedding, type EmbeddingConfig, type EmbeddingTable, type ResolvedEmbedding,
} from '../embedding.js';
import type { EmbeddingSpec, Layout } from '../layout.js';
import { checkBoolean } from '../validate.js';

/** The config fields this file reads. */
interface TablesConfig {
  embedding?: EmbeddingConfig;
  shareEmbeddings?: boolean;
  tieWeights?: boolean;
  encoder?: { embedding?: EmbeddingConfig };
  decoder?: { embedding?: EmbeddingConfig };
}

/** The resolved tables: each side's embedding (absent: none) and the flags (absent: false). */
export interface ResolvedTables {
  encoder: { embedding?: ResolvedEmbedding };
  decoder: { embedding?: ResolvedEmbedding };
  flags: { shareEmbeddings?: true; tieWeights?: true };
}

/** What resolveTables needs to know of the model. */
interface Sides {
  input: InputKind;
  output: OutputKind;
  n_x: number;
  n_y: number;
  /** The decoder's hidden size: the head's input width. */
  n_a: number;
}

/** Check the embedding fields: a side's own embedding, else the top-level one for each side
 *  that reads tokens; then sharing and tying. */
export function resolveTables(where: string, c: TablesConfig, m: Sides): ResolvedTables {
  const out: ResolvedTables = { encoder: {}, decoder: {}, flags: {} };
  const sides = [
    { name: 'encoder', own: c.encoder?.embedding, reads: m.input === 'tokens', V: m.n_x, vocab: 'n_x', needs: `input 'tokens', got input '${m.input}'` },
    { name: 'decoder', own: c.decoder?.embedding, reads: m.output === 'softmax', V: m.n_y, vocab: 'n_y', needs: `output 'softmax', got output '${m.output}'` },
  ] as const;
  for (const s of sides) {
    if (s.own !== undefined && !s.reads) throw new TypeError(`${where}: ${s.name}.embedding maps token ids and needs ${s.needs}`);
    const given = s.own ?? (s.reads ? c.embedding : undefined);
    if (given !== undefined) out[s.name].embedding = resolveEmbedding(where, s.own !== undefined ? `${s.name}.embedding` : 'embedding', given, s.V, s.vocab);
  }
  if (c.embedding !== undefined && !sides.some((s) => s.reads)) {
    throw new TypeError(`${where}: embedding maps token ids; this model reads none (input '${m.input}', output '${m.output}')`);
  }
  const src = out.encoder.embedding, tgt = out.decoder.embedding;
  if (c.shareEmbeddings !== undefined && checkBoolean(where, 'shareEmbeddings', c.shareEmbeddings)) {
    if (!src || !tgt) throw new TypeError(`${where}: shareEmbeddings needs an embedding on both sides (input 'tokens', output 'softmax')`);
    if (m.n_x !== m.n_y) throw new RangeError(`${where}: shareEmbeddings needs one vocabulary for source and target, got n_x = ${m.n_x} and n_y = ${m.n_y}`);
    if (JSON.stringify(src) !== JSON.stringify(tgt)) {
      throw new RangeError(`${where}: shareEmbeddings needs the same embedding settings on both sides, got ${JSON.stringify(src)} and ${JSON.stringify(tgt)}`);
    }
    out.flags.shareEmbeddings = true;
  }
  if (c.tieWeights !== undefined && checkBoolean(where, 'tieWeights', c.tieWeights)) {
    checkTie(where, 'decoder.embedding', tgt, m.n_y, 'n_y', { n_y: m.n_y, n_in: m.n_a, width: 'decoder.n_a' });
    out.flags.tieWeights = true;
  }
  return out;
}

/** How the tables lay out: each side's stack prefix and first-layer width, the tables, and
 *  the table the head is tied to. */
export function tablesLayout(c: { n_x: number; n_y: number; encoder: { embedding?: ResolvedEmbedding }; decoder: { embedding?: ResolvedEmbedding } }
  & ResolvedTables['flags']) {
  const src = c.encoder.embedding, tgt = c.decoder.embedding;
  const embeddings: EmbeddingSpec[] = [];
  if (c.shareEmbeddings) embeddings.push(embeddingSpec('encoder.embedding', c.n_x, src!, ['decoder.embedding.weight']));
  else {
    if (src) embeddings.push(embeddingSpec('encoder.embedding', c.n_x, src));
    if (tgt) embeddings.push(embeddingSpec('decoder.embedding', c.n_y, tgt));
  }
  return {
    encoder: { prefix: src ? 'encoder.rnn.' : 'encoder.', n_x: src?.size ?? c.n_x },
    decoder: { prefix: tgt ? 'decoder.rnn.' : 'decoder.', n_x: tgt?.size ?? c.n_y },
    embeddings,
    tied: c.tieWeights ? targetTableName(c) : undefined,
  };
}

/** Each stack's view of its table in a built layout. */
export function tables(layout: Layout, c: Parameters<typeof tablesLayout>[0]): { source?: EmbeddingTable; target?: EmbeddingTable } {
  const src = c.encoder.embedding, tgt = c.decoder.embedding;
  return {
    source: src && embeddingTable(layout, 'encoder.embedding', src),
    target: tgt && embeddingTable(layout, targetTableName(c), tgt),
  };
}

function targetTableName(c: { shareEmbeddings?: true }): string {
  return c.shareEmbeddings ? 'encoder.embedding' : 'decoder.embedding';
}

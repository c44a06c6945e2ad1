// Tokenizers: text ↔ token ids for models with token input or softmax output.
//
// A vocabulary is a list of strings; a token's id is its index. Special tokens come first,
// in a fixed order (<unk>, <s>, </s> — those the vocabulary has), then the ordinary tokens.
// A CharTokenizer splits text into characters (Unicode code points); a WordTokenizer takes
// lists of words (or splits a string on whitespace). Both encode unknown tokens as <unk>
// when the vocabulary has one and refuse them otherwise, and save to plain JSON, which a
// model file carries next to its config so that loading gives back the same ids.

import { KEYS } from './keys.js';
import { checkInt, checkKeys, checkObject, describe } from './validate.js';

/** Which special tokens a vocabulary holds, and their strings. */
export interface SpecialTokens {
  /** Stands for any token not in the vocabulary. Default '<unk>'; false: none (unknown tokens are an error). */
  unk?: string | false;
  /** Start of a sequence (a decoder's first input). Default '<s>'; false: none. */
  bos?: string | false;
  /** End of a sequence (the stop token). Default '</s>'; false: none. */
  eos?: string | false;
}

export interface EncodeOptions {
  /** Put the start token first. Default false. */
  bos?: boolean;
  /** Put the stop token last. Default false. */
  eos?: boolean;
}

export interface DecodeOptions {
  /** Leave the start and stop tokens out, and stop at the first stop token. Default true. */
  skipSpecial?: boolean;
}

/** A tokenizer as plain JSON (what toJSON returns and tokenizerFromJSON takes). */
export interface TokenizerJSON {
  kind: 'char' | 'word';
  /** Every token, by id. */
  tokens: string[];
  /** Ids of the special tokens the vocabulary has. */
  unk?: number;
  bos?: number;
  eos?: number;
}

export interface BuildOptions extends SpecialTokens {
  /** Keep only tokens seen at least this often. Default 1. */
  minCount?: number;
  /** Keep at most this many tokens (the most frequent; ties by first appearance), specials
   *  not counted. Default: all. */
  maxTokens?: number;
}

const DEFAULT_SPECIALS = { unk: '<unk>', bos: '<s>', eos: '</s>' } as const;

/** What both tokenizers share: the vocabulary, special ids, ids ↔ strings, JSON. */
abstract class Vocabulary {
  /** Every token, by id (a copy is returned by toJSON). */
  readonly tokens: readonly string[];
  /** Id of the unknown token, if the vocabulary has one. */
  readonly unk?: number;
  /** Id of the start token, if any. */
  readonly bos?: number;
  /** Id of the stop token, if any. */
  readonly eos?: number;
  abstract readonly kind: 'char' | 'word';
  private readonly ids: Map<string, number>;

  protected constructor(where: string, json: Omit<TokenizerJSON, 'kind'>) {
    if (!Array.isArray(json.tokens) || json.tokens.length === 0) {
      throw new TypeError(`${where}: tokens must be a non-empty array of strings, got ${describe(json.tokens)}`);
    }
    this.ids = new Map();
    json.tokens.forEach((t, i) => {
      if (typeof t !== 'string') throw new TypeError(`${where}: tokens[${i}] must be a string, got ${describe(t)}`);
      if (this.ids.has(t)) throw new RangeError(`${where}: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
    this.tokens = Object.freeze([...json.tokens]);
    const special = (name: 'unk' | 'bos' | 'eos') => {
      const id = json[name];
      if (id === undefined) return undefined;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
        throw new RangeError(`${where}: ${name} must be a token id in [0, ${this.tokens.length}), got ${describe(id)}`);
      }
      return id;
    };
    this.unk = special('unk');
    this.bos = special('bos');
    this.eos = special('eos');
  }

  /** Number of tokens: the model's n_x (input) or n_y (output). */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of one token string, or the unknown token's id (undefined when there is none). */
  id(token: string): number | undefined {
    return this.ids.get(token) ?? this.unk;
  }

  /** The token strings of some ids (specials included). */
  toTokens(ids: ArrayLike<number>): string[] {
    return Array.from(this.checkIds('toTokens', ids), (i) => this.tokens[i]);
  }

  toJSON(): TokenizerJSON {
    const json: TokenizerJSON = { kind: this.kind, tokens: [...this.tokens] };
    if (this.unk !== undefined) json.unk = this.unk;
    if (this.bos !== undefined) json.bos = this.bos;
    if (this.eos !== undefined) json.eos = this.eos;
    return json;
  }

  protected encodeTokens(where: string, pieces: readonly string[], options: EncodeOptions): number[] {
    checkObject(where, 'options', options, KEYS.encode);
    const out: number[] = [];
    if (options.bos) out.push(this.need(where, 'bos'));
    pieces.forEach((p, i) => {
      const id = this.ids.get(p) ?? this.unk;
      if (id === undefined) {
        throw new RangeError(`${where}: token ${JSON.stringify(p)} at position ${i} is not in the vocabulary, which has no unknown token`);
      }
      out.push(id);
    });
    if (options.eos) out.push(this.need(where, 'eos'));
    return out;
  }

  /** Ids → token strings, leaving out start/stop tokens and ending at the first stop token. */
  protected decodeTokens(where: string, ids: ArrayLike<number>, options: DecodeOptions): string[] {
    checkObject(where, 'options', options, KEYS.decode);
    const skip = options.skipSpecial ?? true;
    const out: string[] = [];
    for (const i of Array.from(this.checkIds(where, ids))) {
      if (skip && i === this.eos) break;
      if (skip && i === this.bos) continue;
      out.push(this.tokens[i]);
    }
    return out;
  }

  private need(where: string, name: 'bos' | 'eos'): number {
    const id = this[name];
    if (id === undefined) throw new RangeError(`${where}: the vocabulary has no ${name === 'bos' ? 'start' : 'stop'} token (${name})`);
    return id;
  }

  private checkIds(where: string, ids: ArrayLike<number>): ArrayLike<number> {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) throw new TypeError(`${where}: ids must be an array of token ids, got ${describe(ids)}`);
    for (let t = 0; t < ids.length; t++) {
      const i = ids[t];
      if (typeof i !== 'number' || !Number.isInteger(i)) throw new TypeError(`${where}: ids[${t}] must be an integer token id, got ${describe(i)}`);
      if (i < 0 || i >= this.tokens.length) throw new RangeError(`${where}: ids[${t}] = ${i} is out of range; token ids must be in [0, ${this.tokens.length})`);
    }
    return ids;
  }
}

/** Characters (Unicode code points) as tokens. */
export class CharTokenizer extends Vocabulary {
  readonly kind = 'char' as const;

  /** From a vocabulary (e.g. toJSON().tokens), or use CharTokenizer.fromText. */
  constructor(json: Omit<TokenizerJSON, 'kind'>) {
    super('CharTokenizer', json);
  }

  /** A vocabulary of the characters in `text` (a string or several), sorted, after the
   *  special tokens. */
  static fromText(text: string | readonly string[], options: BuildOptions = {}): CharTokenizer {
    const where = 'CharTokenizer.fromText';
    const texts = typeof text === 'string' ? [text] : text;
    if (!Array.isArray(texts)) throw new TypeError(`${where}: text must be a string or an array of strings, got ${describe(text)}`);
    const pieces: string[] = [];
    texts.forEach((s, i) => {
      if (typeof s !== 'string') throw new TypeError(`${where}: text[${i}] must be a string, got ${describe(s)}`);
      for (const ch of s) pieces.push(ch);
    });
    return new CharTokenizer(build(where, pieces, options, true));
  }

  /** Text → ids, one per character. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') throw new TypeError(`CharTokenizer.encode: text must be a string, got ${describe(text)}`);
    return this.encodeTokens('CharTokenizer.encode', Array.from(text), options);
  }

  /** Ids → text. The unknown token decodes as its string ('<unk>'). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return this.decodeTokens('CharTokenizer.decode', ids, options).join('');
  }
}

/** Words as tokens. */
export class WordTokenizer extends Vocabulary {
  readonly kind = 'word' as const;

  /** From a vocabulary (e.g. toJSON().tokens), or use WordTokenizer.fromTokens. */
  constructor(json: Omit<TokenizerJSON, 'kind'>) {
    super('WordTokenizer', json);
    for (const t of this.tokens) {
      if (t === '' || /\s/.test(t)) throw new RangeError(`WordTokenizer: token ${JSON.stringify(t)} is empty or holds whitespace; words are split on whitespace`);
    }
  }

  /** A vocabulary of the words in a list of tokens (or of sentences, each a list of tokens),
   *  most frequent first, after the special tokens. */
  static fromTokens(tokens: readonly string[] | readonly (readonly string[])[], options: BuildOptions = {}): WordTokenizer {
    const where = 'WordTokenizer.fromTokens';
    if (!Array.isArray(tokens)) throw new TypeError(`${where}: tokens must be an array of words (or of arrays of words), got ${describe(tokens)}`);
    const words = (tokens as unknown[]).flat();
    words.forEach((w, i) => {
      if (typeof w !== 'string') throw new TypeError(`${where}: token ${i} must be a string, got ${describe(w)}`);
    });
    return new WordTokenizer(build(where, words as string[], options, false));
  }

  /** Words → ids; a string is split on whitespace. */
  encode(words: string | readonly string[], options: EncodeOptions = {}): number[] {
    const where = 'WordTokenizer.encode';
    if (typeof words === 'string') words = words.split(/\s+/).filter((w) => w !== '');
    if (!Array.isArray(words)) throw new TypeError(`${where}: words must be a string or an array of strings, got ${describe(words)}`);
    return this.encodeTokens(where, words, options);
  }

  /** Ids → words joined by single spaces. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return this.decodeTokens('WordTokenizer.decode', ids, options).join(' ');
  }
}

export type Tokenizer = CharTokenizer | WordTokenizer;

/** A tokenizer from its JSON (toJSON(), or a model file's metadata). */
export function tokenizerFromJSON(json: TokenizerJSON): Tokenizer {
  if (typeof json !== 'object' || json === null) throw new TypeError(`tokenizerFromJSON: json must be an object, got ${describe(json)}`);
  checkKeys('tokenizerFromJSON', 'json', json, KEYS.tokenizerJSON);
  if (json.kind === 'char') return new CharTokenizer(json);
  if (json.kind === 'word') return new WordTokenizer(json);
  throw new TypeError(`tokenizerFromJSON: kind must be 'char' or 'word', got ${describe(json.kind)}`);
}

export function isTokenizer(v: unknown): v is Tokenizer {
  return v instanceof CharTokenizer || v instanceof WordTokenizer;
}

/** Count pieces, filter and order them, and put the specials first. */
function build(where: string, pieces: readonly string[], options: BuildOptions, sortByText: boolean): Omit<TokenizerJSON, 'kind'> {
  checkObject(where, 'options', options, KEYS.tokenizerBuild);
  const minCount = checkInt(where, 'minCount', options.minCount ?? 1);
  const maxTokens = options.maxTokens === undefined ? undefined : checkInt(where, 'maxTokens', options.maxTokens);
  const specials: [keyof SpecialTokens, string][] = [];
  for (const name of ['unk', 'bos', 'eos'] as const) {
    const s = options[name] ?? DEFAULT_SPECIALS[name];
    if (s === false) continue;
    if (typeof s !== 'string' || s === '') throw new TypeError(`${where}: ${name} must be a non-empty string or false, got ${describe(s)}`);
    if (specials.some(([, t]) => t === s)) throw new RangeError(`${where}: special tokens must differ; ${JSON.stringify(s)} is used twice`);
    specials.push([name, s]);
  }
  const counts = new Map<string, number>();
  for (const p of pieces) counts.set(p, (counts.get(p) ?? 0) + 1);
  const reserved = new Set(specials.map(([, s]) => s));
  let kept = [...counts.keys()].filter((p) => counts.get(p)! >= minCount && !reserved.has(p));
  // most frequent first (stable, so ties keep first appearance)
  if (maxTokens !== undefined || !sortByText) kept.sort((a, b) => counts.get(b)! - counts.get(a)!);
  if (maxTokens !== undefined) kept = kept.slice(0, maxTokens);
  if (sortByText) kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (kept.length === 0) throw new RangeError(`${where}: no token is left to make a vocabulary of (${pieces.length} given, minCount ${minCount})`);
  const json: Omit<TokenizerJSON, 'kind'> = { tokens: [...specials.map(([, s]) => s), ...kept] };
  specials.forEach(([name], i) => { json[name] = i; });
  return json;
}

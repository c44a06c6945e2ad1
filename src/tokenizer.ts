// Tokenizers: text ↔ token ids for models with token input or softmax output.
//
// A vocabulary is a list of strings; a token's id is its index. Special tokens come first,
// in a fixed order (<unk>, <s>, </s> — those the vocabulary has), then the ordinary tokens,
// most frequent first, sorted, or in order of first appearance; a label vocabulary
// (fromLabels) keeps exactly the order it is given. A CharTokenizer splits text into
// characters (Unicode code points); a WordTokenizer takes lists of words, or splits text on
// whitespace or into words and punctuation marks. Either may fold case. A token not in the
// vocabulary becomes <unk>, or a given id, or is dropped, or refused (the `unknown` policy).
// Everything that changes the ids is saved in the plain JSON a model file carries next to its
// config, so that loading gives back the same ids.

import { KEYS } from './keys.js';
import { checkBoolean, checkChoice, checkInt, checkKeys, checkObject, describe } from './validate.js';

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

/** What encode does with a token not in the vocabulary: 'unk' maps it to the unknown token,
 *  a number maps it to that id, 'skip' leaves it out, 'error' refuses it. */
export type UnknownPolicy = 'unk' | 'skip' | 'error' | number;

/** How a WordTokenizer cuts a string: at whitespace, or into words (letters and digits, with
 *  inner apostrophes: "don't") and single punctuation marks ("Darcy," → "Darcy", ","). */
export type WordSplit = 'whitespace' | 'words';

/** A tokenizer as plain JSON (what toJSON returns and tokenizerFromJSON takes). */
export interface TokenizerJSON {
  kind: 'char' | 'word';
  /** Every token, by id. */
  tokens: string[];
  /** Ids of the special tokens the vocabulary has. */
  unk?: number;
  bos?: number;
  eos?: number;
  /** Fold text to lower case before looking tokens up. Default false. */
  lowercase?: boolean;
  /** Unknown tokens. Default 'unk' when the vocabulary has an unknown token, else 'error'. */
  unknown?: UnknownPolicy;
  /** WordTokenizer: how strings are cut. Default 'whitespace'. */
  split?: WordSplit;
}

export interface BuildOptions extends SpecialTokens {
  /** Keep only tokens seen at least this often. Default 1. */
  minCount?: number;
  /** Keep at most this many tokens (the most frequent; ties by first appearance), specials
   *  not counted: the vocabulary's size is maxTokens + the special tokens. Default: all. */
  maxTokens?: number;
  /** Order of the ordinary tokens: 'frequency' (most frequent first, ties by first
   *  appearance), 'sorted' (by code unit) or 'first' (first appearance). Default: 'sorted'
   *  for characters, 'frequency' for words. */
  order?: 'frequency' | 'sorted' | 'first';
  /** Fold text to lower case, when building and when encoding. Default false. */
  lowercase?: boolean;
  /** Unknown tokens when encoding. Default 'unk' when the vocabulary has one, else 'error'. */
  unknown?: UnknownPolicy;
}

/** WordTokenizer.fromText's options. */
export interface WordBuildOptions extends BuildOptions {
  /** How text is cut into words, when building and when encoding. Default 'whitespace'. */
  split?: WordSplit;
}

const DEFAULT_SPECIALS = { unk: '<unk>', bos: '<s>', eos: '</s>' } as const;
/** CharTokenizer's remembered lookups: not looked up yet, and looked up without an id. */
const UNSEEN = -2, NONE = -1;

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
  /** Whether text is folded to lower case before lookup. */
  readonly lowercase: boolean;
  /** What encode does with a token not in the vocabulary. */
  readonly unknown: UnknownPolicy;
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
    this.lowercase = json.lowercase === undefined ? false : checkBoolean(where, 'lowercase', json.lowercase);
    this.unknown = checkUnknown(where, json.unknown ?? (this.unk === undefined ? 'error' : 'unk'), this.unk, this.tokens.length);
  }

  /** Number of tokens: the model's n_x (input) or n_y (output). */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of one token string (case-folded if the tokenizer folds case), or what the
   *  unknown policy maps it to (undefined when it skips or refuses unknown tokens). */
  id(token: string): number | undefined {
    return this.ids.get(this.lowercase ? token.toLowerCase() : token) ?? this.unknownId();
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
    if (this.lowercase) json.lowercase = true;
    if (this.unknown !== (this.unk === undefined ? 'error' : 'unk')) json.unknown = this.unknown;
    return json;
  }

  protected encodeTokens(where: string, pieces: readonly string[], options: EncodeOptions): number[] {
    checkObject(where, 'options', options, KEYS.encode);
    const out: number[] = [];
    if (options.bos) out.push(this.need(where, 'bos'));
    for (let i = 0; i < pieces.length; i++) {
      const id = this.lookup(pieces[i]);
      if (id !== undefined) out.push(id);
      else this.unknownPiece(where, pieces[i], i);
    }
    if (options.eos) out.push(this.need(where, 'eos'));
    return out;
  }

  /** A piece's id (case-folded if the tokenizer folds case), or what the unknown policy maps
   *  it to; undefined when the policy skips or refuses it. */
  protected lookup(piece: string): number | undefined {
    return this.ids.get(this.lowercase ? piece.toLowerCase() : piece) ?? this.unknownId();
  }

  /** A piece with no id: refused under the 'error' policy, else (skip) left out. */
  protected unknownPiece(where: string, piece: string, position: number): void {
    if (this.unknown !== 'error') return;
    throw new RangeError(`${where}: token ${JSON.stringify(piece)} at position ${position} is not in the vocabulary, ` +
      (this.unk === undefined ? 'which has no unknown token' : "and the tokenizer's unknown policy is 'error'"));
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

  private unknownId(): number | undefined {
    return this.unknown === 'unk' ? this.unk : typeof this.unknown === 'number' ? this.unknown : undefined;
  }

  protected need(where: string, name: 'bos' | 'eos'): number {
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
  /** Ids of UTF-16 units looked up so far (UNSEEN, NONE: no id). */
  private codes?: Int32Array;

  /** From a vocabulary (e.g. toJSON().tokens), or use CharTokenizer.fromText. */
  constructor(json: Omit<TokenizerJSON, 'kind'>) {
    super('CharTokenizer', json);
  }

  /** A vocabulary of the characters in `text` (a string or several), sorted (or as
   *  options.order says), after the special tokens. */
  static fromText(text: string | readonly string[], options: BuildOptions = {}): CharTokenizer {
    const where = 'CharTokenizer.fromText';
    const texts = typeof text === 'string' ? [text] : text;
    if (!Array.isArray(texts)) throw new TypeError(`${where}: text must be a string or an array of strings, got ${describe(text)}`);
    const pieces: string[] = [];
    texts.forEach((s, i) => {
      if (typeof s !== 'string') throw new TypeError(`${where}: text[${i}] must be a string, got ${describe(s)}`);
      for (const ch of s) pieces.push(ch);
    });
    return new CharTokenizer(build(where, pieces, options, 'sorted'));
  }

  /** Text → ids, one per character (code point). */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const where = 'CharTokenizer.encode';
    if (typeof text !== 'string') throw new TypeError(`${where}: text must be a string, got ${describe(text)}`);
    checkObject(where, 'options', options, KEYS.encode);
    // lookups of single UTF-16 units are remembered: streamed text is encoded a chunk at a time
    const codes = (this.codes ??= new Int32Array(65536).fill(UNSEEN));
    const out: number[] = [];
    if (options.bos) out.push(this.need(where, 'bos'));
    for (let i = 0, position = 0; i < text.length; i++, position++) {
      const c = text.charCodeAt(i);
      const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      let id: number | undefined;
      if (pair) id = this.lookup(text.slice(i, i + 2));
      else {
        if (codes[c] === UNSEEN) codes[c] = this.lookup(text[i]) ?? NONE;
        id = codes[c] === NONE ? undefined : codes[c];
      }
      if (id !== undefined) out.push(id);
      else this.unknownPiece(where, pair ? text.slice(i, i + 2) : text[i], position);
      if (pair) i++;
    }
    if (options.eos) out.push(this.need(where, 'eos'));
    return out;
  }

  /** Ids → text. The unknown token decodes as its string ('<unk>'). */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return this.decodeTokens('CharTokenizer.decode', ids, options).join('');
  }
}

/** Words as tokens. */
export class WordTokenizer extends Vocabulary {
  readonly kind = 'word' as const;

  /** How encode cuts a string into words. */
  readonly split: WordSplit;

  /** From a vocabulary (e.g. toJSON().tokens), or use WordTokenizer.fromText / fromTokens / fromLabels. */
  constructor(json: Omit<TokenizerJSON, 'kind'>) {
    super('WordTokenizer', json);
    for (const t of this.tokens) {
      if (t === '' || /\s/.test(t)) throw new RangeError(`WordTokenizer: token ${JSON.stringify(t)} is empty or holds whitespace; words are split on whitespace`);
    }
    this.split = json.split === undefined ? 'whitespace' : checkSplit('WordTokenizer', json.split);
  }

  /** A vocabulary of the words of `text` (a string or several), cut as options.split says,
   *  most frequent first (or as options.order says), after the special tokens. */
  static fromText(text: string | readonly string[], options: WordBuildOptions = {}): WordTokenizer {
    const where = 'WordTokenizer.fromText';
    const texts = typeof text === 'string' ? [text] : text;
    if (!Array.isArray(texts)) throw new TypeError(`${where}: text must be a string or an array of strings, got ${describe(text)}`);
    checkObject(where, 'options', options, KEYS.wordTextBuild);
    const split = options.split === undefined ? 'whitespace' : checkSplit(where, options.split);
    const words = texts.flatMap((s, i) => {
      if (typeof s !== 'string') throw new TypeError(`${where}: text[${i}] must be a string, got ${describe(s)}`);
      return splitWords(s, split);
    });
    return new WordTokenizer({ ...build(where, words, options, 'frequency', KEYS.wordTextBuild), ...(split === 'whitespace' ? {} : { split }) });
  }

  /** A label vocabulary (tags, classes): exactly these labels, in this order, ids 0, 1, …,
   *  with no special tokens; an unknown label is refused. */
  static fromLabels(labels: readonly string[]): WordTokenizer {
    const where = 'WordTokenizer.fromLabels';
    if (!Array.isArray(labels)) throw new TypeError(`${where}: labels must be an array of strings, got ${describe(labels)}`);
    return new WordTokenizer({ tokens: [...labels] });
  }

  /** A vocabulary of the words in a list of tokens (or of sentences, each a list of tokens),
   *  most frequent first (or as options.order says), after the special tokens. */
  static fromTokens(tokens: readonly string[] | readonly (readonly string[])[], options: BuildOptions = {}): WordTokenizer {
    const where = 'WordTokenizer.fromTokens';
    if (!Array.isArray(tokens)) throw new TypeError(`${where}: tokens must be an array of words (or of arrays of words), got ${describe(tokens)}`);
    const words = (tokens as unknown[]).flat();
    words.forEach((w, i) => {
      if (typeof w !== 'string') throw new TypeError(`${where}: token ${i} must be a string, got ${describe(w)}`);
    });
    return new WordTokenizer(build(where, words as string[], options, 'frequency'));
  }

  /** A vocabulary from word counts — a Map, or [word, count] pairs — made as the data streams
   *  past (rnn-wasm/node's readWords, wordsOf), so a corpus of any size never has to be one
   *  string or one array: most frequent first (ties by order in `counts`, which for a Map
   *  filled as the words come is first appearance), or as options.order says; the same
   *  vocabulary as fromText or fromTokens on the words counted. `split` says how encode cuts
   *  strings, as for fromText (count the words cut the same way). */
  static fromCounts(counts: ReadonlyMap<string, number> | Iterable<readonly [string, number]>, options: WordBuildOptions = {}): WordTokenizer {
    const where = 'WordTokenizer.fromCounts';
    if (typeof counts !== 'object' || counts === null || !(Symbol.iterator in counts)) {
      throw new TypeError(`${where}: counts must be a Map of word → count or an iterable of [word, count] pairs, got ${describe(counts)}`);
    }
    const parsed = buildOptions(where, options, 'frequency', KEYS.wordTextBuild);
    const split = options.split === undefined ? 'whitespace' : checkSplit(where, options.split);
    const merged = new Map<string, number>();
    let i = 0;
    for (const pair of counts as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`${where}: counts entry ${i} must be a [word, count] pair, got ${describe(pair)}`);
      const [word, count] = pair as [unknown, unknown];
      if (typeof word !== 'string') throw new TypeError(`${where}: counts entry ${i} must have a string word, got ${describe(word)}`);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
        throw new RangeError(`${where}: the count of ${JSON.stringify(word)} (entry ${i}) must be a whole number ≥ 1, got ${describe(count)}`);
      }
      const key = parsed.lowercase ? word.toLowerCase() : word;
      merged.set(key, (merged.get(key) ?? 0) + count);
      i++;
    }
    return new WordTokenizer({ ...fromCounts(where, merged, i, options, parsed), ...(split === 'whitespace' ? {} : { split }) });
  }

  /** Words → ids; a string is cut as `split` says (at whitespace by default). */
  encode(words: string | readonly string[], options: EncodeOptions = {}): number[] {
    const where = 'WordTokenizer.encode';
    if (typeof words === 'string') words = splitWords(words, this.split);
    if (!Array.isArray(words)) throw new TypeError(`${where}: words must be a string or an array of strings, got ${describe(words)}`);
    return this.encodeTokens(where, words, options);
  }

  /** Ids → words joined by single spaces. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return this.decodeTokens('WordTokenizer.decode', ids, options).join(' ');
  }

  override toJSON(): TokenizerJSON {
    return this.split === 'whitespace' ? super.toJSON() : { ...super.toJSON(), split: this.split };
  }
}

/** A string cut into words: at whitespace, or into words and punctuation marks. */
export function splitWords(text: string, split: WordSplit): string[] {
  if (split === 'whitespace') return text.split(/\s+/).filter((w) => w !== '');
  return text.match(/[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]/gu) ?? [];
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
function build(where: string, pieces: readonly string[], options: BuildOptions, order: 'frequency' | 'sorted',
               keys: readonly string[] = KEYS.tokenizerBuild): Omit<TokenizerJSON, 'kind'> {
  const o = buildOptions(where, options, order, keys);
  const counts = new Map<string, number>();
  for (const piece of pieces) {
    const p = o.lowercase ? piece.toLowerCase() : piece;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return fromCounts(where, counts, pieces.length, options, o);
}

interface ParsedBuild {
  minCount: number;
  maxTokens?: number;
  lowercase: boolean;
  sortBy: 'frequency' | 'sorted' | 'first';
}

function buildOptions(where: string, options: BuildOptions, order: 'frequency' | 'sorted', keys: readonly string[]): ParsedBuild {
  checkObject(where, 'options', options, keys);
  const minCount = checkInt(where, 'minCount', options.minCount ?? 1);
  const maxTokens = options.maxTokens === undefined ? undefined : checkInt(where, 'maxTokens', options.maxTokens);
  const lowercase = options.lowercase === undefined ? false : checkBoolean(where, 'lowercase', options.lowercase);
  const sortBy = checkChoice(where, 'order', options.order ?? order, ['frequency', 'sorted', 'first'] as const);
  return { minCount, maxTokens, lowercase, sortBy };
}

/** Filter and order counted pieces (a Map in order of first appearance, case already folded
 *  if asked), and put the specials first. `given` counts what was counted, for the error. */
function fromCounts(where: string, counts: ReadonlyMap<string, number>, given: number, options: BuildOptions,
                    { minCount, maxTokens, lowercase, sortBy }: ParsedBuild): Omit<TokenizerJSON, 'kind'> {
  const specials: [keyof SpecialTokens, string][] = [];
  for (const name of ['unk', 'bos', 'eos'] as const) {
    const s = options[name] ?? DEFAULT_SPECIALS[name];
    if (s === false) continue;
    if (typeof s !== 'string' || s === '') throw new TypeError(`${where}: ${name} must be a non-empty string or false, got ${describe(s)}`);
    if (specials.some(([, t]) => t === s)) throw new RangeError(`${where}: special tokens must differ; ${JSON.stringify(s)} is used twice`);
    specials.push([name, s]);
  }
  const reserved = new Set(specials.map(([, s]) => s));
  const first = new Map([...counts.keys()].map((p, i) => [p, i]));     // a Map's keys are in order of first appearance
  let kept = [...counts.keys()].filter((p) => counts.get(p)! >= minCount && !reserved.has(p));
  const byCount = (a: string, b: string) => counts.get(b)! - counts.get(a)!;   // stable: ties keep first appearance
  if (maxTokens !== undefined) kept = kept.sort(byCount).slice(0, maxTokens);
  if (sortBy === 'frequency') kept.sort(byCount);
  if (sortBy === 'sorted') kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (sortBy === 'first') kept.sort((a, b) => first.get(a)! - first.get(b)!);
  if (kept.length === 0) throw new RangeError(`${where}: no token is left to make a vocabulary of (${given} given, minCount ${minCount})`);
  const json: Omit<TokenizerJSON, 'kind'> = { tokens: [...specials.map(([, s]) => s), ...kept] };
  specials.forEach(([name], i) => { json[name] = i; });
  if (lowercase) json.lowercase = true;
  if (options.unknown !== undefined) json.unknown = options.unknown;
  return json;
}

function checkSplit(where: string, v: unknown): WordSplit {
  if (v !== 'whitespace' && v !== 'words') throw new TypeError(`${where}: split must be 'whitespace' or 'words', got ${describe(v)}`);
  return v;
}

/** An unknown policy, checked against the vocabulary: 'unk' needs an unknown token, an id
 *  must be one of the vocabulary's. */
function checkUnknown(where: string, v: unknown, unk: number | undefined, size: number): UnknownPolicy {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v >= size) throw new RangeError(`${where}: unknown must be a token id in [0, ${size}), got ${v}`);
    return v;
  }
  if (v !== 'unk' && v !== 'skip' && v !== 'error') throw new TypeError(`${where}: unknown must be 'unk', 'skip', 'error' or a token id, got ${describe(v)}`);
  if (v === 'unk' && unk === undefined) throw new RangeError(`${where}: unknown 'unk' needs an unknown token in the vocabulary (unk: false removed it)`);
  return v;
}

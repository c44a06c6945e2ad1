/// <reference types="node" />
// `rnn-wasm sample MODEL`: text from a language model, written to stdout token by token as it
// is generated. The prime text sets the state (and is printed first; what the tokenizer does
// not know is fed as <unk>, with a warning on stderr); each next token is drawn from the
// model's distribution reshaped by temperature, top-k and top-p (the model's stream(), the
// library's sampler in wasm), printed, and fed back. --temperature 0 is greedy. A seed fixes the text; without one a seed
// is drawn and reported on stderr, so any sample can be made again.
import { once } from 'node:events';
import { splitWords, type Tokenizer } from '../index.js';
import { helpText, parseCommand, UsageError, type CommandSpec } from './args.js';
import { loadLanguageModel } from './model-file.js';

export const sampleSpec: CommandSpec = {
  name: 'sample',
  summary: 'Generate text from a model, streamed to stdout as it is generated.',
  positionals: [{ name: 'model', help: 'a model file written by rnn-wasm train' }],
  flags: {
    length: { type: 'int', min: 0, default: 500, help: 'tokens to generate' },
    temperature: { type: 'number', min: 0, default: 0.8, placeholder: 'T', help: 'below 1 safer, above 1 wilder; 0 always takes the most likely token' },
    'top-k': { type: 'int', min: 1, placeholder: 'K', help: 'draw only among the K most likely tokens' },
    'top-p': { type: 'number', min: 0, minExclusive: true, max: 1, placeholder: 'P', help: 'draw only among the most likely tokens that make up probability P' },
    prime: { type: 'string', placeholder: 'TEXT', help: 'text to start from (default: a new line)' },
    seed: { type: 'int', min: 0, max: 4294967295, help: 'fixes the text (default: drawn, and printed on stderr)' },
  },
  notes: 'example: rnn-wasm sample model.safetensors --length 300 --temperature 0.7 --prime "It is a truth"',
};

export async function sample(argv: readonly string[], out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const args = parseCommand(sampleSpec, argv);
  if (args.help) {
    out.write(helpText(sampleSpec));
    return 0;
  }
  const f = args.flags;
  const temperature = f.temperature as number;
  if (temperature === 0 && (f['top-k'] !== undefined || f['top-p'] !== undefined)) {
    throw new UsageError('rnn-wasm sample: --top-k and --top-p shape sampling, and --temperature 0 does not sample (it takes the most likely token); leave them out or set a temperature');
  }
  const { model, tokenizer } = await loadLanguageModel('sample', args.positionals[0]);
  try {
    const seed = f.seed !== undefined ? (f.seed as number) : temperature === 0 ? 0 : drawSeed(err);   // greedy draws nothing
    const sampling = temperature === 0 ? {} : {
      strategy: 'sample' as const, temperature, topK: f['top-k'] as number | undefined, topP: f['top-p'] as number | undefined, seed,
    };
    const prime = f.prime === undefined ? defaultPrime(tokenizer) : (f.prime as string);
    const ids = tokenizer.encode(prime);
    if (ids.length === 0) throw new UsageError('rnn-wasm sample: --prime holds no token (a word model needs at least one word)');
    const unknown = unknownWarning(prime, tokenizer);
    if (unknown) err.write(`${unknown}\n`);
    await write(out, prime);
    const length = f.length as number;
    if (length > 0) await print(model.stream({ prefix: ids, maxLength: length, ...sampling }), tokenizer, out);
    await write(out, '\n');
    return 0;
  } finally {
    model.dispose();
  }
}

/** Print the tokens as the model's stream() draws them (one wasm call per token; the prime
 *  sets the state first). Yields to the event loop now and then so Ctrl-C and a closed pipe
 *  are noticed. */
async function print(tokens: Iterable<number>, tokenizer: Tokenizer, out: NodeJS.WriteStream): Promise<void> {
  const separator = tokenizer.kind === 'word' ? ' ' : '';
  let lastYield = Date.now();
  for (const token of tokens) {
    await write(out, separator + tokenizer.tokens[token]);
    if (Date.now() - lastYield > 30) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = Date.now();
    }
  }
}

/** A warning naming the characters (or words) of the prime the tokenizer does not know and
 *  encodes as <unk> (the first five distinct ones), or undefined when it knows them all. */
function unknownWarning(prime: string, tokenizer: Tokenizer): string | undefined {
  const pieces = tokenizer.kind === 'word' ? splitWords(prime, tokenizer.split) : [...prime];
  const unk = tokenizer.unk === undefined ? undefined : tokenizer.tokens[tokenizer.unk];
  const unknown = pieces.filter((p) => p !== unk && (tokenizer.id(p) === undefined || tokenizer.id(p) === tokenizer.unk));
  if (unknown.length === 0) return undefined;
  const distinct = [...new Set(unknown)];
  const unit = tokenizer.kind === 'word' ? 'word' : 'character';
  return `warning: --prime has ${unknown.length} ${unit}${unknown.length > 1 ? 's' : ''} the model does not know, fed to it as <unk>: ` +
    `${distinct.slice(0, 5).map((p) => JSON.stringify(p)).join(', ')}${distinct.length > 5 ? ` and ${distinct.length - 5} more` : ''}`;
}

/** Write, waiting when the stream's buffer is full. */
async function write(out: NodeJS.WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** A new line when the vocabulary has one, else a space, else its most frequent word. */
function defaultPrime(tokenizer: Tokenizer): string {
  if (tokenizer.kind === 'word') return tokenizer.tokens.find((_, i) => i !== tokenizer.unk)!;
  return tokenizer.tokens.includes('\n') ? '\n' : ' ';
}

function drawSeed(err: NodeJS.WriteStream): number {
  const seed = Math.floor(Math.random() * 2 ** 32);
  err.write(`seed ${seed}\n`);
  return seed;
}

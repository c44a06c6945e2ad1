/// <reference types="node" />
// Reading a model file for the commands that use one as a language model (sample, eval): a
// many-to-many model with token input, softmax output over the same vocabulary, and the
// tokenizer saved with it — what `rnn-wasm train` writes.
import { readFile } from 'node:fs/promises';
import { loadModel, type ManyToMany, type Tokenizer } from '../index.js';
import { UsageError } from './args.js';

/** The bytes of a file, or a UsageError naming it. */
export async function readBytes(command: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new UsageError(`rnn-wasm ${command}: cannot read ${JSON.stringify(path)}: ${why}`);
  }
}

/** A language model and its tokenizer from a file, or an error saying what the file lacks. */
export async function loadLanguageModel(command: string, path: string): Promise<{ model: ManyToMany; tokenizer: Tokenizer }> {
  const where = `rnn-wasm ${command}: ${path}`;
  let model;
  try {
    model = await loadModel(await readBytes(command, path));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
  const c = model.config as { input: string; output: string; n_x: number; n_y: number };
  const tokenizer = model.architecture === 'many-to-many' ? model.tokenizers.x : undefined;
  if (model.architecture !== 'many-to-many' || c.input !== 'tokens' || c.output !== 'softmax' || c.n_x !== c.n_y || !tokenizer) {
    model.dispose();
    throw new UsageError(`${where}: not a language model (needs a many-to-many model with token input, softmax output over ` +
      `the same vocabulary and a tokenizer, as rnn-wasm train writes; this is a '${model.architecture}' model, input '${c.input}', ` +
      `output '${c.output}', ${tokenizer ? 'with' : 'without'} a tokenizer)`);
  }
  return { model: model as ManyToMany, tokenizer };
}

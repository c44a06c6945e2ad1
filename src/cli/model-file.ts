/// <reference types="node" />
// Reading a model file for the commands that use one as a language model (sample, eval): a
// many-to-many model with token input, softmax output over the same vocabulary, and the
// tokenizer saved with it — what `rnn-wasm train` writes. A training checkpoint given instead
// (`rnn-wasm train`'s OUT.ckpt, or the library's saveCheckpoint) is named as such.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors, loadModel, type ManyToMany, type Tokenizer } from '../index.js';
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
  const bytes = await readBytes(command, path);
  let model;
  try {
    model = await loadModel(bytes);
  } catch (e) {
    if (isCheckpoint(bytes)) throw new UsageError(`rnn-wasm ${command}: ${path} is a training checkpoint, not a model; ${checkpointAdvice(path)}`);
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

/** Whether a file that is not a model is a training state (checkpoint.ts writes
 *  checkpoint_version into its metadata; run-file.ts adds rnn_wasm_train). */
function isCheckpoint(bytes: Uint8Array): boolean {
  try {
    const meta = decodeSafetensors(bytes).metadata;
    return meta.checkpoint_version !== undefined || meta.rnn_wasm_train !== undefined;
  } catch {
    return false;
  }
}

/** Where the model of a checkpoint is: `rnn-wasm train --out M` writes M and M.ckpt (M
 *  without .safetensors), so X.ckpt goes with X.safetensors, or X when that exists. */
function checkpointAdvice(path: string): string {
  const stem = path.replace(/\.ckpt$/i, '');
  const model = stem !== path && !existsSync(`${stem}.safetensors`) && existsSync(stem) ? stem : `${stem}.safetensors`;
  return stem === path ? 'pass the model file saved with it'
    : `pass the model file (${model}), or continue training with rnn-wasm train TEXT --out ${model} --resume`;
}

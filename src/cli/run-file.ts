// The checkpoint of a command-line training run: the model's training state (weights,
// optimizer moments, generator, where fit() stands: Network.getTrainingState) with the run's
// own state added to the file's metadata under "rnn_wasm_train" — the settings, the text it
// trains on (size and sha256), the logged rows and the partial sums since the last one — so
// `rnn-wasm train --resume` continues the run, and its learning curve, bit for bit. The file
// is still a training-state file: setTrainingState reads it and ignores the extra key.
// Version 2 added the learning-rate schedule; a version-1 file resumes with none (the
// constant --lr it was trained with).
import { decodeSafetensors, encodeSafetensors } from '../index.js';
import { sealed } from '../io.js';
import type { Row } from './curve.js';

const KEY = 'rnn_wasm_train';
const VERSION = 2;
/** What a checkpoint written before a flag was trained with: the schedule flags (version 1),
 *  --embedding (one-hot inputs), --no-bias and --no-head-bias (biases). */
const BEFORE_FLAGS = { warmup: 0, decay: 'constant', minLr: 0, scheduleSteps: 0, embedding: 0, noBias: false, noHeadBias: false } as const;

/** The settings a run is made of (each is the `rnn-wasm train` flag of that name); a resumed
 *  run keeps them. */
export interface Settings {
  /** --tokens: characters, or words split on whitespace. */
  tokens: 'chars' | 'words';
  /** --cell. */
  cell: 'rnn' | 'lstm' | 'gru';
  /** --hidden: n_a of every layer. */
  hidden: number;
  /** --embedding: the size E of the token embedding before the first layer; 0: one-hot. */
  embedding: number;
  /** --layers. */
  layers: number;
  /** --no-bias: the recurrent layers have no biases. */
  noBias: boolean;
  /** --no-head-bias: the output layer has no bias. */
  noHeadBias: boolean;
  /** --seq: tokens per window. */
  seq: number;
  /** --batch: windows per batch. */
  batch: number;
  /** --lr: Adam's learning rate. */
  lr: number;
  /** --dropout: between layers and before the output layer. */
  dropout: number;
  /** --clip: global gradient-norm limit; 0 is off. */
  clip: number;
  /** --holdout: the fraction of windows, from the end of the text, held out. */
  holdout: number;
  /** --max-vocab: tokens kept (the most frequent); 0 keeps every character. */
  maxVocab: number;
  /** --eval-tokens: held-out tokens scored at every logged step. */
  evalTokens: number;
  /** --log-every: steps between logged rows (chosen from the run's length when not given). */
  logEvery: number;
  /** --seed. */
  seed: number;
  /** --workers: threads each batch is split among; 1 trains on the main thread. */
  workers: number;
  /** --warmup: optimizer steps of linear warm-up; 0 is none. */
  warmup: number;
  /** --decay: how the rate falls from --lr to --min-lr over the run after the warm-up. */
  decay: 'constant' | 'cosine' | 'linear';
  /** --min-lr: the rate a decay ends at. */
  minLr: number;
  /** The optimizer steps the schedule spans: the run's length when it started. */
  scheduleSteps: number;
}

/** How long the run is: a number of epochs, or of optimizer steps. */
export type Length = { epochs: number } | { steps: number };

export interface RunState {
  settings: Settings;
  /** The run's length as last asked for (--epochs or --steps). */
  length: Length;
  /** The text trained on. */
  corpus: { bytes: number; sha256: string };
  rows: Row[];
  /** Training-loss sum and step count since the last row. */
  pending: { lossSum: number; steps: number };
  /** Optimizer steps and tokens trained so far, and the training time over every session. */
  steps: number;
  tokens: number;
  elapsedMs: number;
}

/** A training-state file (getTrainingState()) with the run added to its metadata. */
export function encodeRunFile(trainingState: Uint8Array, run: RunState): Uint8Array {
  const file = decodeSafetensors(trainingState);
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  return encodeSafetensors(tensors, sealed(tensors, { ...file.metadata, [KEY]: JSON.stringify({ version: VERSION, ...run }) }));
}

/** The run stored in a checkpoint, or a message saying why there is none. */
export function decodeRunFile(bytes: Uint8Array): RunState {
  const meta = decodeSafetensors(bytes).metadata;
  if (meta[KEY] === undefined) throw new Error('the file is not a checkpoint of rnn-wasm train (it has no run state)');
  // JSON writes NaN (a loss without held-out text) as null; no field of a run is ever null
  const { version, ...run } = JSON.parse(meta[KEY], (_, v) => (v === null ? NaN : v)) as RunState & { version: number };
  if (version !== 1 && version !== VERSION) {
    throw new Error(`the checkpoint is of run-state version ${version}; this rnn-wasm reads versions 1 to ${VERSION}`);
  }
  return { ...run, settings: { ...BEFORE_FLAGS, ...run.settings } };
}

/** The model config a checkpoint was made with (its "config" metadata). */
export function configOf(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(decodeSafetensors(bytes).metadata.config ?? '{}') as Record<string, unknown>;
}

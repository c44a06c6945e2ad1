// The checkpoint of a command-line training run: the model's training state (weights,
// optimizer moments, generator, where fit() stands: Network.getTrainingState) with the run's
// own state added to the file's metadata under "rnn_wasm_train" — the settings, the text it
// trains on (size and sha256), the logged rows and the partial sums since the last one — so
// `rnn-wasm train --resume` continues the run, and its learning curve, bit for bit. The file
// is still a training-state file: setTrainingState reads it and ignores the extra key.
import { decodeSafetensors, encodeSafetensors } from '../index.js';
import type { Row } from './curve.js';

const KEY = 'rnn_wasm_train';
const VERSION = 1;

/** The settings a run is made of; a resumed run must keep them. */
export interface Settings {
  tokens: 'chars' | 'words';
  cell: 'rnn' | 'lstm' | 'gru';
  hidden: number;
  layers: number;
  seq: number;
  batch: number;
  lr: number;
  dropout: number;
  clip: number;
  holdout: number;
  maxVocab: number;
  evalTokens: number;
  logEvery: number;
  seed: number;
  workers: number;
}

/** How long the run is: a number of epochs, or of optimizer steps. */
export type Length = { epochs: number } | { steps: number };

export interface RunState {
  settings: Settings;
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
  return encodeSafetensors(tensors, { ...file.metadata, [KEY]: JSON.stringify({ version: VERSION, ...run }) });
}

/** The run stored in a checkpoint, or a message saying why there is none. */
export function decodeRunFile(bytes: Uint8Array): RunState {
  const meta = decodeSafetensors(bytes).metadata;
  if (meta[KEY] === undefined) throw new Error('the file is not a checkpoint of rnn-wasm train (it has no run state)');
  // JSON writes NaN (a loss without held-out text) as null; no field of a run is ever null
  const run = JSON.parse(meta[KEY], (_, v) => (v === null ? NaN : v)) as RunState & { version: number };
  if (run.version !== VERSION) throw new Error(`the checkpoint is of run-state version ${run.version}; this rnn-wasm reads version ${VERSION}`);
  return run;
}

/** The model config a checkpoint was made with (its "config" metadata). */
export function configOf(bytes: Uint8Array): Record<string, unknown> {
  return JSON.parse(decodeSafetensors(bytes).metadata.config ?? '{}') as Record<string, unknown>;
}

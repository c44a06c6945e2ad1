// The messages between the calling thread and a training worker. One request at a time per
// worker, each answered by one reply. The parameter-sized buffer travels back and forth as a
// transferable (never copied by postMessage, never shared): weights go out in it, gradients
// come back in it. Nothing here needs SharedArrayBuffer or cross-origin isolation.
//
//   init  (model file, compiled build) → ready (the replica's layout)
//   step  (shard, weights, generator)  → window (gradients of the first window) | error
//   next  (weights, tbptt only)        → window (the next window)  | done
import type { StatSums } from '../checkpoint.js';
import type { Examples } from '../train/types.js';
import type { Build, CompiledBuild } from '../wasm.js';

export type Request =
  /** Build the replica from the model's file, on the model's kernel build: `kernels` is that
   *  build compiled (a WebAssembly.Module), which the worker instantiates; its script carries none. */
  | { type: 'init'; file: Uint8Array; backend: Build; kernels: CompiledBuild }
  /** Start a batch's shard: set the weights and the generator, compute the first window. */
  | { type: 'step'; where: string; batch: Examples; buffer: Float32Array; rng: number[]; tbptt?: number; accuracy: boolean }
  /** With truncated BPTT: set the updated weights, compute the next window. */
  | { type: 'next'; buffer: Float32Array };

export type Reply =
  /** The script has loaded and listens. */
  | { type: 'hello' }
  /** The replica is built: its parameter names and shapes, in layout order. */
  | { type: 'ready'; layout: string }
  /** One window's gradient in `buffer`, its loss sums, and whether it was the shard's last. */
  | { type: 'window'; buffer: Float32Array; loss: number; t0?: number; t1?: number; sums: StatSums; last: boolean }
  /** The shard has no more windows. */
  | { type: 'done'; buffer: Float32Array }
  /** The request failed (a bad batch, an unsupported option): the error's class and message. */
  | { type: 'error'; name: string; message: string; buffer?: Float32Array };

/** A layout as one comparable string: names and shapes in order. */
export function layoutKey(entries: readonly { name: string; shape: readonly number[] }[]): string {
  return entries.map((e) => `${e.name}[${e.shape.join(',')}]`).join(' ');
}

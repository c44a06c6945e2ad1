// What training needs from a model, and nothing more: its regions in wasm memory, its seeded
// generator, and the passes that leave ∂L/∂θ in the gradient region. A Network hands one of
// these to its Training (training.ts) and registers it here, so that a worker (workers/
// entry.ts) can drive its replica the same way; nothing else sees it.
import type { Arena, Region } from '../arena.js';
import type { StatSums } from '../checkpoint.js';
import type { Layout } from '../layout.js';
import type { Random } from '../random.js';
import type { Build, Kernels } from '../wasm.js';
import type { Examples, MetricName, StatsWanted, WindowLoss } from './types.js';

export interface Trainable<TBatch extends Examples = Examples> {
  readonly kernels: Kernels;
  readonly arena: Arena;
  readonly layout: Layout;
  /** The parameter region, and the gradient region laid out the same way. */
  readonly weights: Region;
  readonly grads: Region;
  /** The model's generator: shuffling, dropout masks, sampling. */
  readonly rng: Random;
  /** The kernel build the model runs on (a replica must run on the same). */
  readonly backend: Build;
  /** How the loss sums its terms (the config's `reduction`). */
  reduction(): 'sum' | 'mean';
  /** The config as plain JSON (what a checkpoint must match). */
  config(): Record<string, unknown>;
  /** The model as a file: config and weights (what a replica is built from). */
  save(): Uint8Array;
  isDisposed(): boolean;
  /** Validate a labeled batch, run forward and backward in training mode, leave ∂L/∂θ in the
   *  gradient region and return the loss. */
  lossAndGradients(where: string, batch: TBatch): number;
  /** Validate a labeled batch as lossAndGradients would, changing nothing. */
  checkBatch(where: string, batch: TBatch): void;
  /** Truncated BPTT: ∂L/∂θ of one window at a time (see Network.truncatedWindows). */
  truncatedWindows(where: string, batch: TBatch, k: number): Iterator<WindowLoss, number, void>;
  /** Loss sums and metric counts of the last pass with targets. */
  batchStats(want: StatsWanted): StatSums | undefined;
  /** Loss and metric sums of a labeled batch in inference mode; nothing changes. */
  evaluateBatch(where: string, batch: TBatch, want: StatsWanted): StatSums;
  /** Metrics this model's outputs allow. */
  supportedMetrics(): readonly MetricName[];
}

const registry = new WeakMap<object, Trainable>();

/** Make a model's training side reachable from its object (Network's constructor does this). */
export function registerTrainable(model: object, t: Trainable): void {
  registry.set(model, t);
}

/** The training side of a model built by this library. */
export function trainableOf(model: object): Trainable {
  const t = registry.get(model);
  if (!t) throw new TypeError('this object is not an rnn-wasm model');
  return t;
}

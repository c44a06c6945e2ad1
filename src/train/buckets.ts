// Length bucketing: batches of examples of similar length, so that little of a batch is
// padding (a ragged batch runs to its longest sequence). Every pass over the data (an epoch,
// unless stepsPerEpoch): the examples in a random order, cut into pools of `pool` batches; each
// pool sorted by length (stably, so examples of one length keep their random order) and cut
// into batches; then the order of the pass's batches shuffled. Everything random comes from
// the generator fit() hands the source, so a seed fixes the batches, and a resumed run redraws
// the same pass. Without shuffling, the whole data set is sorted by length once and its batches
// run shortest first.
// see: torchtext's BucketIterator (pools of 100 batches, sorted within, batches shuffled).
import type { Random } from '../random.js';
import { isArrayLike } from '../validate.js';
import type { BatchSource } from './batches.js';
import type { Dataset, Examples } from './types.js';

/** Batches per sorting pool unless fit's bucketByLength says otherwise. */
export const DEFAULT_POOL = 100;

/** Steps of one input or target: a sequence's length (rows, ids, or flat values — one data
 *  set's examples all count the same way), 0 for a single id. */
export function stepsOf(v: unknown): number {
  return isArrayLike(v) ? v.length : 0;
}

/** The batches of one pass as lists of example indices. `lengths[i]`: example i's length;
 *  rng: shuffle (undefined: sort everything by length, batches shortest first). */
export function bucketBatches(lengths: readonly number[], batchSize: number, pool: number, rng?: Random): number[][] {
  const order = Array.from(lengths, (_, i) => i);
  if (rng) rng.shuffle(order);
  const span = rng ? batchSize * pool : order.length;
  const batches: number[][] = [];
  for (let p = 0; p < order.length; p += span) {
    const sorted = order.slice(p, p + span).sort((a, b) => lengths[a] - lengths[b]);   // stable
    for (let b = 0; b < sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize));
  }
  if (rng) rng.shuffle(batches);
  return batches;
}

/** The in-memory data set in length-bucketed batches. An example's length is its input's
 *  steps plus its target's (a target sequence's length matters as much as the input's). */
export class BucketedBatches<TBatch extends Examples> implements BatchSource<TBatch> {
  readonly order = 'bucketed' as const;
  readonly examples: number;
  readonly batches: number;
  private readonly lengths: number[];

  constructor(private readonly data: Dataset<TBatch>, readonly batchSize: number, readonly shuffle: boolean,
              private readonly pool: number) {
    this.examples = data.x.length;
    this.batches = Math.ceil(this.examples / batchSize);
    this.lengths = Array.from(data.x, (x, i) => stepsOf(x) + stepsOf(data.y[i]));
  }

  *pass(rng: Random, from: number): Generator<TBatch, void, void> {
    const batches = bucketBatches(this.lengths, this.batchSize, this.pool, this.shuffle ? rng : undefined);
    for (let b = from; b < batches.length; b++) {
      const idx = batches[b];
      yield { x: idx.map((i) => this.data.x[i]), y: idx.map((i) => this.data.y[i]) } as unknown as TBatch;
    }
  }
}

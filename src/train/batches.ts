// Where fit's batches come from. A batch source says how many examples and batches an epoch
// has, and gives one epoch's batches from a given batch on, in an order it draws from the
// generator it is handed. The loop (fit.ts) owns the generator's state and the position, so a
// source never needs to be saved: on resume it is asked for the same epoch from the same
// state and the same batch. ShuffledBatches is the in-memory source: the whole data set,
// reshuffled every epoch (Fisher–Yates, seeded), cut into batches of batchSize in that order,
// the last one shorter when the size does not divide. Length-bucketed batches (buckets.ts) and
// streams (stream.ts) are sources too.
import type { Random } from '../random.js';
import { BucketedBatches } from './buckets.js';
import { checkStreamItem } from './examples.js';
import type { FitPlan } from './options.js';
import { isStream, StreamBatches } from './stream.js';
import type { Trainable } from './trainable.js';
import type { Dataset, Examples } from './types.js';

export interface BatchSource<TBatch extends Examples = Examples> {
  /** Examples an epoch covers. */
  readonly examples: number;
  /** Examples per batch (the last batch of an epoch may hold fewer). */
  readonly batchSize: number;
  /** Whether every epoch draws a new order. */
  readonly shuffle: boolean;
  /** How the batches are made, when not by ShuffledBatches: saved with the position, so a run
   *  resumes only on the same kind of source. */
  readonly order?: 'bucketed' | 'stream';
  /** Batches an epoch has. */
  readonly batches: number;
  /** The batches of epoch `epoch` (from 0) from batch `from` on. The order is drawn from `rng`
   *  when the first batch is asked for, and only then: a run stopped before has drawn nothing. */
  epoch(rng: Random, from: number, epoch: number): Iterator<TBatch, void, void> | AsyncIterator<TBatch, void, void>;
}

/** The source a fit plan asks for: a stream (its items checked by the model as they are
 *  read), length buckets, or the data set reshuffled. */
export function batchSource<TBatch extends Examples>(where: string, plan: FitPlan<Dataset<TBatch>>, model: Trainable<TBatch>): BatchSource<TBatch> {
  const { train, batchSize, shuffle, bucket, pool, yields } = plan;
  if (isStream(train)) {
    const kind = yields === 'examples' ? 'example' : 'batch';
    return new StreamBatches<TBatch>(where, train, { yields, batchSize, shuffle, bucket, pool }, (item, index, epoch) =>
      checkStreamItem(model, where, item as TBatch, { kind, index, at: `epoch ${epoch + 1} of ${plan.epochs}`, stream: 'data stream' }));
  }
  return bucket ? new BucketedBatches(train, batchSize, shuffle, pool) : new ShuffledBatches(train, batchSize, shuffle);
}

export class ShuffledBatches<TBatch extends Examples> implements BatchSource<TBatch> {
  readonly examples: number;
  readonly batches: number;

  constructor(private readonly data: Dataset<TBatch>, readonly batchSize: number, readonly shuffle: boolean) {
    this.examples = data.x.length;
    this.batches = Math.ceil(this.examples / batchSize);
  }

  *epoch(rng: Random, from: number): Generator<TBatch, void, void> {
    const { data, batchSize } = this;
    const order = Array.from({ length: this.examples }, (_, i) => i);
    if (this.shuffle) rng.shuffle(order);
    for (let b = from; b < this.batches; b++) {
      const idx = order.slice(b * batchSize, (b + 1) * batchSize);
      yield { x: idx.map((i) => data.x[i]), y: idx.map((i) => data.y[i]) } as unknown as TBatch;
    }
  }
}

// Where fit's batches come from. A batch source says how many examples and batches a pass
// over the data has, and gives one pass's batches from a given batch on, in an order it draws
// from the generator it is handed. An epoch is one pass, or with stepsPerEpoch that many
// batches of passes that follow on from one another. The loop (fit.ts) owns the generator's
// state and the position, so a source never needs to be saved: on resume it is asked for the
// same pass from the same state and the same batch. ShuffledBatches is the in-memory source:
// the whole data set, reshuffled every pass (Fisher–Yates, seeded), cut into batches of
// batchSize in that order, the last one shorter when the size does not divide. Length-bucketed
// batches (buckets.ts) and streams (stream.ts) are sources too.
import type { Random } from '../random.js';
import { BucketedBatches } from './buckets.js';
import { checkStreamItem } from './examples.js';
import type { FitPlan } from './options.js';
import { isStream, StreamBatches } from './stream.js';
import type { Trainable } from './trainable.js';
import type { Dataset, Examples } from './types.js';

export interface BatchSource<TBatch extends Examples = Examples> {
  /** Examples a pass covers. */
  readonly examples: number;
  /** Examples per batch (the last batch of a pass may hold fewer). */
  readonly batchSize: number;
  /** Whether every pass draws a new order. */
  readonly shuffle: boolean;
  /** How the batches are made, when not by ShuffledBatches: saved with the position, so a run
   *  resumes only on the same kind of source. */
  readonly order?: 'bucketed' | 'stream';
  /** Batches a pass has. */
  readonly batches: number;
  /** The batches of a pass from batch `from` on. The order is drawn from `rng` when the first
   *  batch is asked for, and only then: a run stopped before has drawn nothing. */
  pass(rng: Random, from: number, place: PassPlace): Iterator<TBatch, void, void> | AsyncIterator<TBatch, void, void>;
}

/** Where the loop stands as a pass is read, to name a streamed item. */
export interface PassPlace {
  /** The pass, from 0: the epoch, or with stepsPerEpoch the passes begun before this one. */
  pass: number;
  /** Whether passes follow on from one another inside epochs (stepsPerEpoch). */
  continued: boolean;
  /** The epoch in progress now, as 'epoch 2 of 5' (with stepsPerEpoch: 'epoch 2 of 5, pass 3'). */
  at(): string;
}

/** The source a fit plan asks for: a stream (its items checked by the model as they are
 *  read), length buckets, or the data set reshuffled. */
export function batchSource<TBatch extends Examples>(where: string, plan: FitPlan<Dataset<TBatch>>, model: Trainable<TBatch>): BatchSource<TBatch> {
  const { train, batchSize, shuffle, bucket, pool, yields } = plan;
  if (isStream(train)) {
    const kind = yields === 'examples' ? 'example' : 'batch';
    return new StreamBatches<TBatch>(where, train, { yields, batchSize, shuffle, bucket, pool }, (item, index, at) =>
      checkStreamItem(model, where, item as TBatch, { kind, index, at, stream: 'data stream' }));
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

  *pass(rng: Random, from: number): Generator<TBatch, void, void> {
    const { data, batchSize } = this;
    const order = Array.from({ length: this.examples }, (_, i) => i);
    if (this.shuffle) rng.shuffle(order);
    for (let b = from; b < this.batches; b++) {
      const idx = order.slice(b * batchSize, (b + 1) * batchSize);
      yield { x: idx.map((i) => data.x[i]), y: idx.map((i) => data.y[i]) } as unknown as TBatch;
    }
  }
}

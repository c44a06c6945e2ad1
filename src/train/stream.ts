// Streaming data: fit() over an iterable or an async iterable of batches or of single examples
// (a generator, a file read as it goes), so a data set never has to fit in memory. Each pass
// (an epoch, or with stepsPerEpoch as many epochs of that many batches as it lasts) iterates
// the stream afresh (or calls a function returning a stream again), reads it one pool at a
// time — `pool` batches' worth — and shuffles each pool with the seeded generator (and, for
// examples, buckets it by length) before its batches are handed on, so memory holds one pool,
// whatever the stream's size.
//
// Resume: a stream cannot seek, so a resumed pass reads its stream again from the start and
// skips the batches already trained on (the saved position counts them). The stream must give
// the same items in the same order each time it is iterated (a file, a seeded generator).
import { Random } from '../random.js';
import { describe, isArrayLike } from '../validate.js';
import type { BatchSource, PassPlace } from './batches.js';
import { bucketBatches, stepsOf } from './buckets.js';
import type { DataStream, Examples } from './types.js';

/** Whether fit's data is a stream (an array of batches is one too) rather than an in-memory
 *  { x, y } data set. */
export function isStream(v: unknown): v is DataStream<unknown> {
  if (typeof v === 'function') return true;
  if (typeof v !== 'object' || v === null) return false;
  if ('x' in v && 'y' in v) return false;
  return Symbol.iterator in v || Symbol.asyncIterator in v;
}

/** How a stream is cut into batches. */
export interface StreamPlan {
  /** What the stream yields: batches { x: [...], y: [...] }, or examples { x, y }. */
  yields: 'batches' | 'examples';
  /** Examples per batch (streams of examples). */
  batchSize: number;
  shuffle: boolean;
  /** Sort each pool of examples by length before cutting it into batches. */
  bucket: boolean;
  /** Batches per pool. */
  pool: number;
}

/** The model's check of one item as it is read: `index` counts the pass's items from 0, `at`
 *  says when it was read ('epoch 2 of 5'). */
export type ItemCheck = (item: unknown, index: number, at: string) => void;

export class StreamBatches<TBatch extends Examples> implements BatchSource<TBatch> {
  readonly order = 'stream' as const;
  /** Unknown until a stream ends: 0 examples, and batches without end. */
  readonly examples = 0;
  readonly batches = Infinity;
  readonly batchSize: number;
  readonly shuffle: boolean;

  constructor(private readonly where: string, private readonly stream: DataStream<unknown>, private readonly plan: StreamPlan,
              private readonly check: ItemCheck) {
    this.batchSize = plan.yields === 'examples' ? plan.batchSize : 0;
    this.shuffle = plan.shuffle;
  }

  async *pass(rng: Random, from: number, place: PassPlace): AsyncGenerator<TBatch, void, void> {
    // the pass's shuffles come from a generator of their own, seeded by four draws at the
    // pass's start: the model's generator also serves dropout between pools, and a resumed
    // pass redraws its pools from the saved start alone
    const own = fork(rng);
    let index = 0;
    for await (const pool of this.pools(place)) {
      for (const batch of this.arrange(pool, own)) {
        if (index++ >= from) yield batch;
      }
    }
    if (index > 0) return;
    if (place.continued && place.pass > 0) {
      throw new RangeError(`${this.where}: ${place.at()} needs another pass over the data stream, but read again it yielded nothing; ` +
        `${readOnce('fit')}, or a stream that does not end`);
    }
    throw new RangeError(`${this.where}: the data stream yielded nothing this epoch; ${readOnce('fit')}`);
  }

  /** The stream's items in pools: `pool` batches, or `pool · batchSize` examples, each checked
   *  as it is read. */
  private async *pools(place: PassPlace): AsyncGenerator<unknown[], void, void> {
    const size = this.plan.yields === 'examples' ? this.plan.pool * this.plan.batchSize : this.plan.pool;
    let pool: unknown[] = [];
    let n = 0;
    for await (const item of open(this.where, this.stream)) {
      this.check(checkItem(this.where, item, this.plan.yields, n), n, place.at());
      pool.push(item);
      n++;
      if (pool.length === size) {
        yield pool;
        pool = [];
      }
    }
    if (pool.length > 0) yield pool;
  }

  /** One pool's batches in training order. */
  private arrange(pool: unknown[], rng: Random): TBatch[] {
    const { yields, batchSize, shuffle, bucket } = this.plan;
    if (yields === 'batches') return (shuffle ? rng.shuffle(pool) : pool) as TBatch[];
    const examples = pool as { x: unknown; y: unknown }[];
    // lengths all 0 without bucketing: the sort keeps the (shuffled) order
    const lengths = examples.map((e) => (bucket ? stepsOf(e.x) + stepsOf(e.y) : 0));
    const batches = bucketBatches(lengths, batchSize, Infinity, shuffle ? rng : undefined);
    return batches.map((idx) => ({ x: idx.map((i) => examples[i].x), y: idx.map((i) => examples[i].y) }) as unknown as TBatch);
  }
}

/** Why a stream read again can yield nothing, and what to give `who` instead. */
export function readOnce(who: string): string {
  return `a generator object can be read only once, so give ${who} a function that returns a new one (or an iterable that starts over)`;
}

/** A generator seeded by four draws from `rng`. */
function fork(rng: Random): Random {
  const own = new Random(0);
  const s: number[] = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;      // xoshiro's one forbidden state
  own.setState(s);
  return own;
}

/** A fresh pass over a stream (a function is called for a new one). */
export async function* open(where: string, stream: DataStream<unknown>): AsyncGenerator<unknown, void, void> {
  const s = typeof stream === 'function' ? stream() : stream;
  if (typeof s !== 'object' || s === null || !(Symbol.iterator in s || Symbol.asyncIterator in s)) {
    throw new TypeError(`${where}: the data function must return an iterable or async iterable, got ${describe(s)}`);
  }
  yield* s as AsyncIterable<unknown>;
}

/** A streamed batch { x: [...], y: [...] } or example { x, y }, checked for shape (the model's
 *  check of its values comes next). */
function checkItem(where: string, item: unknown, yields: 'batches' | 'examples', n: number): unknown {
  const o = item as { x?: unknown; y?: unknown };
  const shape = yields === 'batches' ? '{ x: inputs[], y: targets[] }' : '{ x: input, y: target }';
  if (typeof o !== 'object' || o === null || !('x' in o) || !('y' in o)) {
    throw new TypeError(`${where}: item ${n} of the data stream must be ${yields === 'batches' ? 'a batch' : 'an example'} ${shape}, got ${describe(item)}` +
      (yields === 'batches' ? ` (a stream of single examples needs yields: 'examples')` : ''));
  }
  if (yields === 'batches') {
    if (!Array.isArray(o.x) || !Array.isArray(o.y)) throw new TypeError(`${where}: item ${n} of the data stream must be a batch ${shape}; its x or y is not an array (a stream of single examples needs yields: 'examples')`);
    if (o.x.length === 0 || o.x.length !== o.y.length) {
      throw new RangeError(`${where}: item ${n} of the data stream must hold at least one example and one target per input, got ${o.x.length} inputs and ${o.y.length} targets`);
    }
  } else if (o.x === undefined || o.y === undefined || (isArrayLike(o.x) && o.x.length === 0)) {
    throw new TypeError(`${where}: item ${n} of the data stream must be an example ${shape} with an input and a target`);
  }
  return item;
}

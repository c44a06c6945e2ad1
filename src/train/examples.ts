// fit's data checked by the model's own batch check (Trainable.checkBatch), with every error
// naming the example where the user will find it. In-memory data ({ x, y }, and validationData)
// is checked whole before the first step, so a bad example is reported by its index in the
// user's arrays and nothing in the model has changed. A stream cannot be checked ahead: each
// item is checked as it is read, and named by its place in the stream and the epoch.
import { stepsOf } from './buckets.js';
import type { Trainable } from './trainable.js';
import type { Dataset, Examples } from './types.js';

/** Padded steps (B × the longest example, input and target) a chunk of examples may pack. */
const CHUNK_STEPS = 1 << 12;

/** Check every example of an in-memory data set, yielding after each chunk (fit goes back to
 *  the event loop there when it is due). An error names the first bad example by its index in
 *  `data`, prefixed with `name` ('' for fit's data, 'validationData.'), in the wording of the
 *  batch check. Examples are checked a chunk at a time; a chunk that fails is checked again one
 *  example at a time, to find its first bad one. */
export function* checkExamples<TBatch extends Examples>(model: Trainable<TBatch>, where: string, data: Dataset<TBatch>,
                                                       name: string): Generator<void, void, void> {
  const { x, y } = data;
  const check = (from: number, to: number) => model.checkBatch(where, { x: x.slice(from, to), y: y.slice(from, to) } as unknown as TBatch);
  for (let i = 0; i < x.length;) {
    const end = chunkEnd(data, i);
    try {
      check(i, end);
    } catch (chunkError) {
      for (let k = i; k < end; k++) {
        try {
          check(k, k + 1);
        } catch (e) {
          throw renamed(e, (xy, b) => `${name}${xy}[${b + k}]`);
        }
      }
      throw renamed(chunkError, (xy, b) => `${name}${xy}[${b + i}]`);
    }
    i = end;
    yield;
  }
}

/** Where the chunk starting at example i ends: at most CHUNK_STEPS padded steps, at least one
 *  example. */
function chunkEnd(data: Dataset, i: number): number {
  let end = i, longest = 0;
  while (end < data.x.length) {
    const steps = Math.max(longest, stepsOf(data.x[end]) + stepsOf(data.y[end]), 1);
    if (end > i && (end - i + 1) * steps > CHUNK_STEPS) break;
    longest = steps;
    end++;
  }
  return end;
}

/** What a stream's item is, for naming it. */
export interface StreamItem {
  /** 'batch' (a stream of batches) or 'example' (yields: 'examples'). */
  kind: 'batch' | 'example';
  /** Its place in the stream, from 0. */
  index: number;
  /** When it was read: 'epoch 2 of 5' (with stepsPerEpoch: 'epoch 2 of 5, pass 3'), or
   *  (validation data) 'after epoch 2 of 5'. */
  at: string;
  /** 'data stream' or 'validation data stream'. */
  stream: string;
}

/** Check one item of a stream as it is read: a batch as it is, an example as a batch of one.
 *  An error names the item (`epoch 1 of 3, batch 4 of the data stream: its y[1][2] = 7 is out
 *  of range…`) and says that what was read before it may have trained. */
export function checkStreamItem<TBatch extends Examples>(model: Trainable<TBatch>, where: string, item: TBatch | { x: unknown; y: unknown },
                                                         about: StreamItem): void {
  const batch = about.kind === 'batch' ? item as TBatch : { x: [item.x], y: [item.y] } as unknown as TBatch;
  try {
    model.checkBatch(where, batch);
  } catch (e) {
    // an example's own input and target are its x and y; a batch's examples are x[b] and y[b]
    const err = renamed(e, (xy, b) => (about.kind === 'batch' ? `${xy}[${b}]` : xy));
    if (err instanceof Error && err.message.startsWith(`${where}: `)) {
      const rest = err.message.slice(where.length + 2);
      err.message = `${where}: ${about.at}, ${about.kind} ${about.index + 1} of the ${about.stream}: ${/^[xy]\b/.test(rest) ? 'its ' : ''}${rest}` +
        ` (streamed data is checked as it is read, so earlier batches may have trained the model)`;
    }
    throw err;
  }
}

/** A batch check's error with each example named anew: `rename('y', 0)` for its y[0]. The
 *  message is changed in place, keeping the error's class and stack. */
function renamed(e: unknown, rename: (xy: 'x' | 'y', b: number) => string): unknown {
  if (e instanceof Error) e.message = renameExamples(e.message, rename);
  return e;
}

/** A batch check's message with each example it names (x[b], y[b]) named anew: a shard's or a
 *  chunk's index becomes the index in the caller's data. */
export function renameExamples(message: string, rename: (xy: 'x' | 'y', b: number) => string): string {
  return message.replace(/(^\w+: |[\s(])([xy])\[(\d+)\]/g, (_, before: string, xy: 'x' | 'y', b: string) => `${before}${rename(xy, Number(b))}`);
}

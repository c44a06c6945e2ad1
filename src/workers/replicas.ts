// Data-parallel gradients: a model's replicas on the workers of a pool, for one fit().
//
// A batch of B examples is cut into K contiguous shards (sizes differ by at most one; empty
// shards are skipped). Worker k receives its shard, the current weights and a generator state
// derived from the model's, runs forward and backward on its replica, and sends back its
// gradient g_k with the loss sums of its shard (Σ losses, n_k terms). The gradient of the batch
// is reduced here, in shard order, into the model's gradient region:
//
//   'sum'  reduction:  g = Σ_k g_k
//   'mean' reduction:  g = Σ_k (n_k / N) g_k,   N = Σ_k n_k    (each g_k is its shard's mean)
//
// except, with label smoothing, a shard of no terms (n_k = 0: every target of class weight 0)
// whose smoothing terms still have a gradient: it sends that gradient summed (Head.meanScale),
// weighted 1 / N here; and a window of no terms in the whole batch (N = 0) makes no step, as
// on one thread.
// which is the gradient of the whole batch up to float rounding. The optimizer step then runs
// once, on this thread (step.ts), and the new weights go out with the next request. With
// truncated BPTT the same happens per window. The order of the sums is fixed, so a run is
// deterministic for a given number of workers. Dropout: each worker draws its masks from its
// own generator, seeded from the model's generator state, the batch and the shard, without
// drawing from the model's generator; so shuffling is as on one thread, but the masks are not.
import type { Region } from '../arena.js';
import { renameExamples } from '../train/examples.js';
import { addSums, zeroSums } from '../train/metrics.js';
import type { GradientWindow } from '../train/step.js';
import type { Trainable } from '../train/trainable.js';
import type { Examples, StatsWanted } from '../train/types.js';
import { compiledBuild } from '../wasm.js';
import { layoutKey, type Reply } from './protocol.js';
import { WorkerPool } from './pool.js';

interface Shard<TBatch> {
  /** The worker that computes it. */
  k: number;
  /** Examples [start, end) of the batch. */
  start: number;
  end: number;
  batch: TBatch;
}

type WindowReply = Extract<Reply, { type: 'window' }>;

export class Replicas<TBatch extends Examples = Examples> {
  /** Each worker's parameter-sized buffer, while it is here (it travels with every request). */
  private readonly buffers: (Float32Array | undefined)[];
  private readonly user = {};
  /** Where a shard's gradient is scaled and added from (in the model's memory). */
  private staging?: Region;
  /** Reduction 'mean' with label smoothing: a shard of no terms sends its gradient summed. */
  private readonly smoothedMean: boolean;

  private constructor(private readonly model: Trainable<TBatch>, private readonly pool: WorkerPool, private readonly owned: boolean) {
    this.buffers = new Array(pool.size).fill(undefined);
    this.smoothedMean = model.reduction() === 'mean' && ((model.config().labelSmoothing as number | undefined) ?? 0) > 0;
  }

  /** Replicas of `model` on a pool: a new one of `workers` threads, or the one given. */
  static async start<TBatch extends Examples>(where: string, model: Trainable<TBatch>, workers: number | WorkerPool): Promise<Replicas<TBatch>> {
    const owned = typeof workers === 'number';
    const pool = owned ? await WorkerPool.start(where, workers) : workers;
    const replicas = new Replicas(model, pool, owned);
    try {
      // the model may have been disposed while the workers started
      if (model.isDisposed()) throw new Error(`${where}: the model was disposed during training (while its workers started)`);
      pool.claim(where, replicas.user);
      replicas.staging = model.arena.alloc(model.layout.size, 'the reduction of the workers\' gradients');
      await replicas.init(where);
    } catch (e) {
      await replicas.release();
      throw e;
    }
    return replicas;
  }

  /** Give the pool back (and stop it, if it was started for this fit). */
  async release(): Promise<void> {
    if (!this.model.isDisposed()) this.model.arena.release(this.staging);
    this.pool.release(this.user);
    if (this.owned) await this.pool.dispose();
  }

  /** The batch's gradients, window by window, reduced into the model's gradient region.
   *  `key` (epoch, batch) seeds the workers' generators. */
  async *windows(where: string, batch: TBatch, tbptt: number | undefined, want: StatsWanted | undefined,
                 key: readonly [number, number]): AsyncGenerator<GradientWindow, number, void> {
    const shards = this.cut(batch);
    const rng = this.model.rng.getState();
    let replies = await this.all(where, shards, 0, (s) => this.send(s.k, {
      type: 'step', where, batch: s.batch as Examples, buffer: this.outgoing(s.k), rng: deriveState(rng, key[0], key[1], s.k),
      tbptt, accuracy: want?.accuracy ?? false,
    }));
    const total = zeroSums();
    let loss = NaN, applied = 0;
    for (;;) {
      const live = replies.filter((r): r is { shard: Shard<TBatch>; reply: WindowReply } => r.reply.type === 'window');
      if (live.length === 0) break;
      const w = this.reduce(live.map((r) => r.reply));
      addSums(total, w.sums!);
      loss = w.loss;
      // a window with nothing to predict makes no step, as on one thread (model.ts); every
      // shard sends every window, those of no terms too, so the windows reduced together match
      if (!(tbptt !== undefined && this.model.reduction() === 'mean' && w.sums!.terms === 0)) {
        yield want ? w : { ...w, sums: undefined };
        applied++;
      }
      const more = live.filter((r) => !r.reply.last);
      if (more.length === 0) break;
      replies = await this.all(where, more.map((r) => r.shard), applied, (s) => this.send(s.k, { type: 'next', buffer: this.outgoing(s.k) }));
    }
    if (tbptt === undefined) return loss;
    return this.model.reduction() === 'mean' ? (total.terms > 0 ? total.lossSum / total.terms : 0) : total.lossSum;
  }

  /** Build every replica from the model's file, on the model's compiled build (the workers
   *  carry no kernels), and check it has the model's layout. */
  private async init(where: string): Promise<void> {
    const file = this.model.save();
    const { backend } = this.model;
    const kernels = await compiledBuild(backend);
    const expected = layoutKey(this.model.layout.entries);
    const replies = await Promise.all(Array.from({ length: this.pool.size }, (_, k) =>
      this.pool.request(k, { type: 'init', file, backend, kernels })))
      .catch((e: Error) => { throw new Error(`${where}: ${e.message} while building the model's replicas; the worker pool is closed`, { cause: e }); });
    for (const r of replies) {
      if (r.type === 'error') throw new TypeError(`${where}: a worker could not rebuild this model from its file: ${r.message}`);
      if (r.type !== 'ready' || r.layout !== expected) {
        throw new TypeError(`${where}: a worker rebuilt this model with other parameters; only models made by createRNN, createModel, loadRNN and loadModel train over workers`);
      }
    }
  }

  /** Contiguous shards of the batch, one per worker that gets any examples. */
  private cut(batch: TBatch): Shard<TBatch>[] {
    const B = batch.x.length, K = this.pool.size;
    const shards: Shard<TBatch>[] = [];
    for (let k = 0; k < K; k++) {
      const start = Math.floor(k * B / K), end = Math.floor((k + 1) * B / K);
      if (end > start) shards.push({ k, start, end, batch: { x: batch.x.slice(start, end), y: batch.y.slice(start, end) } as unknown as TBatch });
    }
    return shards;
  }

  /** Worker k's buffer with the current weights in it, to send (it comes back with the reply). */
  private outgoing(k: number): Float32Array {
    const buffer = this.buffers[k] ?? new Float32Array(this.model.layout.size);
    this.buffers[k] = undefined;
    buffer.set(this.model.arena.f32(this.model.weights));
    return buffer;
  }

  private async send(k: number, message: Parameters<WorkerPool['request']>[1] & { buffer: Float32Array }): Promise<Reply> {
    const reply = await this.pool.request(k, message, [message.buffer.buffer as ArrayBuffer]);
    if ('buffer' in reply && reply.buffer) this.buffers[k] = reply.buffer;
    return reply;
  }

  /** Every shard's reply, in shard order. If any failed, the first failure (in shard order) is
   *  thrown once all have answered, so no reply is left in flight. `applied`: windows of this
   *  batch already applied (truncated BPTT). */
  private async all(where: string, shards: Shard<TBatch>[], applied: number, request: (s: Shard<TBatch>) => Promise<Reply>) {
    const settled = await Promise.allSettled(shards.map(request));
    return settled.map((s, i) => {
      const shard = shards[i];
      if (s.status === 'rejected') {
        const kept = applied === 0 ? 'its last step' : `its last step (${applied} window(s) of this batch were applied)`;
        throw new Error(`${where}: ${(s.reason as Error).message}; the worker pool is closed. The batch was not finished: ` +
          `the model keeps the weights and training state of ${kept}, and fit({ resume: true }) continues from the start of the batch`, { cause: s.reason });
      }
      const reply = s.value;
      if (reply.type === 'error') throw this.shardError(reply, shard);
      return { shard, reply };
    });
  }

  /** A shard's error as one thread would have raised it: the same class, the example index
   *  in the batch rather than in the shard, and the worker named. */
  private shardError(reply: Extract<Reply, { type: 'error' }>, shard: Shard<TBatch>): Error {
    const Class = reply.name === 'TypeError' ? TypeError : reply.name === 'RangeError' ? RangeError : Error;
    const message = renameExamples(reply.message, (xy, b) => `${xy}[${b + shard.start}]`);
    return new Class(`${message} (in worker ${shard.k + 1} of ${this.pool.size})`);
  }

  /** g = Σ_k w_k g_k into the gradient region, in shard order; the window's loss and sums. */
  private reduce(replies: WindowReply[]): GradientWindow {
    const mean = this.model.reduction() === 'mean';
    const sums = zeroSums();
    for (const r of replies) addSums(sums, r.sums);
    const N = sums.terms, n = this.model.layout.size;
    const { kernels: k, arena, grads } = this.model;
    replies.forEach((r, i) => {
      // a shard of no terms with smoothing sent its gradient summed: 1 / N (none if N = 0)
      const summed = this.smoothedMean && r.sums.terms === 0;
      const w = summed ? (N > 0 ? 1 / N : 0) : mean && N > 0 ? r.sums.terms / N : 1;
      const into = i === 0 ? grads : this.staging!;
      arena.f32(into).set(r.buffer);
      if (w !== 1) k.scale(into.ptr, n, w);
      if (i > 0) k.copy_rows(grads.ptr, n, into.ptr, n, 1, n, 1);      // grads += staging
    });
    const loss = mean && N > 0 ? sums.lossSum / N : this.smoothedMean ? NaN : replies.reduce((s, r) => s + r.loss, 0);
    const t1 = Math.max(...replies.map((r) => r.t1 ?? 0));
    return { loss, t0: replies[0].t0, t1: replies[0].t0 === undefined ? undefined : t1, sums };
  }
}

/** A generator state for worker k's replica at batch (epoch, b): the model's generator state
 *  and the three numbers hashed together (splitmix32), never drawn from the model's generator. */
export function deriveState(state: readonly number[], epoch: number, b: number, k: number): number[] {
  let h = 0x2545f491;
  for (const v of [...state, epoch, b, k]) h = splitmix32(h ^ v);
  const out = [0, 1, 2, 3].map((i) => (h = splitmix32(h + i)));
  return out.every((v) => v === 0) ? [1, 0, 0, 0] : out;
}

function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

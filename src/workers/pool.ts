// A pool of training workers: threads started once, each able to hold one model replica, used
// by one fit() at a time. Requests go to one worker and resolve with its reply; a worker that
// fails (an uncaught error, an exit) fails every pending request, and the pool closes: its
// workers are stopped and it refuses further use. Idle workers do not keep a Node process
// alive; call dispose() to stop them.
import { checkInt, checkKeys, describe } from '../validate.js';
import type { Reply, Request } from './protocol.js';
import { spawnWorker, startFailureHint, type WorkerHandle } from './spawn.js';

/** Most worker threads one pool, or one fit({ workers }), starts: 64, as the CLI's --workers.
 *  Each worker instantiates the kernels and holds a whole replica of the model before it computes
 *  anything (32 workers took about 5 s and 500 MB to start for a one-example fit), and a batch
 *  is cut into one shard per worker, so past the cores of the machine (and the examples of a
 *  batch) more workers only add that cost. The limit is a constant, not the machine's core count: results
 *  are deterministic for a given number of workers, and a call that runs on one machine runs
 *  on every other. */
export const MAX_WORKERS = 64;

export interface WorkerPoolOptions {
  /** Worker threads to start, 1 to 64. */
  size: number;
  /** A module worker script to start instead of the library's embedded one: any script that
   *  imports 'rnn-wasm/worker' (for a page whose Content-Security-Policy refuses blob:
   *  workers, or a build that bundles its own worker). In Node, a path or file: URL.
   *  Default: the embedded script, which needs no URL and no configuration. */
  url?: string | { readonly href: string };
}

/** Start `size` worker threads for data-parallel training: fit(data, { workers: pool }). */
export async function createWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  const where = 'createWorkerPool';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be { size, url? }, got ${describe(options)}`);
  checkKeys(where, 'options', options, ['size', 'url']);
  const size = checkInt(where, 'size', options.size, 1, MAX_WORKERS);
  const url = options.url;
  if (url !== undefined && typeof url !== 'string' && typeof (url as { href?: unknown })?.href !== 'string') {
    throw new TypeError(`${where}: url must be a string or a URL, got ${describe(url)}`);
  }
  return WorkerPool.start(where, size, url);
}

interface Pending {
  resolve(reply: Reply): void;
  reject(e: Error): void;
}

/** Worker threads for data-parallel training (see createWorkerPool). */
export class WorkerPool {
  private readonly workers: WorkerHandle[] = [];
  private readonly pending: (Pending | undefined)[];
  /** Why the pool cannot be used: a worker failed, or it was disposed. */
  private closed?: Error;
  /** The fit() using the pool now. */
  private user?: object;

  private constructor(readonly size: number) {
    this.pending = new Array(size).fill(undefined);
  }

  /** Start the workers and wait until each has loaded the library. */
  static async start(where: string, size: number, url?: WorkerPoolOptions['url']): Promise<WorkerPool> {
    const pool = new WorkerPool(size);
    // each worker's first message says it has loaded; one promise holds them all (and their failures)
    const started = Promise.all(Array.from({ length: size }, (_, k) => new Promise<Reply>((resolve, reject) => { pool.pending[k] = { resolve, reject }; })));
    started.catch(() => {});
    try {
      for (let k = 0; k < size; k++) {
        pool.workers.push(await spawnWorker(url, {
          message: (reply) => pool.receive(k, reply),
          failure: (reason) => pool.fail(k, reason),
        }));
        pool.workers[k].hold(true);
      }
      await started;
    } catch (e) {
      await pool.dispose();
      throw new Error(`${where}: the workers could not start: ${(e as Error).message}${startFailureHint(url)}`, { cause: e });
    }
    return pool;
  }

  /** True once disposed, or closed by a failed worker. */
  get isDisposed(): boolean {
    return this.closed !== undefined;
  }

  /** Take the pool for one user (a fit); refused while another has it, or once closed. */
  claim(where: string, user: object): void {
    if (this.closed) throw new TypeError(`${where}: this worker pool is closed (${this.closed.message}); create another with createWorkerPool()`);
    if (this.user) throw new TypeError(`${where}: this worker pool is training another model; one fit() at a time per pool`);
    this.user = user;
  }

  release(user: object): void {
    if (this.user === user) this.user = undefined;
  }

  /** Send one request to worker k and wait for its reply. A message that cannot be sent (one
   *  postMessage cannot clone) fails the pool as a failed worker does. */
  request(k: number, message: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<Reply>((resolve, reject) => {
      this.pending[k] = { resolve, reject };
      this.workers[k].hold(true);
      try {
        this.workers[k].post(message, transfer);
      } catch (e) {
        this.fail(k, `could not be sent its '${message.type}' message (${(e as Error)?.message ?? e})`);
      }
    });
  }

  /** Stop every worker. The pool cannot be used after. */
  async dispose(): Promise<void> {
    this.closed ??= new Error('pool.dispose() was called');
    this.failPending(this.closed);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private receive(k: number, reply: Reply): void {
    const p = this.pending[k];
    this.pending[k] = undefined;
    this.workers[k].hold(false);
    p?.resolve(reply);
  }

  /** A worker failed: fail what waits, stop the others, refuse further use. */
  private fail(k: number, reason: string): void {
    if (this.closed) return;
    this.closed = new Error(`worker ${k + 1} of ${this.size} ${reason}`);
    this.dispose().catch(() => {});          // stopping what is left; nothing waits on it
  }

  private failPending(e: Error): void {
    this.pending.forEach((p, k) => {
      this.pending[k] = undefined;
      p?.reject(e);
    });
  }
}

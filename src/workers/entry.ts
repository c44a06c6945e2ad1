// A training worker's main: it holds one model replica and computes the gradients of the
// shards it is sent (protocol.ts). It runs in a Web Worker or a node:worker_threads Worker;
// imported anywhere else (a page, Node's main thread) it does nothing. This file is what
// 'rnn-wasm/worker' exports for custom worker scripts, and what scripts/embed-worker.mjs
// bundles into the embedded script. Either way the kernels come from the calling thread, compiled,
// with the model's file: the replica runs the model's build, and the script needs no wasm.
import { loadModel } from '../architectures.js';
import { Head } from '../head.js';
import type { Network } from '../network.js';
import { localWindows, type GradientWindow } from '../train/step.js';
import { trainableOf, type Trainable } from '../train/trainable.js';
import type { Examples } from '../train/types.js';
import { adoptBuild } from '../wasm.js';
import { layoutKey, type Reply, type Request } from './protocol.js';
import { nodeWorkerThreads } from './spawn.js';

interface Port {
  post(reply: Reply, transfer?: ArrayBuffer[]): void;
  listen(handle: (request: Request) => void): void;
}

interface Replica {
  model: Network;
  t: Trainable;
}

/** The connection to the thread that started this worker, or undefined when not in a worker. */
async function connect(): Promise<Port | undefined> {
  const scope = globalThis as { WorkerGlobalScope?: new () => unknown; postMessage?: (m: unknown, t: ArrayBuffer[]) => void;
                                addEventListener?: (type: string, fn: (e: MessageEvent) => void) => void };
  if (scope.WorkerGlobalScope !== undefined && globalThis instanceof scope.WorkerGlobalScope) {
    return {
      post: (reply, transfer = []) => scope.postMessage!(reply, transfer),
      listen: (handle) => scope.addEventListener!('message', (e) => handle(e.data as Request)),
    };
  }
  type Threads = { isMainThread: boolean; parentPort: { postMessage(m: unknown, t?: ArrayBuffer[]): void; on(ev: 'message', fn: (m: Request) => void): void } | null };
  const threads = await nodeWorkerThreads<Threads>();
  const parent = threads?.isMainThread === false ? threads.parentPort : null;
  if (!parent) return undefined;
  return {
    post: (reply, transfer = []) => parent.postMessage(reply, transfer),
    listen: (handle) => parent.on('message', handle),
  };
}

/** Serve requests one after another, for as long as the worker lives. */
function serve(port: Port): void {
  // a batch here is a shard: one of no terms sends its smoothing terms' gradient summed
  Head.shardOfMany = true;
  let replica: Replica | undefined;
  let windows: Iterator<GradientWindow, number, void> | undefined;
  let single = false;
  let queue = Promise.resolve();

  /** Put the weights that came in `buffer` into the replica, compute the next window, and send
   *  its gradient back in the same buffer. */
  const advance = (buffer: Float32Array): void => {
    const { t } = replica!;
    t.arena.f32(t.weights).set(buffer);
    const w = windows!.next();
    if (w.done) {
      windows = undefined;
      port.post({ type: 'done', buffer }, [buffer.buffer as ArrayBuffer]);
      return;
    }
    buffer.set(t.arena.f32(t.grads));
    const { loss, t0, t1, sums } = w.value;
    port.post({ type: 'window', buffer, loss, t0, t1, sums: sums ?? { lossSum: loss, terms: 1, correct: 0, counted: 0 }, last: single },
      [buffer.buffer as ArrayBuffer]);
  };

  const handle = async (request: Request): Promise<void> => {
    switch (request.type) {
      case 'init': {
        replica?.model.dispose();
        replica = undefined;
        adoptBuild(request.backend, request.kernels);
        const model = await loadModel(request.file, { backend: request.backend }) as unknown as Network;
        replica = { model, t: trainableOf(model) };
        port.post({ type: 'ready', layout: layoutKey(model.layout.entries) });
        return;
      }
      case 'step': {
        const { t } = replica!;
        t.rng.setState(request.rng);
        single = request.tbptt === undefined;
        windows = localWindows(t, request.where, request.batch as Examples, request.tbptt, { accuracy: request.accuracy });
        advance(request.buffer);
        return;
      }
      case 'next':
        advance(request.buffer);
        return;
    }
  };

  port.listen((request) => {
    queue = queue.then(() => handle(request)).catch((e: Error) => {
      windows = undefined;
      const buffer = 'buffer' in request ? request.buffer : undefined;
      port.post({ type: 'error', name: e?.name ?? 'Error', message: e?.message ?? String(e), buffer },
        buffer && buffer.buffer.byteLength > 0 ? [buffer.buffer as ArrayBuffer] : []);
    });
  });
  port.post({ type: 'hello' });
}

void connect().then((port) => port && serve(port));

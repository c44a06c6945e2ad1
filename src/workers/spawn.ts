// Starting a worker thread, the only file that touches Web Workers or node:worker_threads.
// Node starts a worker_threads Worker (Node is known by process.versions.node, not by a missing
// global Worker: onnxruntime-web, for one, defines a global Worker in Node); browsers, and other
// runtimes with a global Worker, a Web Worker.
// By default the worker runs the library's embedded script (workers/script.ts, built by
// scripts/embed-worker.mjs: the worker entry bundled into one classic script, without the
// kernels, which each worker receives compiled from the calling thread),
// from a blob: URL in browsers and as evaluated code in Node, so it needs no file, no URL and no
// bundler configuration. A `url` starts a module worker from that script instead.
// node:worker_threads is reached through process.getBuiltinModule (or a dynamic import whose
// name bundlers do not follow), so the main entry still imports no node: module.
import type { Reply, Request } from './protocol.js';

/** One worker thread, whatever the runtime. */
export interface WorkerHandle {
  post(message: Request, transfer: ArrayBuffer[]): void;
  /** Keep the process alive (Node) while a reply is awaited; let it exit when idle. */
  hold(waiting: boolean): void;
  terminate(): Promise<void>;
}

/** What a worker reports: its replies, and its failure (an uncaught error, an exit). */
export interface WorkerEvents {
  message(reply: Reply): void;
  failure(reason: string): void;
}

export async function spawnWorker(url: string | { readonly href: string } | undefined, events: WorkerEvents): Promise<WorkerHandle> {
  const href = typeof url === 'string' || url === undefined ? url : url.href;
  const threads = await nodeWorkerThreads();
  if (threads) return nodeWorker(threads, href?.startsWith('file:') || href?.startsWith('data:') ? new URL(href) : href, events);
  if (typeof Worker === 'function') return webWorker(href, events);
  throw new Error('this JavaScript runtime has neither Web Workers nor node:worker_threads');
}

async function webWorker(url: string | undefined, events: WorkerEvents): Promise<WorkerHandle> {
  let worker: Worker;
  if (url === undefined) {
    const { workerScript } = await import('./script.js');
    const blobUrl = URL.createObjectURL(new Blob([workerScript], { type: 'text/javascript' }));
    worker = new Worker(blobUrl);
    // the script is fetched once the worker starts: its first message says it has been
    worker.addEventListener('message', () => URL.revokeObjectURL(blobUrl), { once: true });
  } else {
    worker = new Worker(url, { type: 'module' });
  }
  worker.addEventListener('message', (e: MessageEvent<Reply>) => events.message(e.data));
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault();
    events.failure(`threw an uncaught error${e.message ? `: ${e.message}` : ''}`);
  });
  worker.addEventListener('messageerror', () => events.failure('sent a message that could not be read'));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    hold: () => {},
    terminate: async () => worker.terminate(),
  };
}

/** What to add to the error of workers that did not start. In a browser the embedded script
 *  runs from a blob: URL, which a Content-Security-Policy refuses unless its worker-src (or,
 *  without one, script-src) allows blob:; the page then sees only an error event, so the error
 *  names that likely cause and the remedy. Empty with a `url`, and in Node. */
export function startFailureHint(url: unknown): string {
  const inNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
  if (url !== undefined || inNode || typeof Worker !== 'function') return '';
  return '. The workers run the embedded script from a blob: URL; the likely cause is a Content-Security-Policy that refuses ' +
    'blob: workers (blob: missing from its worker-src, or from the script-src it falls back to). Start them from a script of your own instead: createWorkerPool({ size, url }) ' +
    "with a module worker that does import 'rnn-wasm/worker', then fit(data, { workers: pool })";
}

/** The parts of node:worker_threads used here. */
interface NodeThreads {
  Worker: new (script: string | URL, options?: { eval?: boolean }) => NodeWorker;
}
interface NodeWorker {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', fn: (data: Reply) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  on(event: 'exit', fn: (code: number) => void): void;
  on(event: 'messageerror', fn: () => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

async function nodeWorker(threads: NodeThreads, url: string | URL | undefined, events: WorkerEvents): Promise<WorkerHandle> {
  const worker = url === undefined
    ? new threads.Worker((await import('./script.js')).workerScript, { eval: true })
    : new threads.Worker(url);
  let ended = false;
  worker.on('message', (reply) => events.message(reply));
  worker.on('error', (e) => events.failure(`threw an uncaught error: ${e?.message ?? e}`));
  worker.on('messageerror', () => events.failure('sent a message that could not be read'));
  worker.on('exit', (code) => { if (!ended) events.failure(`exited with code ${code}`); });
  worker.unref();
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    hold: (waiting) => (waiting ? worker.ref() : worker.unref()),
    terminate: async () => {
      ended = true;
      await worker.terminate();
    },
  };
}

/** node:worker_threads when running in Node, else undefined. */
export async function nodeWorkerThreads<T = NodeThreads>(): Promise<T | undefined> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (name: string) => unknown } }).process;
  if (!proc?.versions?.node) return undefined;
  const name = 'node:worker_threads';
  return (proc.getBuiltinModule?.(name) ?? await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as T;
}

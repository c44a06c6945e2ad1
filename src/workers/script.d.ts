// The embedded training worker: the worker entry (entry.ts) bundled into one classic script,
// without the kernels (each worker gets them compiled in its 'init' message), by
// scripts/embed-worker.mjs, which writes dist/workers/script.js after tsc.
export declare const workerScript: string;

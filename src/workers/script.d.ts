// The embedded training worker: the worker entry (entry.ts) and the kernels bundled into one
// classic script by scripts/embed-worker.mjs, which writes dist/workers/script.js after tsc.
export declare const workerScript: string;

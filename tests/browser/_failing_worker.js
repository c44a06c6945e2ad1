// A module worker that throws an uncaught error when its third shard arrives (the library's
// listener never sees that shard). Started by _workers_page.js as createWorkerPool's `url`.
let shards = 0;
self.addEventListener('message', (e) => {
  if (e.data.type === 'step' && ++shards === 3) {
    e.stopImmediatePropagation();
    throw new Error('injected failure');
  }
});
// what 'rnn-wasm/worker' resolves to: one file with no imports, loaded with no bundler
await import('/dist/workers/worker.js');

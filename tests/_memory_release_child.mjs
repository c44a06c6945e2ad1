// Run by tests/memory_release.test.ts in a child process (node --expose-gc): a large model's
// WebAssembly memory is given back to the process after dispose(), even while the disposed
// model object is still referenced. Prints one JSON line of measurements.
import { createRNN, getMemoryStats } from '../dist/index.js';

const MB = 2 ** 20;
// WebAssembly memory counts as external memory up to Node 24; Node 26 no longer counts it there,
// so the resident set is measured too (the test reads whichever saw the model)
const external = () => { const u = process.memoryUsage(); return { external: u.external, rss: u.rss }; };
async function collect() {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    globalThis.gc();
  }
}

await collect();
const before = external();
// one-hot LSTM over 2048 tokens, n_a = 768: ~10 M parameters; with gradients and Adam's two
// moments about 160 MB of WebAssembly memory
const model = await createRNN({ cell: 'lstm', n_x: 2048, n_a: 768, n_y: 2048, input: 'tokens', seed: 1 });
model.trainStep({ x: [[1, 2, 3, 4]], y: [[2, 3, 4, 5]] });
const stats = getMemoryStats();
const inUse = external();
model.dispose();
const after = getMemoryStats();
await collect();
const released = external();
let detached = '';
try {
  model.kernels.memory.buffer;                     // the disposed model's handle on the dropped instance
} catch (e) {
  detached = e.message;
}
const next = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 2 });
const step = next.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 0]] });
const again = getMemoryStats();
// a model asked for while the last one is disposed lands on a live instance
const pending = createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 2 });
next.dispose();
const racer = await pending;
const raced = racer.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 0]] }).loss;
racer.dispose();
console.log(JSON.stringify({
  before: before.external / MB, inUse: inUse.external / MB, released: released.external / MB,
  rss: { before: before.rss / MB, inUse: inUse.rss / MB, released: released.rss / MB }, modelBytes: stats.models[0]?.bytes / MB,
  stats: { instances: stats.instances, reserved: stats.reservedBytes / MB, used: stats.usedBytes / MB, models: stats.models.length },
  afterDispose: { instances: after.instances, models: after.models.length, used: after.usedBytes },
  detached, stillHeld: model.isDisposed, nextLoss: step.loss, again: { instances: again.instances, models: again.models.length }, raced,
}));

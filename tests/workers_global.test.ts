// fit over workers in a Node process that has a global Worker: onnxruntime-web sets
// globalThis.Worker to worker_threads' Worker when it first runs, and a library may define any
// other; Node still starts worker_threads workers, and trains exactly as without the global.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const dist = join(__dirname, '..', 'dist', 'index.js');

/** Train over two worker threads in a fresh Node process after `setup`; the weights, as text. */
function trainIn(setup: string): string {
  const script = `
    ${setup}
    const { createRNN } = await import(${JSON.stringify(dist)});
    const m = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 3 });
    const data = { x: [[0, 1, 2, 3], [2, 1], [3, 3, 0], [1, 2, 3]], y: [[1, 2, 3, 0], [3, 2], [0, 0, 1], [2, 3, 0]] };
    const { epochLosses } = await m.fit(data, { workers: 2, epochs: 3, batchSize: 4, learningRate: 0.1 });
    if (!(epochLosses[2] < epochLosses[0])) throw new Error('the loss did not fall: ' + epochLosses.join(', '));
    process.stdout.write(Array.from(m.getWeights()).join(','));
  `;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
}

const Global = suite('workers: a global Worker in Node');

Global('worker_threads\' Worker as globalThis.Worker (what onnxruntime-web sets): the same training as without it', () => {
  const plain = trainIn('');
  const ort = trainIn(`globalThis.Worker = (await import('node:worker_threads')).Worker;`);
  assert.ok(plain.length > 0);
  assert.is(ort, plain);
});

Global('a global Worker that cannot start anything is never used in Node', () => {
  const fake = trainIn(`globalThis.Worker = class { constructor() { throw new Error('a Web Worker was started in Node'); } };`);
  assert.is(fake, trainIn(''));
});

Global.run();

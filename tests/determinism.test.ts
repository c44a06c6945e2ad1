// Determinism: the same seed and data give bit-identical weights after N steps, run to run
// (in one process and in fresh processes), with every source of randomness in play.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createRNN, Random } from '../dist/index.js';
import { checkSame } from './_utils.js';

const Same = suite('determinism');

/** A training run that uses shuffling, dropout, truncated BPTT, a schedule and clipping: one
 *  source text, run in this process (run()) and in child processes. */
const script = (backend: string, cell: string, seed: number) => `
  const rng = new Random(5);
  const x = [], y = [];
  for (let i = 0; i < 24; i++) {
    const s = Array.from({ length: 14 }, () => rng.int(7));
    x.push(s);
    y.push(s.map((_, t) => (t >= 2 ? s[t - 2] : -1)));
  }
  const m = await createRNN({ cell: '${cell}', n_x: 7, n_a: 10, n_y: 7, layers: 2, dropout: 0.3, outputDropout: 0.2,
    input: 'tokens', reduction: 'mean', seed: ${seed}, backend: '${backend}' });
  await m.fit({ x, y }, { epochs: 3, batchSize: 5, learningRate: 0.02, clipNorm: 0.5, tbptt: 6,
    schedule: { type: 'cosine', tMax: 30, warmup: { steps: 3 } }, validationSplit: 0.25 });
  for (let i = 0; i < 3; i++) m.trainStep({ x: x.slice(0, 4), y: y.slice(0, 4) }, { clipValue: 0.1 });
  const weights = m.getWeights();
  m.dispose();
`;

async function run(backend: string, cell: string, seed: number): Promise<Float32Array> {
  const body = script(backend, cell, seed);
  const fn = new Function('createRNN', 'Random', `return (async () => { ${body} return weights; })();`);
  return fn(createRNN, Random);
}

const sha = (w: Float32Array) => createHash('sha256').update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)).digest('hex');

for (const backend of ['simd', 'scalar']) {
  for (const cell of ['rnn', 'lstm', 'gru']) {
    Same(`${backend} ${cell}: two runs in one process give the same weights, bit for bit`, async () => {
      const a = await run(backend, cell, 42), b = await run(backend, cell, 42);
      checkSame('weights', a, b);
      const c = await run(backend, cell, 43);
      assert.ok(a.some((v, i) => v !== c[i]), 'another seed, other weights');
    });
  }
}

Same('fresh processes give the same weights as this one', async () => {
  const dist = join(__dirname, '..', 'dist', 'index.js');
  const child = `
    import { createHash } from 'node:crypto';
    const { createRNN, Random } = await import(${JSON.stringify(dist)});
    ${script('simd', 'lstm', 42)}
    process.stdout.write(createHash('sha256').update(new Uint8Array(weights.buffer)).digest('hex'));
  `;
  const hashes = [0, 1].map(() => execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' }));
  const here = sha(await run('simd', 'lstm', 42));
  assert.equal(hashes, [here, here]);
});

Same.run();

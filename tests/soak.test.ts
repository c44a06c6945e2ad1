// Lifetime: create / train / dispose cycles over every architecture leave WebAssembly memory
// and the live regions flat after warm-up; models never disposed are freed once collected
// (a FinalizationRegistry safety net), and a model disposed and then collected is not freed
// twice.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Arena, createModel, createRNN, getEngine, Random } from '../dist/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** One small model of each architecture, trained a few steps. */
async function cycle(rng: Random, dispose: boolean): Promise<void> {
  const V = 5;
  const models: any[] = [
    await createRNN({ cell: 'lstm', n_x: V, n_a: 6, n_y: V, input: 'tokens', layers: 2, bidirectional: true, dropout: 0.1, seed: rng.int(1e6) }),
    await createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 3, n_a: 5, n_y: 2, seed: rng.int(1e6) }),
    await createModel({ architecture: 'encoder-decoder', n_x: V, n_y: V, n_a: 4, input: 'tokens', attention: 'general', seed: rng.int(1e6) }),
  ];
  const T = 2 + rng.int(6);
  const tokens = () => Array.from({ length: T }, () => rng.int(V));
  models[0].trainStep({ x: [tokens(), tokens()], y: [tokens(), tokens()] }, { optimizer: 'adam' });
  models[1].trainStep({ x: [[[0.1, 0.2, 0.3]], [[1, 0, 0], [0, 1, 0]]], y: [0, 1] }, { optimizer: 'rmsprop' });
  models[2].trainStep({ x: [tokens()], y: [tokens()] }, { optimizer: 'sgd' });
  models[2].generate(tokens(), { maxLength: 4 });
  if (dispose) for (const m of models) m.dispose();
}

/** Collect garbage until `done` holds (finalizers run in later tasks), at most `rounds` times. */
async function collectUntil(done: () => boolean, rounds = 100): Promise<boolean> {
  for (let i = 0; i < rounds && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return done();
}

const Soak = suite('soak');

Soak('150 create / train / dispose cycles: memory and live regions flat after warm-up', async () => {
  // an arena keeps the instance alive between cycles (the last dispose would otherwise drop it)
  const pin = new Arena((await getEngine('auto')).kernels);
  const { kernels } = pin;
  const rng = new Random(1);
  for (let i = 0; i < 20; i++) await cycle(rng, true);
  const bytes = kernels.memory.buffer.byteLength, regions = Arena.liveRegions;
  for (let i = 0; i < 150; i++) {
    await cycle(rng, true);
    assert.is(Arena.liveRegions, regions, `live regions after cycle ${i}`);
  }
  assert.is(kernels.memory.buffer.byteLength, bytes, 'WebAssembly memory');
  pin.dispose();
});

Soak('models never disposed are freed once garbage-collected, and their memory is reused', async () => {
  const pin = new Arena((await getEngine('auto')).kernels);   // keeps the instance alive throughout
  const { kernels } = pin;
  const rng = new Random(2);
  // settle first: regions of earlier garbage (the last test's) may still await their finalizers,
  // which newer V8 runs later, and would go below the count this test waits to come back to
  await collectUntil(() => false, 5);
  const regions = Arena.liveRegions;
  for (let i = 0; i < 60; i++) await cycle(rng, false);
  assert.ok(Arena.liveRegions > regions + 600, 'the models hold their regions');
  assert.ok(await collectUntil(() => Arena.liveRegions === regions), `live regions back to ${regions}: ${Arena.liveRegions}`);
  const bytes = kernels.memory.buffer.byteLength;
  for (let i = 0; i < 60; i++) await cycle(rng, false);
  assert.ok(await collectUntil(() => Arena.liveRegions === regions), 'and again');
  assert.is(kernels.memory.buffer.byteLength, bytes, 'the second round reuses the memory of the first');
  pin.dispose();
});

Soak('a model disposed, then collected, is not freed twice: later models get distinct regions', async () => {
  const regions = Arena.liveRegions;
  for (let i = 0; i < 50; i++) (await createRNN({ n_x: 4, n_a: 16, n_y: 4, seed: i })).dispose();
  await collectUntil(() => false, 10);                      // every finalizer that would run has run
  assert.is(Arena.liveRegions, regions);
  const models = await Promise.all(Array.from({ length: 50 }, (_, i) => createRNN({ n_x: 4, n_a: 16, n_y: 4, seed: 100 + i })));
  const starts = models.map((m) => m.weightsView().byteOffset);
  assert.is(new Set(starts).size, starts.length, 'no two models share a parameter region');
  const before = models.map((m) => m.getWeights());
  models[0].setWeights(new Float32Array(models[0].numParams).fill(7));
  models.slice(1).forEach((m, i) => assert.equal(m.getWeights(), before[i + 1], `model ${i + 1} untouched`));
  for (const m of models) m.dispose();
  assert.is(Arena.liveRegions, regions);
});

Soak('streams dropped unfinished (never run to the end nor returned) are freed once collected', async () => {
  const V = 6;
  const lm = await createRNN({ cell: 'lstm', n_x: V, n_a: 8, n_y: V, input: 'tokens', layers: 2, seed: 1 });
  const ed = await createModel({ architecture: 'encoder-decoder', n_x: V, n_y: V, n_a: 4, input: 'tokens', attention: 'dot', seed: 2 });
  const models = [lm, ed];
  // the models' own workspaces, made by a first stream run to its end
  for (const s of [lm.stream({ prefix: [1], maxLength: 5 }), ed.stream([1, 2, 3], { maxLength: 5 })]) [...s];
  const base = models.map((m) => m.memoryBytes);
  // each takes one token and is dropped, as a server's stream is when its client goes away
  const drop = () => {
    for (let i = 0; i < 100; i++) {
      lm.stream({ prefix: [1, 2], maxLength: 50, strategy: 'sample', seed: i }).next();
      ed.stream([1, 2, 3], { maxLength: 50 }).next();
    }
  };
  drop();
  models.forEach((m, i) => assert.ok(m.memoryBytes > base[i] + 5_000, `the dropped streams hold their workspaces: ${base[i]} → ${m.memoryBytes} B`));
  assert.ok(await collectUntil(() => models.every((m, i) => m.memoryBytes <= base[i])),
    `back to ${base.join(', ')} B once collected: ${models.map((m) => m.memoryBytes).join(', ')} B`);
  // a stream given up and collected takes nothing from one that runs: the same tokens as before
  const tokens = [...lm.stream({ prefix: [1], maxLength: 20, strategy: 'sample', seed: 7 })];
  drop();
  await collectUntil(() => models.every((m, i) => m.memoryBytes <= base[i]));
  assert.equal([...lm.stream({ prefix: [1], maxLength: 20, strategy: 'sample', seed: 7 })], tokens);
  for (const m of models) m.dispose();
});

Soak.run();

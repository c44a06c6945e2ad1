// Learning checks: with a fixed seed, the vanilla RNN learns small sequence tasks to a
// stated held-out accuracy within a bounded number of steps. Also fit() and sample().
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { checkSame, echo } from './_utils.js';

const Learn = suite('learning');

/** Binary addition, least significant bit first: x<t> = [a_t, b_t], y<t> = [(a + b)_t]. */
function addition(rng: Random, n: number, T = 9) {
  const x: number[][][] = [], y: number[][][] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.int(256), b = rng.int(256), s = a + b;
    x.push(Array.from({ length: T }, (_, t) => [(a >> t) & 1, (b >> t) & 1]));
    y.push(Array.from({ length: T }, (_, t) => [(s >> t) & 1]));
  }
  return { x, y };
}

Learn('echo with a delay of 3 steps: ≥ 99% held-out accuracy within 300 Adam steps', async () => {
  const V = 8, T = 16;
  const model = await createRNN({ n_x: V, n_a: 48, n_y: V, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1 });
  const rng = new Random(7);
  const test = echo(rng, 200);
  const first = model.forward(test).loss!;
  for (let step = 0; step < 300; step++) model.trainStep(echo(rng, 32), { optimizer: 'adam', learningRate: 0.01, clipNorm: 5 });
  const { yhat, loss } = model.forward(test);
  let right = 0, total = 0;
  for (let b = 0; b < 200; b++) {
    for (let t = 3; t < T; t++) {
      const p = Array.from(yhat.subarray((b * T + t) * V, (b * T + t + 1) * V));
      right += p.indexOf(Math.max(...p)) === test.y[b][t] ? 1 : 0;
      total++;
    }
  }
  assert.ok(right / total >= 0.99, `accuracy ${(right / total).toFixed(4)}`);
  assert.ok(loss! < first / 20, `loss fell from ${first} to ${loss}`);
  model.dispose();
});

Learn('binary addition bit by bit (sigmoid output): ≥ 99% of held-out sums exact within 400 steps', async () => {
  const T = 9;
  const model = await createRNN({ n_x: 2, n_a: 16, n_y: 1, input: 'dense', output: 'sigmoid', reduction: 'mean', seed: 1 });
  const rng = new Random(3);
  const test = addition(rng, 500);
  for (let step = 0; step < 400; step++) model.trainStep(addition(rng, 32), { optimizer: 'adam', learningRate: 0.01 });
  const { yhat } = model.forward({ x: test.x });
  let exact = 0;
  for (let b = 0; b < 500; b++) {
    let ok = true;
    for (let t = 0; t < T; t++) if ((yhat[b * T + t] > 0.5 ? 1 : 0) !== test.y[b][t][0]) ok = false;
    exact += ok ? 1 : 0;
  }
  assert.ok(exact / 500 >= 0.99, `exact sums ${exact}/500`);
  model.dispose();
});

Learn('running mean (linear output, squared error): held-out RMSE < 0.05 within 300 steps', async () => {
  const T = 10;
  const make = (rng: Random, n: number) => {
    const x: number[][][] = [], y: number[][][] = [];
    for (let i = 0; i < n; i++) {
      const v = Array.from({ length: T }, () => 2 * rng.uniform() - 1);
      let s = 0;
      x.push(v.map((u) => [u]));
      y.push(v.map((u, t) => [(s += u) / (t + 1)]));
    }
    return { x, y };
  };
  const model = await createRNN({ n_x: 1, n_a: 24, n_y: 1, output: 'linear', reduction: 'mean', seed: 2 });
  const rng = new Random(5);
  const test = make(rng, 200);
  for (let step = 0; step < 300; step++) model.trainStep(make(rng, 32), { optimizer: 'adam', learningRate: 0.01 });
  const mse = model.forward(test).loss!;
  assert.ok(Math.sqrt(mse) < 0.05, `RMSE ${Math.sqrt(mse)}`);
  model.dispose();
});

Learn.run();

// ---

const Fit = suite('fit and sample');

Fit('fit is deterministic: same seed and data give bit-identical weights', async () => {
  const data = echo(new Random(1), 96, 8);
  const run = async () => {
    const m = await createRNN({ n_x: 8, n_a: 16, n_y: 8, input: 'tokens', seed: 9 });
    await m.fit(data, { epochs: 2, batchSize: 16, learningRate: 0.01 });
    const w = m.getWeights();
    m.dispose();
    return w;
  };
  checkSame('weights', await run(), await run());
});

Fit('fit reports progress, lowers the loss, stops on abort and yields to the event loop', async () => {
  const data = echo(new Random(2), 256, 12);
  const m = await createRNN({ n_x: 8, n_a: 32, n_y: 8, input: 'tokens', reduction: 'mean', seed: 3 });
  const seen: number[] = [];
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const result = await m.fit(data, {
    epochs: 8, batchSize: 32, learningRate: 0.01, yieldEveryMs: 0,
    onProgress: (p) => { seen.push(p.loss); assert.ok(p.stepsPerSecond > 0 && p.batches === 8); },
  });
  clearInterval(timer);
  assert.is(result.steps, 64);
  assert.is(seen.length, 64);
  assert.ok(result.epochLosses[7] < result.epochLosses[0] / 2, `epoch losses ${result.epochLosses}`);
  assert.ok(ticks > 0, 'timers ran during fit');
  const controller = new AbortController();
  const stopped = await m.fit(data, { epochs: 5, batchSize: 32, onProgress: (p) => { if (p.step === 3) controller.abort(); }, signal: controller.signal });
  assert.ok(stopped.stopped);
  assert.is(stopped.steps, 3);
  m.dispose();
});

Fit('sample: greedy is deterministic, a seed repeats a draw, ids are in range', async () => {
  const m = await createRNN({ n_x: 6, n_a: 16, n_y: 6, input: 'tokens', seed: 4 });
  const cycle = Array.from({ length: 4 }, () => Array.from({ length: 12 }, (_, t) => t % 6));
  for (let i = 0; i < 150; i++) m.trainStep({ x: cycle, y: cycle.map((s) => s.map((v) => (v + 1) % 6)) }, { learningRate: 0.02 });
  assert.equal(m.sample({ length: 8, prime: [0], temperature: 0 }), [1, 2, 3, 4, 5, 0, 1, 2], 'learned the cycle');
  const a = m.sample({ length: 50, prime: [2, 3], temperature: 1.5, seed: 11 });
  const b = m.sample({ length: 50, prime: [2, 3], temperature: 1.5, seed: 11 });
  assert.equal(a, b);
  assert.ok(a.every((v) => Number.isInteger(v) && v >= 0 && v < 6));
  const top1 = m.sample({ length: 8, prime: [0], topK: 1, seed: 1 });
  assert.equal(top1, [1, 2, 3, 4, 5, 0, 1, 2], 'topK = 1 is greedy');
  m.dispose();
});

Fit.run();

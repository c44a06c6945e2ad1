// Many-to-one: which wave shape is this noisy signal? Sequence classification.
// Each example is a sequence of samples of a sine, square, triangle or sawtooth wave, with a
// random period, phase, amplitude and length, plus noise; the label is its shape. Sequences
// of different lengths share a batch: each is read to its own end, and the output layer
// reads its last state. Run with `node examples/many-to-one-waves.js`.
//
//   a<t> = GRU(a<t-1>, x<t>),  t = 1 … T_b        ŷ = softmax(W_ya a<T_b> + b_y)
//   L    = mean over sequences of −log ŷ[shape]
import { createModel, Random } from '../dist/index.js';

export const SHAPES = ['sine', 'square', 'triangle', 'sawtooth'];

/** The value of a unit wave of each shape at phase u ∈ [0, 1). */
const wave = [
  (u) => Math.sin(2 * Math.PI * u),
  (u) => (u < 0.5 ? 1 : -1),
  (u) => (u < 0.5 ? 4 * u - 1 : 3 - 4 * u),
  (u) => 2 * u - 1,
];

/** n noisy waves of random shape, period (6–16 steps), phase, amplitude (0.7–1.3) and length (20–50 steps), with Gaussian noise of standard deviation `noise`. */
export function makeWaves(rng, n, noise = 0.1) {
  const x = [], y = [];
  for (let i = 0; i < n; i++) {
    const shape = rng.int(SHAPES.length);
    const period = 6 + 10 * rng.uniform(), phase = rng.uniform(), amplitude = 0.7 + 0.6 * rng.uniform();
    const T = 20 + rng.int(31);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
    x.push(Array.from({ length: T }, (_, t) => [amplitude * wave[shape]((t / period + phase) % 1) + noise * gauss()]));
    y.push(shape);
  }
  return { x, y };
}

/** Train on generated waves; returns the model and held-out accuracy. */
export async function train({ steps = 1500, batchSize = 32, n_a = 32, cell = 'gru', learningRate = 0.02, seed = 1, log = console.log, every = 100 } = {}) {
  const rng = new Random(seed);
  const test = makeWaves(rng, 1000);
  const model = await createModel({ architecture: 'many-to-one', cell, n_x: 1, n_a, n_y: SHAPES.length, output: 'softmax', reduction: 'mean', seed });
  log(`model: many-to-one ${cell}, n_a = ${n_a}, ${model.numParams} parameters; sequences of 20–50 steps, ${test.x.length} held out`);
  // predictions in chunks of 200 sequences: a workspace sized for 200, not for all 1000
  const accuracy = () => {
    let right = 0;
    for (let i = 0; i < test.x.length; i += 200) model.predict(test.x.slice(i, i + 200)).forEach((c, j) => { right += c === test.y[i + j] ? 1 : 0; });
    return right / test.x.length;
  };
  const t0 = performance.now();
  let smooth;
  for (let step = 1; step <= steps; step++) {
    // the learning rate decays linearly to a tenth over the run
    const r = model.trainStep(makeWaves(rng, batchSize), { learningRate, schedule: { type: 'linear', startFactor: 1, endFactor: 0.1, totalIters: steps }, clipNorm: 5 });
    smooth = smooth === undefined ? r.loss : 0.95 * smooth + 0.05 * r.loss;
    if (step % every === 0 || step === steps) log(`step ${String(step).padStart(4)} | loss ${smooth.toFixed(4)} | held-out accuracy ${(100 * accuracy()).toFixed(1)}%`);
  }
  return { model, test, accuracy: accuracy(), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const { model, test, accuracy, seconds } = await train();
  console.log(`\nheld-out accuracy ${(100 * accuracy).toFixed(1)}% after ${seconds.toFixed(1)} s\n`);
  const guess = model.predict(test.x.slice(0, 8));
  for (let i = 0; i < 8; i++) {
    const s = test.x[i].slice(0, 12).map(([v]) => (v >= 0 ? ' ' : '') + v.toFixed(1)).join(' ');
    console.log(`${s} …  (${test.x[i].length} steps) → ${SHAPES[guess[i]].padEnd(8)} (true ${SHAPES[test.y[i]]})`);
  }
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();

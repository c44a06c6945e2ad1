// One-to-one: two interleaved spirals, a classic non-linear classification task.
// Each example is one point (x1, x2) and one label (which spiral); the model runs the
// recurrent cell for a single step (T = 1) from a zero state — a dense tanh layer per
// stacked layer — and a softmax over the two classes. Run with `node examples/one-to-one-spirals.js`.
//
//   a^[1] = tanh(W_ax^[1] x + b^[1])      a^[2] = tanh(W_ax^[2] a^[1] + b^[2])
//   ŷ     = softmax(W_ya a^[2] + b_y)     L = mean over points of −log ŷ[label]
import { createModel, Random } from '../dist/index.js';

/** n points on two interleaved spirals (labels 0 and 1), with a little noise. */
export function makeSpirals(rng, n, noise = 0.02) {
  const x = [], y = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const r = rng.uniform();                        // 0 (centre) … 1 (outside)
    const angle = 3 * Math.PI * r + label * Math.PI;  // 1.5 turns; the second spiral is the first rotated by π
    x.push([r * Math.cos(angle) + noise * (2 * rng.uniform() - 1), r * Math.sin(angle) + noise * (2 * rng.uniform() - 1)]);
    y.push(label);
  }
  return { x, y };
}

/** Train on generated spirals; returns the model and held-out accuracy. */
export async function train({ epochs = 400, n_a = 32, layers = 2, learningRate = 0.03, seed = 1, log = console.log, every = 50 } = {}) {
  const rng = new Random(seed);
  const data = makeSpirals(rng, 1000);
  const test = makeSpirals(rng, 1000);
  const model = await createModel({ architecture: 'one-to-one', n_x: 2, n_a, layers, n_y: 2, output: 'softmax', reduction: 'mean', seed });
  log(`model: one-to-one, ${layers} tanh layers of ${n_a}, ${model.numParams} parameters; ${data.x.length} training points, ${test.x.length} held out`);
  const accuracy = () => model.predict(test.x).filter((c, i) => c === test.y[i]).length / test.x.length;
  const t0 = performance.now();
  await model.fit(data, {
    epochs, batchSize: 100, optimizer: { type: 'adam', learningRate },
    onEpochEnd: ({ epoch, loss }) => {
      if ((epoch + 1) % every === 0) log(`epoch ${String(epoch + 1).padStart(4)} | loss ${loss.toFixed(4)} | held-out accuracy ${(100 * accuracy()).toFixed(1)}%`);
    },
  });
  return { model, test, accuracy: accuracy(), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const { model, test, accuracy, seconds } = await train();
  console.log(`\nheld-out accuracy ${(100 * accuracy).toFixed(1)}% after ${seconds.toFixed(1)} s\n`);
  // a coarse map of the decision regions: which spiral each grid point is assigned to
  const grid = [];
  for (let r = 0; r < 21; r++) for (let c = 0; c < 41; c++) grid.push([c / 20 - 1, 1 - r / 10]);
  const cls = model.predict(grid);
  for (let r = 0; r < 21; r++) console.log(cls.slice(r * 41, (r + 1) * 41).map((k) => (k ? '#' : '.')).join(''));
  for (let i = 0; i < 5; i++) console.log(`(${test.x[i].map((v) => v.toFixed(2)).join(', ')}) → spiral ${model.predict([test.x[i]])[0]} (true ${test.y[i]})`);
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();

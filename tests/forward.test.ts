// Forward outputs against the f64 reference; SIMD vs scalar builds; seeded initialisation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, getEngine, Random, simdSupported } from '../dist/index.js';
import { refForward } from './_reference.js';
import { checkClose, checkSame, flat, randomBatch, refParams, uniforms, modelConfig } from './_utils.js';

const configs = [
  { T: 7, B: 3, n_x: 5, n_a: 9, n_y: 4, layers: 1, input: 'tokens', output: 'softmax', activation: 'tanh', reduction: 'sum' },
  { T: 5, B: 2, n_x: 3, n_a: 17, n_y: 3, layers: 2, input: 'dense', output: 'sigmoid', activation: 'tanh', reduction: 'mean' },
  { T: 9, B: 4, n_x: 6, n_a: 12, n_y: 2, layers: 1, input: 'dense', output: 'linear', activation: 'relu', reduction: 'sum' },
  { T: 1, B: 1, n_x: 2, n_a: 3, n_y: 2, layers: 3, input: 'tokens', output: 'linear', activation: 'tanh', reduction: 'mean' },
  { T: 33, B: 5, n_x: 65, n_a: 129, n_y: 65, layers: 1, input: 'tokens', output: 'softmax', activation: 'tanh', reduction: 'sum' },
] as const;

const Parity = suite('forward parity with the f64 reference');

for (const c of configs) {
  Parity(`${c.input}/${c.output}/${c.activation} T=${c.T} B=${c.B} n_a=${c.n_a} L=${c.layers}`, async () => {
    const model = await createRNN({ ...modelConfig(c), seed: 3 });
    const rng = new Random(11);
    const batch = randomBatch(rng, c);
    const a0 = uniforms(rng, c.layers * c.B * c.n_a, 0.5);
    const got = model.forward({ ...batch, a0 });
    const ref = refForward(c, refParams(model), { ...batch, a0 });
    // normwise relative error max|got − ref| / max|ref| ≤ 1e-5, and per element ≤ 1e-4 relative
    // for entries above 1% of the tensor's largest (an f32 sum of O(1) terms that cancels to
    // near zero cannot keep relative accuracy; its absolute error stays ~1e-7)
    for (const [name, a, e] of [['yhat', got.yhat, flat(ref.yhat)], ['a', got.a, flat(ref.a)], ['aT', got.aT, flat(ref.aT)]] as const) {
      const scale = Math.max(...e.map(Math.abs));
      checkClose(`${name} (normwise)`, a, e, 1e-5, scale);
      checkClose(`${name} (per element)`, a, e, 1e-4, 1e-2 * scale);
    }
    checkClose('loss', [got.loss!], [ref.loss], 1e-5);
    model.dispose();
  });
}

Parity('forward without targets gives the same outputs and no loss', async () => {
  const c = configs[1];
  const model = await createRNN({ ...modelConfig(c), seed: 3 });
  const batch = randomBatch(new Random(5), c);
  const withY = model.forward(batch);
  const noY = model.forward({ x: batch.x });
  assert.is(noY.loss, undefined);
  checkSame('yhat', noY.yhat, withY.yhat);
  model.dispose();
});

Parity('aT continues the sequence: two halves with a0 = aT equal one whole pass', async () => {
  const c = configs[0];
  const model = await createRNN({ ...modelConfig(c), seed: 4 });
  const { x } = randomBatch(new Random(6), c);
  const whole = model.forward({ x });
  const first = model.forward({ x: x.map((s: number[]) => s.slice(0, 3)) });
  const second = model.forward({ x: x.map((s: number[]) => s.slice(3)), a0: first.aT });
  checkClose('aT', second.aT, whole.aT, 1e-6, 1e-3);
  model.dispose();
});

Parity.run();

// ---

const Builds = suite('SIMD and scalar builds');

Builds('this runtime supports SIMD, and auto picks it', async () => {
  assert.ok(simdSupported());
  const model = await createRNN({ n_x: 2, n_a: 2, n_y: 2 });
  assert.is(model.backend, 'simd');
  assert.is((await getEngine('scalar')).backend, 'scalar');
  model.dispose();
});

for (const c of configs) {
  Builds(`agree within 1e-5 on forward and gradients: ${c.input}/${c.output} n_a=${c.n_a}`, async () => {
    const simd = await createRNN({ ...modelConfig(c), seed: 8, backend: 'simd' });
    const scalar = await createRNN({ ...modelConfig(c), seed: 8, backend: 'scalar' });
    checkSame('initial weights', simd.getWeights(), scalar.getWeights());
    const batch = randomBatch(new Random(9), c);
    const a = simd.computeGradients(batch), b = scalar.computeGradients(batch);
    checkClose('loss', [a.loss], [b.loss], 1e-5);
    checkClose('yhat', simd.forward(batch).yhat, scalar.forward(batch).yhat, 1e-5, 1e-3);
    for (const name of Object.keys(a.grads)) {
      const scale = Math.max(...Array.from(b.grads[name], Math.abs), 1e-6);
      checkClose(name, a.grads[name], b.grads[name], 1e-5, 1e-2 * scale);
    }
    simd.dispose(); scalar.dispose();
  });
}

Builds.run();

// ---

const Init = suite('seeded initialisation');

Init('the same seed gives identical weights, bit for bit; another seed does not', async () => {
  const c = { n_x: 7, n_a: 16, n_y: 5, layers: 2 };
  const a = await createRNN({ ...c, seed: 42 });
  const b = await createRNN({ ...c, seed: 42 });
  const d = await createRNN({ ...c, seed: 43 });
  checkSame('weights', a.getWeights(), b.getWeights());
  assert.not.equal(Array.from(a.getWeights()), Array.from(d.getWeights()));
  a.dispose(); b.dispose(); d.dispose();
});

Init('weights follow PyTorch: U(−1/√n_a, 1/√n_a), spread over the range', async () => {
  const model = await createRNN({ n_x: 10, n_a: 64, n_y: 10, seed: 1 });
  const w = model.getWeights();
  const bound = 1 / Math.sqrt(64);
  assert.ok(w.every((v) => Math.abs(v) <= bound), 'inside the bound');
  assert.ok(Math.max(...w) > 0.95 * bound && Math.min(...w) < -0.95 * bound, 'fills the range');
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  assert.ok(Math.abs(mean) < 0.01 * bound * 10, `mean ${mean} near 0`);
  model.dispose();
});

Init('an unseeded model records the seed it drew, and that seed reproduces it', async () => {
  const a = await createRNN({ n_x: 3, n_a: 4, n_y: 3 });
  assert.type(a.config.seed, 'number');
  const b = await createRNN({ n_x: 3, n_a: 4, n_y: 3, seed: a.config.seed });
  checkSame('weights', a.getWeights(), b.getWeights());
  a.dispose(); b.dispose();
});

Init('params: seed names alias PyTorch names; reads are copies; writes go through', async () => {
  const model = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  checkSame('W_aa = weight_hh_l0', model.params.W_aa, model.params.weight_hh_l0);
  checkSame('W_ax = weight_ih_l0', model.params.W_ax, model.params.weight_ih_l0);
  checkSame('b_x = bias_ih_l0', model.params.b_x, model.params.bias_ih_l0);
  checkSame('b_a = bias_hh_l0', model.params.b_a, model.params.bias_hh_l0);
  checkSame('W_ya = head.weight', model.params.W_ya, model.params['head.weight']);
  checkSame('b_y = head.bias', model.params.b_y, model.params['head.bias']);
  assert.equal([model.params.W_ax.length, model.params.W_aa.length, model.params.W_ya.length], [12, 16, 8]);
  const copy = model.params.W_aa;
  copy[0] = 99;
  assert.is.not(model.params.W_aa[0], 99, 'mutating a read does not change the model');
  model.params.W_aa = new Float32Array(16).fill(0.5);
  assert.ok(model.params.W_aa.every((v) => v === 0.5));
  model.dispose();
});

Init.run();

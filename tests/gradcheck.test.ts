// Every parameter's gradient (and ∂L/∂a<0>) from the wasm BPTT against central finite
// differences of the f64 reference, over seeded random configurations.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { refForward, refGradients, type RefConfig } from './_reference.js';
import { checkClose, randomBatch, refParams, uniforms, worst, modelConfig } from './_utils.js';

interface Case extends RefConfig { T: number; B: number; seed: number; withA0: boolean }

/** 24 seeded configurations, T = 1 and B = 1 among them, every loss, input kind and option. */
function cases(): Case[] {
  const rng = new Random(2024);
  const outputs = ['softmax', 'sigmoid', 'linear'] as const;
  const out: Case[] = [];
  for (let i = 0; i < 24; i++) {
    out.push({
      T: i === 0 || i === 5 ? 1 : 1 + rng.int(6),
      B: i === 1 || i === 5 ? 1 : 1 + rng.int(4),
      n_x: 1 + rng.int(5), n_a: 1 + rng.int(6), n_y: 1 + rng.int(4),
      layers: i % 4 === 3 ? 2 : 1,
      input: i % 2 === 0 ? 'tokens' : 'dense',
      output: outputs[i % 3],
      activation: i % 5 === 4 ? 'relu' : 'tanh',
      reduction: i % 6 >= 3 ? 'mean' : 'sum',
      seed: 100 + i,
      withA0: i % 3 === 1,
    });
  }
  return out;
}

const Grad = suite('gradient check (BPTT vs finite differences of the f64 reference)');

for (const c of cases()) {
  const name = `T=${c.T} B=${c.B} n_x=${c.n_x} n_a=${c.n_a} n_y=${c.n_y} L=${c.layers} ${c.input}/${c.output}/${c.activation}/${c.reduction}${c.withA0 ? ' a0' : ''}`;
  Grad(name, async () => {
    const model = await createRNN({ ...modelConfig(c), seed: c.seed });
    try {
      const rng = new Random(c.seed);
      const batch = randomBatch(rng, c);
      const a0 = c.withA0 ? uniforms(rng, c.layers * c.B * c.n_a, 0.8) : undefined;
      const p = refParams(model);
      const ref = refGradients(c, p, { ...batch, a0 });
      const got = model.computeGradients({ ...batch, a0 });
      assert.ok(Math.abs(got.loss - refForward(c, p, { ...batch, a0 }).loss) <= 1e-5 * Math.max(1, Math.abs(got.loss)), 'loss');
      // relative error per element, with small entries measured against 1% of the tensor's largest
      for (const e of model.layout.entries) {
        const expected = ref.grads[e.name];
        const scale = Math.max(...Array.from(expected, Math.abs), 1e-6);
        const { err, at } = worst(got.grads[e.name], expected, 1e-2 * scale);
        assert.ok(err < 1e-3, `${e.name}: relative error ${err.toExponential(2)} at [${at}] (got ${got.grads[e.name][at]}, finite differences ${expected[at]})`);
      }
      const scale = Math.max(...ref.da0.map(Math.abs), 1e-6);
      checkClose('da0', got.da0, ref.da0, 1e-3, 1e-2 * scale);
    } finally {
      model.dispose();
    }
  });
}

Grad('a wrong gradient is caught: the check fails when one weight is perturbed after the gradient', async () => {
  // guards the check itself: gradients at different weights must not pass as equal
  const c: Case = { ...cases()[2] };
  const model = await createRNN({ ...modelConfig(c), seed: 7 });
  const batch = randomBatch(new Random(7), c);
  const got = model.computeGradients(batch);
  const p = refParams(model);
  p['weight_hh_l0'][0] += 0.5;
  const ref = refGradients(c, p, batch);
  const errs = model.layout.entries.map((e) => worst(got.grads[e.name], ref.grads[e.name], 1e-6).err);
  assert.ok(Math.max(...errs) > 1e-3, 'perturbed reference should disagree');
  model.dispose();
});

Grad.run();

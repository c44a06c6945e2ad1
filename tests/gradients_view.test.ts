// Copies only when asked for: computeGradients copies out every gradient, or only the tensors
// named; gradientsView() reads them all in place, without a copy.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, Random } from '../dist/index.js';
import { checkSame, modelConfig, randomBatch, throwsWith } from './_utils.js';

const spec = { T: 5, B: 3, n_x: 4, n_a: 6, n_y: 3, input: 'tokens', output: 'softmax' } as const;

const Views = suite('computeGradients: a subset by name, or views');

Views('names picks tensors (PyTorch names or seed aliases), keyed as asked; the values are those of the full copy', async () => {
  const model = await createRNN({ ...modelConfig(spec), seed: 1 });
  const batch = randomBatch(new Random(2), spec);
  const all = model.computeGradients(batch);
  const some = model.computeGradients(batch, { names: ['W_aa', 'head.bias'] });
  assert.equal(Object.keys(some.grads), ['W_aa', 'head.bias']);
  assert.is(some.loss, all.loss);
  checkSame('W_aa', some.grads.W_aa, all.grads.weight_hh_l0);
  checkSame('head.bias', some.grads['head.bias'], all.grads['head.bias']);
  const none = model.computeGradients(batch, { names: [] });
  assert.equal(none.grads, {});
  assert.ok(none.da0.length > 0, 'state gradients are still there (copies)');
  model.dispose();
});

Views('gradientsView() is the gradient region itself: no copy, overwritten by the next gradient, clipped after a step', async () => {
  const model = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 3, n_a: 5, n_y: 2, seed: 3 });
  const rng = new Random(4);
  const batch = () => ({ x: [[[1, 0, 0], [0, 1, 0]], [[0, 0, 1]]].map((s) => s.map((v) => v.map((u) => u + rng.uniform()))), y: [0, 1] });
  const first = batch();
  const copies = model.computeGradients(first).grads;
  const views = model.gradientsView();
  for (const e of model.layout.entries) checkSame(e.name, views[e.name], copies[e.name]);
  assert.is(views['head.weight'].buffer, model.weightsView().buffer, 'views of the same WebAssembly memory');
  model.computeGradients(batch(), { names: [] });
  assert.not.ok(views['head.weight'].every((v, i) => v === copies['head.weight'][i]), 'the next gradient overwrites the views');
  model.trainStep(first, { clipNorm: 1e-3 });
  const clipped = model.gradientsView();
  const norm = Math.sqrt(Object.values(clipped).reduce((s, g) => s + g.reduce((u, v) => u + v * v, 0), 0));
  assert.ok(Math.abs(norm - 1e-3) < 1e-6, `after a step the views hold the clipped gradient (norm ${norm})`);
  model.dispose();
});

Views('bad names are refused before anything runs, naming what the model has', async () => {
  const model = await createRNN({ ...modelConfig(spec), seed: 5 });
  const batch = randomBatch(new Random(6), spec);
  model.computeGradients(batch);
  const before = Object.fromEntries(Object.entries(model.gradientsView()).map(([k, v]) => [k, v.slice()]));
  throwsWith(() => model.computeGradients(randomBatch(new Random(7), spec), { names: ['W_xx'] }), RangeError, /computeGradients: no parameter named "W_xx"; this model has weight_ih_l0 \(W_ax\)/);
  throwsWith(() => model.computeGradients(batch, { names: 'W_aa' as any }), TypeError, /names must be an array of parameter names, got "W_aa"/);
  throwsWith(() => model.computeGradients(batch, null as any), TypeError, /options must be an object, got null/);
  for (const [k, v] of Object.entries(model.gradientsView())) checkSame(`${k} untouched`, v, before[k]);
  model.dispose();
});

Views.run();

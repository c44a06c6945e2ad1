// Golden parity with PyTorch for what the other torch fixtures leave out: one-to-many
// (teacher-forced, with a0 / c0, one-hot, embedded or vector inputs), one-to-one, the GRU with
// resetAfter: false (stacked and bidirectional), and an encoder-decoder with one shared table,
// the linear bridge and 'general' attention. Fixtures and the script that made them, from
// the documented equations: tests/fixtures/make_torch_architectures.py.
import { suite } from 'uvu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../dist/index.js';
import { allclose } from './_utils.js';

const { cases } = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_architectures.json'), 'utf8'));

const Parity = suite('PyTorch parity of the other architectures and the reset-before GRU');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    Parity(`${backend}: ${fx.name}`, async () => {
      const model = await createModel({ ...fx.config, backend, seed: 1 });
      try {
        for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
        const f = model.forward(fx.batch);
        allclose('yhat', f.yhat, fx.yhat);
        allclose('loss', [f.loss!], [fx.loss]);
        // by name: a shared table's gradient is one tensor, read under each of its names
        const g = model.computeGradients(fx.batch, { names: Object.keys(fx.grads) });
        allclose('loss of computeGradients', [g.loss], [fx.loss]);
        for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
      } finally {
        model.dispose();
      }
    });
  }
}

Parity.run();

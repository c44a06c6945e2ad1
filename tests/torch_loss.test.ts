// Golden parity with PyTorch for the softmax cross-entropy's class weights and label smoothing
// (F.cross_entropy(weight, ignore_index = −1, label_smoothing)) through every architecture with
// a softmax head: many-to-many over ragged sequences with skipped steps, many-to-one over ragged
// sequences, one-to-one, and a teacher-forced encoder-decoder; each option alone and both,
// summed and averaged ('mean' divides by the sum of the targets' class weights). Outputs, loss
// and every gradient, on the builds that give the same bits everywhere; and evaluate()'s
// perplexity and bits per character, which are of the plain cross-entropy (F.cross_entropy
// without weight or smoothing on the same logits), while its loss stays the model's. Fixtures and the script
// that made them (which checks torch's definition against the one documented in src/loss.ts):
// tests/fixtures/make_torch_loss.py.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../dist/index.js';
import { allclose } from './_utils.js';

const { cases } = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_loss.json'), 'utf8'));

const Parity = suite('PyTorch parity of class weights and label smoothing');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    Parity(`${backend}: ${fx.name}`, async () => {
      const model = await createModel({ ...fx.config, backend, seed: 1 });
      const { classWeights: _, labelSmoothing: __, ...plainConfig } = fx.config;
      const plain = await createModel({ ...plainConfig, backend, seed: 1 });
      try {
        for (const [name, values] of Object.entries(fx.params)) {
          model.setParam(name, values as number[]);
          plain.setParam(name, values as number[]);
        }
        const f = model.forward(fx.batch);
        allclose('yhat', f.yhat, fx.yhat);
        allclose('loss', [f.loss!], [fx.loss]);
        const g = model.computeGradients(fx.batch);
        allclose('loss of computeGradients', [g.loss], [fx.loss]);
        for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
        // perplexity and bits per character are of the plain cross-entropy; the loss stays this one
        const e = model.evaluate(fx.batch, { metrics: ['perplexity', 'bitsPerChar'] });
        allclose('perplexity', [e.perplexity!], [Math.exp(fx.plainNll)]);
        allclose('bits per character', [e.bitsPerChar!], [fx.plainNll / Math.LN2]);
        if (fx.config.reduction === 'mean') {
          allclose('evaluate\'s loss', [e.loss], [fx.loss]);
          assert.ok(Math.abs(e.loss - fx.plainNll) > 1e-3, `the loss ${e.loss} is not the plain ${fx.plainNll}`);
        }
        // the options change the loss (the fixture tells them apart) but never the outputs
        const p = plain.forward(fx.batch);
        assert.ok(Math.abs(p.loss! - fx.loss) > 1e-3, `the plain loss ${p.loss} differs from the weighted / smoothed ${fx.loss}`);
        assert.equal(Array.from(p.yhat), Array.from(f.yhat), 'ŷ bit for bit as without the options');
      } finally {
        model.dispose();
        plain.dispose();
      }
    });
  }
}

Parity.run();

// Golden parity with PyTorch for ignoreIndex (F.cross_entropy's ignore_index: −100, torch's
// default, and a real class; without other options, with class weights and label smoothing)
// and posWeight (F.binary_cross_entropy_with_logits's pos_weight) through every architecture:
// many-to-many over ragged sequences with ignored steps inside them, many-to-one and one-to-one
// with an ignored example, and the decoders (one-to-many, encoder-decoder) as a torch user
// writes them, targets padded with −100 to one length, or an ignored class inside a sequence
// (still the next step's input). Summed and averaged. Outputs, loss and every gradient, on the
// builds that give the same bits everywhere; and evaluate()'s accuracy and perplexity, which
// leave the ignored targets out as torch does. Fixtures and the script that made them (which
// checks torch's definitions against those documented in src/loss.ts):
// tests/fixtures/make_torch_loss_more.py.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel } from '../dist/index.js';
import { allclose, throwsWith } from './_utils.js';

const { cases } = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_loss_more.json'), 'utf8'));

const Parity = suite('PyTorch parity of ignoreIndex and posWeight');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    Parity(`${backend}: ${fx.name}`, async () => {
      const model = await createModel({ ...fx.config, backend, seed: 1 });
      const { ignoreIndex, posWeight: _, ...withoutConfig } = fx.config;
      const without = await createModel({ ...withoutConfig, backend, seed: 1 });
      try {
        for (const [name, values] of Object.entries(fx.params)) {
          model.setParam(name, values as number[]);
          without.setParam(name, values as number[]);
        }
        const f = model.forward(fx.batch) as { yhat: Float32Array; loss?: number; lengths?: number[] };
        allclose('yhat', f.yhat, fx.yhat);
        // a decoder's sequence ends before its targets padded with −100 (a last-state model's
        // lengths are its inputs')
        const perStep = !['many-to-one', 'one-to-one'].includes(fx.config.architecture);
        if (perStep) assert.equal(f.lengths, fx.lengths, 'lengths');
        allclose('loss', [f.loss!], [fx.loss]);
        const g = model.computeGradients(fx.batch);
        allclose('loss of computeGradients', [g.loss], [fx.loss]);
        for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
        if (fx.config.output !== 'sigmoid') {
          // accuracy and perplexity leave the ignored targets out; the loss is the model's
          const e = model.evaluate(fx.batch, { metrics: ['accuracy', 'perplexity'] });
          allclose('accuracy', [e.accuracy!], [fx.accuracy], 1e-12, 0);
          allclose('perplexity', [e.perplexity!], [Math.exp(fx.plainNll)]);
          if (fx.config.reduction === 'mean') allclose('evaluate\'s loss', [e.loss], [fx.loss]);
        }
        // without the option: −100 is refused; an ignored class, or posWeight, changes the loss, not ŷ
        if (ignoreIndex === -100) {
          throwsWith(() => without.forward(fx.batch), RangeError, /forward: y\[\d+\](\[\d+\])? = -100 is out of range/);
        } else {
          const p = without.forward(fx.batch) as { yhat: Float32Array; loss?: number };
          assert.ok(Math.abs(p.loss! - fx.loss) > 1e-3, `the loss without the option, ${p.loss}, differs from ${fx.loss}`);
          assert.equal(Array.from(p.yhat), Array.from(f.yhat), 'ŷ bit for bit as without the option');
        }
      } finally {
        model.dispose();
        without.dispose();
      }
    });
  }
}

Parity.run();

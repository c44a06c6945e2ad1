// Golden parity with PyTorch on batches of sequences of different lengths, in no particular
// order (pack_padded_sequence with enforce_sorted=False): the sequence model and many-to-one
// (outputs, each sequence's own final states in both directions, loss, every gradient, ∂L/∂x,
// ∂L/∂h0 and ∂L/∂c0), the encoder-decoder with and without attention (loss, ŷ, every
// gradient), and optimizer steps with clipping, weight decay and schedules on such batches.
// Fixtures and the script that made them: tests/fixtures/make_torch_ragged.py.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createModel, type ModelConfig } from '../dist/index.js';
import { allclose } from './_utils.js';

const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_ragged.json'), 'utf8'));

/** A model of the fixture's config with the fixture's weights. */
async function modelOf(fx: { config: ModelConfig; params: Record<string, number[]> }, backend: 'simd' | 'scalar') {
  const model = await createModel({ ...fx.config, backend, seed: 1 } as ModelConfig);
  assert.equal(model.layout.entries.map((e) => e.name).sort(), Object.keys(fx.params).sort(), 'the state_dict names');
  for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values);
  return model;
}

const Recurrent = suite('PyTorch parity on ragged batches: sequence model and many-to-one (pack_padded_sequence)');

for (const backend of ['simd', 'scalar'] as const) {
  for (const [kind, cases] of [['sequence', fixture.sequence], ['many-to-one', fixture.manyToOne]] as const) {
    for (const fx of cases) {
      Recurrent(`${backend}: ${kind} ${fx.name}, lengths ${fx.lengths}`, async () => {
        const model = await modelOf(fx, backend) as any;
        try {
          const lstm = fx.config.cell === 'lstm';
          const batch = { x: fx.x, y: fx.y, a0: fx.h0, ...(lstm ? { c0: fx.c0 } : {}) };
          const f = model.forward(batch);
          assert.equal(f.lengths, fx.lengths);
          if (kind === 'sequence') allclose('output', f.a, fx.out);
          allclose('h_n', f.aT, fx.hT);
          if (lstm) allclose('c_n', f.cT, fx.cT);
          allclose('yhat', f.yhat, fx.yhat);
          allclose('loss', [f.loss], [fx.loss]);
          const g = model.computeGradients(batch);
          allclose('loss of computeGradients', [g.loss], [fx.loss]);
          for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
          allclose('grad h0', g.da0, fx.dh0);
          if (lstm) allclose('grad c0', g.dc0, fx.dc0);
          if (fx.dx) allclose('grad x', g.dx, fx.dx);
        } finally {
          model.dispose();
        }
      });
    }
  }
}

Recurrent.run();

// ---

const EncoderDecoder = suite('PyTorch parity on ragged batches: encoder-decoder (bridges, Luong attention)');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of fixture.encoderDecoder) {
    EncoderDecoder(`${backend}: ${fx.name}, source lengths ${fx.sourceLengths}, target lengths ${fx.targetLengths}`, async () => {
      const model = await modelOf(fx, backend);
      try {
        const batch = { x: fx.x, y: fx.y } as any;
        const f = model.forward(batch) as any;
        assert.equal([f.sourceLengths, f.lengths], [fx.sourceLengths, fx.targetLengths]);
        allclose('yhat', f.yhat, fx.yhat);
        allclose('loss', [f.loss], [fx.loss]);
        const g = model.computeGradients(batch);
        allclose('loss of computeGradients', [g.loss], [fx.loss]);
        for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
      } finally {
        model.dispose();
      }
    });
  }
}

EncoderDecoder.run();

// ---

const Training = suite('PyTorch parity on ragged batches: optimizer steps (torch.optim, clipping, lr_scheduler)');

for (const fx of fixture.training) {
  Training(`${fx.name}: ${fx.steps.length} steps`, async () => {
    const model = await modelOf(fx, 'simd');
    try {
      fx.batches.forEach((batch: any, i: number) => {
        const r = model.trainStep(batch, fx.options);
        allclose(`step ${i}: loss`, [r.loss], [fx.steps[i].loss]);
        allclose(`step ${i}: gradient norm`, [r.gradNorm], [fx.steps[i].gradNorm]);
      });
      for (const [name, values] of Object.entries(fx.final as Record<string, number[]>)) {
        allclose(`${name} after the steps`, model.getParam(name), values, 1e-5, 1e-3);
      }
    } finally {
      model.dispose();
    }
  });
}

Training.run();

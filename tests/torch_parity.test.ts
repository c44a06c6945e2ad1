// Golden parity with PyTorch: weights from nn.RNN / nn.LSTM / nn.GRU (+ nn.Linear head) load
// unchanged, and outputs, final states, loss and every gradient (parameters, input, h0, c0)
// match what PyTorch computed. Fixtures and the script that made them: tests/fixtures/.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRNN } from '../dist/index.js';
import { allclose } from './_utils.js';

const cases: any[] = ['rnn', 'lstm', 'gru'].flatMap((cell) =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', `torch_${cell}.json`), 'utf8')).cases);

const Parity = suite('PyTorch parity (nn.RNN / nn.LSTM / nn.GRU + nn.Linear)');

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    for (const input of fx.tokens ? ['dense', 'tokens'] as const : ['dense'] as const) {
      Parity(`${backend}: ${fx.name}${input === 'tokens' ? ' (token ids)' : ''}`, async () => {
        const c = fx.config;
        const model = await createRNN({
          cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, layers: c.layers, bidirectional: c.bidirectional,
          ...(c.cell === 'rnn' ? { activation: c.activation } : {}), output: c.output, reduction: c.reduction,
          input, backend, seed: 1,
        });
        try {
          for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
          const n = (k: number) => Array.from({ length: fx.B }, (_, b) => fx.x.slice(b * fx.T * k, (b + 1) * fx.T * k));
          const x = input === 'tokens' ? Array.from({ length: fx.B }, (_, b) => fx.tokens.slice(b * fx.T, (b + 1) * fx.T)) : n(c.n_x);
          const yWidth = c.output === 'softmax' ? 1 : c.n_y;
          const y = Array.from({ length: fx.B }, (_, b) => fx.y.slice(b * fx.T * yWidth, (b + 1) * fx.T * yWidth));
          const batch = { x, y, a0: fx.h0, ...(c.cell === 'lstm' ? { c0: fx.c0 } : {}) } as any;
          const f = model.forward(batch);
          allclose('output', f.a, fx.out);
          allclose('h_n', f.aT, fx.hT);
          if (c.cell === 'lstm') allclose('c_n', f.cT!, fx.cT);
          allclose('yhat', f.yhat, fx.yhat);
          allclose('loss', [f.loss!], [fx.loss]);
          const g = model.computeGradients(batch);
          for (const name of Object.keys(fx.grads)) allclose(`grad ${name}`, g.grads[name], fx.grads[name]);
          allclose('grad h0', g.da0, fx.dh0);
          if (c.cell === 'lstm') allclose('grad c0', g.dc0!, fx.dc0);
          if (input === 'dense') allclose('grad x', g.dx!, fx.dx);
        } finally {
          model.dispose();
        }
      });
    }
  }
}

Parity.run();

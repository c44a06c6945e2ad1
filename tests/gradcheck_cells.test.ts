// Gradient check for every cell and option: the wasm BPTT of LSTM, GRU (both reset forms)
// and the vanilla cell, stacked and bidirectional, against central finite differences of
// the f64 reference in tests/_reference_cells.ts — parameters, dense input, h0 and c0.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { refForwardCells, refGradientsCells, type CellsConfig } from './_reference_cells.js';
import { checkGradient, uniforms, worst } from './_utils.js';

interface Case extends CellsConfig { T: number; B: number; seed: number }

function cases(): Case[] {
  const rng = new Random(77);
  const cells = [['lstm', true], ['gru', true], ['gru', false], ['rnn', true]] as const;
  const outputs = ['softmax', 'sigmoid', 'linear'] as const;
  const out: Case[] = [];
  for (let i = 0; i < 24; i++) {
    const [cell, resetAfter] = cells[i % 4];
    out.push({
      cell, resetAfter, activation: i % 8 === 3 ? 'relu' : 'tanh',
      T: i === 0 ? 1 : 1 + rng.int(5), B: i === 1 ? 1 : 1 + rng.int(3),
      n_x: 1 + rng.int(4), n_a: 1 + rng.int(5), n_y: 1 + rng.int(3),
      layers: 1 + (i % 3 === 2 ? 1 : 0), bidirectional: i % 5 >= 3,
      input: i % 6 === 0 ? 'tokens' : 'dense', output: outputs[i % 3], reduction: i % 7 < 3 ? 'mean' : 'sum',
      seed: 300 + i,
    });
  }
  return out;
}

const Grad = suite('gradient check: LSTM, GRU, stacked and bidirectional');

for (const c of cases()) {
  const gru = c.cell === 'gru' ? (c.resetAfter ? ' reset-after' : ' reset-before') : '';
  const act = c.cell === 'rnn' ? ` ${c.activation}` : '';
  Grad(`${c.cell}${gru}${act} L=${c.layers}${c.bidirectional ? ' bi' : ''} T=${c.T} B=${c.B} n_x=${c.n_x} n_a=${c.n_a} n_y=${c.n_y} ${c.input}/${c.output}/${c.reduction}`, async () => {
    const model = await createRNN({
      cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, layers: c.layers, bidirectional: c.bidirectional,
      ...(c.cell === 'rnn' ? { activation: c.activation } : {}), ...(c.cell === 'gru' ? { resetAfter: c.resetAfter } : {}),
      input: c.input, output: c.output, reduction: c.reduction, seed: c.seed,
    });
    try {
      const rng = new Random(c.seed);
      const D = c.bidirectional ? 2 : 1;
      const states = c.layers * D * c.B * c.n_a;
      const x = Array.from({ length: c.B }, () => Array.from({ length: c.T }, () =>
        c.input === 'tokens' ? rng.int(c.n_x) : uniforms(rng, c.n_x, 1.5)));
      const y = Array.from({ length: c.B }, () => Array.from({ length: c.T }, () =>
        c.output === 'softmax' ? rng.int(c.n_y)
          : c.output === 'sigmoid' ? Array.from({ length: c.n_y }, () => Math.fround(rng.uniform())) : uniforms(rng, c.n_y, 2)));
      const h0 = uniforms(rng, states, 0.8), c0 = uniforms(rng, states, 0.8);
      const p: Record<string, Float64Array> = {};
      for (const e of model.layout.entries) p[e.name] = Float64Array.from(model.getParam(e.name));
      const ref = { T: c.T, B: c.B, x: (x as any[]).flat(2), y: (y as any[]).flat(2), h0, ...(c.cell === 'lstm' ? { c0 } : {}) };
      const expected = refGradientsCells(c, p, ref);
      const batch = { x, y, a0: h0, ...(c.cell === 'lstm' ? { c0 } : {}) } as any;
      const got = model.computeGradients(batch);
      const loss = refForwardCells(c, p, ref).loss;
      assert.ok(Math.abs(got.loss - loss) <= 1e-5 * Math.max(1, Math.abs(loss)), `loss ${got.loss} vs ${loss}`);
      for (const e of model.layout.entries) checkGradient(e.name, got.grads[e.name], expected.grads[e.name]);
      checkGradient('h0', got.da0, expected.dh0);
      if (c.cell === 'lstm') checkGradient('c0', got.dc0!, expected.dc0!);
      if (c.input === 'dense') checkGradient('x', got.dx!, expected.dx!);
    } finally {
      model.dispose();
    }
  });
}

Grad.run();

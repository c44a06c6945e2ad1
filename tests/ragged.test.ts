// Ragged batches: sequences of different lengths in one batch give the same outputs, final
// states and gradients as each sequence run alone — padding never changes a result.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { checkClose, uniforms } from './_utils.js';

const Ragged = suite('ragged batches');

const lengths = [5, 2, 7, 1];
const variants = [
  { cell: 'rnn', layers: 1, bidirectional: false },
  { cell: 'rnn', layers: 2, bidirectional: true },
  { cell: 'lstm', layers: 2, bidirectional: false },
  { cell: 'lstm', layers: 1, bidirectional: true },
  { cell: 'gru', layers: 2, bidirectional: true },
  { cell: 'gru', layers: 1, bidirectional: false, resetAfter: false },
] as const;

for (const v of variants) {
  for (const output of ['softmax', 'linear'] as const) {
    Ragged(`${v.cell} L=${v.layers}${v.bidirectional ? ' bi' : ''}${'resetAfter' in v ? ' reset-before' : ''} ${output}: each sequence alone = padded in a batch`, async () => {
      const n_x = 3, n_a = 6, n_y = 4;
      const model = await createRNN({ ...v, n_x, n_a, n_y, output, input: 'dense', seed: 5 });
      const rng = new Random(9);
      const x = lengths.map((T) => Array.from({ length: T }, () => uniforms(rng, n_x)));
      const y = lengths.map((T) => Array.from({ length: T }, () => output === 'softmax' ? rng.int(n_y) : uniforms(rng, n_y)));
      const S = v.layers * (v.bidirectional ? 2 : 1);
      const batch = model.forward({ x, y } as any);
      const grads = model.computeGradients({ x, y } as any);
      assert.equal(batch.lengths, lengths);
      const Tmax = Math.max(...lengths);
      const summed: Record<string, Float64Array> = {};
      let lossSum = 0;
      lengths.forEach((T, b) => {
        const alone = model.forward({ x: [x[b]], y: [y[b]] } as any);
        const yhat = batch.yhat.subarray(b * Tmax * n_y, (b * Tmax + T) * n_y);
        checkClose(`yhat of sequence ${b}`, yhat, alone.yhat, 1e-5, 1e-3);
        assert.ok(batch.yhat.subarray((b * Tmax + T) * n_y, (b + 1) * Tmax * n_y).every((u) => u === 0), 'padding is zero');
        const width = n_a * (v.bidirectional ? 2 : 1);
        checkClose(`a of sequence ${b}`, batch.a.subarray(b * Tmax * width, (b * Tmax + T) * width), alone.a, 1e-5, 1e-3);
        for (let s = 0; s < S; s++) {
          checkClose(`aT[${s}] of sequence ${b}`, batch.aT.subarray((s * lengths.length + b) * n_a, (s * lengths.length + b + 1) * n_a), alone.aT.subarray(s * n_a, (s + 1) * n_a), 1e-5, 1e-3);
        }
        const g = model.computeGradients({ x: [x[b]], y: [y[b]] } as any);
        lossSum += g.loss;
        for (const [name, values] of Object.entries(g.grads)) {
          summed[name] ??= new Float64Array(values.length);
          values.forEach((u, i) => { summed[name][i] += u; });
        }
      });
      checkClose('loss', [grads.loss], [lossSum], 1e-5);
      for (const name of Object.keys(summed)) {
        const scale = Math.max(...Array.from(summed[name], Math.abs), 1e-6);
        checkClose(`grad ${name}`, grads.grads[name], summed[name], 1e-4, 1e-2 * scale);
      }
      model.dispose();
    });
  }
}

Ragged('mean reduction counts only real steps', async () => {
  const model = await createRNN({ n_x: 2, n_a: 4, n_y: 3, output: 'linear', reduction: 'mean', seed: 1 });
  const sum = await createRNN({ n_x: 2, n_a: 4, n_y: 3, output: 'linear', reduction: 'sum', seed: 1 });
  const rng = new Random(2);
  const x = [3, 1].map((T) => Array.from({ length: T }, () => uniforms(rng, 2)));
  const y = [3, 1].map((T) => Array.from({ length: T }, () => uniforms(rng, 3)));
  checkClose('mean = sum / (4 steps × 3 outputs)', [model.forward({ x, y }).loss!], [sum.forward({ x, y }).loss! / 12], 1e-6);
  model.dispose(); sum.dispose();
});

Ragged('token input, bidirectional LSTM: padding ids never matter', async () => {
  const model = await createRNN({ cell: 'lstm', bidirectional: true, n_x: 5, n_a: 4, n_y: 5, input: 'tokens', seed: 3 });
  const a = model.forward({ x: [[1, 2, 3], [4]] });
  const b = model.forward({ x: [[1, 2, 3], [4]] });
  checkClose('deterministic', a.yhat, b.yhat, 0);
  const alone = model.forward({ x: [[4]] });
  checkClose('short sequence alone', a.yhat.subarray(3 * 5, 4 * 5), alone.yhat, 1e-5, 1e-3);
  model.dispose();
});

Ragged.run();

// PyTorch's nn.Linear(bias=False) as the output layer: nn.RNN (tanh, relu) / nn.LSTM / nn.GRU
// with such a head, one and two layers, one and two directions, softmax / sigmoid / linear
// losses, 'sum' and 'mean' (and one module whose recurrent layers have no biases either), load
// into models with headBias: false, and their outputs, final states, losses and every gradient
// match PyTorch's; a user's state_dict of such a module loads (and a model that wants an output
// bias says what to change); torch.onnx.export of such a module loads as a model without an
// output bias. Fixtures and the script that made them: tests/fixtures/make_torch_headbias.py.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRNN, decodeSafetensors, encodeSafetensors, loadONNX, loadRNN, type RNNConfig } from '../dist/index.js';
import { refForwardCells, type CellsConfig } from './_reference_cells.js';
import { allclose, rejectsWith, throwsWith } from './_utils.js';

const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_headbias.json'), 'utf8'));
const cases: any[] = fixtures.cases;

/** The rnn-wasm config of a fixture case. */
const configOf = (c: any, input: 'dense' | 'tokens'): RNNConfig => ({
  cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, layers: c.layers, bidirectional: c.bidirectional,
  ...(c.cell === 'rnn' ? { activation: c.activation } : {}), output: c.output, reduction: c.reduction, input, headBias: false,
  ...(c.bias === false ? { bias: false } : {}),
});

/** A fixture's batch as rnn-wasm takes it (token ids for one-hot cases read as tokens). */
function batchOf(fx: any, input: 'dense' | 'tokens') {
  const c = fx.config;
  const rows = (flat: number[], k: number) => Array.from({ length: fx.B }, (_, b) => flat.slice(b * fx.T * k, (b + 1) * fx.T * k));
  const x = input === 'tokens' ? rows(fx.tokens, 1) : rows(fx.x, c.n_x);
  const y = rows(fx.y, c.output === 'softmax' ? 1 : c.n_y);
  return { x, y, a0: fx.h0, ...(c.cell === 'lstm' ? { c0: fx.c0 } : {}) } as any;
}

const Parity = suite('PyTorch parity without an output bias (nn.Linear(bias=False))');

Parity('the fixtures are modules whose output layer has no bias: no head.bias in any state_dict', () => {
  assert.is(cases.length, 7);
  assert.equal(new Set(cases.map((c) => c.config.output)), new Set(['softmax', 'sigmoid', 'linear']));
  assert.equal(new Set(cases.map((c) => c.config.reduction)), new Set(['sum', 'mean']));
  assert.is(cases.filter((c) => c.config.bias === false).length, 1, 'one without recurrent biases too');
  for (const fx of cases) {
    assert.not.ok('head.bias' in fx.params, fx.name);
    assert.ok('head.weight' in fx.params, fx.name);
  }
});

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    for (const input of fx.tokens ? ['dense', 'tokens'] as const : ['dense'] as const) {
      Parity(`${backend}: ${fx.name}${input === 'tokens' ? ' (token ids)' : ''}`, async () => {
        const c = fx.config;
        const model = await createRNN({ ...configOf(c, input), backend, seed: 1 });
        try {
          assert.equal(Object.keys(model.params).sort(), Object.keys(fx.params).sort(), "the state_dict's names, exactly");
          for (const [name, values] of Object.entries(fx.params)) model.setParam(name, values as number[]);
          const batch = batchOf(fx, input);
          const f = model.forward(batch);
          allclose('output', f.a, fx.out);
          allclose('h_n', f.aT, fx.hT);
          if (c.cell === 'lstm') allclose('c_n', f.cT!, fx.cT);
          allclose('yhat', f.yhat, fx.yhat);
          allclose('loss', [f.loss!], [fx.loss]);
          const g = model.computeGradients(batch);
          assert.equal(Object.keys(g.grads).sort(), Object.keys(fx.grads).sort());
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

Parity('the f64 reference without an output bias is held to the same fixtures', () => {
  for (const fx of cases) {
    const c = fx.config;
    const cfg: CellsConfig = { ...configOf(c, 'dense'), input: 'dense' } as CellsConfig;
    const p = Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [k, Float64Array.from(v as number[])]));
    const r = refForwardCells(cfg, p, { T: fx.T, B: fx.B, x: fx.x, y: fx.y, h0: fx.h0, ...(c.cell === 'lstm' ? { c0: fx.c0 } : {}) });
    allclose(`${fx.name}: output`, r.out, fx.out);
    allclose(`${fx.name}: yhat`, r.yhat, fx.yhat);
    allclose(`${fx.name}: loss`, [r.loss], [fx.loss]);
  }
});

Parity.run();

// ---

const StateDict = suite("a user's state_dict of a module whose nn.Linear has no bias");

const file = new Uint8Array(readFileSync(join(__dirname, 'fixtures', fixtures.stateDict.file)));
const lstm = cases.find((c) => c.name === fixtures.stateDict.case);

StateDict('loadRNN reads it into a model with headBias: false (prefixes rnn. and fc. found: fc.weight alone), and computes what PyTorch did', async () => {
  const names = [...decodeSafetensors(file).tensors.keys()];
  assert.ok(names.includes('fc.weight') && !names.includes('fc.bias'));
  const model = await loadRNN(file, { config: configOf(lstm.config, 'tokens') });
  assert.is(model.config.headBias, false);
  const f = model.forward(batchOf(lstm, 'tokens'));
  allclose('yhat', f.yhat, lstm.yhat);
  allclose('loss', [f.loss!], [lstm.loss]);
  model.dispose();
});

StateDict('loadWeights reads it into a model created with headBias: false, with or without headPrefix', async () => {
  for (const options of [{}, { headPrefix: 'fc.' }, { rnnPrefix: 'rnn.', headPrefix: 'fc.' }]) {
    const model = await createRNN({ ...configOf(lstm.config, 'dense'), seed: 4 });
    model.loadWeights(file, options);
    allclose('yhat', model.forward(batchOf(lstm, 'dense')).yhat, lstm.yhat);
    model.dispose();
  }
});

StateDict('a model with an output bias refuses it, strict or not, saying the file is nn.Linear(bias=False) and what to set', async () => {
  const { headBias: _, ...withBias } = configOf(lstm.config, 'dense');
  const model = await createRNN({ ...withBias, seed: 4 });
  const before = model.getWeights();
  for (const strict of [true, false]) {
    throwsWith(() => model.loadWeights(file, { strict }), RangeError,
      /^loadWeights: the file's output layer has a weight \(fc\.weight\) but no bias \(fc\.bias\), as a PyTorch nn\.Linear made with bias=False: a model with headBias: false in its config reads it$/);
  }
  assert.equal(model.getWeights(), before, 'nothing changed');
  await rejectsWith(loadRNN(file, { config: withBias }), RangeError, /^loadRNN: the file's output layer has a weight \(fc\.weight\) but no bias \(fc\.bias\), .*headBias: false/);
  model.dispose();
});

StateDict('a model without an output bias refuses a file whose output layer has one, strict or not', async () => {
  const { headBias: _, ...withBias } = configOf(lstm.config, 'dense');
  const other = await createRNN({ ...withBias, seed: 5 });
  // the same module with an output bias, as a user's state_dict (rnn. and fc.)
  const tensors = [...decodeSafetensors(other.save()).tensors].map(([name, t]) =>
    ({ name: name.startsWith('head.') ? `fc.${name.slice('head.'.length)}` : `rnn.${name}`, shape: t.shape, data: t.data }));
  const model = await createRNN({ ...configOf(lstm.config, 'dense'), seed: 4 });
  const before = model.getWeights();
  for (const strict of [true, false]) {
    throwsWith(() => model.loadWeights(encodeSafetensors(tensors), { strict }), RangeError,
      /^loadWeights: the file's output layer has a bias \(fc\.bias\), but the model's output layer has none \(headBias: false\); a model made with an output bias \(headBias: true, the default\) reads this file$/);
    // and rnn-wasm's own file of such a model (the model's names exactly)
    throwsWith(() => model.loadWeights(other.save(), { strict }), RangeError, /^loadWeights: the file's output layer has a bias \(head\.bias\), but the model's output layer has none \(headBias: false\)/);
  }
  assert.equal(model.getWeights(), before, 'nothing changed');
  model.dispose(); other.dispose();
});

StateDict.run();

// ---

const Onnx = suite('torch.onnx.export of a module whose nn.Linear has no bias');

for (const c of fixtures.onnx) {
  Onnx(`${c.name}: the output layer has no bias add, the model has headBias: false, and it computes what PyTorch did`, async () => {
    const model = await loadONNX(new Uint8Array(readFileSync(join(__dirname, 'fixtures', c.file))), { seed: 1 });
    try {
      for (const [k, v] of Object.entries(c.config)) assert.equal(k === 'architecture' ? model.architecture : (model.config as any)[k], v, k);
      assert.not.ok(model.layout.get('head.bias'), 'no head.bias');
      const [B, T, n_x] = c.shape;
      const x = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => c.x.slice((b * T + t) * n_x, (b * T + t + 1) * n_x)));
      allclose('y', (model as any).forward({ x }).yhat, c.y);
    } finally {
      model.dispose();
    }
  });
}

Onnx.run();

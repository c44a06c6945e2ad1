// PyTorch's bias=False: nn.RNN (tanh, relu) / nn.LSTM / nn.GRU without biases, one and two
// layers, one and two directions, load into models with bias: false, and their outputs, final
// states, losses and every gradient match PyTorch's; a user's state_dict of such a module loads
// (and a model that wants biases says what to change); torch.onnx.export of such a module loads
// as a model without biases. Fixtures and the script that made them:
// tests/fixtures/make_torch_nobias.py.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRNN, decodeSafetensors, encodeSafetensors, loadONNX, loadRNN, type RNNConfig } from '../dist/index.js';
import { refForwardCells, type CellsConfig } from './_reference_cells.js';
import { allclose, rejectsWith, throwsWith } from './_utils.js';

const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_nobias.json'), 'utf8'));
const cases: any[] = fixtures.cases;

/** The rnn-wasm config of a fixture case. */
const configOf = (c: any, input: 'dense' | 'tokens'): RNNConfig => ({
  cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, layers: c.layers, bidirectional: c.bidirectional,
  ...(c.cell === 'rnn' ? { activation: c.activation } : {}), output: c.output, reduction: c.reduction, input, bias: false,
});

/** A fixture's batch as rnn-wasm takes it (token ids for one-hot cases read as tokens). */
function batchOf(fx: any, input: 'dense' | 'tokens') {
  const c = fx.config;
  const rows = (flat: number[], k: number) => Array.from({ length: fx.B }, (_, b) => flat.slice(b * fx.T * k, (b + 1) * fx.T * k));
  const x = input === 'tokens' ? rows(fx.tokens, 1) : rows(fx.x, c.n_x);
  const y = rows(fx.y, c.output === 'softmax' ? 1 : c.n_y);
  return { x, y, a0: fx.h0, ...(c.cell === 'lstm' ? { c0: fx.c0 } : {}) } as any;
}

const Parity = suite('PyTorch parity without biases (bias=False)');

Parity('the fixtures are modules without biases: no bias tensor in any state_dict', () => {
  assert.is(cases.length, 6);
  for (const fx of cases) {
    assert.ok(!Object.keys(fx.params).some((n) => /^bias_/.test(n)), fx.name);
    assert.ok('head.bias' in fx.params, `${fx.name}: the output layer keeps its bias`);
  }
});

for (const backend of ['simd', 'scalar'] as const) {
  for (const fx of cases) {
    for (const input of fx.tokens ? ['dense', 'tokens'] as const : ['dense'] as const) {
      Parity(`${backend}: ${fx.name}${input === 'tokens' ? ' (token ids)' : ''}`, async () => {
        const c = fx.config;
        const model = await createRNN({ ...configOf(c, input), backend, seed: 1 });
        try {
          assert.equal(Object.keys(model.params).filter((n) => n.includes('bias')), ['head.bias'], 'no recurrent biases');
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

Parity('the f64 reference without biases is held to the same fixtures', () => {
  for (const fx of cases) {
    const c = fx.config;
    const cfg: CellsConfig = { ...configOf(c, 'dense'), input: 'dense', bias: false } as CellsConfig;
    const p = Object.fromEntries(Object.entries(fx.params).map(([k, v]) => [k, Float64Array.from(v as number[])]));
    const r = refForwardCells(cfg, p, { T: fx.T, B: fx.B, x: fx.x, y: fx.y, h0: fx.h0, ...(c.cell === 'lstm' ? { c0: fx.c0 } : {}) });
    allclose(`${fx.name}: output`, r.out, fx.out);
    allclose(`${fx.name}: h_n`, r.hT, fx.hT);
    allclose(`${fx.name}: loss`, [r.loss], [fx.loss]);
  }
});

Parity.run();

// ---

const StateDict = suite("a user's state_dict of a bias=False module");

const file = new Uint8Array(readFileSync(join(__dirname, 'fixtures', fixtures.stateDict.file)));
const lstm = cases.find((c) => c.name === fixtures.stateDict.case);

StateDict('loadRNN reads it into a model with bias: false (prefixes rnn. and fc. found), and computes what PyTorch did', async () => {
  assert.ok(!decodeSafetensors(file).tensors.has('rnn.bias_ih_l0'));
  const model = await loadRNN(file, { config: configOf(lstm.config, 'tokens') });
  assert.is(model.config.bias, false);
  const f = model.forward(batchOf(lstm, 'tokens'));
  allclose('yhat', f.yhat, lstm.yhat);
  allclose('loss', [f.loss!], [lstm.loss]);
  model.dispose();
});

StateDict('loadWeights reads it into a model created with bias: false', async () => {
  const model = await createRNN({ ...configOf(lstm.config, 'dense'), seed: 4 });
  model.loadWeights(file);
  allclose('yhat', model.forward(batchOf(lstm, 'dense')).yhat, lstm.yhat);
  model.dispose();
});

StateDict('a model with biases refuses it, saying the file is a bias=False module and what to set', async () => {
  const { bias: _, ...withBiases } = configOf(lstm.config, 'dense');
  const model = await createRNN({ ...withBiases, seed: 4 });
  throwsWith(() => model.loadWeights(file), RangeError,
    /^loadWeights: the file has no tensor "rnn\.bias_ih_l0" \(the model's bias_ih_l0, shape \[20\]\); it has .*; the file has recurrent weights but no recurrent biases \(bias_ih_l0, bias_hh_l0, …\), as a PyTorch module made with bias=False: a model with bias: false in its config reads it$/);
  model.dispose();
  // loadRNN counts the tensors the config makes before it matches names: that check says it too
  await rejectsWith(loadRNN(file, { config: withBiases }), RangeError,
    /^loadRNN: the config \(.*\) makes a model of 10 tensors, the file holds 6; the config does not describe this file; the file has recurrent weights but no recurrent biases .*a model with bias: false in its config reads it$/);
});

StateDict('a model without biases refuses a file with them, strict or not: leaving them out would compute another function', async () => {
  const withBiases = await createRNN({ cell: 'lstm', n_x: 6, n_a: 5, n_y: 4, layers: 2, seed: 5 });
  // the same module with biases, as a user's state_dict (rnn. and fc.)
  const tensors = [...decodeSafetensors(withBiases.save()).tensors].map(([name, t]) =>
    ({ name: name.startsWith('head.') ? `fc.${name.slice('head.'.length)}` : `rnn.${name}`, shape: t.shape, data: t.data }));
  const bytes = encodeSafetensors(tensors);
  const model = await createRNN({ ...configOf(lstm.config, 'dense'), seed: 4 });
  const before = model.getWeights();
  for (const strict of [true, false]) {
    throwsWith(() => model.loadWeights(bytes, { strict }), RangeError,
      /^loadWeights: the file has recurrent biases \(rnn\.bias_ih_l0, rnn\.bias_hh_l0\), but the model's recurrent layers have none \(bias: false\); a model made with biases \(bias: true, the default\) reads this file$/);
  }
  assert.equal(model.getWeights(), before, 'nothing changed');
  await rejectsWith(loadRNN(withBiases.save(), { config: configOf(lstm.config, 'dense') }), RangeError, /^loadRNN: the file has recurrent biases \(bias_ih_l0, bias_hh_l0\)/);
  model.dispose(); withBiases.dispose();
});

StateDict.run();

// ---

const Onnx = suite('torch.onnx.export of a bias=False module');

for (const c of fixtures.onnx) {
  Onnx(`${c.name}: the nodes have no B, the model has no biases, and it computes what PyTorch did`, async () => {
    const model = await loadONNX(new Uint8Array(readFileSync(join(__dirname, 'fixtures', c.file))), { seed: 1 });
    try {
      for (const [k, v] of Object.entries(c.config)) assert.equal(k === 'architecture' ? model.architecture : (model.config as any)[k], v, k);
      assert.ok(!model.layout.entries.some((e) => /bias_(ih|hh)/.test(e.name)), 'no recurrent bias tensors');
      const [B, T, n_x] = c.shape;
      const x = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => c.x.slice((b * T + t) * n_x, (b * T + t + 1) * n_x)));
      allclose('y', (model as any).forward({ x }).yhat, c.y);
    } finally {
      model.dispose();
    }
  });
}

Onnx.run();

// The f64 reference of tests/_reference_cells.ts against PyTorch (tests/fixtures/make_torch.py
// wrote tests/fixtures/torch_{rnn,lstm,gru}.json): forward values, loss, and its finite-
// difference gradients against torch autograd, for every cell, layer count and direction.
// This validates the reference itself; no wasm is involved.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cellsShapes, refForwardCells, refGradientsCells,
  type CellsBatch, type CellsConfig, type CellsParams,
} from './_reference_cells.js';

interface TorchCase {
  name: string;
  config: { cell: 'rnn' | 'lstm' | 'gru'; activation?: 'tanh' | 'relu'; n_x: number; n_a: number; n_y: number;
    layers: number; bidirectional: boolean; output: 'softmax' | 'sigmoid' | 'linear'; reduction: 'sum' };
  T: number; B: number;
  params: Record<string, number[]>;
  x: number[]; tokens?: number[]; y: number[]; h0: number[]; c0?: number[];
  out: number[]; hT: number[]; cT?: number[]; logits: number[]; yhat: number[]; loss: number;
  grads: Record<string, number[]>; dx: number[]; dh0: number[]; dc0?: number[];
}

const load = (file: string): TorchCase[] => JSON.parse(readFileSync(join(__dirname, 'fixtures', file), 'utf8')).cases;
const cases: TorchCase[] = ['torch_rnn.json', 'torch_lstm.json', 'torch_gru.json'].flatMap(load);

/** The largest |actual − expected| / (atol + rtol·|expected|), and where it happens. */
function excess(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number) {
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(r <= worst)) { worst = r; at = i; }
  }
  return { worst, at };
}

/** Assert |actual − expected| ≤ atol + rtol·|expected| everywhere, reporting the worst element. */
function near(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  const { worst, at } = excess(actual, expected, atol, rtol);
  assert.ok(worst <= 1, `${label}: off by ${worst.toFixed(2)}× the tolerance at [${at}]: got ${actual[at]}, torch ${expected[at]}`);
}

const FWD = [1e-5, 1e-4] as const;   // forward values and loss: atol, rtol
const GRAD = [1e-4, 1e-3] as const;  // finite differences against autograd

function setup(c: TorchCase, input: 'dense' | 'tokens') {
  const cfg: CellsConfig = { ...c.config, input, resetAfter: true };
  const params: CellsParams = {};
  for (const [name, v] of Object.entries(c.params)) params[name] = Float64Array.from(v);
  const batch: CellsBatch = { T: c.T, B: c.B, x: input === 'tokens' ? c.tokens! : c.x, y: c.y, h0: c.h0, c0: c.c0 };
  return { cfg, params, batch };
}

function checkForward(c: TorchCase, input: 'dense' | 'tokens') {
  const { cfg, params, batch } = setup(c, input);
  const r = refForwardCells(cfg, params, batch);
  near('out', r.out, c.out, ...FWD);
  near('hT', r.hT, c.hT, ...FWD);
  if (c.config.cell === 'lstm') near('cT', r.cT!, c.cT!, ...FWD);
  else assert.is(r.cT, null, 'cT only for lstm');
  near('logits', r.logits, c.logits, ...FWD);
  near('yhat', r.yhat, c.yhat, ...FWD);
  near('loss', [r.loss], [c.loss], ...FWD);
}

function checkGradients(c: TorchCase, input: 'dense' | 'tokens') {
  const { cfg, params, batch } = setup(c, input);
  const g = refGradientsCells(cfg, params, batch);
  for (const name of Object.keys(c.grads)) near(`d ${name}`, g.grads[name], c.grads[name], ...GRAD);
  if (input === 'dense') near('dx', g.dx!, c.dx, ...GRAD);
  else assert.is(g.dx, null, 'no dx for token input');
  near('dh0', g.dh0, c.dh0, ...GRAD);
  if (c.config.cell === 'lstm') near('dc0', g.dc0!, c.dc0!, ...GRAD);
  else assert.is(g.dc0, null, 'dc0 only for lstm');
}

// ---

const Fixtures = suite('torch fixtures: coverage and parameter shapes');

Fixtures('16 cases: every cell × 1, 2 layers × uni-, bidirectional; every loss; one-hot cases', () => {
  assert.is(cases.length, 16);
  const kinds = new Set(cases.map((c) => `${c.config.cell}-${c.config.activation ?? ''} ${c.config.layers} ${c.config.bidirectional}`));
  assert.is(kinds.size, 16);
  assert.equal(new Set(cases.map((c) => c.config.output)), new Set(['softmax', 'sigmoid', 'linear']));
  assert.ok(cases.filter((c) => c.tokens).length >= 2, 'at least two one-hot cases');
  assert.ok(cases.some((c) => c.config.output === 'softmax' && c.y.includes(-1)), 'an ignored step');
});

Fixtures('every case has exactly the state_dict names and shapes of cellsShapes', () => {
  for (const c of cases) {
    const shapes = cellsShapes({ ...c.config, input: 'dense' });
    assert.equal(Object.keys(c.params).sort(), shapes.map((s) => s.name).sort(), c.name);
    assert.equal(Object.keys(c.grads).sort(), shapes.map((s) => s.name).sort(), c.name);
    for (const s of shapes) {
      const n = s.shape.reduce((u, v) => u * v, 1);
      assert.is(c.params[s.name].length, n, `${c.name}: ${s.name}`);
      assert.is(c.grads[s.name].length, n, `${c.name}: d ${s.name}`);
    }
    const D = c.config.bidirectional ? 2 : 1, { T, B } = c, { n_x, n_a, n_y, layers } = c.config;
    assert.is(c.x.length, B * T * n_x);
    assert.is(c.out.length, B * T * D * n_a);
    assert.is(c.h0.length, layers * D * B * n_a);
    assert.is(c.logits.length, B * T * n_y);
    assert.is(c.y.length, c.config.output === 'softmax' ? B * T : B * T * n_y);
    if (c.tokens) {
      // x is the one-hot encoding of the token ids
      c.tokens.forEach((id, i) => {
        for (let j = 0; j < n_x; j++) assert.is(c.x[i * n_x + j], j === id ? 1 : 0);
      });
    }
  }
});

Fixtures.run();

// ---

const Forward = suite('f64 reference forward = torch (out, hT, cT, logits, yhat, loss)');

for (const c of cases) Forward(c.name, () => checkForward(c, 'dense'));
for (const c of cases.filter((c) => c.tokens)) Forward(`${c.name}, as token ids`, () => checkForward(c, 'tokens'));

Forward('a perturbed weight is caught', () => {
  const c = cases.find((c) => c.config.cell === 'lstm')!;
  const { cfg, params, batch } = setup(c, 'dense');
  params['weight_hh_l0'][3] += 1e-2;
  const { worst } = excess(refForwardCells(cfg, params, batch).out, c.out, ...FWD);
  assert.ok(worst > 1, `off by only ${worst.toFixed(2)}× the tolerance`);
});

Forward.run();

// ---

const Gradients = suite('finite differences of the f64 reference = torch autograd (params, dx, dh0, dc0)');

for (const c of cases) Gradients(c.name, () => checkGradients(c, 'dense'));
for (const c of cases.filter((c) => c.tokens)) Gradients(`${c.name}, as token ids`, () => checkGradients(c, 'tokens'));

Gradients.run();

// ---

const Self = suite('f64 reference: cases without a torch counterpart');

Self("'mean' is 'sum' divided by counted steps (softmax) or steps · n_y", () => {
  for (const c of cases) {
    const { cfg, params, batch } = setup(c, 'dense');
    const sum = refForwardCells(cfg, params, batch).loss;
    const mean = refForwardCells({ ...cfg, reduction: 'mean' }, params, batch).loss;
    const terms = c.config.output === 'softmax' ? c.y.filter((v) => v >= 0).length : c.B * c.T * c.config.n_y;
    near(`${c.name}: mean`, [mean], [sum / terms], 1e-12, 1e-12);
  }
});

/** A one-unit, one-input GRU step by hand: [r, z, n] rows of w_i, w_h, b_i, b_h. */
function gruByHand(w_i: number[], w_h: number[], b_i: number[], b_h: number[], x: number, h: number, after: boolean) {
  const s = (v: number) => 1 / (1 + Math.exp(-v));
  const r = s(w_i[0] * x + b_i[0] + w_h[0] * h + b_h[0]);
  const z = s(w_i[1] * x + b_i[1] + w_h[1] * h + b_h[1]);
  const n = Math.tanh(w_i[2] * x + b_i[2] + (after ? r * (w_h[2] * h + b_h[2]) : w_h[2] * (r * h) + b_h[2]));
  return (1 - z) * n + z * h;
}

Self('GRU, reset after and reset before the matmul, one unit by hand', () => {
  const w_i = [0.3, -0.7, 0.9], w_h = [-0.4, 0.5, 1.1], b_i = [0.1, 0.2, -0.3], b_h = [0.25, -0.15, 0.6];
  const params: CellsParams = {
    weight_ih_l0: Float64Array.from(w_i), weight_hh_l0: Float64Array.from(w_h),
    bias_ih_l0: Float64Array.from(b_i), bias_hh_l0: Float64Array.from(b_h),
    'head.weight': Float64Array.of(1), 'head.bias': Float64Array.of(0),
  };
  const base: CellsConfig = { cell: 'gru', n_x: 1, n_a: 1, n_y: 1, layers: 1, bidirectional: false,
    input: 'dense', output: 'linear', reduction: 'sum' };
  const xs = [0.8, -1.3, 0.4];
  for (const after of [true, false]) {
    let h = 0.35;
    const expected = xs.map((x) => (h = gruByHand(w_i, w_h, b_i, b_h, x, h, after)));
    const r = refForwardCells({ ...base, resetAfter: after }, params, { T: 3, B: 1, x: xs, y: [0, 0, 0], h0: [0.35] });
    near(`reset ${after ? 'after' : 'before'}`, r.out, expected, 1e-15, 1e-12);
  }
});

Self('GRU variants agree when the reset gate is open (r ≈ 1) and differ otherwise', () => {
  const c = cases.find((c) => c.config.cell === 'gru' && c.config.layers === 2 && c.config.bidirectional)!;
  const { cfg, params, batch } = setup(c, 'dense');
  const after = refForwardCells(cfg, params, batch), before = refForwardCells({ ...cfg, resetAfter: false }, params, batch);
  assert.ok(Math.abs(after.loss - before.loss) > 1e-3, 'variants should differ with random weights');
  // reset-gate rows 0..H−1 of bias_ih: a large bias saturates r to 1, where both forms are W_hn h + b_hn
  for (const name of Object.keys(params)) {
    if (name.startsWith('bias_ih')) for (let i = 0; i < c.config.n_a; i++) params[name][i] = 40;
  }
  const open = refForwardCells(cfg, params, batch), openBefore = refForwardCells({ ...cfg, resetAfter: false }, params, batch);
  near('out', openBefore.out, open.out, 1e-12, 1e-12);
  near('loss', [openBefore.loss], [open.loss], 1e-12, 1e-12);
});

Self.run();

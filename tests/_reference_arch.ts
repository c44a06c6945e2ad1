// f64 references of the architectures' wiring, composed from the stack reference in
// _reference_cells.ts (itself held to PyTorch), one sequence at a time so that ragged batches
// need no padding: many-to-one / one-to-one (the head on the top layer's final states),
// one-to-many (teacher-forced decoder), encoder-decoder (encoder → bridge → decoder). Plus
// central finite differences of any of their losses over every parameter. Shares no code
// with src/ or assembly/. A stack with an embedding reads its tokens through a table named in
// the parameters (its recurrent tensors then sit under '<prefix>rnn.', PyTorch's nesting of
// nn.Embedding and the recurrent module); tables may be shared between stacks. A softmax loss
// may have class weights w and label smoothing ε (PyTorch's CrossEntropyLoss):
//   L_row = (1 − ε) w[y] (−log p[y]) + (ε / C) Σ_c w[c] (−log p[c]), and 'mean' divides by Σ w[y];
// rows whose target is −1 or the ignoreIndex are left out of both. A sigmoid loss may weigh each
// output's positive term (PyTorch's BCEWithLogitsLoss pos_weight):
//   L_k = −(p[k] y log σ(z) + (1 − y) log(1 − σ(z))), and 'mean' divides by the number of values.

import { refForwardCells, type CellsConfig, type CellsParams } from './_reference_cells.js';

export type Output = 'softmax' | 'sigmoid' | 'linear';

/** A loss's options (none: the plain loss): softmax's class weights, smoothing and ignored id;
 *  sigmoid's positive weights. */
export interface LossRef { classWeights?: number[]; labelSmoothing?: number; ignoreIndex?: number; posWeight?: number[] }

/** log σ(z), without overflow for either sign of z. */
function logSigmoid(z: number): number {
  return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

export interface StackRef {
  cell: 'rnn' | 'lstm' | 'gru';
  n_x: number;
  n_a: number;
  layers: number;
  bidirectional: boolean;
  input: 'tokens' | 'dense';
  /** Token input through the parameter `table` ((n_x, E)) instead of one-hot. */
  embedding?: { E: number; table: string };
  /** false: the cells have no biases. Default true. */
  bias?: boolean;
}

/** One sequence through a stack: its final states hT, cT, (L·D, H) and its top-layer outputs (T, D·H). */
export function runStack(s: StackRef, p: CellsParams, prefix: string, x: (number | number[])[],
                         h0?: Float64Array, c0?: Float64Array) {
  const D = s.bidirectional ? 2 : 1;
  const params: CellsParams = {};
  const own = s.embedding ? `${prefix}rnn.` : prefix;
  for (const [name, v] of Object.entries(p)) if (name.startsWith(own) && !name.slice(own.length).includes('.')) params[name.slice(own.length)] = v;
  if (s.embedding) params['embedding.weight'] = p[s.embedding.table];   // the same array: perturbations reach it
  params['head.weight'] = new Float64Array(D * s.n_a);   // a dummy head: only the states are used
  params['head.bias'] = new Float64Array(1);
  const { embedding, ...rest } = s;
  const cfg: CellsConfig = { ...rest, n_y: 1, output: 'linear', reduction: 'sum', ...(embedding ? { embedding: { E: embedding.E } } : {}) };
  const T = x.length;
  const r = refForwardCells(cfg, params, { T, B: 1, x: (x as unknown[]).flat() as number[], y: new Array(T).fill(0), h0, c0 });
  return { hT: r.hT, cT: r.cT, out: r.out };
}

/** −log-likelihood or squared error of one output row z against one target; terms is what
 *  'mean' counts the row as (softmax: its target's class weight; a target of −1 is skipped). */
export function rowLoss(output: Output, z: number[], y: number | number[], options: LossRef = {}): { loss: number; terms: number } {
  if (output === 'softmax') {
    const t = y as number;
    if (t < 0 || t === options.ignoreIndex) return { loss: 0, terms: 0 };
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((u, v) => u + Math.exp(v - m), 0));
    const w = (k: number) => options.classWeights?.[k] ?? 1;
    const eps = options.labelSmoothing ?? 0;
    // −log p[k] = lse − z[k]
    let smooth = 0;
    for (let k = 0; k < z.length; k++) smooth += w(k) * (lse - z[k]);
    return { loss: (1 - eps) * w(t) * (lse - z[t]) + eps / z.length * smooth, terms: w(t) };
  }
  const t = y as number[];
  let loss = 0;
  for (let k = 0; k < z.length; k++) {
    if (output === 'sigmoid' && options.posWeight) {
      // log(1 − σ(z)) = log σ(−z)
      loss -= options.posWeight[k] * t[k] * logSigmoid(z[k]) + (1 - t[k]) * logSigmoid(-z[k]);
      continue;
    }
    loss += output === 'sigmoid' ? Math.max(z[k], 0) - z[k] * t[k] + Math.log1p(Math.exp(-Math.abs(z[k]))) : (z[k] - t[k]) ** 2;
  }
  return { loss, terms: z.length };
}

/** z = W a + b for a linear layer named `name` (weight (n_out, n_in)); z = W a for one
 *  without a bias tensor (an output layer of headBias: false). */
export function linear(p: CellsParams, name: string, a: ArrayLike<number>): number[] {
  const W = p[`${name}.weight`], b = p[`${name}.bias`];
  const n_in = a.length, n_out = W.length / n_in;
  return Array.from({ length: n_out }, (_, k) => {
    let s = b ? b[k] : 0;
    for (let i = 0; i < n_in; i++) s += W[k * n_in + i] * a[i];
    return s;
  });
}

export interface LastStateRef extends StackRef { n_y: number; output: Output; reduction: 'sum' | 'mean'; loss?: LossRef }

/** Many-to-one (one-to-one: sequences of one step): ŷ = g(W_ya [top-layer final states] + b_y). */
export function lastStateLoss(c: LastStateRef, p: CellsParams, x: (number | number[])[][], y: (number | number[])[]): number {
  const D = c.bidirectional ? 2 : 1, H = c.n_a;
  let loss = 0, terms = 0;
  x.forEach((seq, b) => {
    const { hT } = runStack(c, p, '', seq);
    // the top layer's final state of each direction, side by side
    const top = Array.from(hT.subarray((c.layers - 1) * D * H, c.layers * D * H));
    const r = rowLoss(c.output, linear(p, 'head', top), y[b], c.loss);
    loss += r.loss;
    terms += r.terms;
  });
  return c.reduction === 'mean' ? loss / terms : loss;
}

/** Many-to-many (aligned): the head on every step of the top layer, one sequence at a time. */
export function manyToManyLoss(c: LastStateRef, p: CellsParams, x: (number | number[])[][], y: (number | number[])[][]): number {
  const n = (c.bidirectional ? 2 : 1) * c.n_a;
  let loss = 0, terms = 0;
  x.forEach((seq, b) => {
    const { out } = runStack(c, p, '', seq);
    y[b].forEach((target, t) => {
      const r = rowLoss(c.output, linear(p, 'head', out.subarray(t * n, (t + 1) * n)), target, c.loss);
      loss += r.loss;
      terms += r.terms;
    });
  });
  return c.reduction === 'mean' ? loss / terms : loss;
}

export interface DecoderRef {
  cell: 'rnn' | 'lstm' | 'gru';
  n_a: number;
  layers: number;
  n_y: number;
  output: Output;
  /** Softmax decoders: tokens through this table instead of one-hot. */
  embedding?: { E: number; table: string };
  loss?: LossRef;
  /** false: the decoder's cells have no biases. Default true. */
  bias?: boolean;
}

/** A teacher-forced decoder over one target sequence from h0 / c0: inputs [first, y<1..T−1>]. */
function decoderLoss(d: DecoderRef, p: CellsParams, prefix: string, first: number | number[], y: (number | number[])[],
                     h0?: Float64Array, c0?: Float64Array): { loss: number; terms: number } {
  const s: StackRef = {
    cell: d.cell, n_x: d.n_y, n_a: d.n_a, layers: d.layers, bidirectional: false, input: d.output === 'softmax' ? 'tokens' : 'dense', embedding: d.embedding,
    bias: d.bias,
  };
  const inputs = [first, ...y.slice(0, -1)];
  const { out } = runStack(s, p, prefix, inputs, h0, c0);
  let loss = 0, terms = 0;
  y.forEach((target, t) => {
    const r = rowLoss(d.output, linear(p, 'head', out.subarray(t * d.n_a, (t + 1) * d.n_a)), target, d.loss);
    loss += r.loss;
    terms += r.terms;
  });
  return { loss, terms };
}

export interface OneToManyRef extends DecoderRef { reduction: 'sum' | 'mean' }

export function oneToManyLoss(c: OneToManyRef, p: CellsParams, x: (number | number[])[], y: (number | number[])[][]): number {
  let loss = 0, terms = 0;
  y.forEach((seq, b) => {
    const r = decoderLoss(c, p, '', x[b], seq);
    loss += r.loss;
    terms += r.terms;
  });
  return c.reduction === 'mean' ? loss / terms : loss;
}

export interface EncDecRef {
  encoder: StackRef;
  decoder: DecoderRef;
  bridge: 'identity' | 'linear';
  start: number;
  reduction: 'sum' | 'mean';
}

export function encDecLoss(c: EncDecRef, p: CellsParams, x: (number | number[])[][], y: (number | number[])[][]): number {
  let loss = 0, terms = 0;
  x.forEach((src, b) => {
    const { hT, cT } = runStack(c.encoder, p, 'encoder.', src);
    let h0: Float64Array, c0: Float64Array | undefined;
    if (c.bridge === 'linear') {
      // a<0> of every decoder layer = tanh(W_br [all encoder final states] + b_br); c<0> = 0
      h0 = Float64Array.from(linear(p, 'bridge', hT), Math.tanh);
      c0 = c.decoder.cell === 'lstm' ? new Float64Array(h0.length) : undefined;
    } else {
      h0 = hT;
      c0 = c.decoder.cell === 'lstm' ? (c.encoder.cell === 'lstm' ? cT! : new Float64Array(hT.length)) : undefined;
    }
    const first = c.decoder.output === 'softmax' ? c.start : new Array(c.decoder.n_y).fill(0);
    const r = decoderLoss(c.decoder, p, 'decoder.', first, y[b], h0, c0);
    loss += r.loss;
    terms += r.terms;
  });
  return c.reduction === 'mean' ? loss / terms : loss;
}

/** ∂loss/∂θ for every parameter by central differences, in f64. */
export function finiteDifferences(p: CellsParams, loss: () => number, h = 1e-6): CellsParams {
  const grads: CellsParams = {};
  for (const [name, v] of Object.entries(p)) {
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h; const up = loss();
      v[i] = keep - h; const down = loss();
      v[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    grads[name] = g;
  }
  return grads;
}

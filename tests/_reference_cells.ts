// An obviously-correct f64 reference of stacked, optionally bidirectional RNN / LSTM / GRU
// layers with a Linear head on every step and a summed or averaged loss, written straight
// from the equations with plain loops, plus central finite differences of its loss. It
// shares no code with src/ or assembly/; tests/reference_vs_torch.test.ts holds it to
// PyTorch (tests/fixtures/torch_*.json) and other tests hold the wasm model to it.
// see: https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html (and RNN, GRU)
//
// Dimensions: T steps, B sequences, n_x inputs (vocabulary size for token input), n_a = H
// hidden units, n_y outputs, L layers, D directions (2 if bidirectional), G gates (rnn 1,
// lstm 4, gru 3). All arrays are flat and row-major:
//   params    PyTorch state_dict names: weight_ih_l{l}[_reverse] (G·H, n_in), n_in = n_x for
//             l = 0 else D·H; weight_hh_l{l}[_reverse] (G·H, H); bias_ih_…, bias_hh_… (G·H);
//             head.weight (n_y, D·H); head.bias (n_y)
//   x         dense: (B, T, n_x); tokens: (B, T) ids (x<t> selects the column W_ih[:, id])
//   y         softmax: (B, T) class ids, −1 = ignored step; sigmoid, linear: (B, T, n_y)
//   h0, c0    (L·D, B, H), row l·D + d; zeros when absent
//   out       (B, T, D·H) top layer's output: [forward h<t>, backward h<t>] per step
//   hT, cT    (L·D, B, H) final states (for the backward direction: its state after step 0)
//   logits    (B, T, n_y);  yhat (B, T, n_y) = softmax / sigmoid / identity of logits
//
// One step of each cell (σ = logistic sigmoid, * elementwise, rows of W stacked by gate):
//   rnn    h' = act(W_ih x + b_ih + W_hh h + b_hh)                      act = tanh | relu
//   lstm   i, f, g, o = σ, σ, tanh, σ of (W_ih x + b_ih + W_hh h + b_hh)   (gate order i,f,g,o)
//          c' = f * c + i * g;  h' = o * tanh(c')
//   gru    r, z = σ of (W_ih x + b_ih + W_hh h + b_hh)                  (gate order r,z,n)
//          reset after (PyTorch, Keras reset_after=True):
//            n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//          reset before (Keras reset_after=False, ONNX linear_before_reset=0):
//            n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
//          h' = (1 − z) * n + z * h
// Loss over every step (b, t):
//   softmax  −log softmax(z)[y]  (steps with y = −1 skipped)
//   sigmoid  −(y log σ(z) + (1 − y) log(1 − σ(z))) summed over n_y
//   linear   (z − y)² summed over n_y
//   'mean' divides by the counted steps (softmax) or by steps · n_y (sigmoid, linear).
// Embedding (token input, nn.Embedding): layer 0 reads the row embedding.weight[id] (n_x, E)
// as a dense input of E values, so weight_ih_l0 is (G·H, E). The row of the padding id gets
// no gradient (PyTorch's padding_idx rule; refGradientsCells zeroes it after the finite
// differences). A model that ties the head to the table is checked by summing the two
// gradients: the reference keeps embedding.weight and head.weight as separate tensors.
// Without biases (bias: false, PyTorch's bias=False) there are no bias_ih / bias_hh tensors and
// b_ih = b_hh = 0 in every step. Without an output bias (headBias: false, nn.Linear's
// bias=False) there is no head.bias and z = W_y a.

export interface CellsConfig {
  cell: 'rnn' | 'lstm' | 'gru';
  /** Vanilla RNN nonlinearity; ignored by lstm and gru. Default 'tanh'. */
  activation?: 'tanh' | 'relu';
  /** GRU only: true (default) = PyTorch's reset-after form, false = reset before the matmul. */
  resetAfter?: boolean;
  n_x: number;
  n_a: number;
  n_y: number;
  layers: number;
  bidirectional: boolean;
  input: 'tokens' | 'dense';
  output: 'softmax' | 'sigmoid' | 'linear';
  reduction: 'sum' | 'mean';
  /** Token input through a table of E values per token; paddingIdx: a row with no gradient. */
  embedding?: { E: number; paddingIdx?: number };
  /** false: no bias tensors; every cell's biases are zero. Default true. */
  bias?: boolean;
  /** false: no head.bias; the output layer's bias is zero. Default true. */
  headBias?: boolean;
}

/** Parameters by PyTorch name, flat row-major, f64. */
export type CellsParams = Record<string, Float64Array>;

export interface CellsBatch {
  T: number;
  B: number;
  x: ArrayLike<number>;     // dense (B, T, n_x) or token ids (B, T)
  y: ArrayLike<number>;     // ids (B, T) or targets (B, T, n_y)
  h0?: ArrayLike<number>;   // (L·D, B, H)
  c0?: ArrayLike<number>;   // (L·D, B, H), lstm only
}

export interface CellsResult {
  out: Float64Array;        // (B, T, D·H)
  hT: Float64Array;         // (L·D, B, H)
  cT: Float64Array | null;  // (L·D, B, H), lstm only
  logits: Float64Array;     // (B, T, n_y)
  yhat: Float64Array;       // (B, T, n_y)
  loss: number;
}

export interface CellsGradients {
  grads: CellsParams;       // same names and shapes as the parameters
  dx: Float64Array | null;  // (B, T, n_x), dense input only
  dh0: Float64Array;        // (L·D, B, H)
  dc0: Float64Array | null; // (L·D, B, H), lstm only
}

export const GATES = { rnn: 1, lstm: 4, gru: 3 } as const;

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Names and shapes of every parameter, in state_dict order. */
export function cellsShapes(cfg: CellsConfig): { name: string; shape: number[] }[] {
  const G = GATES[cfg.cell], H = cfg.n_a, D = cfg.bidirectional ? 2 : 1;
  const list: { name: string; shape: number[] }[] = [];
  if (cfg.embedding) list.push({ name: 'embedding.weight', shape: [cfg.n_x, cfg.embedding.E] });
  for (let l = 0; l < cfg.layers; l++) {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      list.push({ name: `weight_ih${sfx}`, shape: [G * H, l === 0 ? cfg.embedding?.E ?? cfg.n_x : D * H] });
      list.push({ name: `weight_hh${sfx}`, shape: [G * H, H] });
      if (cfg.bias === false) continue;
      list.push({ name: `bias_ih${sfx}`, shape: [G * H] });
      list.push({ name: `bias_hh${sfx}`, shape: [G * H] });
    }
  }
  list.push({ name: 'head.weight', shape: [cfg.n_y, D * H] });
  if (cfg.headBias !== false) list.push({ name: 'head.bias', shape: [cfg.n_y] });
  return list;
}

/** One step of one cell. x is a dense row of n_in values, or a token id when n_in < 0. */
function step(cfg: CellsConfig, W_ih: Float64Array, W_hh: Float64Array, b_ih: Float64Array, b_hh: Float64Array,
  n_in: number, x: Float64Array | number, h: Float64Array, c: Float64Array): { h: Float64Array; c: Float64Array } {
  const H = cfg.n_a, G = GATES[cfg.cell];
  // zi = W_ih x + b_ih and zh = W_hh h + b_hh, G·H rows each
  const zi = new Float64Array(G * H), zh = new Float64Array(G * H);
  for (let r = 0; r < G * H; r++) {
    let s = b_ih[r];
    if (typeof x === 'number') s += W_ih[r * cfg.n_x + x];      // token: column x of W_ih
    else for (let j = 0; j < n_in; j++) s += W_ih[r * n_in + j] * x[j];
    zi[r] = s;
    let u = b_hh[r];
    for (let j = 0; j < H; j++) u += W_hh[r * H + j] * h[j];
    zh[r] = u;
  }
  const hn = new Float64Array(H), cn = new Float64Array(H);
  if (cfg.cell === 'rnn') {
    for (let i = 0; i < H; i++) {
      const z = zi[i] + zh[i];
      hn[i] = cfg.activation === 'relu' ? Math.max(z, 0) : Math.tanh(z);
    }
  } else if (cfg.cell === 'lstm') {
    for (let i = 0; i < H; i++) {
      const ig = sigmoid(zi[i] + zh[i]);                     // input gate
      const fg = sigmoid(zi[H + i] + zh[H + i]);             // forget gate
      const gg = Math.tanh(zi[2 * H + i] + zh[2 * H + i]);   // candidate
      const og = sigmoid(zi[3 * H + i] + zh[3 * H + i]);     // output gate
      cn[i] = fg * c[i] + ig * gg;
      hn[i] = og * Math.tanh(cn[i]);
    }
  } else {
    const r = new Float64Array(H);
    for (let i = 0; i < H; i++) r[i] = sigmoid(zi[i] + zh[i]);  // reset gate
    for (let i = 0; i < H; i++) {
      const z = sigmoid(zi[H + i] + zh[H + i]);                  // update gate
      let rec: number;
      if (cfg.resetAfter === false) {
        // W_hn (r * h) + b_hn: the reset gate scales h before the matmul
        rec = b_hh[2 * H + i];
        for (let j = 0; j < H; j++) rec += W_hh[(2 * H + i) * H + j] * r[j] * h[j];
      } else {
        // r * (W_hn h + b_hn): the reset gate scales the projected state, bias included
        rec = r[i] * zh[2 * H + i];
      }
      const n = Math.tanh(zi[2 * H + i] + rec);                  // new-state candidate
      hn[i] = (1 - z) * n + z * h[i];
    }
  }
  return { h: hn, c: cn };
}

export function refForwardCells(cfg: CellsConfig, p: CellsParams, batch: CellsBatch): CellsResult {
  const { n_x, n_y, layers } = cfg;
  const { T, B } = batch;
  const H = cfg.n_a, D = cfg.bidirectional ? 2 : 1;
  const out = new Float64Array(B * T * D * H);
  const hT = new Float64Array(layers * D * B * H);
  const cT = new Float64Array(layers * D * B * H);
  const logits = new Float64Array(B * T * n_y), yhat = new Float64Array(B * T * n_y);
  let loss = 0, terms = 0;
  for (let b = 0; b < B; b++) {
    // layer 0 input per step: a token id, its row of the embedding table, or a dense row
    let inputs: (Float64Array | number)[] = [];
    const E = cfg.embedding?.E;
    for (let t = 0; t < T; t++) {
      const id = batch.x[b * T + t];
      inputs.push(E !== undefined ? p['embedding.weight'].slice(id * E, (id + 1) * E)
        : cfg.input === 'tokens' ? id
        : Float64Array.from({ length: n_x }, (_, j) => batch.x[(b * T + t) * n_x + j]));
    }
    for (let l = 0; l < layers; l++) {
      const n_in = l === 0 ? E ?? n_x : D * H;
      // this layer's output per step: [forward h<t>, backward h<t>]
      const outs = Array.from({ length: T }, () => new Float64Array(D * H));
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        const W_ih = p[`weight_ih${sfx}`], W_hh = p[`weight_hh${sfx}`];
        const zero = new Float64Array(GATES[cfg.cell] * H);
        const b_ih = cfg.bias === false ? zero : p[`bias_ih${sfx}`], b_hh = cfg.bias === false ? zero : p[`bias_hh${sfx}`];
        const row = (l * D + d) * B + b;  // index into (L·D, B, H)
        let h: Float64Array = Float64Array.from({ length: H }, (_, i) => (batch.h0 ? batch.h0[row * H + i] : 0));
        let c: Float64Array = Float64Array.from({ length: H }, (_, i) => (batch.c0 ? batch.c0[row * H + i] : 0));
        // the forward direction reads t = 0..T−1, the backward one t = T−1..0
        for (let k = 0; k < T; k++) {
          const t = d === 0 ? k : T - 1 - k;
          ({ h, c } = step(cfg, W_ih, W_hh, b_ih, b_hh, n_in, inputs[t], h, c));
          outs[t].set(h, d * H);
        }
        hT.set(h, row * H);
        cT.set(c, row * H);
      }
      inputs = outs;
    }
    for (let t = 0; t < T; t++) {
      const a = inputs[t] as Float64Array;
      out.set(a, (b * T + t) * D * H);
      // head: z = W_y a + b_y
      const o = (b * T + t) * n_y;
      for (let k = 0; k < n_y; k++) {
        let s = cfg.headBias === false ? 0 : p['head.bias'][k];
        for (let i = 0; i < D * H; i++) s += p['head.weight'][k * D * H + i] * a[i];
        logits[o + k] = s;
      }
      if (cfg.output === 'softmax') {
        let m = -Infinity;
        for (let k = 0; k < n_y; k++) m = Math.max(m, logits[o + k]);
        let s = 0;
        for (let k = 0; k < n_y; k++) s += Math.exp(logits[o + k] - m);
        for (let k = 0; k < n_y; k++) yhat[o + k] = Math.exp(logits[o + k] - m) / s;
        const target = batch.y[b * T + t];
        // −log softmax(z)[y] = logsumexp(z) − z[y]
        if (target >= 0) { loss += m + Math.log(s) - logits[o + target]; terms++; }
      } else if (cfg.output === 'sigmoid') {
        for (let k = 0; k < n_y; k++) {
          const z = logits[o + k], y = batch.y[o + k];
          yhat[o + k] = sigmoid(z);
          // −(y log σ(z) + (1 − y) log(1 − σ(z))), in the overflow-free form
          loss += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
        }
        terms += n_y;
      } else {
        for (let k = 0; k < n_y; k++) {
          yhat[o + k] = logits[o + k];
          loss += (logits[o + k] - batch.y[o + k]) ** 2;
        }
        terms += n_y;
      }
    }
  }
  if (cfg.reduction === 'mean') loss /= terms;
  return { out, hT, cT: cfg.cell === 'lstm' ? cT : null, logits, yhat, loss };
}

/** ∂L/∂(every parameter, dense x, h0, c0) by central differences of refForwardCells' loss. */
export function refGradientsCells(cfg: CellsConfig, p: CellsParams, batch: CellsBatch, h = 1e-6): CellsGradients {
  const rows = cfg.layers * (cfg.bidirectional ? 2 : 1) * batch.B * cfg.n_a;
  // d loss / d v[i] for each i, perturbing v in place
  const central = (v: Float64Array, run: () => number): Float64Array => {
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h; const up = run();
      v[i] = keep - h; const down = run();
      v[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  };
  const grads: CellsParams = {};
  for (const name of Object.keys(p)) grads[name] = central(p[name], () => refForwardCells(cfg, p, batch).loss);
  const pad = cfg.embedding?.paddingIdx;
  if (pad !== undefined) grads['embedding.weight'].fill(0, pad * cfg.embedding!.E, (pad + 1) * cfg.embedding!.E);
  let dx: Float64Array | null = null;
  if (cfg.input === 'dense') {
    const x = Float64Array.from(batch.x);
    dx = central(x, () => refForwardCells(cfg, p, { ...batch, x }).loss);
  }
  const h0 = batch.h0 ? Float64Array.from(batch.h0) : new Float64Array(rows);
  const c0 = batch.c0 ? Float64Array.from(batch.c0) : new Float64Array(rows);
  const dh0 = central(h0, () => refForwardCells(cfg, p, { ...batch, h0, c0 }).loss);
  const dc0 = cfg.cell === 'lstm' ? central(c0, () => refForwardCells(cfg, p, { ...batch, h0, c0 }).loss) : null;
  return { grads, dx, dh0, dc0 };
}

// An obviously-correct f64 reference of the vanilla RNN, written straight from the equations
// with plain loops over b and t, and central finite differences of its loss. It shares no
// code with src/ or assembly/; the tests hold the wasm model to it.
//
//   a<t> = act(W_aa a<t-1> + b_a + W_ax x<t> + b_x)         (layer l > 0: x<t> = a<t> of l−1)
//   ŷ<t> = g(W_ya a<t> + b_y)
//   L    = Σ_b Σ_t L<t>                                      ('mean': divided by the terms)

export interface RefConfig {
  n_x: number; n_a: number; n_y: number; layers: number;
  input: 'tokens' | 'dense';
  output: 'softmax' | 'sigmoid' | 'linear';
  activation: 'tanh' | 'relu';
  reduction: 'sum' | 'mean';
}

/** Parameters by PyTorch name, row-major (out, in), as f64. */
export type RefParams = Record<string, Float64Array>;

export interface RefBatch {
  x: (number[] | number[][])[];        // tokens: T ids; dense: T rows of n_x
  y: (number[] | number[][])[];        // softmax: T ids; else T rows of n_y
  a0?: number[];                       // (layers, B, n_a)
}

export interface RefResult {
  yhat: number[][][];   // (B, T, n_y)
  a: number[][][];      // (B, T, n_a), top layer
  aT: number[][][];     // (layers, B, n_a)
  loss: number;
}

export function refForward(cfg: RefConfig, p: RefParams, batch: RefBatch): RefResult {
  const { n_a, n_y, layers } = cfg;
  const B = batch.x.length;
  const T = batch.x[0].length;
  const yhat: number[][][] = [], aTop: number[][][] = [];
  const aT: number[][][] = Array.from({ length: layers }, () => []);
  let loss = 0, terms = 0;
  for (let b = 0; b < B; b++) {
    // inputs of layer 0, one vector (or id) per step
    let inputs: (number | number[])[] = (batch.x[b] as (number | number[])[]).slice();
    for (let l = 0; l < layers; l++) {
      const W_ax = p[`weight_ih_l${l}`], W_aa = p[`weight_hh_l${l}`];
      const b_x = p[`bias_ih_l${l}`], b_a = p[`bias_hh_l${l}`];
      const n_in = l === 0 ? cfg.n_x : n_a;
      let a = new Array(n_a).fill(0).map((_, i) => batch.a0 ? batch.a0[(l * B + b) * n_a + i] : 0);
      const outs: number[][] = [];
      for (let t = 0; t < T; t++) {
        const x = inputs[t];
        const next: number[] = [];
        for (let i = 0; i < n_a; i++) {
          let z = b_a[i] + b_x[i];
          for (let j = 0; j < n_a; j++) z += W_aa[i * n_a + j] * a[j];
          if (l === 0 && cfg.input === 'tokens') z += W_ax[i * n_in + (x as number)];
          else for (let j = 0; j < n_in; j++) z += W_ax[i * n_in + j] * (x as number[])[j];
          next.push(cfg.activation === 'tanh' ? Math.tanh(z) : Math.max(z, 0));
        }
        a = next;
        outs.push(a);
      }
      aT[l].push(a);
      inputs = outs;
    }
    const rows: number[][] = [];
    for (let t = 0; t < T; t++) {
      const a = inputs[t] as number[];
      const z: number[] = [];
      for (let k = 0; k < n_y; k++) {
        let s = p['head.bias'][k];
        for (let i = 0; i < n_a; i++) s += p['head.weight'][k * n_a + i] * a[i];
        z.push(s);
      }
      if (cfg.output === 'softmax') {
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e.reduce((u, v) => u + v, 0);
        rows.push(e.map((v) => v / s));
        const target = (batch.y[b] as number[])[t];
        if (target >= 0) { loss += -Math.log(e[target] / s); terms++; }
      } else if (cfg.output === 'sigmoid') {
        const q = z.map((v) => 1 / (1 + Math.exp(-v)));
        rows.push(q);
        const target = (batch.y[b] as number[][])[t];
        for (let k = 0; k < n_y; k++) loss += -(target[k] * Math.log(q[k]) + (1 - target[k]) * Math.log(1 - q[k]));
        terms += n_y;
      } else {
        rows.push(z);
        const target = (batch.y[b] as number[][])[t];
        for (let k = 0; k < n_y; k++) loss += (z[k] - target[k]) ** 2;
        terms += n_y;
      }
    }
    yhat.push(rows);
    aTop.push(inputs as number[][]);
  }
  if (cfg.reduction === 'mean') loss /= terms;
  return { yhat, a: aTop, aT, loss };
}

/** ∂L/∂θ for every parameter by central differences of refForward's loss, in f64. */
export function refGradients(cfg: RefConfig, p: RefParams, batch: RefBatch, h = 1e-6): { grads: RefParams; da0: number[] } {
  const grads: RefParams = {};
  for (const name of Object.keys(p)) {
    const v = p[name];
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h; const up = refForward(cfg, p, batch).loss;
      v[i] = keep - h; const down = refForward(cfg, p, batch).loss;
      v[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    grads[name] = g;
  }
  const a0 = batch.a0 ?? new Array(cfg.layers * batch.x.length * cfg.n_a).fill(0);
  const da0 = a0.map((_, i) => {
    const shifted = (d: number) => refForward(cfg, p, { ...batch, a0: a0.map((v, j) => (j === i ? v + d : v)) }).loss;
    return (shifted(h) - shifted(-h)) / (2 * h);
  });
  return { grads, da0 };
}

// Layer 0 over an embedding projects each distinct id of a batch once (src/embedding-rows.ts).
// The check is independent of that path: the same network fed the table's rows as dense
// features (the dense path, itself checked against PyTorch) must give the same outputs, the
// same gradients of every recurrent and head weight, and a table gradient equal to its ∂L/∂x
// summed by id — on ragged batches in any order, with repeated ids, more rows than ids and
// more ids than rows, a padding id, every cell, stacked and bidirectional. Ids that only stand
// in padded steps take no part at all: a huge row there changes no bit of any result.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRNN, Random } from '../dist/index.js';
import { checkClose, checkSame } from './_utils.js';

type Cell = 'rnn' | 'lstm' | 'gru';
interface Case { cell: Cell; layers: number; bidirectional: boolean; V: number; E: number; pad: number | null; lens: number[] }

const cases: Case[] = [
  // V < rows: many repeats, the distinct ids bounded by V
  { cell: 'lstm', layers: 1, bidirectional: true, V: 5, E: 3, pad: 1, lens: [3, 7, 1, 7, 5, 2] },
  // V > rows: ids mostly distinct
  { cell: 'gru', layers: 2, bidirectional: true, V: 200, E: 4, pad: null, lens: [4, 2, 6] },
  { cell: 'rnn', layers: 2, bidirectional: false, V: 7, E: 2, pad: 0, lens: [2, 5, 5, 3] },
  { cell: 'lstm', layers: 2, bidirectional: false, V: 12, E: 5, pad: null, lens: [6, 6, 6] },
];

const n_a = 4, n_y = 3;

/** Values this far below a gradient's largest are compared absolutely (sums in another order). */
const floorOf = (g: Float32Array) => 1e-3 * Math.max(1e-6, ...Array.from(g, Math.abs));

/** Ragged sequences of ids in [0, V) (every id but 0 when a padding row must not be read). */
function tokens(rng: Random, V: number, lens: number[], avoid?: number): number[][] {
  return lens.map((n) => Array.from({ length: n }, () => {
    let id = rng.int(V);
    while (id === avoid) id = rng.int(V);
    return id;
  }));
}

/** An embedding model and a dense model with n_x = E holding the same recurrent and head weights. */
async function twins(c: Case, seed: number) {
  const common = { cell: c.cell, layers: c.layers, bidirectional: c.bidirectional, n_a, n_y, reduction: 'sum' as const, seed };
  const emb = await createRNN({ ...common, n_x: c.V, input: 'tokens', embedding: { size: c.E, paddingIdx: c.pad } });
  const dense = await createRNN({ ...common, n_x: c.E });
  for (const e of dense.layout.entries) dense.setParam(e.name, emb.getParam(emb.layout.entries.some((f) => f.name === `rnn.${e.name}`) ? `rnn.${e.name}` : e.name));
  return { emb, dense };
}

const Same = suite('embedding rows: one projection per distinct id gives what the dense path gives');

cases.forEach((c, i) => {
  Same(`${c.cell} L=${c.layers}${c.bidirectional ? ' bi' : ''} V=${c.V} E=${c.E}${c.pad === null ? '' : ` pad=${c.pad}`} lens ${c.lens.join(',')}`, async () => {
    const rng = new Random(40 + i);
    const { emb, dense } = await twins(c, 60 + i);
    try {
      const table = emb.getParam('embedding.weight');
      // one id throughout, then as many rows with more ids, then more rows: the workspace
      // regrows for more distinct ids alone, and for more rows
      for (let pass = 0; pass < 3; pass++) {
        const lens = pass === 2 ? [...c.lens, ...c.lens].map((n) => n + 1) : c.lens;
        const x = pass === 0 ? lens.map((n) => new Array<number>(n).fill(3)) : tokens(rng, c.V, lens);
        const y = lens.map((n) => Array.from({ length: n }, () => rng.int(n_y)));
        const features = x.map((s) => s.map((id) => Array.from(table.subarray(id * c.E, (id + 1) * c.E))));
        const ge = emb.computeGradients({ x, y }), gd = dense.computeGradients({ x: features, y });
        checkClose('loss', [ge.loss], [gd.loss], 1e-5);
        checkClose('output', emb.forward({ x }).a, dense.forward({ x: features }).a, 1e-5);
        for (const e of dense.layout.entries) {
          const name = emb.layout.entries.some((f) => f.name === `rnn.${e.name}`) ? `rnn.${e.name}` : e.name;
          checkClose(`grad ${name}`, ge.grads[name], gd.grads[e.name], 1e-4, floorOf(gd.grads[e.name]));
        }
        // ∂L/∂W_e[v] = Σ ∂L/∂x<t> over the steps that read v (none for the padding id)
        const T = Math.max(...lens), want = new Float32Array(c.V * c.E);
        x.forEach((s, b) => s.forEach((id, t) => {
          if (id === c.pad) return;
          for (let j = 0; j < c.E; j++) want[id * c.E + j] += gd.dx![(b * T + t) * c.E + j];
        }));
        checkClose('grad embedding.weight', ge.grads['embedding.weight'], want, 1e-4, floorOf(want));
      }
    } finally {
      emb.dispose();
      dense.dispose();
    }
  });
});

Same('the check can fail: a wrong table row moves the gradients beyond tolerance', async () => {
  const c = cases[0];
  const { emb, dense } = await twins(c, 70);
  const x = [[2, 3, 2], [4, 2]], y = [[0, 1, 2], [1, 0]];
  const table = emb.getParam('embedding.weight');
  const features = x.map((s) => s.map((id) => Array.from(table.subarray(id * c.E, (id + 1) * c.E)).map((v, j) => (id === 4 && j === 0 ? v + 0.1 : v))));
  const ge = emb.computeGradients({ x, y }), gd = dense.computeGradients({ x: features, y });
  const got = ge.grads['rnn.weight_ih_l0'], want = gd.grads['weight_ih_l0'];
  const worst = Math.max(...Array.from(want, (v, j) => Math.abs(got[j] - v) / Math.max(Math.abs(v), 1e-6)));
  assert.ok(worst > 1e-2, `a wrong row must not pass (worst relative error ${worst})`);
  emb.dispose();
  dense.dispose();
});

Same.run();

// ---

const Padded = suite('embedding rows: ids that only stand in padded steps take no part');

for (const cell of ['lstm', 'gru', 'rnn'] as const) {
  Padded(`${cell} bi: a huge row for an id read only past a sequence's end changes nothing`, async () => {
    const c: Case = { cell, layers: 1, bidirectional: true, V: 6, E: 3, pad: null, lens: [] };
    const { emb } = await twins(c, 80);
    try {
      const rng = new Random(9);
      const lens = [5, 2, 4, 1];
      const x = tokens(rng, c.V, lens, 0);                 // id 0 never read
      const y = lens.map((n) => Array.from({ length: n }, () => rng.int(n_y)));
      const before = emb.computeGradients({ x, y });
      const table = emb.getParam('embedding.weight');
      table.fill(1e30, 0, c.E);
      emb.setParam('embedding.weight', table);
      // padded steps of the shorter sequences reach the kernels as id 0, the packers' filler
      const after = emb.computeGradients({ x, y });
      checkSame('loss', [after.loss], [before.loss]);
      for (const name of Object.keys(before.grads)) checkSame(`grad ${name}`, after.grads[name], before.grads[name]);
      checkSame('grad of the unread row', after.grads['embedding.weight'].subarray(0, c.E), new Float32Array(c.E));
    } finally {
      emb.dispose();
    }
  });
}

Padded.run();

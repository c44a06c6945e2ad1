// Pieces the cells share (assembly/cells.ts): the token input projection and its gradient give
// the same bits whether rows read W_ihᵀ from scratch or gather W_ih's columns.
import { suite } from 'uvu';
import { Arena, getEngine, Random } from '../dist/index.js';
import { checkSame, uniforms } from './_utils.js';

const Cells = suite('cells');

for (const backend of ['simd', 'scalar'] as const) {
  Cells(`${backend}: token rows through W_ihᵀ scratch = gathered columns, forward and gradient, bit for bit`, async () => {
    const { kernels: k } = await getEngine(backend);
    const arena = new Arena(k);
    const rng = new Random(3);
    const n_x = 11, G = 14, rows = 40;                   // more rows than n_x: the scratch is used
    const f = (n: number, v?: number[]) => { const r = arena.alloc(n, 'test'); if (v) arena.f32(r).set(v); return r; };
    const W = f(G * n_x, uniforms(rng, G * n_x)), b_ih = f(G, uniforms(rng, G)), b_hh = f(G, uniforms(rng, G));
    const X = arena.alloc(rows, 'ids');
    arena.i32(X).set(Array.from({ length: rows }, () => rng.int(n_x)));
    const dZ = f(rows * G, uniforms(rng, rows * G));
    const WT = arena.alloc(n_x * G, 'scratch');
    const shared = 5;
    const out: Float32Array[][] = [];
    for (const scratch of [0, WT.ptr]) {
      const H = f(rows * G), dW = f(G * n_x), db = f(G), db_hh = f(G);
      k.input_projection(H.ptr, X.ptr, 1, scratch, W.ptr, b_ih.ptr, b_hh.ptr, 0, rows, 1, n_x, G);
      k.input_grads(dW.ptr, db.ptr, db_hh.ptr, shared, 0, dZ.ptr, X.ptr, 1, scratch, W.ptr, 0, rows, 1, n_x, G);
      out.push([arena.f32(H).slice(), arena.f32(dW).slice(), arena.f32(db).slice()]);
      // db_hh takes the same sums of the first `shared` columns, and nothing else
      checkSame('db_hh', arena.f32(db_hh), [...arena.f32(db).subarray(0, shared), ...new Array(G - shared).fill(0)]);
    }
    ['H', 'dW_ih', 'db_ih'].forEach((name, i) => checkSame(name, out[1][i], out[0][i]));
    arena.dispose();
  });
}

Cells.run();

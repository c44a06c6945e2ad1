// The recurrent weights' gradient of a ragged batch as one product over the rows that run
// (assembly/gemm.ts: gemm_tn_rows; assembly/cells.ts: outer_rows). The kernel against
// gemm_naive on a gathered copy of the listed rows (scattered and repeated lists, K across KC =
// 256, M and N off the 4 × 8 tile, both write modes), in the same bits as gemm(1, 0) on that copy,
// the SIMD and scalar builds alike, and a list split at a multiple of KC giving the same bits as
// one call. Then every cell's gradients on ragged batches (many runs, and more rows than one
// list holds) against the sums over each sequence alone.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createModel, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, randomStep, randomTarget, uniforms } from './_utils.js';

const KC = 256;

const Rows = suite('gemm_tn_rows: Aᵀ·B over a list of rows');

/** `K` row indices below `rows`: scattered, in no order, some repeated. */
function rowList(rng: Random, K: number, rows: number): number[] {
  return Array.from({ length: K }, () => rng.int(rows));
}

/** gemm_tn_rows (M, N, K) in `backend` over A (rows, lda) and B (rows, ldb), beside gemm_naive and
 *  gemm(1, 0) on the gathered rows; `split` > 0 makes two calls, the list cut after `split` rows. */
async function run(backend: 'simd' | 'scalar', M: number, N: number, K: number, acc: number, seed: number, split = 0) {
  const { kernels: k } = await getEngine(backend);
  const arena = new Arena(k);
  const rng = new Random(seed);
  const rows = K + 7, lda = M + 3, ldb = N + 2;
  const A = uniforms(rng, rows * lda), B = uniforms(rng, rows * ldb), C0 = uniforms(rng, M * N);
  const list = rowList(rng, K, rows);
  const gA = list.flatMap((r) => A.slice(r * lda, (r + 1) * lda));
  const gB = list.flatMap((r) => B.slice(r * ldb, (r + 1) * ldb));
  const f = (n: number, v: number[]) => { const r = arena.alloc(Math.max(n, 1), 'test'); arena.f32(r).set(v); return r; };
  const rA = f(rows * lda, A), rB = f(rows * ldb, B), rgA = f(K * lda, gA), rgB = f(K * ldb, gB);
  const rL = arena.alloc(Math.max(K, 1), 'rows');
  new Int32Array(k.memory.buffer, rL.ptr, K).set(list);
  const out = (fn: (C: number) => void) => { const rC = f(M * N, C0); fn(rC.ptr); return arena.f32(rC).slice(); };
  const rows_ = out((C) => {
    if (!split) return k.gemm_tn_rows(M, N, K, rL.ptr, rA.ptr, lda, rB.ptr, ldb, C, N, acc);
    k.gemm_tn_rows(M, N, split, rL.ptr, rA.ptr, lda, rB.ptr, ldb, C, N, acc);
    k.gemm_tn_rows(M, N, K - split, rL.ptr + 4 * split, rA.ptr, lda, rB.ptr, ldb, C, N, 1);
  });
  const naive = out((C) => k.gemm_naive(1, 0, M, N, K, rgA.ptr, lda, rgB.ptr, ldb, C, N, acc));
  const gemm = out((C) => k.gemm(1, 0, M, N, K, rgA.ptr, lda, rgB.ptr, ldb, C, N, acc));
  arena.dispose();
  return { rows: rows_, naive, gemm };
}

// M: below a tile, off the tile, whole tiles, past a block of 128; N off 8; K across KC
const shapes = [[1, 1, 1], [3, 5, 2], [4, 8, 9], [5, 9, 33], [13, 7, 257], [16, 17, 300], [130, 9, 70], [22, 3, 600]];

Rows('agrees with gemm_naive on the gathered rows, in the bits of gemm(1, 0) on them', async () => {
  let n = 0;
  for (const [M, N, K] of shapes) {
    for (const acc of [0, 1]) {
      const r = await run('simd', M, N, K, acc, 100 * M + 10 * N + acc);
      checkClose(`M=${M} N=${N} K=${K} acc=${acc}`, r.rows, r.naive, 1e-4, 1);
      checkSame(`M=${M} N=${N} K=${K} acc=${acc}: as gemm(1, 0)`, r.rows, r.gemm);
      n++;
    }
  }
  assert.is(n, 2 * shapes.length);
});

Rows('the SIMD and scalar builds give the same bits; a list cut at a multiple of KC too', async () => {
  for (const [M, N, K] of shapes) {
    const s = await run('simd', M, N, K, 1, M + K), c = await run('scalar', M, N, K, 1, M + K);
    checkSame(`simd vs scalar M=${M} N=${N} K=${K}`, s.rows, c.rows);
  }
  for (const backend of ['simd', 'scalar'] as const) {
    const whole = await run(backend, 13, 10, 2 * KC + 40, 0, 3), cut = await run(backend, 13, 10, 2 * KC + 40, 0, 3, KC);
    checkSame(`${backend}: cut after KC`, cut.rows, whole.rows);
  }
});

Rows('K = 0 writes zeros without accumulate and leaves C with it', async () => {
  const r0 = await run('simd', 5, 9, 0, 0, 1), r1 = await run('simd', 5, 9, 0, 1, 1);
  checkSame('K=0 acc=0', r0.rows, new Array(45).fill(0));
  checkSame('K=0 acc=1', r1.rows, r1.naive);
});

Rows.run();

// ---

const Cells = suite('ragged batches: the recurrent gradient over the rows that run');

type Data = { x: unknown[]; y: unknown[] };
interface Model {
  computeGradients(batch: Data): { loss: number; grads: Record<string, Float32Array> };
  dispose(): void;
}

const cells = [{ cell: 'rnn' }, { cell: 'lstm' }, { cell: 'gru' }, { cell: 'gru', resetAfter: false }] as const;

/** A many-to-many batch of the given lengths, dense inputs, softmax targets. */
function batch(rng: Random, lengths: number[], n_x: number, n_y: number): Data {
  return {
    x: lengths.map((T) => Array.from({ length: T }, () => randomStep(rng, 'dense', n_x))),
    y: lengths.map((T) => Array.from({ length: T }, () => randomTarget(rng, 'softmax', n_y))),
  };
}

/** Every gradient of the batch against the sum of its sequences' gradients, each alone. */
function checkAgainstAlone(label: string, model: Model, data: Data): void {
  const got = model.computeGradients(data).grads;
  const summed: Record<string, Float64Array> = {};
  for (let b = 0; b < data.x.length; b++) {
    const alone = model.computeGradients({ x: [data.x[b]], y: [data.y[b]] }).grads;
    for (const [name, values] of Object.entries(alone)) {
      summed[name] ??= new Float64Array(values.length);
      values.forEach((u, i) => { summed[name][i] += u; });
    }
  }
  assert.equal(Object.keys(got).sort(), Object.keys(summed).sort(), `${label}: the same parameters`);
  for (const name of Object.keys(summed)) {
    const scale = Math.max(...Array.from(summed[name], Math.abs), 1e-6);
    checkClose(`${label}: grad ${name}`, got[name], summed[name], 1e-5, scale);
  }
}

for (const extra of cells) {
  const label = `${extra.cell}${'resetAfter' in extra ? ' (reset before)' : ''}`;
  Cells(`${label}, n_a = 5, bidirectional: a ragged batch = its sequences alone (many runs, > 4·KC rows)`, async () => {
    const n_x = 3, n_y = 4;
    const model = await createModel({ architecture: 'many-to-many', ...extra, n_x, n_a: 5, n_y, bidirectional: true, input: 'dense', reduction: 'sum', seed: 6 } as never) as unknown as Model;
    const rng = new Random(11);
    checkAgainstAlone(`${label} short`, model, batch(rng, [2, 7, 1, 4, 7, 3, 5], n_x, n_y));
    const long = Array.from({ length: 30 }, () => 1 + rng.int(90));
    assert.ok(long.reduce((a, b) => a + b) > 4 * KC, 'the rows that run fill more than one list');
    checkAgainstAlone(`${label} long`, model, batch(rng, long, n_x, n_y));
    model.dispose();
  });
}

Cells.run();

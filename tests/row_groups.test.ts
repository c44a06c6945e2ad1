// W_hh copied into groups of four rows for a whole generation (assembly/dot.ts: pack_rows4,
// gemm_nt_packed; src/stepper.ts: withPackedWeights): the products read from the copy give the
// bits the dot products over W_hh give, on every shape and build; sample(), generateMany() and
// beam search read it and still equal the unpacked paths; a copy never outlives the weights it
// was made from.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createModel, createRNN, getEngine, getMemoryStats, Random } from '../dist/index.js';
import { checkSame, uniforms } from './_utils.js';
import { copiesHead } from '../dist/wasm.js';

const Kernel = suite('gemm_nt_w over a copy in groups of four rows');

// M up to the dot-product limit (64) and past it (65: the copy is not read); N and K with every
// remainder mod 4; blocks of rows of B (K = 256: 64 rows a block)
const Ms = [1, 2, 3, 5, 64, 65], Ns = [1, 3, 4, 7, 13, 130], Ks = [1, 2, 4, 5, 11, 256];
for (const backend of ['simd', 'scalar'] as const) {
  Kernel(`${backend}: the same bits as gemm() on W, for M ${Ms.join(', ')}, N ${Ns.join(', ')}, K ${Ks.join(', ')}`, async () => {
    const { kernels: k } = await getEngine(backend);
    const arena = new Arena(k);
    const rng = new Random(11);
    let checked = 0;
    for (const M of Ms) for (const N of Ns) for (const K of Ks) {
      if (M * N * K > 65 * 130 * 11 && rng.int(3) !== 0) continue;
      const lda = K + rng.int(3), ldc = N + rng.int(3), accumulate = rng.int(2);
      const A = uniforms(rng, M * lda), W = uniforms(rng, N * K), C0 = uniforms(rng, M * ldc);
      const rA = arena.alloc(M * lda, 'A'), rW = arena.alloc(N * K, 'W'), rP = arena.alloc(N * K, 'PW');
      const rC = arena.alloc(M * ldc, 'C'), rD = arena.alloc(M * ldc, 'D');
      arena.f32(rA).set(A); arena.f32(rW).set(W); arena.f32(rC).set(C0); arena.f32(rD).set(C0);
      k.pack_rows4(rP.ptr, rW.ptr, K, N, K);
      k.gemm(0, 1, M, N, K, rA.ptr, lda, rW.ptr, K, rC.ptr, ldc, accumulate);
      k.gemm_nt_w(M, N, K, rA.ptr, lda, rW.ptr, rP.ptr, rD.ptr, ldc, accumulate);
      checkSame(`M=${M} N=${N} K=${K} acc=${accumulate}`, arena.f32(rD), arena.f32(rC));
      for (const r of [rA, rW, rP, rC, rD]) arena.release(r);
      checked++;
    }
    assert.ok(checked > 100, `checked ${checked} products`);
    arena.dispose();
  });
}

Kernel('the copy is a permutation of W: every value once, rows past the last group as they are', async () => {
  const { kernels: k } = await getEngine('simd');
  const arena = new Arena(k);
  for (const [N, K] of [[4, 4], [7, 5], [13, 256], [1, 3]]) {
    const ldb = K + 2;
    const rW = arena.alloc(N * ldb, 'W'), rP = arena.alloc(N * K, 'P');
    arena.f32(rW).set(Float32Array.from({ length: N * ldb }, (_, i) => i));
    k.pack_rows4(rP.ptr, rW.ptr, ldb, N, K);
    const P = [...arena.f32(rP)];
    const expected = [];
    for (let j = 0; j < N; j++) for (let q = 0; q < K; q++) expected.push(j * ldb + q);
    assert.equal([...P].sort((a, b) => a - b), expected.sort((a, b) => a - b), `N ${N} K ${K}: the values of W's N × K block`);
    const N4 = N - (N % 4);
    for (let j = N4; j < N; j++) assert.equal(P.slice(j * K, (j + 1) * K), expected.filter((v) => Math.floor(v / ldb) === j).sort((a, b) => a - b), `row ${j} as it is`);
    if (N4 && K >= 4) assert.equal(P.slice(0, 8), [0, 1, 2, 3, ldb, ldb + 1, ldb + 2, ldb + 3], 'group 0: row 0 chunk 0, then row 1 chunk 0');
    arena.release(rW); arena.release(rP);
  }
  arena.dispose();
});

Kernel.run();

// ---

const Gen = suite('generation reads the copy and still equals the unpacked paths');

const cells = [
  { cell: 'rnn' }, { cell: 'lstm' }, { cell: 'gru' }, { cell: 'gru', resetAfter: false },
] as const;

/** `length` greedy tokens after `start` from a many-to-many model with m's config and weights,
 *  one step() at a time: the stream API, which reads the weights themselves. */
async function greedySteps(m: any, start: number, length: number): Promise<number[]> {
  const stream = await createModel({ architecture: 'many-to-many', ...m.toJSON() } as any);
  stream.setWeights(m.getWeights());
  let p = (stream as any).step(start) as Float32Array;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const t = p.indexOf(Math.max(...p));
    out.push(t);
    p = (stream as any).step(t);
  }
  stream.dispose();
  return out;
}

for (const c of cells) {
  for (const n_a of [6, 33, 128]) {
    Gen(`sample() ${c.cell}${'resetAfter' in c ? ' reset-before' : ''} n_a ${n_a}: a run past the copy's threshold begins with the tokens of a short run without it`, async () => {
      const V = 23;
      const m = await createRNN({ ...c, layers: 2, n_x: V, n_a, n_y: V, input: 'tokens', seed: 5 });
      for (const temperature of [0, 1]) {
        const short = m.sample({ length: 3, prime: [4], temperature, seed: 8 });     // 4 steps: no copy
        const long = m.sample({ length: 40, prime: [4], temperature, seed: 8 });     // 41 steps: the copy
        assert.equal(long.slice(0, 3), short, `τ ${temperature}`);
        // and the long run equals the stream API, one step() at a time from the same weights
        if (temperature === 0) assert.equal(long, await greedySteps(m, 4, 40), 'greedy tokens of step()');
      }
      m.dispose();
    });
  }
}

Gen('sample() copies W_ihᵀ for one-hot ids only in a run long enough to repay it, with step()\'s tokens either way', async () => {
  for (const cell of ['rnn', 'lstm', 'gru'] as const) {
    const V = 300, n_a = 12, G = { rnn: 1, lstm: 4, gru: 3 }[cell] * n_a;
    const m = await createRNN({ cell, n_x: V, n_a, n_y: V, input: 'tokens', seed: 6 });
    const bytes = () => getMemoryStats().models.reduce((s, x) => s + x.bytes, 0);
    const short = m.sample({ length: 20, prime: [7], temperature: 0 });      // 21 steps · 4 < 300: no transpose
    const before = bytes();
    assert.equal(short, await greedySteps(m, 7, 20), `${cell}: a short run`);
    const long = m.sample({ length: 80, prime: [7], temperature: 0 });       // 81 · 4 ≥ 300: W_ihᵀ
    assert.is(bytes() - before, 4 * V * G, `${cell}: the long run made W_ihᵀ (${V} × ${G})`);
    assert.equal(long, await greedySteps(m, 7, 80), `${cell}: a long run`);
    assert.equal(long.slice(0, 20), short, `${cell}: the long run begins with the short one`);
    m.dispose();
  }
});

Gen('sample() through an embedding table, the head tied to it or not: the copies give the greedy tokens of step()', async () => {
  for (const tieWeights of [true, false]) {
    const V = 41, E = 14;                      // V = 41: ten groups of four rows of W_y and one row
    const m = await createRNN({ cell: 'lstm', n_x: V, n_a: E, n_y: V, input: 'tokens', embedding: E, tieWeights, seed: 12 });
    assert.equal(m.sample({ length: 30, prime: [3], temperature: 0 }), await greedySteps(m, 3, 30), `tieWeights ${tieWeights}`);
    m.dispose();
  }
});

Gen('a copy never outlives its weights: sample() after a training step and after setParam (W_hh, the head\'s W_y, W_ih) equals a fresh model with those weights', async () => {
  const V = 17;
  const config = { cell: 'lstm' as const, n_x: V, n_a: 24, n_y: V, input: 'tokens' as const, seed: 2 };
  const m = await createRNN(config);
  const fresh = async () => {
    const f = await createRNN(config);
    f.setWeights(m.getWeights());
    const tokens = f.sample({ length: 30, temperature: 0 });
    f.dispose();
    return tokens;
  };
  const before = m.sample({ length: 30, temperature: 0 });
  assert.equal(before, await fresh());
  const rng = new Random(3);
  const x = Array.from({ length: 4 }, () => Array.from({ length: 12 }, () => rng.int(V)));
  for (let i = 0; i < 20; i++) m.trainStep({ x, y: x.map((s) => s.map((t) => (t * 3 + 1) % V)) }, { learningRate: 0.05 });
  const trained = m.sample({ length: 30, temperature: 0 });
  assert.equal(trained, await fresh(), 'after training');
  assert.not.equal(trained, before, 'training changed what it generates');
  const w = m.getParam('weight_hh_l0');
  m.setParam('weight_hh_l0', w.map((v: number) => -v));
  assert.equal(m.sample({ length: 30, temperature: 0 }), await fresh(), 'after setParam of W_hh');
  // the head's W_y is copied for a run too
  const wy = m.getParam('head.weight');
  const reversed = m.sample({ length: 30, temperature: 0 });
  m.setParam('head.weight', wy.map((v: number, i: number) => v * (1 + (i % 5)) - 0.1));
  const changed = m.sample({ length: 30, temperature: 0 });
  assert.equal(changed, await fresh(), 'after setParam of the head\'s W_y');
  assert.not.equal(changed, reversed, 'the new W_y changed what it generates');
  // and layer 0's W_ih, whose columns one-hot ids read from a transposed copy
  const wi = m.getParam('weight_ih_l0');
  m.setParam('weight_ih_l0', wi.map((v: number, i: number) => (i % 3 === 0 ? -v : 2 * v)));
  const input = m.sample({ length: 30, temperature: 0 });
  assert.equal(input, await fresh(), 'after setParam of W_ih');
  assert.not.equal(input, changed, 'the new W_ih changed what it generates');
  m.dispose();
});

Gen('generate(), generateMany and beam search (past the threshold) equal the lazy stream(), which reads W_hh itself', async () => {
  for (const cell of ['lstm', 'gru'] as const) {
    const m = await createModel({ architecture: 'one-to-many', cell, layers: 2, n_y: 9, n_a: 20, startToken: 0, seed: 4 });
    const greedy = [...m.stream({ maxLength: 16, stop: null })];
    assert.equal(m.generate({ maxLength: 16, stop: null }), greedy, `${cell}: generate()`);
    const sampled = [...m.stream({ maxLength: 16, stop: null, strategy: 'sample', seed: 5 })];
    assert.equal(m.generate({ maxLength: 16, stop: null, strategy: 'sample', seed: 5 }), sampled, `${cell}: generate(), sampled`);
    assert.equal(m.generateMany(3, { maxLength: 16, stop: null }), [greedy, greedy, greedy], `${cell}: lockstep rows`);
    assert.equal(m.beamSearch({ beamWidth: 1, maxLength: 16, stop: null })[0].tokens, greedy, `${cell}: a beam of one`);
    const ed = await createModel({ architecture: 'encoder-decoder', cell, input: 'tokens', n_x: 7, n_y: 7, n_a: 12, attention: 'general', seed: 9 });
    const src = [1, 2, 3, 4, 5];
    const out = [...ed.stream(src, { maxLength: 12, stop: null })];
    assert.equal(ed.generate(src, { maxLength: 12, stop: null }), out, `${cell}: encoder-decoder generate()`);
    assert.equal(ed.generateBatch([src, src], { maxLength: 12, stop: null }), [out, out], `${cell}: encoder-decoder batch`);
    assert.equal(ed.beamSearch(src, { beamWidth: 1, maxLength: 12, stop: null })[0].tokens, out, `${cell}: encoder-decoder beam of one`);
    m.dispose(); ed.dispose();
  }
});

Gen('training: a forward pass over the copy (a training workspace, T ≥ 4) has the bits of a fresh model\'s forward', async () => {
  // W_hh above 16 384 values (130 and 75: every remainder mod 4) and below (9 and 6), whose
  // backward packs W_hh per step but whose forward reads the copy all the same
  for (const c of cells) for (const large of [true, false]) {
    const n_a = large ? (c.cell === 'rnn' ? 130 : 75) : (c.cell === 'rnn' ? 9 : 6);
    const config = { ...c, layers: 2, n_x: 13, n_a, n_y: 13, input: 'tokens' as const, seed: 6 };
    const m = await createRNN(config);
    const rng = new Random(4);
    const x = Array.from({ length: 5 }, (_, b) => Array.from({ length: 9 - b }, () => rng.int(13)));
    const batch = { x, y: x.map((s) => s.map((t) => (t + 2) % 13)) };
    m.trainStep(batch, { learningRate: 0.01 });              // the training workspace exists from here on
    const fresh = await createRNN(config);
    fresh.setWeights(m.getWeights());
    const k = (m as any).kernels, pack = k.pack_recurrent;
    let packed = 0;
    k.pack_recurrent = (...args: number[]) => { packed++; return pack(...args); };
    let y: Float32Array;
    try {
      y = m.forward(batch).yhat;
    } finally {
      k.pack_recurrent = pack;
    }
    assert.is(packed, 2, `${c.cell}: one copy per layer`);
    checkSame(`${c.cell}${'resetAfter' in c ? ' reset-before' : ''}: forward`, y, fresh.forward(batch).yhat);
    const g = m.computeGradients(batch), h = fresh.computeGradients(batch);
    for (const name of Object.keys(h.grads)) checkSame(`${c.cell}: ∂L/∂${name}`, g.grads[name], h.grads[name]);
    m.dispose(); fresh.dispose();
  }
});

const Head = suite('the head reads W_y copied into groups of four rows for a forward of many rows');

/** Calls of kernels.pack_rows4 (the TS side's copies) while fn runs. */
function countCopies(model: unknown, fn: () => void): number {
  const k = (model as any).kernels, pack = k.pack_rows4;
  let n = 0;
  k.pack_rows4 = (...args: number[]) => { n++; return pack(...args); };
  try { fn(); } finally { k.pack_rows4 = pack; }
  return n;
}

Head('an RNN model: each row of a 160-row forward (the copy) has the bits it has alone (20 rows, none)', async () => {
  for (const cell of ['lstm', 'rnn'] as const) {
    const V = 37, T = 20;                       // V = 37: nine groups of four rows and one more
    const m = await createRNN({ cell, n_x: V, n_a: 22, n_y: V, input: 'tokens', seed: 7 });
    const rng = new Random(5);
    const x = Array.from({ length: 8 }, () => Array.from({ length: T }, () => rng.int(V)));
    let batch!: Float32Array;
    assert.is(countCopies(m, () => { batch = m.forward({ x }).yhat; }), 1, `${cell}: one copy for 160 rows`);
    x.forEach((s, b) => {
      let alone!: Float32Array;
      assert.is(countCopies(m, () => { alone = m.forward({ x: [s] }).yhat; }), 0, `${cell}: none for 20 rows`);
      checkSame(`${cell}: sequence ${b}`, batch.subarray(b * T * V, (b + 1) * T * V), alone);
    });
    m.dispose();
  }
});

Head('a one-to-many model (the decoder\'s head): the loss of 160 rows over the copy is the sum of the sequences\' losses without it', async () => {
  const V = 37;
  const m = await createModel({ architecture: 'one-to-many', cell: 'gru', n_y: V, n_a: 10, startToken: 0, reduction: 'sum', seed: 3 });
  const rng = new Random(1);
  const y = Array.from({ length: 8 }, () => Array.from({ length: 20 }, () => rng.int(V)));
  let total = 0;
  assert.is(countCopies(m, () => { total = m.computeGradients({ x: y.map(() => 0), y }).loss; }), 1, 'one copy for 160 rows');
  let sum = 0;
  for (const s of y) sum += m.computeGradients({ x: [0], y: [s] }).loss;
  // f64 sums of the same f32 terms: a logit one ulp off would move the loss by far more
  assert.ok(Math.abs(total - sum) <= 1e-12 * Math.abs(sum), `batch ${total}, sequences ${sum}`);
  m.dispose();
});

Head('the rule for a copy: from 128 rows (a generation run: any), and none of a weight over 2²⁴ values (64 MiB)', () => {
  assert.is(copiesHead(127, 1000), false);
  assert.is(copiesHead(128, 1000), true);
  assert.is(copiesHead(Infinity, 2 ** 24), true);
  assert.is(copiesHead(Infinity, 2 ** 24 + 1), false, 'a head this large is read as it lies, not held twice');
});

Head.run();
Gen.run();

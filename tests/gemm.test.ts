// GEMM kernels: the register-blocked kernel against the naive one, and both against an f64
// JavaScript product, on odd sizes, every transpose and both write modes; and the small-M
// paths (batch 1, beams), which stream the weights without packing: every M up to 4 and the
// first packed one, each row of A the same bits alone as in a batch, and A·Bᵀ (dot products)
// the same bits in the SIMD and scalar builds; and the SIMD build rounds every multiply and
// every add (no fused multiply-add), so its bits are the same on every machine.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, getEngine, Random } from '../dist/index.js';
import { checkClose, checkSame, uniforms } from './_utils.js';

const Gemm = suite('gemm');

function reference(tA: number, tB: number, M: number, N: number, K: number, A: number[], B: number[], C0: number[], acc: number): number[] {
  const lda = tA ? M : K, ldb = tB ? K : N;
  const C = new Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = acc ? C0[i * N + j] : 0;
    for (let k = 0; k < K; k++) s += (tA ? A[k * lda + i] : A[i * lda + k]) * (tB ? B[j * ldb + k] : B[k * ldb + j]);
    C[i * N + j] = s;
  }
  return C;
}

const sizes = [1, 3, 17, 129];
for (const backend of ['simd', 'scalar'] as const) {
  Gemm(`${backend}: gemm and gemm_naive agree with an f64 product on sizes ${sizes.join(', ')}`, async () => {
    const { kernels } = await getEngine(backend);
    const arena = new Arena(kernels);
    const rng = new Random(1);
    let checked = 0;
    for (const M of sizes) for (const N of sizes) for (const K of sizes) {
      const tA = rng.int(2), tB = rng.int(2), acc = rng.int(2);
      if (M * N * K > 129 * 129 * 17 && rng.int(4) !== 0) continue;   // keep the largest few
      const A = uniforms(rng, M * K), B = uniforms(rng, K * N), C0 = uniforms(rng, M * N);
      const expected = reference(tA, tB, M, N, K, A, B, C0, acc);
      for (const kernel of ['gemm', 'gemm_naive'] as const) {
        const rA = arena.alloc(M * K, 'A'), rB = arena.alloc(K * N, 'B'), rC = arena.alloc(M * N, 'C');
        arena.f32(rA).set(A); arena.f32(rB).set(B); arena.f32(rC).set(C0);
        kernels[kernel](tA, tB, M, N, K, rA.ptr, tA ? M : K, rB.ptr, tB ? K : N, rC.ptr, N, acc);
        checkClose(`${kernel} M=${M} N=${N} K=${K} tA=${tA} tB=${tB} acc=${acc}`, arena.f32(rC), expected, 1e-4, 1);
        arena.release(rA); arena.release(rB); arena.release(rC);
        checked++;
      }
    }
    assert.ok(checked > 60, `checked ${checked} products`);
    arena.dispose();
  });
}

Gemm('row strides larger than the row: a product of sub-matrices', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(2);
  // A is the left 5 columns of a 5×9 matrix; C the top-left 5×6 of a 5×11 matrix
  const A = uniforms(rng, 5 * 9), B = uniforms(rng, 5 * 6);
  const rA = arena.alloc(45, 'A'), rB = arena.alloc(30, 'B'), rC = arena.alloc(55, 'C');
  arena.f32(rA).set(A); arena.f32(rB).set(B); arena.f32(rC).fill(7);
  kernels.gemm(0, 0, 5, 6, 5, rA.ptr, 9, rB.ptr, 6, rC.ptr, 11, 0);
  const C = arena.f32(rC);
  for (let i = 0; i < 5; i++) for (let j = 0; j < 11; j++) {
    if (j >= 6) { assert.is(C[i * 11 + j], 7, 'outside C untouched'); continue; }
    let s = 0;
    for (let k = 0; k < 5; k++) s += A[i * 9 + k] * B[k * 6 + j];
    assert.ok(Math.abs(C[i * 11 + j] - s) < 1e-5, `C[${i},${j}]`);
  }
  arena.dispose();
});

Gemm('K = 0 gives zeros, or leaves C when accumulating', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rC = arena.alloc(6, 'C');
  arena.f32(rC).fill(3);
  kernels.gemm(0, 0, 2, 3, 0, 0, 0, 0, 3, rC.ptr, 3, 1);
  assert.equal(Array.from(arena.f32(rC)), [3, 3, 3, 3, 3, 3]);
  kernels.gemm(0, 0, 2, 3, 0, 0, 0, 0, 3, rC.ptr, 3, 0);
  assert.equal(Array.from(arena.f32(rC)), [0, 0, 0, 0, 0, 0]);
  arena.dispose();
});

Gemm('small M (1 … 4, and 5): every transpose against f64; a row alone = the same row in a batch, bit for bit', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(3);
  for (const [N, K] of [[1030, 257], [7, 5], [64, 256], [3, 2]]) {
    for (let M = 1; M <= 5; M++) {
      for (const tB of [0, 1]) {
        const tA = M === 5 ? 1 : 0;
        const A = uniforms(rng, M * K), B = uniforms(rng, K * N), C0 = uniforms(rng, M * N);
        const acc = rng.int(2);
        const rA = arena.alloc(M * K, 'A'), rB = arena.alloc(K * N, 'B'), rC = arena.alloc(M * N, 'C');
        arena.f32(rA).set(A); arena.f32(rB).set(B); arena.f32(rC).set(C0);
        kernels.gemm(tA, tB, M, N, K, rA.ptr, tA ? M : K, rB.ptr, tB ? K : N, rC.ptr, N, acc);
        checkClose(`M=${M} N=${N} K=${K} tA=${tA} tB=${tB} acc=${acc}`, arena.f32(rC), reference(tA, tB, M, N, K, A, B, C0, acc), 1e-4, 1);
        const batch = arena.f32(rC).slice();
        if (!tA) {
          // each row of A alone (M = 1) gives the bits it gave inside the batch
          const r1 = arena.alloc(N, 'C row');
          for (let i = 0; i < M; i++) {
            arena.f32(r1).set(C0.slice(i * N, (i + 1) * N));
            kernels.gemm(0, tB, 1, N, K, rA.ptr + 4 * i * K, K, rB.ptr, tB ? K : N, r1.ptr, N, acc);
            checkSame(`row ${i} alone, M=${M} N=${N} K=${K} tB=${tB}`, arena.f32(r1), batch.subarray(i * N, (i + 1) * N));
          }
          arena.release(r1);
        }
        arena.release(rA); arena.release(rB); arena.release(rC);
      }
    }
  }
  arena.dispose();
});

Gemm('small M, A·Bᵀ: the SIMD and scalar builds give the same bits', async () => {
  const results = [];
  for (const backend of ['simd', 'scalar'] as const) {
    const { kernels } = await getEngine(backend);
    const arena = new Arena(kernels);
    const rng = new Random(4);
    const M = 3, N = 61, K = 130;
    const rA = arena.alloc(M * K, 'A'), rB = arena.alloc(N * K, 'B'), rC = arena.alloc(M * N, 'C');
    arena.f32(rA).set(uniforms(rng, M * K)); arena.f32(rB).set(uniforms(rng, N * K)); arena.f32(rC).set(uniforms(rng, M * N));
    kernels.gemm(0, 1, M, N, K, rA.ptr, K, rB.ptr, K, rC.ptr, N, 1);
    results.push(arena.f32(rC).slice());
    arena.dispose();
  }
  checkSame('simd vs scalar', results[0], results[1]);
});

const f = Math.fround;

/** The dot-product path in f32: four lane sums of k mod 4, (s0 + s1) + (s2 + s3), the tail. */
function emulateDot(a: Float32Array, b: Float32Array, K: number): number {
  const s = [0, 0, 0, 0];
  let k = 0;
  for (; k + 4 <= K; k += 4) for (let l = 0; l < 4; l++) s[l] = f(s[l] + f(a[k + l] * b[k + l]));
  let r = f(f(s[0] + s[1]) + f(s[2] + s[3]));
  for (; k < K; k++) r = f(r + f(a[k] * b[k]));
  return r;
}

/** The packed-tile path in f32 (K ≤ 256, one panel): Σ_k in order from 0, then + C. */
function emulateTile(a: Float32Array, lda: number, b: Float32Array, ldb: number, i: number, j: number, K: number): number {
  let c = 0;
  for (let k = 0; k < K; k++) c = f(c + f(a[i * lda + k] * b[k * ldb + j]));
  return c;
}

Gemm('SIMD build: every multiply and add rounded to f32, the same bits as an emulation (so on every machine)', async () => {
  const { kernels } = await getEngine('simd');
  const arena = new Arena(kernels);
  const rng = new Random(6);
  // A·Bᵀ by dot products (M ≤ 64): M = 3, N = 10, K = 203; accumulate onto C0
  let M = 3, N = 10, K = 203;
  let A = Float32Array.from(uniforms(rng, M * K)), B = Float32Array.from(uniforms(rng, N * K)), C0 = Float32Array.from(uniforms(rng, M * N));
  let rA = arena.alloc(M * K, 'A'), rB = arena.alloc(N * K, 'B'), rC = arena.alloc(M * N, 'C');
  arena.f32(rA).set(A); arena.f32(rB).set(B); arena.f32(rC).set(C0);
  kernels.gemm(0, 1, M, N, K, rA.ptr, K, rB.ptr, K, rC.ptr, N, 1);
  const dots = Float32Array.from({ length: M * N }, (_, e) => {
    const i = Math.floor(e / N), j = e % N;
    return f(C0[e] + emulateDot(A.subarray(i * K, (i + 1) * K), B.subarray(j * K, (j + 1) * K), K));
  });
  checkSame('A·Bᵀ, dot products', arena.f32(rC), dots);
  // A·B by packed 4 × 8 tiles (M > 4): M = 9, N = 13, K = 200
  M = 9; N = 13; K = 200;
  A = Float32Array.from(uniforms(rng, M * K)); B = Float32Array.from(uniforms(rng, K * N));
  rA = arena.alloc(M * K, 'A'); rB = arena.alloc(K * N, 'B'); rC = arena.alloc(M * N, 'C');
  arena.f32(rA).set(A); arena.f32(rB).set(B);
  kernels.gemm(0, 0, M, N, K, rA.ptr, K, rB.ptr, N, rC.ptr, N, 0);
  checkSame('A·B, tiles', arena.f32(rC), Float32Array.from({ length: M * N }, (_, e) => emulateTile(A, K, B, N, Math.floor(e / N), e % N, K)));
  arena.dispose();
});

Gemm.run();

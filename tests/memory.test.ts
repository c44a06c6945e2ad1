// Linear memory: results survive memory.grow, models do not touch each other, and
// dispose() gives memory back for reuse.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Arena, createRNN, getEngine, Random } from '../dist/index.js';
import { checkSame, randomBatch, modelConfig } from './_utils.js';

const spec = { T: 6, B: 3, n_x: 5, n_a: 24, n_y: 5, input: 'tokens', output: 'softmax' } as const;

const Memory = suite('memory');

Memory('memory.grow between calls leaves results and weights unchanged', async () => {
  const model = await createRNN({ ...modelConfig(spec), seed: 1 });
  const batch = randomBatch(new Random(1), spec);
  const before = model.forward(batch);
  const weights = model.getWeights();
  const { kernels } = await getEngine('simd');
  const bytes = kernels.memory.buffer.byteLength;
  const other = new Arena(kernels);
  other.alloc(bytes / 4 + 1024 * 1024, 'a large block');  // more than the whole memory: it must grow
  assert.ok(kernels.memory.buffer.byteLength > bytes, 'memory grew');
  const after = model.forward(batch);
  checkSame('yhat', after.yhat, before.yhat);
  checkSame('weights', model.getWeights(), weights);
  // the model's own workspace grows for a larger batch, then the small batch still agrees
  model.forward(randomBatch(new Random(2), { ...spec, T: 200, B: 40 }));
  checkSame('yhat after own growth', model.forward(batch).yhat, before.yhat);
  other.dispose();
  model.dispose();
});

Memory('training across a memory.grow equals training without one', async () => {
  const batch = randomBatch(new Random(3), spec);
  const run = async (grow: boolean) => {
    const model = await createRNN({ ...modelConfig(spec), seed: 5 });
    const arena = new Arena((await getEngine('simd')).kernels);
    for (let i = 0; i < 6; i++) {
      model.trainStep(batch, { learningRate: 0.01 });
      if (grow && i === 2) {
        const bytes = arena.memoryBytes;
        arena.alloc(bytes / 4 + 1024 * 1024, 'growth');
        assert.ok(arena.memoryBytes > bytes, 'memory grew');
      }
    }
    const w = model.getWeights();
    arena.dispose();
    model.dispose();
    return w;
  };
  checkSame('weights', await run(true), await run(false));
});

Memory('two models train independently, interleaved or not', async () => {
  const batchA = randomBatch(new Random(4), spec);
  const batchB = randomBatch(new Random(5), { ...spec, n_x: 5 });
  const alone = async (batch: typeof batchA, seed: number) => {
    const m = await createRNN({ ...modelConfig(spec), seed });
    for (let i = 0; i < 5; i++) m.trainStep(batch, { learningRate: 0.01 });
    const w = m.getWeights();
    m.dispose();
    return w;
  };
  const wA = await alone(batchA, 1), wB = await alone(batchB, 2);
  const a = await createRNN({ ...modelConfig(spec), seed: 1 });
  const b = await createRNN({ ...modelConfig(spec), seed: 2 });
  const bInitial = b.getWeights();
  for (let i = 0; i < 5; i++) a.trainStep(batchA, { learningRate: 0.01 });
  checkSame('b untouched while a trains', b.getWeights(), bInitial);
  const a2 = await createRNN({ ...modelConfig(spec), seed: 1 });
  for (let i = 0; i < 5; i++) {
    a2.trainStep(batchA, { learningRate: 0.01 });
    b.trainStep(batchB, { learningRate: 0.01 });
  }
  checkSame('a alone', a.getWeights(), wA);
  checkSame('a interleaved', a2.getWeights(), wA);
  checkSame('b interleaved', b.getWeights(), wB);
  a.dispose(); a2.dispose(); b.dispose();
});

Memory('dispose() returns the memory for reuse while the instance lives: creating and disposing many models does not grow it', async () => {
  const big = { ...spec, n_a: 256, n_x: 64, n_y: 64 };
  const batch = randomBatch(new Random(6), { ...big, T: 20, B: 8 });
  const warm = await createRNN({ ...modelConfig(big), seed: 1 });
  const pin = new Arena((await getEngine('simd')).kernels);   // another user keeps the instance alive
  warm.trainStep(batch);
  const offset = warm.weightsView().byteOffset;
  warm.dispose();
  const { kernels } = pin;
  const bytes = kernels.memory.buffer.byteLength;
  for (let i = 0; i < 30; i++) {
    const m = await createRNN({ ...modelConfig(big), seed: i });
    m.trainStep(batch);                                     // params, grads, Adam m and v, workspace
    if (i === 0) assert.is(m.weightsView().byteOffset, offset, 'the freed block is reused');
    m.dispose();
  }
  assert.is(kernels.memory.buffer.byteLength, bytes, 'memory did not grow over 30 models');
  pin.dispose();
});

Memory('a disposed model refuses use with a clear error', async () => {
  const m = await createRNN({ ...modelConfig(spec), seed: 1 });
  m.dispose();
  assert.ok(m.isDisposed);
  assert.throws(() => m.forward(randomBatch(new Random(1), spec)), /disposed/);
  assert.throws(() => m.getWeights(), /disposed/);
  m.dispose();                                              // twice is harmless
});

Memory('params reads are copies that outlive memory growth', async () => {
  const m = await createRNN({ ...modelConfig(spec), seed: 1 });
  const W = m.params.W_aa;
  const arena = new Arena((await getEngine('simd')).kernels);
  arena.alloc(arena.memoryBytes / 4 + 1024 * 1024, 'growth');
  assert.is(W.length, 24 * 24, 'still readable after growth');
  checkSame('W_aa', W, m.params.W_aa);
  arena.dispose();
  m.dispose();
});

Memory('copy_f32 (the kernels\' copy: memory.copy under 2 KB, a loop of loads and stores above) copies every size, aligned or not, and overlapping either way', async () => {
  for (const backend of ['simd', 'scalar'] as const) {
    const { kernels: k } = await getEngine(backend);
    const arena = new Arena(k);
    const room = 8192;
    const region = arena.alloc(3 * room, 'copies');
    const rng = new Random(4);
    const fill = () => { const v = arena.f32(region); for (let i = 0; i < v.length; i++) v[i] = rng.uniform(); return v.slice(); };
    for (const n of [0, 1, 3, 511, 512, 513, 1023, 1024, 1027, 2047, 2048, 5001]) {
      // dst − src in values: disjoint ahead and behind, and overlapping by less than a vector,
      // less than a 64-byte chunk and more; 4 + 1024 puts the two 4 KB apart plus 16 bytes
      for (const shift of [room, -room, 1024 + 4, 1, 3, 5, 17, -1, -3, -5, -17, -(n - 1)]) {
        if (Math.abs(shift) > room || n === 0 && shift === 0) continue;
        const src = room, dst = src + shift;
        const before = fill();
        k.copy_f32(region.ptr + 4 * dst, region.ptr + 4 * src, n);
        const expected = before.slice();
        expected.set(before.subarray(src, src + n), dst);          // memmove: the source as it was
        const got = arena.f32(region);
        let bad = -1;
        for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) { bad = i; break; }
        assert.is(bad, -1, `${backend}: ${n} values, dst − src = ${shift} values: first wrong value at ${bad - dst} from dst`);
      }
    }
    arena.dispose();
  }
});

Memory.run();

// ---

const TooBig = suite('a batch too large for memory');

TooBig('is refused with a RangeError, leaves nothing half-built, and the model works after', async () => {
  const model = await createRNN({ n_x: 3, n_a: 2048, n_y: 1, input: 'tokens', output: 'sigmoid', seed: 1 });
  const small = { x: [[0, 1, 2]], y: [[[1], [0], [1]]] };
  const before = model.forward(small).yhat;
  const weights = model.getWeights();
  // a<t> for 200 000 steps × 2048 units is 1.6 GB: more than one region may hold
  const long = { x: [new Int32Array(200_000)] };
  // the error names the function called, as every other refusal does
  assert.throws(() => model.forward(long), (e: Error) => e instanceof RangeError && /^forward: the BPTT workspace needs .* one region holds at most/.test(e.message));
  assert.throws(() => model.forward(long), RangeError);                     // and again: no stale state
  const labeled = { x: long.x, y: [Array.from({ length: 200_000 }, () => [1])] };
  for (const [name, call] of [
    ['trainStep', () => model.trainStep(labeled, { learningRate: 0.1 })],
    ['computeGradients', () => model.computeGradients(labeled)],
    ['evaluate', () => model.evaluate(labeled)],
  ] as const) {
    assert.throws(call, (e: Error) => e instanceof RangeError && new RegExp(`^${name}: the BPTT workspace needs`).test(e.message), name);
  }
  await model.fit(labeled, { epochs: 1, batchSize: 1 }).then(
    () => assert.unreachable('fit on a batch too large for memory'),
    (e: Error) => assert.ok(e instanceof RangeError && /^fit: the BPTT workspace needs/.test(e.message), e.message));
  checkSame('weights', model.getWeights(), weights);
  checkSame('forward after', model.forward(small).yhat, before);
  model.trainStep(small);
  model.dispose();
});

TooBig.run();

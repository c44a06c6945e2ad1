// The relaxed-SIMD build: chosen by 'auto' where the runtime validates it, refused with a clear
// error where it does not, and within the stated tolerance of the SIMD build — checked in a
// child process that has it (Node 20 needs --experimental-wasm-relaxed-simd; Chrome 114+ and
// Node 22+ have it). Tolerance: every GEMM result, forward output and gradient within 1e-5 of
// the SIMD build's, relative to the tensor's largest value; training losses within 1e-6
// relative over five Adam steps. (Measured: about 5e-7 and 1e-8 on an AMD EPYC with FMA.)
import { execFileSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, getEngine, loadModel, loadRNN, relaxedSimdSupported } from '../dist/index.js';
import { rejectsWith, wasmFlags } from './_utils.js';

const Relaxed = suite('relaxed-SIMD build');

Relaxed('where the runtime validates it: auto picks it, and it stays within 1e-5 of the SIMD build', () => {
  const flags = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
  const out = execFileSync(process.execPath, [...wasmFlags, ...flags, 'tests/_relaxed_child.mjs'], { encoding: 'utf8' });
  const r = JSON.parse(out);
  assert.ok(r.supported, 'the child validates relaxed SIMD');
  assert.is(r.auto, 'relaxed', "'auto' picks the relaxed build");
  for (const key of ['gemm', 'forward', 'grads', 'step']) assert.ok(r[key] <= 1e-5, `${key}: ${r[key]} > 1e-5`);
  assert.ok(r.loss <= 1e-6, `loss: ${r.loss} > 1e-6`);
  assert.is(r.packed, 0, 'relaxed: products over the copy in groups of four rows have the bits of those over W');
  assert.is(r.rows, 0, 'relaxed: a sequence in a batch has the bits it has alone (n_a 22; attention)');
});

Relaxed('where it is missing: auto is the SIMD build, and asking for it names what is needed', async () => {
  if (relaxedSimdSupported()) {
    assert.is((await getEngine('auto')).backend, 'relaxed');
    return;
  }
  assert.is((await getEngine('auto')).backend, 'simd');
  await rejectsWith(getEngine('relaxed'), Error, /backend 'relaxed' was requested but this runtime does not support WebAssembly relaxed SIMD \(Chrome 114\+, Node 22\+, or Node 20 with --experimental-wasm-relaxed-simd\)/);
  // the functions a user calls name themselves
  const missing = / backend 'relaxed' was requested but this runtime does not support WebAssembly relaxed SIMD \(/.source;
  await rejectsWith(createRNN({ n_x: 2, n_a: 2, n_y: 2, backend: 'relaxed' }), Error, new RegExp(`^createRNN:${missing}`));
  await rejectsWith(createModel({ architecture: 'many-to-one', n_x: 2, n_a: 2, n_y: 2, backend: 'relaxed' }), Error, new RegExp(`^createModel:${missing}`));
  const made = await createRNN({ n_x: 2, n_a: 2, n_y: 2 });
  const file = made.save();
  made.dispose();
  await rejectsWith(loadModel(file, { backend: 'relaxed' }), Error, new RegExp(`^loadModel:${missing}`));
  await rejectsWith(loadRNN(file, { backend: 'relaxed' }), Error, new RegExp(`^loadRNN:${missing}`));
});

Relaxed('a model reports the build it runs on; a forced build is kept', async () => {
  const m = await createRNN({ n_x: 2, n_a: 2, n_y: 2, backend: 'simd' });
  assert.is(m.backend, 'simd');
  m.dispose();
});

Relaxed.run();

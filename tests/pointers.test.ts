// Pointers past 2 GiB: the module returns addresses as i32, negative beyond 2^31; the wrapper
// reads them back unsigned. A child process fills WebAssembly memory past 2 GiB (so the memory
// is released when it exits), then creates, trains, saves and loads a model up there and
// checks every result against the same model made in low memory. The child starts as the
// test files load and runs beside the suites that come before this one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const child = `
  const lib = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
  const config = { cell: 'lstm', n_x: 5, n_a: 8, n_y: 5, input: 'tokens', layers: 2, seed: 1 };
  const batch = { x: [[0, 1, 2, 3], [4, 3]], y: [[1, 2, 3, 4], [3, 2]] };
  const run = async (m) => {
    for (let i = 0; i < 3; i++) m.trainStep(batch, { optimizer: 'adam', learningRate: 0.05 });
    return { weights: Array.from(m.getWeights()), yhat: Array.from(m.forward(batch).yhat), sample: m.sample({ length: 5, temperature: 0 }) };
  };
  const low = await lib.createRNN(config);
  const expected = await run(low);
  const file = low.save();
  low.dispose();
  // two blocks of just under 1 GiB and a little more: everything after lies past 2^31
  const { kernels } = await lib.getEngine('auto');
  const filler = new lib.Arena(kernels);
  const block = Math.floor((2 ** 30 - 2 ** 16) / 4);
  filler.alloc(block, 'filler'); filler.alloc(block, 'filler'); filler.alloc(2 ** 20, 'filler');
  const regions = lib.Arena.liveRegions;
  const high = await lib.createRNN(config);
  const got = await run(high);
  const loaded = await lib.loadRNN(file);
  const out = {
    memory: kernels.memory.buffer.byteLength, offset: high.weightsView().byteOffset, loadedOffset: loaded.weightsView().byteOffset,
    same: JSON.stringify(got) === JSON.stringify(expected),
    loadedSame: [...lib.decodeSafetensors(file).tensors].every(([name, t]) => loaded.getParam(name).every((v, i) => Object.is(v, t.data[i]))),
  };
  high.dispose(); loaded.dispose();
  out.freed = lib.Arena.liveRegions === regions;
  console.log(JSON.stringify(out));
`;

// started when the test files load, so that it runs beside the suites before this one
const finished = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
  const p = spawn(process.execPath, ['--input-type=module', '-e', child], { timeout: 120_000 });
  let stdout = '', stderr = '';
  p.stdout.on('data', (d) => { stdout += d; });
  p.stderr.on('data', (d) => { stderr += d; });
  p.on('close', (status) => resolve({ status, stdout, stderr }));
});

test('a model whose regions lie past 2 GiB trains, samples, loads and frees like one in low memory', async () => {
  const r = await finished;
  assert.is(r.status, 0, `the child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(out.memory > 2 ** 31, `memory ${out.memory}`);
  assert.ok(out.offset > 2 ** 31 && out.loadedOffset > 2 ** 31, `regions at ${out.offset} and ${out.loadedOffset}`);
  assert.ok(out.same, 'training, forward and sampling as in low memory');
  assert.ok(out.loadedSame, 'a file loaded up there holds its weights');
  assert.ok(out.freed, 'dispose frees every region');
});

test.run();

// Memory that comes back: the last model disposed on an engine drops its WebAssembly instance,
// so the process gets the memory back (even while the disposed model is still referenced), and
// the next model makes a new instance; getMemoryStats() reports what is reserved and what each
// model uses.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createModel, createRNN, getMemoryStats, Random, relaxedSimdSupported, simdSupported } from '../dist/index.js';
import { randomBatch } from './_utils.js';

const Release = suite('memory comes back after dispose()');

Release('a 160 MB model: external memory falls back after dispose() and a collection; the instance count goes to 0, then 1', () => {
  // a fresh process, so that no other test's model keeps the instance alive; --expose-gc to collect
  const run = spawnSync(process.execPath, ['--expose-gc', join(__dirname, '_memory_release_child.mjs')], { encoding: 'utf8', timeout: 60_000 });
  assert.is(run.status, 0, run.stderr);
  const r = JSON.parse(run.stdout);
  assert.ok(r.modelBytes > 150, `the model's regions: ${r.modelBytes} MB`);
  // external memory where it counts WebAssembly memory (up to Node 24), else the resident set
  const m = r.inUse - r.before > 150 ? r : r.rss, what = m === r ? 'external memory' : 'resident set';
  assert.ok(m.inUse - m.before > 150, `${what} while the model lives: ${m.before} → ${m.inUse} MB`);
  assert.equal(r.stats.instances, 1);
  assert.ok(r.stats.reserved >= r.stats.used && r.stats.used === r.modelBytes, `reserved ${r.stats.reserved} MB ≥ used ${r.stats.used} MB`);
  assert.equal(r.afterDispose, { instances: 0, models: 0, used: 0 });
  // external memory falls back to where it was; the resident set also keeps what the JS heap grew,
  // so there it is what comes back: nearly all of the model's regions
  if (m === r) assert.ok(m.released - m.before < 10, `${what} after dispose(): ${m.released} MB (before the model: ${m.before} MB)`);
  else assert.ok(m.inUse - m.released > 0.85 * r.modelBytes, `${what} after dispose(): ${m.inUse} → ${m.released} MB (the model's regions: ${r.modelBytes} MB)`);
  assert.ok(r.stillHeld, 'the disposed model was still referenced when the memory came back');
  assert.match(r.detached, /this engine was released when the last model on it was disposed/);
  assert.ok(Number.isFinite(r.nextLoss) && r.nextLoss > 0, 'the next model trains on a new instance');
  assert.equal(r.again, { instances: 1, models: 1 });
  assert.ok(Number.isFinite(r.raced) && r.raced > 0, 'a model created while the last one was disposed works');
});

Release.run();

// ---

const Stats = suite('getMemoryStats(): bytes per model');

Stats('each live model is listed with its bytes; training adds optimizer moments and workspaces; dispose() removes it', async () => {
  const a = await createRNN({ cell: 'gru', n_x: 6, n_a: 16, n_y: 6, input: 'tokens', seed: 1 });
  const b = await createModel({ architecture: 'many-to-one', n_x: 3, n_a: 8, n_y: 2, seed: 2 });
  const mine = () => getMemoryStats().models.filter((m) => m.owner === 'RNN' || m.owner === 'ManyToOne');
  const params = a.numParams * 4;
  assert.is(a.memoryBytes, 2 * params, 'parameters and gradients');
  const entry = mine().find((m) => m.owner === 'RNN' && m.bytes === a.memoryBytes);
  assert.ok(entry, JSON.stringify(mine()));
  // the build 'auto' picked here: relaxed where it validates (Node 22+), else SIMD
  assert.is(entry!.backend, relaxedSimdSupported() ? 'relaxed' : simdSupported() ? 'simd' : 'scalar');
  a.trainStep(randomBatch(new Random(1), { T: 5, B: 2, n_x: 6, n_y: 6, input: 'tokens', output: 'softmax' }));
  assert.ok(a.memoryBytes >= 4 * params, `+ Adam's m and v: ${a.memoryBytes} ≥ ${4 * params}`);
  const stats = getMemoryStats();
  assert.ok(stats.instances >= 1 && stats.reservedBytes >= stats.usedBytes, JSON.stringify(stats));
  assert.is(stats.usedBytes, stats.models.reduce((s, m) => s + m.bytes, 0));
  const count = mine().length;
  a.dispose();
  assert.is(a.memoryBytes, 0);
  assert.is(mine().length, count - 1);
  b.dispose();
});

Stats.run();

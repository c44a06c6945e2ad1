// rnn-wasm/node: atomic writes (temp file in the same directory, fsync, rename) and the
// checkpoint and model files built on them. A process killed mid-write leaves the old file
// or the new one, never a torn one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRNN, loadRNN, Random } from '../dist/index.js';
import { loadCheckpoint, saveCheckpoint, saveModel, writeFileAtomic } from '../dist/node.js';
import { checkSame } from './_utils.js';

const Files = suite('rnn-wasm/node');

const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-node-'));

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.match(String((e as Error).message), pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

Files('writeFileAtomic writes and replaces a file, leaving no temporary file behind', async () => {
  const path = join(dir, 'a.bin');
  await writeFileAtomic(path, Uint8Array.of(1, 2, 3));
  await writeFileAtomic(path, Uint8Array.of(4, 5));
  assert.equal([...readFileSync(path)], [4, 5]);
  assert.equal(readdirSync(dir), ['a.bin']);
});

Files('a failed write removes its temporary file and leaves the old file as it was', async () => {
  const target = join(dir, 'is-a-directory');
  mkdirSync(target);
  writeFileSync(join(target, 'inside'), 'x');
  try {
    await writeFileAtomic(target, Uint8Array.of(1));
    assert.unreachable('renamed over a directory');
  } catch (e) {
    assert.match((e as NodeJS.ErrnoException).code ?? '', /EISDIR|ENOTEMPTY|EEXIST|EPERM/);
  }
  assert.equal(readdirSync(dir).sort(), ['a.bin', 'is-a-directory']);
  await rejects(writeFileAtomic(join(dir, 'missing', 'x.bin'), Uint8Array.of(1)), /ENOENT/);
  await rejects(writeFileAtomic('', Uint8Array.of(1)), /writeFileAtomic: path must be a non-empty string, got string/);
  await rejects(writeFileAtomic(join(dir, 'b.bin'), [1, 2] as any), /writeFileAtomic: bytes must be a Uint8Array, got object/);
  assert.equal(readdirSync(dir).sort(), ['a.bin', 'is-a-directory']);
});

Files('saveCheckpoint / loadCheckpoint and saveModel round-trip through files', async () => {
  const m = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 1 });
  const batch = { x: [[0, 1, 2, 3]], y: [[1, 2, 3, 0]] };
  m.trainStep(batch, { optimizer: 'adam' });
  await saveCheckpoint(m, join(dir, 'ckpt.safetensors'));
  await saveModel(m, join(dir, 'model.safetensors'));
  const copy = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 2 });
  await loadCheckpoint(copy, join(dir, 'ckpt.safetensors'));
  m.trainStep(batch);
  copy.trainStep(batch);
  checkSame('weights after one more step', copy.getWeights(), m.getWeights());
  const loaded = await loadRNN(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  assert.is(loaded.numParams, m.numParams);
  m.dispose(); copy.dispose(); loaded.dispose();
});

/** Kill a child that writes large checkpoints A and B in turn to one path, `rounds` times at
 *  random moments; count the times the file left behind is not a whole checkpoint. */
async function killWriter(path: string, atomic: boolean, rounds: number): Promise<number> {
  const child = `
    import { writeFileSync } from 'node:fs';
    const { createRNN } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
    const { writeFileAtomic } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'node.js'))});
    const write = ${atomic} ? writeFileAtomic : async (path, bytes) => writeFileSync(path, bytes);
    const m = await createRNN({ n_x: 8, n_a: 700, n_y: 8, seed: 1 });
    const a = m.getTrainingState();
    m.setWeights(m.getWeights().map((w) => w + 1));
    const b = m.getTrainingState();
    await write(${JSON.stringify(path)}, a);
    process.stdout.write('ready\\n');
    for (let i = 0; ; i++) await write(${JSON.stringify(path)}, i % 2 ? a : b);
  `;
  const rng = new Random(1);
  let torn = 0;
  for (let round = 0; round < rounds; round++) {
    const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 20 + rng.int(80)));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    const m = await createRNN({ n_x: 8, n_a: 700, n_y: 8, seed: 2 });
    try {
      m.setTrainingState(new Uint8Array(readFileSync(path)));     // a whole, valid checkpoint: A or B
    } catch {
      torn++;
    }
    m.dispose();
  }
  return torn;
}

Files('a writer killed mid-write never leaves a torn checkpoint (a plain writeFile does)', async () => {
  assert.is(await killWriter(join(dir, 'atomic.safetensors'), true, 4), 0, 'atomic writes');
  // the control: the same harness catches the torn files of a plain, non-atomic write
  assert.ok(await killWriter(join(dir, 'plain.safetensors'), false, 3) > 0, 'plain writes tear');
  // what a kill leaves beside the file: only temporary files, named as such
  for (const f of readdirSync(dir)) assert.ok(!f.startsWith('.atomic') || f.endsWith('.tmp'), f);
});

Files.run();

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

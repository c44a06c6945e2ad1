// rnn-wasm/node: atomic writes (temp file in the same directory, fsync, rename) and the
// checkpoint and model files built on them. A process killed mid-write leaves the old file
// or the new one, never a torn one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharTokenizer, createModel, createRNN, loadRNN, Random } from '../dist/index.js';
import {
  loadCheckpoint, loadKerasModelFile, loadModelFile, loadONNXFile, readLines, readText, readTokenWindows, readWords, saveCheckpoint, saveModel, saveONNX,
  textBatches, writeFileAtomic,
} from '../dist/node.js';
import { checkSame, rejectsWith } from './_utils.js';

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
  await fileError(writeFileAtomic(target, Uint8Array.of(1)), `writeFileAtomic: cannot write ${target}: it is a directory`, 'EISDIR');
  assert.equal(readdirSync(dir).sort(), ['a.bin', 'is-a-directory']);
  assert.equal(readdirSync(target), ['inside']);
  const missing = join(dir, 'missing');
  await fileError(writeFileAtomic(join(missing, 'x.bin'), Uint8Array.of(1)), `writeFileAtomic: cannot write ${join(missing, 'x.bin')}: the folder ${missing} does not exist`, 'ENOENT');
  await fileError(writeFileAtomic(join(dir, 'a.bin', 'x.bin'), Uint8Array.of(1)), `writeFileAtomic: cannot write ${join(dir, 'a.bin', 'x.bin')}: ${join(dir, 'a.bin')} is not a folder`, 'ENOTDIR');
  await rejects(writeFileAtomic('', Uint8Array.of(1)), /writeFileAtomic: path must be a non-empty string, got string/);
  await rejects(writeFileAtomic(join(dir, 'b.bin'), [1, 2] as any), /writeFileAtomic: bytes must be a Uint8Array, got object/);
  assert.equal(readdirSync(dir).sort(), ['a.bin', 'is-a-directory']);
});

/** Assert a file helper's promise rejects with an Error whose message is `message` (or starts
 *  with it, when it ends in '…'), whose code is `code`, and whose cause (when the system
 *  reported the problem) is the system's error with that code. */
async function fileError(p: Promise<unknown>, message: string, code: string): Promise<Error> {
  try {
    await p;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (message.endsWith('…')) assert.ok(err.message.startsWith(message.slice(0, -1)), err.message);
    else assert.is(err.message, message);
    assert.is(err.code, code);
    if (err.cause !== undefined) assert.is((err.cause as NodeJS.ErrnoException).code, code);
    return err;
  }
  assert.unreachable(`expected a rejection: ${message}`);
  throw new Error('unreachable');
}

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
  // loadModelFile: loadModel from a path, its options checked and passed on
  const file = await loadModelFile(join(dir, 'model.safetensors'), { backend: 'scalar' });
  assert.is(file.backend, 'scalar');
  checkSame('loadModelFile', file.getWeights(), loaded.getWeights());
  await rejectsWith(loadModelFile(join(dir, 'model.safetensors'), { architecture: 'many-to-one' }), TypeError, /^loadModelFile: .*many-to-one/);
  await rejectsWith(loadModelFile(join(dir, 'model.safetensors'), { seed: 1 } as never), TypeError, /^loadModelFile: options has no field "seed"/);
  m.dispose(); copy.dispose(); loaded.dispose(); file.dispose();
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

// ---

const Errors = suite('rnn-wasm/node: errors name the function and the path');

Errors('a file that cannot be read: "<function>: cannot read <path>: <reason>", the code and the cause kept', async () => {
  const m = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 1 });
  const nope = join(dir, 'nope.ckpt');
  const e = await fileError(loadCheckpoint(m, nope), `loadCheckpoint: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  assert.instance(e.cause, Error);
  await fileError(loadONNXFile(nope), `loadONNXFile: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(loadModelFile(nope), `loadModelFile: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(loadKerasModelFile(nope), `loadKerasModelFile: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(loadCheckpoint(m, dir), `loadCheckpoint: cannot read ${dir}: EISDIR: …`, 'EISDIR');
  m.dispose();
});

Errors('text files are read lazily: a missing file is named by the function when it is first read', async () => {
  const chars = CharTokenizer.fromText('abcd', { bos: false, eos: false });
  const nope = join(dir, 'nope.txt');
  const first = (it: AsyncIterable<unknown>) => it[Symbol.asyncIterator]().next();
  const lines = readLines(nope);                            // no error yet: nothing is read
  await fileError(first(lines), `readLines: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(first(readText(nope)), `readText: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(first(readWords(nope)), `readWords: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(first(readTokenWindows(nope, chars, { length: 4 })), `readTokenWindows: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  await fileError(first(readLines(dir)), `readLines: cannot read ${dir}: EISDIR: …`, 'EISDIR');
  // through fit: the stream's error, and the model as it was
  const m = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 1 });
  const weights = m.getWeights();
  await fileError(m.fit(textBatches(nope, chars, { T: 4, batchSize: 2 })), `textBatches: cannot read ${nope}: ENOENT: …`, 'ENOENT');
  checkSame('weights', m.getWeights(), weights);
  // the file written later is read by the same iterable
  writeFileSync(nope, 'ab\ncd');
  const read: string[] = [];
  for await (const line of lines) read.push(line);
  assert.equal(read, ['ab', 'cd']);
  m.dispose();
});

Errors('a directory or a missing folder as a save target is refused before anything is written', async () => {
  const m = await createRNN({ n_x: 4, n_a: 6, n_y: 4, input: 'tokens', seed: 1 });
  const target = mkdtempSync(join(dir, 'target-'));
  const before = readdirSync(dir).sort();
  await fileError(saveModel(m, target), `saveModel: cannot write ${target}: it is a directory`, 'EISDIR');
  await fileError(saveCheckpoint(m, target), `saveCheckpoint: cannot write ${target}: it is a directory`, 'EISDIR');
  await fileError(saveONNX(m, target), `saveONNX: cannot write ${target}: it is a directory`, 'EISDIR');
  const missing = join(dir, 'no-such-folder', 'm.safetensors');
  await fileError(saveModel(m, missing), `saveModel: cannot write ${missing}: the folder ${join(dir, 'no-such-folder')} does not exist`, 'ENOENT');
  assert.equal(readdirSync(dir).sort(), before, 'nothing written beside the targets');
  assert.equal(readdirSync(target), [], 'nothing written inside the directory');
  // '.' is a directory too (the report that started this: EBUSY from a rename onto '.')
  await fileError(saveModel(m, '.'), 'saveModel: cannot write .: it is a directory', 'EISDIR');
  m.dispose();
  await rejectsWith(saveModel(m, join(dir, 'disposed.safetensors')), TypeError, /^saveModel: this model was disposed; its memory has been returned$/);
  await rejectsWith(saveCheckpoint(m, join(dir, 'disposed.ckpt')), TypeError, /^saveCheckpoint: this model was disposed/);
  await rejectsWith(loadCheckpoint(m, join(dir, 'disposed.ckpt')), TypeError, /^loadCheckpoint: this model was disposed/);
  assert.equal(readdirSync(dir).sort(), before);
});

Errors('loadCheckpoint into a model of another configuration names loadCheckpoint and the first difference, and changes nothing', async () => {
  const path = join(dir, 'small.ckpt');
  const small = await createRNN({ n_x: 5, n_a: 6, n_y: 5, input: 'tokens', seed: 1 });
  small.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 3]] }, { optimizer: 'adam' });
  await saveCheckpoint(small, path);
  const check = async (model: { getWeights(): Float32Array; getTrainingState(): Uint8Array }, difference: string) => {
    const weights = model.getWeights(), state = model.getTrainingState();
    await rejectsWith(loadCheckpoint(model as any, path), RangeError,
      new RegExp(`^loadCheckpoint: the checkpoint was saved from a model with another configuration: ${difference}`));
    checkSame('weights', model.getWeights(), weights);
    assert.equal([...model.getTrainingState()], [...state], 'the training state is unchanged');
  };
  const wider = await createRNN({ n_x: 5, n_a: 8, n_y: 5, input: 'tokens', seed: 1 });
  await check(wider, 'n_a is 6 in the checkpoint, 8 in this model');
  wider.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 3]] }, { optimizer: 'sgd' });      // a model with its own optimizer state
  await check(wider, 'n_a is 6 in the checkpoint, 8 in this model');
  const lstm = await createRNN({ n_x: 5, n_a: 6, n_y: 5, input: 'tokens', cell: 'lstm', seed: 1 });
  await check(lstm, 'cell is "rnn" in the checkpoint, "lstm" in this model');
  const ed = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 5, n_a: 6, seed: 1 });
  await saveCheckpoint(ed, path);
  const ed2 = await createModel({ architecture: 'encoder-decoder', input: 'tokens', n_x: 5, n_y: 5, n_a: 6, decoder: { n_a: 8 }, bridge: 'linear', seed: 1 });
  await check(ed2, 'decoder.n_a is 6 in the checkpoint, 8 in this model');
  // other problems with the file name loadCheckpoint too
  await saveModel(small, path);
  await rejectsWith(loadCheckpoint(small, path), TypeError, /^loadCheckpoint: the file has no training state/);
  writeFileSync(path, 'not a checkpoint');
  await rejectsWith(loadCheckpoint(small, path), Error, /^loadCheckpoint: /);
  for (const model of [small, wider, lstm, ed, ed2]) model.dispose();
});

Errors.run();

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

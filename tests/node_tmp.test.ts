// rnn-wasm/node: a writer killed mid-write leaves its temporary file beside the target; the
// next save to that target deletes it — only temporary files of that target, named as the
// writer names them, whose writer is gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRNN, Random } from '../dist/index.js';
import { saveCheckpoint, saveModel } from '../dist/node.js';

const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-tmp-'));
const tmp = (target: string, pid: number, hex = 'a1b2c3d4e5f6') => `.${target}.${pid}.${hex}.tmp`;

test('the next save deletes a dead writer\'s temporary files of its target, and nothing else', async () => {
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;          // a process that has ended
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  const keep = [
    tmp('model.safetensors', live.pid!),              // another live process is writing it
    tmp('other.safetensors', dead),                   // another target's
    '.model.safetensors.tmp', `.model.safetensors.${dead}.xyz.tmp`, 'model.safetensors.bak',   // not named as ours
  ];
  const stale = [tmp('model.safetensors', dead), tmp('model.safetensors', dead, '00ff00ff00ff'), tmp('model.safetensors', process.pid)];
  for (const f of [...keep, ...stale]) writeFileSync(join(dir, f), 'x');
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 2, seed: 1 });
  await saveModel(m, join(dir, 'model.safetensors'));
  assert.equal(readdirSync(dir).sort(), [...keep, 'model.safetensors'].sort());
  live.kill('SIGKILL');
  m.dispose();
});

test('after writers killed mid-checkpoint, one save leaves no temporary file', async () => {
  const path = join(dir, 'run.ckpt');
  const child = `
    const { createRNN } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
    const { saveCheckpoint } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'node.js'))});
    const m = await createRNN({ n_x: 8, n_a: 400, n_y: 8, seed: 1 });
    process.stdout.write('ready\\n');
    for (;;) await saveCheckpoint(m, ${JSON.stringify(path)});
  `;
  const rng = new Random(3);
  let left = 0;
  for (let round = 0; round < 4; round++) {
    const p = spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 10 + rng.int(60)));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    left = Math.max(left, readdirSync(dir).filter((f) => f.startsWith('.run.ckpt.')).length);
  }
  const m = await createRNN({ n_x: 8, n_a: 400, n_y: 8, seed: 2 });
  await saveCheckpoint(m, path);
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('.run.ckpt.')), [], `left behind before the save: up to ${left}`);
  m.dispose();
});

test.run();

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// PyTorch as a contender in the benchmarks, when a Python with torch is present: finds one
// (TORCH_PYTHON, python3, /usr/bin/python3), and runs torch_w1.py on the W1 workload from an
// rnn-wasm model's own weights and batch, so that its first loss validates it. Skipped, with a
// line saying so, when no torch is found.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = new URL('./torch_w1.py', import.meta.url).pathname;

/** A Python that imports torch, and torch's version; undefined when there is none. */
export function findTorch() {
  const candidates = [process.env.TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
  for (const python of candidates) {
    try {
      const version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return { python, version };
    } catch { /* not this one */ }
  }
  return undefined;
}

/** Train `steps` (after `warmup`) Adam steps on one batch, from `model`'s weights, on `threads`
 *  threads. Returns { first_loss, losses, ms } (ms per step). */
export function runTorch(torch, model, batch, { threads, warmup, steps, lr }) {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-torch-'));
  try {
    const c = model.config;
    const layout = model.layout.entries.map((e) => ({ name: e.name, shape: e.shape, offset: e.offset }));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({
      cell: c.cell, n_x: c.n_x, n_a: c.n_a, n_y: c.n_y, T: batch.x[0].length, B: batch.x.length, lr, threads, warmup, steps, layout,
    }));
    writeFileSync(join(dir, 'weights.f32'), model.getWeights());
    writeFileSync(join(dir, 'x.i32'), Int32Array.from(batch.x.flat()));
    writeFileSync(join(dir, 'y.i32'), Int32Array.from(batch.y.flat()));
    return JSON.parse(execFileSync(torch.python, [SCRIPT, dir], { encoding: 'utf8', maxBuffer: 1 << 24 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// PyTorch as a benchmark contender: a long-lived python3 process running bench/torch_bench.py
// (one JSON request per line each way), so its rounds interleave with the other contenders'.
// Reusable by any benchmark here: start one process per thread count, hand it a rnn-wasm
// model's weights (weightsFor), set up a workload, validate, then time it.
//
//   const torch = await Torch.start(1);            // null when torch is absent: skip, say why
//   const check = await torch.request({ op: 'train', id: 'lstm128', ...weightsFor(model, dir), ... });
//   const { ms } = await torch.request({ op: 'time', id: 'lstm128', samples: 5, reps: 3 });
//   torch.close();
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The interpreter with torch: Debian's python3-torch. TORCH_PYTHON overrides it. */
export const PYTHON = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const SCRIPT = new URL('./torch_bench.py', import.meta.url).pathname;

/** Why PyTorch cannot run here, or undefined when it can. */
export function torchMissing() {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (e) {
    const detail = String(e.stderr ?? e.message).trim().split('\n').at(-1);
    return `${PYTHON} cannot import torch and numpy (${detail}); install Debian's python3-torch with libopenblas0-openmp`;
  }
}

/** A folder for weight files, removed by the returned function. */
export function scratchDir() {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-torch-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A rnn-wasm model's weights as torch_bench.py reads them: a raw f32 file in layout order,
 *  with each tensor's name and shape. */
export function weightsFor(model, dir) {
  const path = join(dir, `weights-${Math.random().toString(36).slice(2)}.f32`);
  const w = model.getWeights();
  writeFileSync(path, Buffer.from(w.buffer, w.byteOffset, w.byteLength));
  return { weights: path, names: model.layout.entries.map((e) => e.name), shapes: model.layout.entries.map((e) => [...e.shape]) };
}

export class Torch {
  /** A python process with torch on `threads` threads, or null when torch is absent. */
  static async start(threads) {
    if (torchMissing()) return null;
    const t = new Torch(threads);
    t.info = await t.request({ op: 'info' });
    return t;
  }

  constructor(threads) {
    this.threads = threads;
    this.child = spawn(PYTHON, [SCRIPT, String(threads)], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    });
    this.waiting = [];
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Send one request; resolves with the response, rejects with torch's error. */
  async request(req) {
    const line = new Promise((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(JSON.stringify(req) + '\n');
    const raw = await Promise.race([line, this.exited.then((code) => { throw new Error(`torch_bench.py exited (code ${code})`); })]);
    const out = JSON.parse(raw);
    if (!out.ok) throw new Error(`PyTorch: ${out.error}`);
    return out;
  }

  close() {
    this.child.stdin.end(JSON.stringify({ op: 'close' }) + '\n');
  }
}

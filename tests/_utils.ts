// Test helpers: closeness checks that report the worst element, and seeded data.
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, createRNN, decodeSafetensors, Random, relaxedSimdSupported, type FitOptions, type ModelConfig, type Network, type RNNConfig, type WorkerPool } from '../dist/index.js';

/** Largest |a − b| / max(|b|, floor) over all elements, and where it happens. */
export function worst(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number) {
  let err = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(e <= err)) { err = e; at = i; }
  }
  return { err, at };
}

/** Assert every element is within rtol relative to max(|expected|, floor). */
export function checkClose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, floor = 1e-6): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  const { err, at } = worst(actual, expected, floor);
  assert.ok(err <= rtol, `${label}: worst relative error ${err.toExponential(2)} > ${rtol} at [${at}]: got ${actual[at]}, expected ${expected[at]}`);
}

/** |a − e| ≤ atol + rtol·|e| everywhere (PyTorch's allclose), against PyTorch's values. */
export function allclose(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= atol + rtol * Math.abs(expected[i]))) {
      assert.unreachable(`${label}[${i}]: got ${actual[i]}, PyTorch ${expected[i]} (|diff| ${d.toExponential(2)})`);
    }
  }
}

/** The build backend 'auto' picks in this runtime: relaxed SIMD where it validates, else SIMD. */
export function autoBuild(): 'relaxed' | 'simd' {
  return relaxedSimdSupported() ? 'relaxed' : 'simd';
}

/** The WebAssembly flags this process runs with (`node --experimental-wasm-relaxed-simd
 *  scripts/test.mjs`), for a child process that should pick the same build. */
export const wasmFlags: string[] = process.execArgv.filter((a) => a.startsWith('--experimental-wasm-'));

/** Assert two arrays are identical bit for bit. */
export function checkSame(label: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  assert.is(a.length, b.length, `${label}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${label}: differs at [${i}]: ${a[i]} vs ${b[i]}`);
  }
}

export const flat = (x: number[][][]): number[] => x.flat(2);

/** Random f32-representable numbers in [−s, s). */
export function uniforms(rng: Random, n: number, s = 1): number[] {
  return Array.from({ length: n }, () => Math.fround((2 * rng.uniform() - 1) * s));
}

export interface DataSpec {
  T: number; B: number; n_x: number; n_y: number;
  input: 'tokens' | 'dense';
  output: 'softmax' | 'sigmoid' | 'linear';
}

/** A random batch: x and y as B sequences of T steps (rows for vectors). */
export function randomBatch(rng: Random, s: DataSpec) {
  const x = Array.from({ length: s.B }, () => Array.from({ length: s.T }, () =>
    s.input === 'tokens' ? rng.int(s.n_x) : uniforms(rng, s.n_x, 1.5)));
  const y = Array.from({ length: s.B }, () => Array.from({ length: s.T }, () =>
    s.output === 'softmax' ? rng.int(s.n_y)
      : s.output === 'sigmoid' ? Array.from({ length: s.n_y }, () => Math.fround(rng.uniform()))
        : uniforms(rng, s.n_y, 2)));
  return { x, y } as { x: any[]; y: any[] };
}

/** A model's parameters as f64 arrays by canonical name, for the references. */
export function refParams(model: Pick<Network, 'layout' | 'getParam'>): Record<string, Float64Array> {
  const p: Record<string, Float64Array> = {};
  for (const e of model.layout.entries) p[e.name] = Float64Array.from(model.getParam(e.name));
  return p;
}

/** Assert fn throws an error of `type` whose message matches `pattern`. */
export function throwsWith(fn: () => unknown, type: ErrorConstructor, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, type, `expected a ${type.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${type.name} matching ${pattern}`);
}

/** Assert the promise rejects with an error of `type` whose message matches `pattern`. */
export async function rejectsWith(p: Promise<unknown>, type: ErrorConstructor, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, type, `expected a ${type.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${type.name} matching ${pattern}`);
}

/** Echo task: y<t> = x<t−D> over V tokens; the first D steps have no target (−1). */
export function echo(rng: Random, n: number, T = 16, V = 8, D = 3) {
  const x: number[][] = [], y: number[][] = [];
  for (let i = 0; i < n; i++) {
    const s = Array.from({ length: T }, () => rng.int(V));
    x.push(s);
    y.push(s.map((_, t) => (t >= D ? s[t - D] : -1)));
  }
  return { x, y };
}

/** The gradient check's measure: max relative error < 1e-3, entries below 1 % of the tensor's
 *  largest measured against that 1 % (an f32 gradient cannot be relatively exact near zero). */
export function checkGradient(label: string, got: ArrayLike<number>, expected: ArrayLike<number>): void {
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-6);
  const { err, at } = worst(got, expected, 1e-2 * scale);
  assert.ok(err < 1e-3, `${label}: relative error ${err.toExponential(2)} at [${at}] (got ${got[at]}, finite differences ${expected[at]})`);
}

/** One random target: a class id (softmax) or a vector of n_y values. */
export function randomTarget(rng: Random, output: 'softmax' | 'sigmoid' | 'linear', n_y: number): number | number[] {
  if (output === 'softmax') return rng.int(n_y);
  if (output === 'sigmoid') return Array.from({ length: n_y }, () => Math.fround(rng.uniform()));
  return uniforms(rng, n_y, 1.5);
}

/** One random input step: a token id or a vector of n_x values. */
export function randomStep(rng: Random, input: 'tokens' | 'dense', n_x: number): number | number[] {
  return input === 'tokens' ? rng.int(n_x) : uniforms(rng, n_x, 1.5);
}

/** A test's data spec as a model config: without the fields that describe the data (T, B,
 *  lengths, withA0), which a model's config does not take. */
export function modelConfig<S extends object>(spec: S): Omit<S, 'T' | 'B' | 'lengths' | 'withA0'> {
  const { T: _T, B: _B, lengths: _l, withA0: _w, ...config } = spec as S & { T?: unknown; B?: unknown; lengths?: unknown; withA0?: unknown };
  return config;
}

/** Count every kernel call a model makes while fn runs (through the model's own kernels). */
export function countCalls(model: object, fn: () => void): Record<string, number> {
  const k = (model as unknown as { kernels: Record<string, unknown> }).kernels;
  const counts: Record<string, number> = {};
  const saved = new Map<string, unknown>();
  for (const [name, f] of Object.entries(k)) {
    if (typeof f !== 'function') continue;
    saved.set(name, f);
    k[name] = (...args: unknown[]) => { counts[name] = (counts[name] ?? 0) + 1; return (f as (...a: unknown[]) => unknown)(...args); };
  }
  try {
    fn();
  } finally {
    for (const [name, f] of saved) k[name] = f;
  }
  return counts;
}

/** A file's metadata without its checksum, for a file changed on purpose (a test's edit). */
export function unsealed(metadata: Record<string, string>): Record<string, string> {
  const { checksum: _, ...rest } = metadata;
  return rest;
}

/** The training states of two models agree bit for bit: every tensor (weights, optimizer
 *  moments), the optimizer step, the generator and the fit position. */
export function checkSameState(label: string, a: Uint8Array, b: Uint8Array): void {
  const [fa, fb] = [decodeSafetensors(a), decodeSafetensors(b)];
  assert.equal([...fa.tensors.keys()].sort(), [...fb.tensors.keys()].sort(), `${label}: the same tensors`);
  for (const [name, t] of fa.tensors) checkSame(`${label}: ${name}`, t.data, fb.tensors.get(name)!.data);
  assert.equal(JSON.parse(fa.metadata.training), JSON.parse(fb.metadata.training), `${label}: optimizer step, generator, fit position`);
}

/** Where a run is stopped: before its first batch, after batch `batch` of `epoch` (from
 *  onProgress), or at the end of `epoch` (from onEpochEnd). */
export type AbortPoint = { at: 'start' } | { at: 'batch'; epoch: number; batch: number } | { at: 'epochEnd'; epoch: number };

/** How far training over workers may be from one thread's (the order of the sums differs):
 *  gradients, weights after SGD and Adam, losses. */
export const WORKER_TOL = { gradient: 5e-4, sgd: 2e-5, adam: 2e-4, loss: 1e-6 };

/** The gradient a fit over `pool` applies for `batch` is the calling thread's computeGradients,
 *  within WORKER_TOL (entries below 1 % of their tensor's largest measured against that 1 %):
 *  one SGD step with learning rate 2^20 moves the weights by −2^20 g, exactly but for the
 *  rounding of w − 2^20 g, which that factor makes small against g. */
export async function checkWorkerGradient(label: string, config: ModelConfig, batch: { x: ArrayLike<unknown> }, pool: WorkerPool): Promise<void> {
  const lr = 2 ** 20;
  const here = await createModel(config);
  const { grads } = here.computeGradients(batch as never);
  const before = here.getWeights();
  const there = await createModel(config);
  await there.fit(batch as never, { batchSize: batch.x.length, shuffle: false, optimizer: 'sgd', learningRate: lr, workers: pool });
  const after = there.getWeights();
  for (const e of there.layout.entries) {
    const moved = Array.from(grads[e.name], (_, i) => (before[e.offset + i] - after[e.offset + i]) / lr);
    checkClose(`${label}: ${e.name}`, moved, grads[e.name], WORKER_TOL.gradient, Math.max(1e-2 * Math.max(...grads[e.name].map(Math.abs)), 1e-12));
  }
  there.dispose();
  here.dispose();
}

/** A fit of `config` (createRNN) over `data` over `pool` takes as many steps as on the calling
 *  thread and ends with its weights and epoch losses, within WORKER_TOL. */
export async function checkFitOverWorkers(config: RNNConfig, data: { x: number[][]; y: number[][] }, options: FitOptions, pool: WorkerPool): Promise<void> {
  const one = await createRNN(config);
  const r1 = await one.fit(data, options);
  const many = await createRNN(config);
  const rk = await many.fit(data, { ...options, workers: pool });
  assert.is(rk.steps, r1.steps, 'one optimizer step per step of one thread');
  checkClose('weights', many.getWeights(), one.getWeights(), WORKER_TOL.sgd, 1e-3);
  checkClose('epoch losses', rk.epochLosses, r1.epochLosses, WORKER_TOL.loss);
  one.dispose();
  many.dispose();
}

/** The bits a build gives now equal those recorded from an earlier build: `script` (in
 *  tests/fixtures/, run on this build's dist) writes every case's bits, per build ('simd',
 *  'scalar'), as `fixture` holds them. A default path that must not move is held to it. */
export function checkRecordedBits(script: string, fixture: string): void {
  const was = JSON.parse(readFileSync(join(__dirname, 'fixtures', fixture), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-bits-'));
  try {
    const out = join(dir, 'now.json');
    execFileSync(process.execPath, [join(__dirname, 'fixtures', script), join(__dirname, '..', 'dist'), 'now', out]);
    const now = JSON.parse(readFileSync(out, 'utf8'));
    assert.is(now.cases.length, was.cases.length);
    now.cases.forEach((c: { name: string; bits: Record<string, Record<string, string>> }, i: number) => {
      const before = was.cases[i];
      assert.is(c.name, before.name);
      for (const build of ['simd', 'scalar']) {
        assert.equal(Object.keys(c.bits[build]), Object.keys(before.bits[build]), `${c.name}, ${build}: the same quantities`);
        for (const key of Object.keys(before.bits[build])) assert.ok(c.bits[build][key] === before.bits[build][key], `${c.name}, ${build}: ${key} changed`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What checkResumeBitForBit trains: any model. */
interface Resumable {
  fit(data: never, options: FitOptions): Promise<{ epochLosses: number[] }>;
  getWeights(): Float32Array;
  getTrainingState(): Uint8Array;
  setTrainingState(bytes: Uint8Array): void;
  dispose(): void;
}

/** A fit stopped at epoch 1's second batch and resumed from its checkpoint in a new model (made
 *  with another seed) ends bit for bit as the uninterrupted run: the weights, and the epoch
 *  losses from the resume on. Returns the checkpoint, for the caller's further checks. */
export async function checkResumeBitForBit(label: string, make: (seed: number) => Promise<Resumable>, data: unknown, options: FitOptions): Promise<Uint8Array> {
  const whole = await make(8);
  const r = await whole.fit(data as never, options);
  const first = await make(8);
  const controller = new AbortController();
  await first.fit(data as never, { ...options, signal: controller.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 1) controller.abort(); } });
  const bytes = first.getTrainingState();
  const second = await make(9);
  second.setTrainingState(bytes);
  const rest = await second.fit(data as never, { ...options, resume: true });
  checkSame(`${label}: weights`, second.getWeights(), whole.getWeights());
  assert.equal(rest.epochLosses, r.epochLosses.slice(-rest.epochLosses.length), `${label}: epoch losses`);
  whole.dispose(); first.dispose(); second.dispose();
  return bytes;
}

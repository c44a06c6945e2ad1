// Loading the WebAssembly kernels: the only file that touches WebAssembly.*.
// The modules are embedded as base64 (src/wasm/modules.ts), compiled once per process and
// instantiated once per backend; every model of that backend allocates its own regions in
// the shared instance's memory (see arena.ts). Works in Node, browsers and workers alike.
// A training worker compiles nothing: the thread that starts it sends the compiled module of
// the model's build (compiledBuild → adoptBuild), so the embedded worker script carries no
// kernels (scripts/embed-worker.mjs leaves modules.ts out of it).
//
// WebAssembly memory only grows, so the instance is what gives memory back: arenas retain
// their engine, and when the last one is disposed the instance is dropped and the next model
// makes a new one. Models hold a copy of the kernels that is emptied then, so a disposed model
// still referenced keeps no memory reachable; the kernels getEngine() returns stay usable
// (and keep their instance alive) for as long as the caller holds them.
import { instantiate as instantiateWithLoader } from '@assemblyscript/loader';
import { describe, labelled } from './validate.js';
import { modules } from './wasm/modules.js';

/** A kernel build: 'relaxed' (f32x4 with relaxed SIMD's multiply-add, fused where the CPU has
 *  FMA: fastest, its last bits can differ between machines), 'simd' (f32x4: the same bits on
 *  every machine) or 'scalar' (no SIMD). */
export type Build = 'relaxed' | 'simd' | 'scalar';

/** Which kernel build to run: a Build, or 'auto': the first of relaxed, simd and scalar that
 *  the runtime validates. */
export type Backend = 'auto' | Build;

/** What the kernels' WebAssembly.Memory offers, typed without the DOM or Node libraries so
 *  that the published declarations compile in any TypeScript project. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** A compiled kernel build: a WebAssembly.Module, typed as an object so that the published
 *  declarations need neither the DOM nor the Node libraries. postMessage clones it to workers
 *  (Node's worker_threads and browsers alike), which instantiate it without compiling. */
export type CompiledBuild = object;

/** The kernels exported by assembly/index.ts. Pointers are byte offsets into memory. */
export interface Kernels {
  memory: WasmMemory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  zero_f32(ptr: number, n: number): void;
  copy_f32(dst: number, src: number, n: number): void;
  gemm(transA: number, transB: number, M: number, N: number, K: number,
       A: number, lda: number, B: number, ldb: number, C: number, ldc: number, accumulate: number): void;
  gemm_naive(transA: number, transB: number, M: number, N: number, K: number,
             A: number, lda: number, B: number, ldb: number, C: number, ldc: number, accumulate: number): void;
  gemm_nn_by_t(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number,
               BT: number, C: number, ldc: number, accumulate: number): void;
  pack_rows4_t(P: number, W: number, ldw: number, N: number, K: number): void;
  gemm_tn_rows(M: number, N: number, K: number, rows: number, A: number, lda: number, B: number, ldb: number,
               C: number, ldc: number, accumulate: number): void;
  gemm_nt_w(M: number, N: number, K: number, A: number, lda: number, W: number, PW: number, C: number, ldc: number, accumulate: number): void;
  pack_rows4(P: number, B: number, ldb: number, N: number, K: number): void;
  transpose(dst: number, src: number, rows: number, cols: number): void;
  softmax_xent(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  softmax_xent_ls(yhat: number, dz: number, z: number, y: number, w: number, cw: number, N: number, n_y: number, scale: number, eps: number,
                  plain: number): number;
  sigmoid_bce(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  sigmoid_bce_pw(yhat: number, dz: number, z: number, y: number, w: number, pw: number, N: number, n_y: number, scale: number): number;
  squared_error(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  add_bias_rows(X: number, b: number, rows: number, n: number, ld: number): void;
  add_col_sums(db: number, dX: number, rows: number, n: number, ld: number): void;
  add_col_sums_twice(db_a: number, db_b: number, dX: number, rows: number, n: number, ld: number): void;
  input_projection(H: number, X: number, tokens: number, WT: number, W_ih: number, b_ih: number, b_hh: number,
                   lens: number, T: number, B: number, n_x: number, G: number): void;
  input_grads(dW_ih: number, db_ih: number, db_hh: number, shared: number, dX: number, dZ: number, X: number, tokens: number, WT: number,
              W_ih: number, lens: number, T: number, B: number, n_x: number, G: number): void;
  pack_recurrent(PW: number, W_hh: number, cell: number, H: number): void;
  copy_rows(dst: number, ldd: number, src: number, lds: number, rows: number, n: number, accumulate: number): void;
  reverse_steps(dst: number, ldd: number, src: number, lds: number, lens: number,
                T: number, B: number, n: number, accumulate: number): void;
  gather_steps(dst: number, src: number, order: number, T: number, B: number, n: number): void;
  recurrent_rows(reset: number): number;
  activation_forward(h: number, n: number, relu: number): void;
  sigmoid_to(dst: number, src: number, n: number): void;
  tanh_to(dst: number, src: number, n: number): void;
  activation_backward(dh: number, a: number, n: number, relu: number): void;
  rnn_forward(A: number, X: number, tokens: number, WT: number, W_ax: number, W_aa: number, b_x: number, b_a: number, lens: number,
              T: number, B: number, n_x: number, n_a: number, relu: number, PW: number): void;
  rnn_backward(dW_ax: number, dW_aa: number, db_x: number, db_a: number, dX: number,
               dA: number, A: number, X: number, tokens: number, WT: number, W_ax: number, W_aa: number, WhT: number, lens: number,
               T: number, B: number, n_x: number, n_a: number, relu: number): void;
  lstm_forward(A: number, C: number, TC: number, Gt: number, X: number, tokens: number, WT: number,
               W_ih: number, W_hh: number, b_ih: number, b_hh: number, lens: number, T: number, B: number, n_x: number, n_a: number, PW: number): void;
  lstm_backward(dW_ih: number, dW_hh: number, db_ih: number, db_hh: number, dX: number,
                dA: number, dC: number, A: number, C: number, TC: number, Gt: number, X: number, tokens: number, WT: number,
                W_ih: number, W_hh: number, WhT: number, dcT: number, lens: number, T: number, B: number, n_x: number, n_a: number): void;
  gru_forward(A: number, Gt: number, Hn: number, S: number, X: number, tokens: number, WT: number,
              W_ih: number, W_hh: number, b_ih: number, b_hh: number, lens: number,
              T: number, B: number, n_x: number, n_a: number, reset_after: number, PW: number): void;
  gru_backward(dW_ih: number, dW_hh: number, db_ih: number, db_hh: number, dX: number,
               dA: number, D: number, A: number, Gt: number, Hn: number, S: number, X: number, tokens: number, WT: number,
               W_ih: number, W_hh: number, WhT: number, lens: number, T: number, B: number, n_x: number, n_a: number, reset_after: number): void;
  linear_forward(Y: number, X: number, W: number, b: number, rows: number, n_in: number, n_out: number): void;
  linear_backward(dX: number, dW: number, db: number, dY: number, X: number, W: number,
                  rows: number, n_in: number, n_out: number, accumulate_dX: number): void;
  sum_squares(g: number, n: number): number;
  scale(g: number, n: number, c: number): void;
  clip_value(g: number, n: number, v: number): void;
  sgd_step(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
           weight_decay: number, nesterov: number, first: number): void;
  adam_step(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number,
            eps: number, weight_decay: number, decoupled: number, step_size: number, bc2_sqrt: number): void;
  rmsprop_step(p: number, g: number, v: number, buf: number, n: number, lr: number, alpha: number, eps: number,
               weight_decay: number, momentum: number): void;
  adagrad_step(p: number, g: number, s: number, n: number, clr: number, eps: number, weight_decay: number): void;
  // the same updates, computed and not stored: the first index whose new value or moment would
  // not be finite, or −1
  sgd_check(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
            weight_decay: number, nesterov: number, first: number): number;
  adam_check(p: number, g: number, m: number, v: number, n: number, lr: number, beta1: number, beta2: number,
             eps: number, weight_decay: number, decoupled: number, step_size: number, bc2_sqrt: number): number;
  rmsprop_check(p: number, g: number, v: number, buf: number, n: number, lr: number, alpha: number, eps: number,
                weight_decay: number, momentum: number): number;
  adagrad_check(p: number, g: number, s: number, n: number, clr: number, eps: number, weight_decay: number): number;
  dropout_mask(M: number, n: number, p: number, scale: number, s0: number, s1: number, s2: number, s3: number): void;
  mul_mask(Y: number, X: number, M: number, n: number): void;
  mul_mask_naive(Y: number, X: number, M: number, n: number): void;
  masked_softmax_rows(P: number, rows: number, n: number, len: number): void;
  masked_softmax_rows_backward(dP: number, P: number, rows: number, n: number, len: number): void;
  attention_forward(P: number, C: number, Q: number, K: number, V: number, lens: number, src: number,
                    T_y: number, T_x: number, B: number, B_s: number, n_q: number, E: number): void;
  attention_backward(dQ: number, dK: number, dV: number, dP: number, P: number, dC: number,
                     Q: number, K: number, V: number, lens: number, src: number,
                     T_y: number, T_x: number, B: number, B_s: number, n_q: number, E: number): void;
  attention_combine_forward(Ht: number, C: number, Q: number, W_c: number, rows: number, E: number, n_q: number): void;
  attention_combine_backward(dC: number, dQ: number, dW_c: number, dHt: number, Ht: number,
                             C: number, Q: number, W_c: number, rows: number, E: number, n_q: number): void;
  sample_token(P: number, V: number, greedy: number, temperature: number, topK: number, topP: number, u: number,
               W: number, O: number): number;
  head_loss(yhat: number, dz: number, Z: number, X: number, W: number, b: number, y: number, w: number,
            N: number, n_in: number, n_y: number, scale: number, output: number): number;
  head_loss_w(yhat: number, dz: number, Z: number, X: number, W: number, PW: number, b: number, y: number, w: number,
              N: number, n_in: number, n_y: number, scale: number, output: number): number;
  head_loss_ls(yhat: number, dz: number, Z: number, X: number, W: number, PW: number, b: number, y: number, w: number, cw: number,
               N: number, n_in: number, n_y: number, scale: number, eps: number, plain: number): number;
  head_loss_pw(yhat: number, dz: number, Z: number, X: number, W: number, PW: number, b: number, y: number, w: number, pw: number,
               N: number, n_in: number, n_y: number, scale: number): number;
  plan_step(plan: number, B: number): void;
  plan_feed(plan: number, token: number): void;
  plan_choose(plan: number, row: number, greedy: number, temperature: number, topK: number, topP: number, u: number): number;
  plan_token(plan: number, token: number, greedy: number, temperature: number, topK: number, topP: number, u: number): number;
  plan_select(plan: number, B: number): void;
  plan_pack(plan: number): void;
  embedding_forward(X: number, ids: number, W_e: number, rows: number, E: number): void;
  embedding_backward(dW_e: number, dX: number, ids: number, rows: number, E: number, padding_idx: number): void;
  embedding_backward_naive(dW_e: number, dX: number, ids: number, rows: number, E: number, padding_idx: number): void;
}

/** The `output` argument of head_loss and of a stepper's plan: which non-linearity and loss. */
export const OUTPUT_KIND = { softmax: 0, sigmoid: 1, linear: 2 } as const;

/** Rows from which a head's forward reads its weight from a copy in groups of four rows: every
 *  block of 32 rows (assembly/head.ts) reads all of W, so from four blocks on one copy costs
 *  less than it saves. */
const HEAD_COPY_ROWS = 128;
/** Most values of a weight copied for a forward or a generation run (64 MiB): a larger one is
 *  read as it lies rather than held twice. */
const COPY_VALUES = 1 << 24;

/** Whether a weight of `values` values is small enough to be copied (grouped or transposed). */
export function copiesWeight(values: number): boolean {
  return values <= COPY_VALUES;
}

/** Whether a forward over `rows` rows (Infinity: a generation run) copies an output weight of
 *  `values` values, so its workspace holds a region for the copy. */
export function copiesHead(rows: number, values: number): boolean {
  return rows >= HEAD_COPY_ROWS && copiesWeight(values);
}

/** head_loss_w's `PW` for a forward over `rows` rows: W (n_y, n_in) copied now into `copy` (a
 *  region of n_y · n_in values, or none) in groups of four rows (assembly/dot.ts: pack_rows4),
 *  or 0 when there are too few rows to repay it. The same bits either way. */
export function headCopy(k: Kernels, copy: { ptr: number } | undefined, W: number, n_y: number, n_in: number, rows: number): number {
  if (!copy || !copiesHead(rows, n_y * n_in)) return 0;
  k.pack_rows4(copy.ptr, W, n_in, n_y, n_in);
  return copy.ptr;
}
/** The `cell` argument of pack_recurrent and of a stepper's plan. */
export const CELL_KIND = { rnn: 0, lstm: 1, gru: 2 } as const;

/** One instantiated kernel module; shared by every model created on that backend. */
export interface Engine {
  readonly backend: Build;
  readonly kernels: Kernels;
}

/** An engine's life: the arenas using it, whether it was dropped, and the models' copy of its
 *  kernels (emptied when it is dropped). */
interface Life {
  engine: Engine;
  models: Kernels;
  users: number;
  released: boolean;
}

// The smallest module that uses a v128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

// The same with three v128.const and f32x4.relaxed_madd (0xfd 0x105) between them.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...[0, 1, 2].flatMap(() => [253, 12, ...new Array<number>(16).fill(0)]), 253, 133, 2, 11,
]);

/** True when this runtime validates WebAssembly SIMD (f32x4) code. */
export function simdSupported(): boolean {
  assertWebAssembly();
  return WebAssembly.validate(SIMD_PROBE);
}

/** True when this runtime validates relaxed SIMD (Chrome 114+, Node 22+; Node 20
 *  with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  assertWebAssembly();
  return WebAssembly.validate(RELAXED_PROBE);
}

const engines = new Map<Build, Promise<Engine>>();
const lives = new WeakMap<Kernels, Life>();
/** Engines instantiated and not yet dropped. */
const alive = new Set<Life>();

/** The engine for a backend, compiled and instantiated on first use. */
export function getEngine(backend: Backend = 'auto'): Promise<Engine> {
  if (backend !== 'auto' && backend !== 'relaxed' && backend !== 'simd' && backend !== 'scalar') {
    return Promise.reject(new TypeError(`backend must be 'auto', 'relaxed', 'simd' or 'scalar', got ${JSON.stringify(backend)}`));
  }
  const kind: Build = backend !== 'auto' ? backend : relaxedSimdSupported() ? 'relaxed' : simdSupported() ? 'simd' : 'scalar';
  if (kind === 'simd' && !simdSupported()) {
    return Promise.reject(new Error(`backend 'simd' was requested but this runtime does not support WebAssembly SIMD`));
  }
  if (kind === 'relaxed' && !relaxedSimdSupported()) {
    return Promise.reject(new Error(`backend 'relaxed' was requested but this runtime does not support WebAssembly relaxed SIMD ` +
      `(Chrome 114+, Node 22+, or Node 20 with --experimental-wasm-relaxed-simd); use 'simd' or 'auto'`));
  }
  let engine = engines.get(kind);
  if (!engine) {
    engine = instantiate(kind);
    engines.set(kind, engine);
    engine.catch(() => engines.delete(kind));
  }
  return engine;
}

/** Make a model on a live engine of the backend, handing it the models' copy of the kernels:
 *  an engine released while the promise settled is replaced, and `make` runs in the same turn
 *  as the check. Errors name `where`, the function the user called. */
export async function withEngine<T>(where: string, backend: Backend, make: (engine: Engine) => T): Promise<T> {
  for (;;) {
    let engine: Engine;
    try {
      engine = await getEngine(backend);
    } catch (e) {
      throw engineError(where, e);
    }
    const life = lives.get(engine.kernels)!;
    if (!life.released) return labelled(where, () => make({ backend: engine.backend, kernels: life.models }));
  }
}

/** getEngine's error, as a new error of its kind that names `where` (callers waiting on one
 *  compilation share its error object); a compilation refused by a Content-Security-Policy
 *  says what the policy needs. */
function engineError(where: string, e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const message = e instanceof WebAssembly.CompileError && /Content.Security.Policy|unsafe-eval/i.test(e.message)
    ? `${e.message.replace(/\.$/, '')}; a Content-Security-Policy must allow 'wasm-unsafe-eval' in script-src (or default-src) for the kernels to compile`
    : e.message;
  return new (e.constructor as ErrorConstructor)(`${where}: ${message}`, { cause: e });
}

/** Count one more user (an arena) of the engine these kernels belong to. Kernels that no
 *  engine made are not tracked. */
export function retainEngine(kernels: Kernels): void {
  const life = lives.get(kernels);
  if (!life) return;
  if (life.released) throw new TypeError('this engine was released when the last model on it was disposed; call getEngine() again for a new one');
  life.users++;
}

/** Count one user less; the last one drops the instance, so its memory can be collected. */
export function releaseEngine(kernels: Kernels): void {
  const life = lives.get(kernels);
  if (!life || --life.users > 0) return;
  life.released = true;
  alive.delete(life);
  lives.delete(life.models);                     // disposed models keep the copy: it must not lead back to the instance
  engines.delete(life.engine.backend);           // the cached promise is this engine's: the next getEngine makes a new one
  for (const key of Object.keys(life.models)) {
    Object.defineProperty(life.models, key, { get: () => {
      throw new TypeError(`this engine was released when the last model on it was disposed (${key}); its memory has been returned`);
    } });
  }
}

/** The engines alive now, and how many arenas use each. */
export function liveEngines(): { backend: Build; memoryBytes: number; users: number }[] {
  return [...alive].map((l) => ({ backend: l.engine.backend, memoryBytes: l.engine.kernels.memory.buffer.byteLength, users: l.users }));
}

/** The backend of kernels an engine made (undefined for others). */
export function backendOf(kernels: Kernels): Build | undefined {
  return lives.get(kernels)?.engine.backend;
}

/** Compiled modules, kept for the process: instances come and go, the code is compiled once. */
const compiled = new Map<Build, Promise<WebAssembly.Module>>();

/** The compiled module of a build (compiled on first use), to send to a training worker. */
export function compiledBuild(kind: Build): Promise<CompiledBuild> {
  return compile(kind);
}

/** Take `module`, the compiled `kind` build sent by the thread that started this worker, as
 *  this thread's: its engines of that build instantiate it. */
export function adoptBuild(kind: Build, module: unknown): void {
  assertWebAssembly();
  if (!(module instanceof WebAssembly.Module)) {
    throw new TypeError(`the kernels of the '${kind}' build must come as a WebAssembly.Module, got ${describe(module)}`);
  }
  compiled.set(kind, Promise.resolve(module));
}

function compile(kind: Build): Promise<WebAssembly.Module> {
  let module = compiled.get(kind);
  if (!module) {
    // the embedded worker script has no modules (scripts/embed-worker.mjs): its kernels come with 'init'
    const source = (modules as Partial<typeof modules>)[kind === 'simd' ? 'release' : kind];
    if (!source) return Promise.reject(new Error(`the kernels of the '${kind}' build are not in this script; a training worker gets them from the thread that started it`));
    module = WebAssembly.compile(decodeBase64(source.base64));
    compiled.set(kind, module);
    module.catch(() => compiled.delete(kind));
  }
  return module;
}

async function instantiate(kind: Build): Promise<Engine> {
  assertWebAssembly();
  const { exports } = await instantiateWithLoader<Record<string, unknown>>(await compile(kind), {});
  const engine: Engine = { backend: kind, kernels: exports as unknown as Kernels };
  // the models' handle on the instance: a plain copy of its exports, emptied on release
  const life: Life = { engine, models: { ...exports } as unknown as Kernels, users: 0, released: false };
  lives.set(engine.kernels, life);
  lives.set(life.models, life);
  alive.add(life);
  return engine;
}

function assertWebAssembly(): void {
  if (typeof WebAssembly === 'undefined') {
    throw new Error('rnn-wasm needs WebAssembly, which this JavaScript runtime does not provide');
  }
}

/** base64 → bytes in plain JavaScript (no Node or DOM helpers), so it runs anywhere. */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const table = new Uint8Array(128);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length * 3) / 4 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n = (table[text.charCodeAt(i)] << 18) | (table[text.charCodeAt(i + 1)] << 12)
            | (table[text.charCodeAt(i + 2)] << 6) | table[text.charCodeAt(i + 3)];
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

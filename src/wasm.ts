// Loading the WebAssembly kernels: the only file that touches WebAssembly.*.
// The modules are embedded as base64 (src/wasm/modules.ts), compiled once per process and
// instantiated once per backend; every model of that backend allocates its own regions in
// the shared instance's memory (see arena.ts). Works in Node, browsers and workers alike.
import { instantiate as instantiateWithLoader } from '@assemblyscript/loader';
import { modules } from './wasm/modules.js';

/** Which kernel build to run: 'simd' (f32x4), 'scalar', or 'auto' (SIMD when supported). */
export type Backend = 'auto' | 'simd' | 'scalar';

/** What the kernels' WebAssembly.Memory offers, typed without the DOM or Node libraries so
 *  that the published declarations compile in any TypeScript project. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

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
  softmax_xent(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  sigmoid_bce(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  squared_error(yhat: number, dz: number, z: number, y: number, w: number, N: number, n_y: number, scale: number): number;
  add_bias_rows(X: number, b: number, rows: number, n: number, ld: number): void;
  add_col_sums(db: number, dX: number, rows: number, n: number, ld: number): void;
  input_projection(H: number, X: number, tokens: number, W_ih: number, b_ih: number, b_hh: number,
                   rows: number, n_x: number, G: number): void;
  input_grads(dW_ih: number, db_ih: number, dX: number, dZ: number, X: number, tokens: number,
              W_ih: number, rows: number, n_x: number, G: number): void;
  copy_rows(dst: number, ldd: number, src: number, lds: number, rows: number, n: number, accumulate: number): void;
  reverse_steps(dst: number, ldd: number, src: number, lds: number, lens: number,
                T: number, B: number, n: number, accumulate: number): void;
  activation_forward(h: number, n: number, relu: number): void;
  sigmoid_to(dst: number, src: number, n: number): void;
  tanh_to(dst: number, src: number, n: number): void;
  activation_backward(dh: number, a: number, n: number, relu: number): void;
  rnn_forward(A: number, X: number, tokens: number, W_ax: number, W_aa: number, b_x: number, b_a: number, lens: number,
              T: number, B: number, n_x: number, n_a: number, relu: number): void;
  rnn_backward(dW_ax: number, dW_aa: number, db_x: number, db_a: number, dX: number,
               dA: number, A: number, X: number, tokens: number, W_ax: number, W_aa: number, lens: number,
               T: number, B: number, n_x: number, n_a: number, relu: number): void;
  lstm_forward(A: number, C: number, TC: number, Gt: number, X: number, tokens: number,
               W_ih: number, W_hh: number, b_ih: number, b_hh: number, lens: number, T: number, B: number, n_x: number, n_a: number): void;
  lstm_backward(dW_ih: number, dW_hh: number, db_ih: number, db_hh: number, dX: number,
                dA: number, dC: number, A: number, C: number, TC: number, Gt: number, X: number, tokens: number,
                W_ih: number, W_hh: number, dcT: number, lens: number, T: number, B: number, n_x: number, n_a: number): void;
  gru_forward(A: number, Gt: number, Hn: number, S: number, X: number, tokens: number,
              W_ih: number, W_hh: number, b_ih: number, b_hh: number, lens: number,
              T: number, B: number, n_x: number, n_a: number, reset_after: number): void;
  gru_backward(dW_ih: number, dW_hh: number, db_ih: number, db_hh: number, dX: number,
               dA: number, D: number, A: number, Gt: number, Hn: number, S: number, X: number, tokens: number,
               W_ih: number, W_hh: number, lens: number, T: number, B: number, n_x: number, n_a: number, reset_after: number): void;
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
}

/** One instantiated kernel module; shared by every model created on that backend. */
export interface Engine {
  readonly backend: 'simd' | 'scalar';
  readonly kernels: Kernels;
}

// The smallest module that uses a v128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** True when this runtime validates WebAssembly SIMD (f32x4) code. */
export function simdSupported(): boolean {
  assertWebAssembly();
  return WebAssembly.validate(SIMD_PROBE);
}

const engines = new Map<'simd' | 'scalar', Promise<Engine>>();

/** The engine for a backend, compiled and instantiated on first use. */
export function getEngine(backend: Backend = 'auto'): Promise<Engine> {
  if (backend !== 'auto' && backend !== 'simd' && backend !== 'scalar') {
    return Promise.reject(new TypeError(`backend must be 'auto', 'simd' or 'scalar', got ${JSON.stringify(backend)}`));
  }
  const kind = backend === 'auto' ? (simdSupported() ? 'simd' : 'scalar') : backend;
  if (kind === 'simd' && !simdSupported()) {
    return Promise.reject(new Error(`backend 'simd' was requested but this runtime does not support WebAssembly SIMD`));
  }
  let engine = engines.get(kind);
  if (!engine) {
    engine = instantiate(kind);
    engines.set(kind, engine);
    engine.catch(() => engines.delete(kind));
  }
  return engine;
}

async function instantiate(kind: 'simd' | 'scalar'): Promise<Engine> {
  assertWebAssembly();
  const bytes = decodeBase64(kind === 'simd' ? modules.release.base64 : modules.scalar.base64);
  const module = await WebAssembly.compile(bytes);
  const { exports } = await instantiateWithLoader<Record<string, unknown>>(module, {});
  return { backend: kind, kernels: exports as unknown as Kernels };
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

// Optimizers: configuration, state (moment regions, step count) and the call into the one
// flat-loop kernel of each. Update rules and defaults are those of torch.optim.
import type { Arena, Region } from './arena.js';
import type { Kernels } from './wasm.js';
import { KEYS } from './keys.js';
import { checkBoolean, checkKeys, checkNamed, checkNumber, finiteF32, showF32 } from './validate.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';

export interface SGDConfig {
  type: 'sgd';
  /** Step size. Default 1e-2. */
  learningRate?: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** Dampening of momentum. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0, dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

export interface AdamConfig {
  /** 'adam' adds weightDecay·p to the gradient (L2); 'adamw' decays weights directly. */
  type: 'adam' | 'adamw';
  /** Step size. Default 1e-3. */
  learningRate?: number;
  /** Decay of the first moment. Default 0.9. */
  beta1?: number;
  /** Decay of the second moment. Default 0.999. */
  beta2?: number;
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Default 0 for 'adam', 1e-2 for 'adamw'. */
  weightDecay?: number;
}

export interface RMSPropConfig {
  type: 'rmsprop';
  /** Step size. Default 1e-2. */
  learningRate?: number;
  /** Decay of the squared-gradient average. Default 0.99. */
  alpha?: number;
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Momentum factor. Default 0. */
  momentum?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
}

export interface AdagradConfig {
  type: 'adagrad';
  /** Step size. Default 1e-2. */
  learningRate?: number;
  /** Learning-rate decay per step. Default 0. */
  lrDecay?: number;
  /** Added to the denominator. Default 1e-10. */
  eps?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Starting value of the squared-gradient sum. Default 0. */
  initialAccumulatorValue?: number;
}

export type OptimizerConfig = SGDConfig | AdamConfig | RMSPropConfig | AdagradConfig;

/** An optimizer config with every default filled in. */
export type ResolvedOptimizer = Required<SGDConfig> | Required<AdamConfig> | Required<RMSPropConfig> | Required<AdagradConfig>;
type Resolved = ResolvedOptimizer;

const NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/** Fill in defaults and check every field: each number in its range and finite in float32,
 *  the precision the update kernels take it in. */
export function resolveOptimizer(where: string, config: OptimizerName | OptimizerConfig): Resolved {
  const c = checkNamed(where, 'optimizer', config, NAMES);
  const type = c.type;
  checkKeys(where, 'optimizer', c, KEYS[type]);
  const num = (key: string, dflt: number, lo = 0, hi = Infinity): number => {
    if (c[key] === undefined) return dflt;
    const v = checkNumber(where, `optimizer.${key}`, c[key], lo, hi);
    if (!finiteF32(v)) throw new RangeError(`${where}: optimizer.${key} must be finite in float32, got ${showF32(v)}`);
    return v;
  };
  switch (type) {
    case 'sgd': {
      const r = {
        type, learningRate: num('learningRate', 1e-2), momentum: num('momentum', 0), dampening: num('dampening', 0, 0, 1),
        nesterov: c.nesterov === undefined ? false : checkBoolean(where, 'optimizer.nesterov', c.nesterov), weightDecay: num('weightDecay', 0),
      } as const;
      if (r.nesterov && (r.momentum <= 0 || r.dampening !== 0)) {
        throw new RangeError(`${where}: Nesterov momentum needs momentum > 0 and dampening = 0, got momentum ${r.momentum}, dampening ${r.dampening}`);
      }
      return r;
    }
    case 'adam':
    case 'adamw':
      return {
        type, learningRate: num('learningRate', 1e-3), beta1: num('beta1', 0.9, 0, 0.999999), beta2: num('beta2', 0.999, 0, 0.999999999),
        eps: num('eps', 1e-8), weightDecay: num('weightDecay', type === 'adamw' ? 1e-2 : 0),
      };
    case 'rmsprop':
      return {
        type, learningRate: num('learningRate', 1e-2), alpha: num('alpha', 0.99, 0, 1), eps: num('eps', 1e-8),
        momentum: num('momentum', 0), weightDecay: num('weightDecay', 0),
      };
    case 'adagrad':
      return {
        type, learningRate: num('learningRate', 1e-2), lrDecay: num('lrDecay', 0), eps: num('eps', 1e-10),
        weightDecay: num('weightDecay', 0), initialAccumulatorValue: num('initialAccumulatorValue', 0),
      };
  }
}

/** An optimizer bound to a model's parameter region: its moments and its step count. */
export class Optimizer {
  /** Steps taken so far. */
  step = 0;
  private m?: Region;
  private v?: Region;

  constructor(readonly config: Resolved, private arena: Arena, private size: number) {
    const needs: Record<OptimizerName, number> = { sgd: 1, adam: 2, adamw: 2, rmsprop: 2, adagrad: 1 };
    const n = needs[config.type];
    if (config.type === 'sgd' && config.momentum === 0) return;
    this.m = arena.alloc(size, 'optimizer state');
    if (n > 1) this.v = arena.alloc(size, 'optimizer state');
    if (config.type === 'adagrad' && config.initialAccumulatorValue !== 0) {
      arena.f32(this.m).fill(config.initialAccumulatorValue);
    }
  }

  /** One update of params from grads; `learningRate` overrides the configured one (schedules).
   *  The update is first computed without being stored: when a new value or moment would not
   *  be finite, nothing changes (weights, moments, step count) and the index of the first such
   *  parameter is returned; otherwise the update is stored and −1 returned. */
  apply(params: Region, grads: Region, learningRate = this.config.learningRate): number {
    const k = this.arena.kernels;
    const c = this.config;
    const n = this.size;
    const step = this.step + 1;
    const m = this.m?.ptr ?? 0, v = this.v?.ptr ?? 0;
    let bad: number;
    switch (c.type) {
      case 'sgd':
        bad = checkThenStore(k.sgd_check, k.sgd_step, params.ptr, grads.ptr, m, n, learningRate, c.momentum, c.dampening,
          c.weightDecay, c.nesterov ? 1 : 0, step === 1 ? 1 : 0);
        break;
      case 'adam':
      case 'adamw': {
        const bc1 = 1 - Math.pow(c.beta1, step);
        const bc2 = 1 - Math.pow(c.beta2, step);
        bad = checkThenStore(k.adam_check, k.adam_step, params.ptr, grads.ptr, m, v, n, learningRate, c.beta1, c.beta2, c.eps,
          c.weightDecay, c.type === 'adamw' ? 1 : 0, learningRate / bc1, Math.sqrt(bc2));
        break;
      }
      case 'rmsprop':
        bad = checkThenStore(k.rmsprop_check, k.rmsprop_step, params.ptr, grads.ptr, m, v, n, learningRate, c.alpha, c.eps,
          c.weightDecay, c.momentum);
        break;
      case 'adagrad':
        bad = checkThenStore(k.adagrad_check, k.adagrad_step, params.ptr, grads.ptr, m, n,
          learningRate / (1 + (step - 1) * c.lrDecay), c.eps, c.weightDecay);
        break;
    }
    if (bad < 0) this.step = step;
    return bad;
  }

  /** Moment buffers and step, copied out (checkpoints). */
  getState(): { step: number; m?: Float32Array; v?: Float32Array } {
    return { step: this.step, m: this.m && this.arena.f32(this.m).slice(), v: this.v && this.arena.f32(this.v).slice() };
  }

  /** Restore what getState() returned; the regions must be the ones this config keeps. */
  setState(state: { step: number; m?: Float32Array; v?: Float32Array }): void {
    if (Boolean(state.m) !== Boolean(this.m) || Boolean(state.v) !== Boolean(this.v)) {
      throw new RangeError(`optimizer '${this.config.type}': the state's moment regions do not match this optimizer's`);
    }
    if (this.m) this.arena.f32(this.m).set(state.m!);
    if (this.v) this.arena.f32(this.v).set(state.v!);
    this.step = state.step;
  }

  dispose(): void {
    this.arena.release(this.m);
    this.arena.release(this.v);
    this.m = this.v = undefined;
  }
}

/** Global L2 norm of the gradient region, in f64 (NaN or Infinity when any value is). */
export function gradientNorm(kernels: Kernels, grads: Region): number {
  return Math.sqrt(kernels.sum_squares(grads.ptr, grads.length));
}

/** Clip in place: by global norm as torch.nn.utils.clip_grad_norm_ (scale by
 *  maxNorm / (norm + 1e-6) when that is below 1), then by value as clip_grad_value_. */
export function clipGradients(kernels: Kernels, grads: Region, norm: number, clipNorm?: number, clipValue?: number): void {
  if (clipNorm !== undefined) {
    const c = clipNorm / (norm + 1e-6);
    if (c < 1) kernels.scale(grads.ptr, grads.length, c);
  }
  if (clipValue !== undefined) kernels.clip_value(grads.ptr, grads.length, clipValue);
}

/** An optimizer kernel pair on the same arguments: the check, then the update only when the
 *  check found no value that would not be finite. Returns the check's index (−1: stored). */
function checkThenStore<A extends number[]>(check: (...args: A) => number, store: (...args: A) => void, ...args: A): number {
  const bad = check(...args);
  if (bad < 0) store(...args);
  return bad;
}

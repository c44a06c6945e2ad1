// What every model shares: one parameter region and one gradient region in wasm memory laid
// out by a layout table, seeded PyTorch-style initialisation, named parameter access, model
// files, and training (optimizer, learning-rate schedule, clipping, the non-finite guard,
// fit). A model says how to
// validate a batch and how to run its forward and backward passes; the rest is here.
import { Arena, type Region } from './arena.js';
import { decodeModelFile, encodeModel, weightsFromFile, type LoadOptions } from './io.js';
import type { Layout, TensorEntry } from './layout.js';
import { clipGradients, gradientNorm, Optimizer, resolveOptimizer, type OptimizerConfig, type OptimizerName } from './optim.js';
import { Random } from './random.js';
import { learningRateAt, resolveSchedule, type ScheduleConfig, type ScheduleName } from './schedule.js';
import { checkChoice, checkFloats, checkInt, checkNumber, describe } from './validate.js';
import type { Kernels } from './wasm.js';

/** How to take a training step. */
export interface TrainOptions {
  /** Optimizer name or config. Default 'adam'. Changing the type resets its state. */
  optimizer?: OptimizerName | OptimizerConfig;
  /** The base learning rate (the optimizer's own when omitted); a schedule scales it. */
  learningRate?: number;
  /** Learning-rate schedule over optimizer steps; its position is the optimizer's step count.
   *  Default: constant. */
  schedule?: ScheduleName | ScheduleConfig;
  /** Clip gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_). Default off. */
  clipNorm?: number;
  /** Clip every gradient value to [−clipValue, clipValue]. Default off. */
  clipValue?: number;
  /** On a non-finite loss or gradient: 'throw' (default) or 'skip' the step. Either way the
   *  weights are left as they were. */
  onNonFinite?: 'throw' | 'skip';
}

export interface StepResult {
  loss: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /** False when the step was skipped (non-finite loss or gradient). */
  applied: boolean;
  /** Learning rate of the step (NaN when it was skipped). */
  learningRate: number;
}

export interface Progress {
  epoch: number;
  epochs: number;
  /** Batch index within the epoch. */
  batch: number;
  batches: number;
  /** Optimizer steps so far, over all epochs. */
  step: number;
  /** Loss of this batch (as the model's reduction says). */
  loss: number;
  /** Mean batch loss of the epoch so far. */
  epochLoss: number;
  gradNorm: number;
  stepsPerSecond: number;
  elapsedMs: number;
}

export interface FitOptions extends TrainOptions {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Examples per batch. Default 32. */
  batchSize?: number;
  /** Shuffle the order every epoch, with the model's seeded generator. Default true. */
  shuffle?: boolean;
  /** Called after every optimizer step. */
  onProgress?: (p: Progress) => void;
  /** Called after every epoch with its mean loss. */
  onEpochEnd?: (e: { epoch: number; loss: number }) => void;
  /** Stops training cleanly after the current step. */
  signal?: AbortSignal;
  /** Yield to the event loop at least this often, in ms, so pages and servers stay responsive. Default 50. */
  yieldEveryMs?: number;
}

export interface FitResult {
  /** Mean loss of each epoch. */
  epochLosses: number[];
  steps: number;
  stopped: boolean;
}

/** A batch with targets: the shape every model's training data takes. */
export interface Examples {
  x: readonly unknown[];
  y: readonly unknown[];
}

export abstract class Network<TBatch extends Examples = Examples> {
  /** The parameter layout (names, shapes, offsets). */
  readonly layout: Layout;
  /** Every parameter by name, as copies; assign a typed array of the right length to set one.
   *  Names are PyTorch's (weight_ih_l0, …, head.weight), plus the textbook's (W_ax, W_aa, b_x,
   *  b_a, W_ya, b_y) where the model has them. */
  readonly params: Record<string, Float32Array>;

  protected readonly arena: Arena;
  protected readonly weights: Region;
  protected readonly grads: Region;
  protected optimizer?: Optimizer;
  /** Seeded generator for shuffling, dropout and sampling. */
  protected readonly rng: Random;

  protected constructor(protected readonly kernels: Kernels, readonly backend: 'simd' | 'scalar', layout: Layout, seed: number) {
    this.layout = layout;
    this.arena = new Arena(kernels);
    this.weights = this.arena.alloc(layout.size, 'parameters');
    try {
      this.grads = this.arena.alloc(layout.size, 'gradients');
    } catch (e) {
      this.arena.dispose();
      throw e;
    }
    // PyTorch's initialisation: U(−bound, bound) per tensor, drawn in layout order
    const init = new Random(seed);
    const w = this.arena.f32(this.weights);
    for (const e of layout.entries) {
      for (let i = 0; i < e.length; i++) w[e.offset + i] = (2 * init.uniform() - 1) * e.initBound;
    }
    this.rng = new Random(seed ^ 0x2545f491);
    this.params = this.makeParamsObject();
  }

  /** The configuration as plain JSON (saved in model files; round-trips through the factory). */
  abstract toJSON(): object;

  /** Validate a labeled batch, run forward and backward, leave ∂L/∂θ in the gradient region
   *  and return the loss. Nothing in wasm may change before validation is complete. */
  protected abstract lossAndGradients(where: string, batch: TBatch): number;

  /** Return the model's workspaces (everything but params, grads and optimizer state). */
  protected abstract releaseWorkspaces(): void;

  /** Number of trainable values. */
  get numParams(): number {
    return this.layout.size;
  }

  // --- weights ---

  /** A copy of one parameter tensor (canonical name or seed alias). */
  getParam(name: string): Float32Array {
    const e = this.entry('getParam', name);
    return this.arena.f32(this.weights, e.offset, e.length).slice();
  }

  /** Overwrite one parameter tensor from `values` (row-major, shape as in layout). */
  setParam(name: string, values: ArrayLike<number>): void {
    const e = this.entry('setParam', name);
    const label = name === e.name ? e.name : `${name} (= ${e.name})`;
    const v = checkFloats('setParam', `values for ${label} (shape [${e.shape.join(', ')}])`, values, e.length);
    this.arena.f32(this.weights, e.offset, e.length).set(v);
  }

  /** A copy of all parameters as one flat array in layout order. */
  getWeights(): Float32Array {
    return this.arena.f32(this.weights).slice();
  }

  /** Overwrite all parameters from one flat array in layout order. */
  setWeights(values: ArrayLike<number>): void {
    const v = checkFloats('setWeights', 'values', values, this.layout.size);
    this.arena.f32(this.weights).set(v);
  }

  /** Zero-copy view of the parameter region. Invalid after any allocation in the module
   *  (creating a model, a larger batch): re-fetch it rather than keeping it. */
  weightsView(): Float32Array {
    return this.arena.f32(this.weights);
  }

  /** The model as a safetensors file: every parameter as f32 under PyTorch's names, and the
   *  config as JSON in the metadata. Loading it gives back an identical model. */
  save(): Uint8Array {
    return encodeModel(this.layout, this.arena.f32(this.weights), this.toJSON());
  }

  /** Replace the weights from a safetensors file (from save(), or a PyTorch state_dict with the
   *  same architecture). Every name and shape is checked first: on any error nothing changes. */
  loadWeights(bytes: Uint8Array, options: LoadOptions = {}): void {
    const where = 'loadWeights';
    const file = decodeModelFile(where, bytes);
    this.setWeights(weightsFromFile(where, this.layout, file, this.getWeights(), options));
  }

  // --- training ---

  /** Loss and the gradient of every parameter for a batch; the weights are not changed. */
  computeGradients(batch: TBatch): { loss: number; grads: Record<string, Float32Array> } {
    const loss = this.lossAndGradients('computeGradients', batch);
    const g = this.arena.f32(this.grads);
    const grads: Record<string, Float32Array> = {};
    for (const e of this.layout.entries) grads[e.name] = g.slice(e.offset, e.offset + e.length);
    return { loss, grads };
  }

  /** One optimizer step on a batch: forward, BPTT, clipping, update. */
  trainStep(batch: TBatch, options: TrainOptions = {}): StepResult {
    const where = 'trainStep';
    const opt = this.resolveTraining(where, options);
    const loss = this.lossAndGradients(where, batch);
    const gradNorm = gradientNorm(this.kernels, this.grads);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      if (opt.onNonFinite === 'skip') return { loss, gradNorm, applied: false, learningRate: NaN };
      throw new RangeError(`${where}: ${this.describeNonFinite(loss)} at optimizer step ${opt.optimizer.step + 1}; ` +
        `the weights were left unchanged (lower the learning rate, set clipNorm, or pass onNonFinite: 'skip')`);
    }
    clipGradients(this.kernels, this.grads, gradNorm, opt.clipNorm, opt.clipValue);
    const learningRate = opt.schedule ? learningRateAt(opt.schedule, opt.learningRate, opt.optimizer.step) : opt.learningRate;
    opt.optimizer.apply(this.weights, this.grads, learningRate);
    return { loss, gradNorm, applied: true, learningRate };
  }

  /** Train over a data set for some epochs, in batches; yields to the event loop as it goes. */
  async fit(data: { x: TBatch['x']; y: TBatch['y'] }, options: FitOptions = {}): Promise<FitResult> {
    const where = 'fit';
    if (typeof data !== 'object' || data === null || !Array.isArray(data.x) || !Array.isArray(data.y)) {
      throw new TypeError(`${where}: data must be { x: inputs[], y: targets[] }, got ${describe(data)}`);
    }
    const N = data.x.length;
    if (N === 0) throw new RangeError(`${where}: data.x must hold at least one example, got none`);
    if (data.y.length !== N) throw new RangeError(`${where}: data.y must have one target per input (${N}), got ${data.y.length}`);
    const epochs = checkInt(where, 'epochs', options.epochs ?? 1);
    const batchSize = checkInt(where, 'batchSize', options.batchSize ?? 32);
    const yieldEveryMs = checkNumber(where, 'yieldEveryMs', options.yieldEveryMs ?? 50, 0);
    const shuffle = options.shuffle ?? true;
    this.resolveTraining(where, options);   // validate before the first step
    const batches = Math.ceil(N / batchSize);
    const order = Array.from({ length: N }, (_, i) => i);
    const epochLosses: number[] = [];
    const start = now();
    let lastYield = start;
    let steps = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (shuffle) this.rng.shuffle(order);
      let sum = 0;
      for (let b = 0; b < batches; b++) {
        if (options.signal?.aborted) return { epochLosses, steps, stopped: true };
        const idx = order.slice(b * batchSize, (b + 1) * batchSize);
        const batch = { x: idx.map((i) => data.x[i]), y: idx.map((i) => data.y[i]) } as unknown as TBatch;
        const r = this.trainStep(batch, options);
        steps++;
        sum += r.loss;
        const elapsedMs = now() - start;
        options.onProgress?.({
          epoch, epochs, batch: b, batches, step: steps, loss: r.loss, epochLoss: sum / (b + 1),
          gradNorm: r.gradNorm, stepsPerSecond: steps / Math.max(elapsedMs / 1000, 1e-9), elapsedMs,
        });
        if (now() - lastYield >= yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      epochLosses.push(sum / batches);
      options.onEpochEnd?.({ epoch, loss: sum / batches });
    }
    return { epochLosses, steps, stopped: false };
  }

  // --- lifetime ---

  /** Return all of this model's wasm memory to the allocator. The model is unusable after. */
  dispose(): void {
    if (this.arena.isDisposed) return;
    this.optimizer?.dispose();
    this.optimizer = undefined;
    this.releaseWorkspaces();
    this.arena.dispose();
  }

  get isDisposed(): boolean {
    return this.arena.isDisposed;
  }

  // --- internals ---

  protected entry(where: string, name: string): TensorEntry {
    const e = typeof name === 'string' ? this.layout.get(name) : undefined;
    if (!e) {
      const names = this.layout.entries.map((x) => x.alias ? `${x.name} (${x.alias})` : x.name).join(', ');
      throw new RangeError(`${where}: no parameter named ${describe(name)}; this model has ${names}`);
    }
    return e;
  }

  /** Byte pointer of a tensor in the parameter (or, with grads = true, gradient) region. */
  protected ptr(e: TensorEntry, grads = false): number {
    return (grads ? this.grads.ptr : this.weights.ptr) + 4 * e.offset;
  }

  private makeParamsObject(): Record<string, Float32Array> {
    const obj: Record<string, Float32Array> = {};
    for (const e of this.layout.entries) {
      for (const name of e.alias ? [e.name, e.alias] : [e.name]) {
        Object.defineProperty(obj, name, {
          enumerable: name === e.name,
          get: () => this.getParam(name),
          set: (v: ArrayLike<number>) => this.setParam(name, v),
        });
      }
    }
    return Object.freeze(obj);
  }

  private resolveTraining(where: string, options: TrainOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    const config = resolveOptimizer(where, options.optimizer ?? this.optimizer?.config ?? 'adam');
    const learningRate = options.learningRate === undefined ? undefined : checkNumber(where, 'learningRate', options.learningRate, 0);
    const schedule = options.schedule === undefined ? undefined : resolveSchedule(where, options.schedule);
    const clipNorm = options.clipNorm === undefined ? undefined : checkNumber(where, 'clipNorm', options.clipNorm, 0);
    const clipValue = options.clipValue === undefined ? undefined : checkNumber(where, 'clipValue', options.clipValue, 0);
    const onNonFinite = checkChoice(where, 'onNonFinite', options.onNonFinite ?? 'throw', ['throw', 'skip'] as const);
    if (!this.optimizer || JSON.stringify(this.optimizer.config) !== JSON.stringify(config)) {
      this.optimizer?.dispose();
      this.optimizer = new Optimizer(config, this.arena, this.layout.size);
    }
    return { optimizer: this.optimizer, learningRate: learningRate ?? config.learningRate, schedule, clipNorm, clipValue, onNonFinite };
  }

  /** Name the first tensor with a non-finite gradient (only on the error path). */
  private describeNonFinite(loss: number): string {
    if (!Number.isFinite(loss)) return `the loss is ${loss}`;
    const g = this.arena.f32(this.grads);
    for (const e of this.layout.entries) {
      for (let i = 0; i < e.length; i++) {
        if (!Number.isFinite(g[e.offset + i])) return `the gradient of ${e.name} has ${g[e.offset + i]} at index ${i}`;
      }
    }
    return 'the gradient norm is not finite';
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

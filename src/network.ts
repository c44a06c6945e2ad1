// What every model shares: one parameter region and one gradient region in wasm memory laid
// out by a layout table, seeded PyTorch-style initialisation, named parameter access and model
// files. A model says how to validate a batch and how to run its forward and backward passes;
// training (optimizers, schedules, the fit loop, checkpoints, workers) is its own module,
// src/train/, which sees the model only through the Trainable the constructor hands it.
import { Arena, atomic, disposedError, type Region } from './arena.js';
import { checkCheckpointConfig, type StatSums } from './checkpoint.js';
import { checkBytes, checkLoadOptions, decodeModelFile, encodeModel, weightsFromFile, type LoadOptions } from './io.js';
import { KEYS } from './keys.js';
import { initialise, RECURRENT_BIAS, type Layout, type TensorEntry } from './layout.js';
import { Random } from './random.js';
import { registerTrainable, type Trainable } from './train/trainable.js';
import { Training } from './train/training.js';
import type {
  DataStream, Dataset, Example, Examples, FitOptions, FitResult, MetricName, Metrics, StatsWanted, StepResult, TrainOptions, WindowLoss,
} from './train/types.js';
import { checkFloats, checkObject, describe, labelled } from './validate.js';
import type { Build, Kernels } from './wasm.js';

export type {
  TrainOptions, StepResult, MetricName, Metrics, Progress, EpochLogs, Monitor, EarlyStoppingOptions, ReduceLROnPlateauOptions, Dataset, FitOptions,
  FitResult, Examples, WindowLoss, StatsWanted, DataStream, Example,
} from './train/types.js';

/** Property names that code which was handed `params` may probe without meaning a parameter
 *  (serialisers, promises, test matchers, DOM checks): reading them gives undefined. */
const PROBED = new Set(['toJSON', 'then', 'asymmetricMatch', 'nodeType', 'tagName', 'inspect', 'constructor']);

/** What computeGradients copies out. */
export interface GradientOptions {
  /** Copy out only these tensors' gradients, keyed as given (PyTorch names or seed aliases);
   *  [] copies none (read them with gradientsView()). Default: every tensor, under its
   *  canonical name (a tied or shared tensor once, under its first name; ask for another of its
   *  names to have it keyed so). */
  names?: readonly string[];
}

export abstract class Network<TBatch extends Examples = Examples> {
  /** The parameter layout (names, shapes, offsets). */
  readonly layout: Layout;
  /** Every parameter by name, as copies; assign a typed array of the right length to set one.
   *  Names are PyTorch's (weight_ih_l0, …, head.weight), plus the textbook's (W_ax, W_aa, b_x,
   *  b_a, W_ya, b_y) where the model has them. */
  readonly params: Record<string, Float32Array<ArrayBuffer>>;

  protected readonly arena: Arena;
  protected readonly weights: Region;
  protected readonly grads: Region;
  /** Seeded generator for shuffling, dropout and sampling. */
  protected readonly rng: Random;
  /** The optimizer, the fit position and the rule of one fit at a time (src/train/). */
  private readonly training: Training<TBatch>;

  protected constructor(protected readonly kernels: Kernels, readonly backend: Build, layout: Layout, seed: number) {
    this.layout = layout;
    this.arena = new Arena(kernels, new.target.name);
    this.weights = this.arena.alloc(layout.size, 'parameters');
    try {
      this.grads = this.arena.alloc(layout.size, 'gradients');
    } catch (e) {
      this.arena.dispose();
      throw e;
    }
    // PyTorch's initialisation, drawn in layout order
    const init = new Random(seed);
    initialise(layout, this.arena.f32(this.weights), () => init.uniform());
    this.rng = new Random(seed ^ 0x2545f491);
    this.params = this.makeParamsObject();
    const trainable = this.trainable();
    registerTrainable(this, trainable);
    this.training = new Training(trainable);
    collected?.register(this, this.arena, this);
  }

  /** The configuration as plain JSON (saved in model files; round-trips through the factory). */
  abstract toJSON(): object;

  /** Validate a labeled batch, run forward and backward in training mode (dropout on), leave
   *  ∂L/∂θ in the gradient region and return the loss. Nothing in wasm may change before
   *  validation is complete. */
  protected abstract lossAndGradients(where: string, batch: TBatch): number;

  /** Validate a labeled batch as lossAndGradients does, and nothing more: no wasm memory,
   *  generator or workspace is touched. fit checks in-memory data with it before its first
   *  step, and streamed data as it is read. Each model runs the checks (and packing) its
   *  lossAndGradients starts with, in TypeScript. */
  protected abstract checkBatch(where: string, batch: TBatch): void;

  /** Return the model's workspaces (everything but params, grads and optimizer state). */
  protected abstract releaseWorkspaces(): void;

  /** Truncated BPTT, for models over time steps: validate the batch, then for each window of
   *  k steps leave that window's ∂L/∂θ in the gradient region and yield its loss; the caller
   *  updates the weights before asking for the next window. Returns the loss of the whole
   *  batch. The default refuses. */
  protected truncatedWindows(where: string, _batch: TBatch, _k: number): Iterator<WindowLoss, number, void> {
    throw new TypeError(`${where}: tbptt needs a model that runs over time steps; this model does not support it`);
  }

  /** Metrics this model can report (override with what its outputs allow). */
  protected supportedMetrics(): readonly MetricName[] {
    return [];
  }

  /** Metric sums of the batch the last lossAndGradients (or window) ran, or undefined. */
  protected batchStats(_want: StatsWanted): StatSums | undefined {
    return undefined;
  }

  /** Loss and metric sums of a labeled batch, without changing anything. Models override this
   *  to run in inference mode (no dropout, no gradients); the default runs lossAndGradients. */
  protected evaluateBatch(where: string, batch: TBatch, want: StatsWanted): StatSums {
    const loss = this.lossAndGradients(where, batch);
    return this.batchStats(want) ?? { lossSum: loss, terms: 1, correct: 0, counted: 0 };
  }

  /** Number of trainable values. */
  get numParams(): number {
    return this.layout.size;
  }

  /** Bytes of WebAssembly memory this model's regions hold: parameters, gradients, optimizer
   *  moments and workspaces (getMemoryStats() lists every model, and what the process holds). */
  get memoryBytes(): number {
    return this.arena.usedBytes;
  }

  // --- weights ---

  /** A copy of one parameter tensor (canonical name or seed alias). */
  getParam(name: string): Float32Array<ArrayBuffer> {
    return this.readParam('getParam', name);
  }

  /** Overwrite one parameter tensor from `values` (row-major, shape as in layout). */
  setParam(name: string, values: ArrayLike<number>): void {
    this.writeParam('setParam', name, values);
  }

  /** A copy of all parameters as one flat array in layout order. */
  getWeights(): Float32Array<ArrayBuffer> {
    this.live('getWeights');
    return this.arena.f32(this.weights).slice();
  }

  /** Overwrite all parameters from one flat array in layout order. */
  setWeights(values: ArrayLike<number>): void {
    this.live('setWeights');
    this.training.assertIdle('setWeights');
    const v = checkFloats('setWeights', 'values', values, this.layout.size);
    this.arena.f32(this.weights).set(v);
  }

  /** Zero-copy view of the parameter region. Invalid after any allocation in the module
   *  (creating a model, a larger batch): re-fetch it rather than keeping it. */
  weightsView(): Float32Array<ArrayBuffer> {
    this.live('weightsView');
    return this.arena.f32(this.weights);
  }

  /** The model as a safetensors file: every parameter as f32 under PyTorch's names, and the
   *  config as JSON in the metadata. Loading it gives back an identical model. */
  save(): Uint8Array<ArrayBuffer> {
    this.live('save');
    return encodeModel(this.layout, this.arena.f32(this.weights), this.toJSON());
  }

  /** Replace the weights from a safetensors file (from save(), or a PyTorch state_dict with the
   *  same architecture; a Uint8Array or an ArrayBuffer). Every name and shape is checked first:
   *  on any error nothing changes. */
  loadWeights(bytes: Uint8Array | ArrayBuffer, options: LoadOptions = {}): void {
    const where = 'loadWeights';
    this.live(where);
    this.training.assertIdle(where);
    const o = checkLoadOptions(where, options, KEYS.loadWeights);
    const file = decodeModelFile(where, bytes);
    this.setWeights(weightsFromFile(where, this.layout, file, this.getWeights(), o));
  }

  // --- checkpoints ---

  /** The whole training state as a safetensors file (see checkpoint.ts): weights, optimizer
   *  config, moments and step count (= the schedule's position), the generator's state, and
   *  where an interrupted fit() stands. Restoring it with setTrainingState and training on
   *  reproduces the uninterrupted run bit for bit. */
  getTrainingState(): Uint8Array<ArrayBuffer> {
    this.live('getTrainingState');
    return this.training.getState();
  }

  /** Restore a state from getTrainingState() (a Uint8Array or an ArrayBuffer), on a model of
   *  the same configuration (the seed may differ). Everything is checked first: on any error
   *  nothing changes. */
  setTrainingState(bytes: Uint8Array | ArrayBuffer): void {
    const where = 'setTrainingState';
    this.live(where);
    this.training.assertIdle(where);
    const b = checkBytes(where, bytes, 'a checkpoint');
    checkCheckpointConfig(where, this.toJSON() as Record<string, unknown>, b);
    this.training.setState(b);
  }

  // --- training ---

  /** Loss and the gradient of every parameter (or of options.names) for a batch, in training
   *  mode (dropout on), as copies; the weights are not changed. gradientsView() reads the same
   *  gradients without copying. */
  computeGradients(batch: TBatch, options: GradientOptions = {}): { loss: number; grads: Record<string, Float32Array<ArrayBuffer>> } {
    const where = 'computeGradients';
    this.live(where);
    this.training.assertIdle(where);
    const wanted = this.gradientEntries(where, options);
    const loss = labelled(where, () => atomic(() => this.lossAndGradients(where, batch)));
    const g = this.arena.f32(this.grads);
    const grads: Record<string, Float32Array<ArrayBuffer>> = {};
    for (const [name, e] of wanted) grads[name] = g.slice(e.offset, e.offset + e.length);
    return { loss, grads };
  }

  /** Zero-copy views of the gradient region by canonical name: the gradients of the last
   *  computeGradients, trainStep or fit step (after clipping, for a step). Invalid after any
   *  allocation in the module (creating a model, a larger batch) and overwritten by the next
   *  gradient: read them at once, or copy what you keep. */
  gradientsView(): Record<string, Float32Array<ArrayBuffer>> {
    this.live('gradientsView');
    const views: Record<string, Float32Array<ArrayBuffer>> = {};
    for (const e of this.layout.entries) views[e.name] = this.arena.f32(this.grads, e.offset, e.length);
    return views;
  }

  /** One optimizer step on a batch (one per window with tbptt): forward, BPTT, the non-finite
   *  guard, clipping, update. */
  trainStep(batch: TBatch, options: TrainOptions = {}): StepResult {
    this.live('trainStep');
    return this.training.trainStep(batch, options);
  }

  /** Loss and metrics over labeled examples, in inference mode; the model is not changed. */
  evaluate(data: Dataset<TBatch>, options: { batchSize?: number; metrics?: readonly MetricName[] } = {}): Metrics {
    this.live('evaluate');
    return this.training.evaluate(data, options);
  }

  /** Train over a data set for some epochs, in batches, yielding to the event loop as it goes:
   *  validation, metrics, early stopping, callbacks, abort and resume, on this thread or over
   *  worker threads (`workers`). One fit at a time: while it runs, the model can be read
   *  (getWeights, getTrainingState, save), run (forward, evaluate, sampling) and disposed, but
   *  not trained or changed otherwise. */
  async fit(data: Dataset<TBatch> | DataStream<TBatch | Example<TBatch>>, options: FitOptions = {}): Promise<FitResult> {
    this.live('fit');
    return this.training.fit(data, options);
  }

  // --- lifetime ---

  /** Return all of this model's wasm memory to the allocator. The model is unusable after. */
  dispose(): void {
    if (this.arena.isDisposed) return;
    collected?.unregister(this);
    this.training.dispose();
    this.releaseWorkspaces();
    this.arena.dispose();
  }

  get isDisposed(): boolean {
    return this.arena.isDisposed;
  }

  /** The guard at the top of every public method that reads, runs or changes the model: once
   *  it is disposed, a TypeError naming the method (`where`). */
  protected live(where: string): void {
    if (this.arena.isDisposed) throw disposedError(where);
  }

  // --- internals ---

  /** getParam, and reading params[name] (`where` names which). */
  private readParam(where: string, name: string): Float32Array<ArrayBuffer> {
    this.live(where);
    const e = this.entry(where, name);
    return this.arena.f32(this.weights, e.offset, e.length).slice();
  }

  /** setParam, and assigning params[name] (`where` names which). */
  private writeParam(where: string, name: string, values: ArrayLike<number>): void {
    this.live(where);
    this.training.assertIdle(where);
    const e = this.entry(where, name);
    const label = name === e.name ? e.name : `${name} (= ${e.name})`;
    const v = checkFloats(where, `values for ${label} (shape [${e.shape.join(', ')}])`, values, e.length);
    this.arena.f32(this.weights, e.offset, e.length).set(v);
  }

  /** The tensors options.names asks for (all by default), checked before anything runs. */
  private gradientEntries(where: string, options: GradientOptions): [string, TensorEntry][] {
    checkObject(where, 'options', options, KEYS.computeGradients);
    if (options.names === undefined) return this.layout.entries.map((e) => [e.name, e]);
    if (!Array.isArray(options.names)) throw new TypeError(`${where}: names must be an array of parameter names, got ${describe(options.names)}`);
    return options.names.map((name) => [name, this.entry(where, name)]);
  }

  protected entry(where: string, name: string): TensorEntry {
    const e = typeof name === 'string' ? this.layout.get(name) : undefined;
    if (!e) throw missingParam(where, name, this.layout);
    return e;
  }

  /** Byte pointer of a tensor in the parameter (or, with grads = true, gradient) region. */
  protected ptr(e: TensorEntry, grads = false): number {
    return (grads ? this.grads.ptr : this.weights.ptr) + 4 * e.offset;
  }

  /** The model's side of training (see train/trainable.ts): its regions and its passes. */
  private trainable(): Trainable<TBatch> {
    const config = () => this.toJSON() as Record<string, unknown>;
    return {
      kernels: this.kernels, arena: this.arena, layout: this.layout, weights: this.weights, grads: this.grads, rng: this.rng,
      backend: this.backend,
      reduction: () => (config().reduction === 'mean' ? 'mean' : 'sum'),
      config,
      save: () => this.save(),
      isDisposed: () => this.isDisposed,
      // a workspace too large for memory is refused in the kernels' allocator, which does not
      // know the function called: its error gets that name here, and the workspaces the pass
      // grew are put back (atomic)
      lossAndGradients: (where, batch) => labelled(where, () => atomic(() => this.lossAndGradients(where, batch))),
      checkBatch: (where, batch) => this.checkBatch(where, batch),
      truncatedWindows: (where, batch, k) => atomicSteps(where, this.truncatedWindows(where, batch, k)),
      batchStats: (want) => this.batchStats(want),
      evaluateBatch: (where, batch, want) => labelled(where, () => atomic(() => this.evaluateBatch(where, batch, want))),
      supportedMetrics: () => this.supportedMetrics(),
    };
  }

  private makeParamsObject(): Record<string, Float32Array<ArrayBuffer>> {
    const obj: Record<string, Float32Array<ArrayBuffer>> = {};
    for (const e of this.layout.entries) {
      for (const name of e.alias ? [e.name, e.alias] : [e.name]) {
        Object.defineProperty(obj, name, {
          enumerable: name === e.name,
          get: () => this.readParam(`params.${name}`, name),
          set: (v: ArrayLike<number>) => this.writeParam(`params.${name}`, name, v),
        });
      }
    }
    // reading (or assigning) a name the model does not have is an error listing the names it
    // has, instead of undefined; keys, `in`, spreading and JSON read the frozen object itself,
    // and the names libraries probe for (toJSON, then, Symbol.toPrimitive, $$typeof, …) stay
    // undefined
    return new Proxy(Object.freeze(obj), {
      get: (target, key, receiver) => {
        if (typeof key === 'symbol' || key in target || !/^[A-Za-z]/.test(key) || PROBED.has(key)) return Reflect.get(target, key, receiver);
        throw missingParam(`params.${key}`, key, this.layout);
      },
      set: (target, key, value, receiver) => {
        if (typeof key === 'string' && !(key in target)) throw missingParam(`params.${key}`, key, this.layout);
        return Reflect.set(target, key, value, receiver);
      },
    });
  }
}

/** `using model = …` disposes the model at the end of its block, where the runtime has it. */
export interface Network extends Disposable {}
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Network.prototype, Symbol.dispose, { value(this: Network) { this.dispose(); }, writable: true, configurable: true });
}

/** A safety net for models never disposed: once one is garbage-collected, its arena (which
 *  holds every region it reserved, and no reference back to the model) is freed. dispose()
 *  unregisters the model first, and Arena.dispose() is idempotent, so nothing is freed twice. */
const collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Arena>((arena) => arena.dispose()) : undefined;

/** Truncated BPTT's windows, each one atomic and in the name of `where`: a window whose
 *  workspace does not fit is refused so, and leaves the workspaces as they were before it. */
function atomicSteps<T, R>(where: string, windows: Iterator<T, R, void>): Iterator<T, R, void> {
  return {
    next: () => labelled(where, () => atomic(() => windows.next())),
    return: (value?: R) => windows.return?.(value) ?? { done: true, value: value as R },
  };
}

/** The error for a parameter name a model does not have: the names it has. */
function missingParam(where: string, name: unknown, layout: Layout): RangeError {
  const names = layout.entries.map((x) => x.alias ? `${x.name} (${x.alias})` : x.name).join(', ');
  // a recurrent bias asked of layers made without them: say why it is not there
  const biasFree = typeof name === 'string' && (RECURRENT_BIAS.test(name) || name === 'b_x' || name === 'b_a')
    && layout.entries.some((e) => e.role === 'weight_ih' && !layout.cell(e.stack, e.layer, e.direction).bias_ih);
  // likewise the output layer's bias of a model made without one
  const headFree = (name === 'head.bias' || name === 'b_y') && layout.head() !== undefined && !layout.head()!.bias;
  const why = biasFree ? ' (its recurrent layers have no biases: bias: false)' : headFree ? ' (its output layer has no bias: headBias: false)' : '';
  return new RangeError(`${where}: no parameter named ${describe(name)}; this model has ${names}${why}`);
}

// What every model shares: one parameter region and one gradient region in wasm memory laid
// out by a layout table, seeded PyTorch-style initialisation, named parameter access, model
// files, and training: optimizers, learning-rate schedules, clipping, truncated BPTT, the
// non-finite guard, fit() (validation, metrics, early stopping, callbacks, abort, yielding)
// and checkpoints of the whole training state. A model says how to validate a batch and how
// to run its forward and backward passes; the rest is here.
import { Arena, type Region } from './arena.js';
import { decodeCheckpoint, encodeCheckpoint, type FitPosition, type StatSums } from './checkpoint.js';
import { checkLoadOptions, decodeModelFile, encodeModel, weightsFromFile, type LoadOptions } from './io.js';
import type { Layout, TensorEntry } from './layout.js';
import { clipGradients, gradientNorm, Optimizer, resolveOptimizer, type OptimizerConfig, type OptimizerName } from './optim.js';
import { Random } from './random.js';
import { learningRateAt, resolveSchedule, type ResolvedSchedule, type ScheduleConfig, type ScheduleName } from './schedule.js';
import { KEYS } from './keys.js';
import { checkBoolean, checkChoice, checkFloats, checkInt, checkKeys, checkNumber, checkObject, describe } from './validate.js';
import type { Kernels } from './wasm.js';

/** How to take a training step. */
export interface TrainOptions {
  /** Optimizer name or config. Default 'adam'. Changing the type resets its state. */
  optimizer?: OptimizerName | OptimizerConfig;
  /** The base learning rate (the optimizer's own when omitted); a schedule scales it. */
  learningRate?: number;
  /** Learning-rate schedule over optimizer steps; its position is the optimizer's step count
   *  (saved in checkpoints). Default: constant. */
  schedule?: ScheduleName | ScheduleConfig;
  /** Clip gradients to this global L2 norm (torch.nn.utils.clip_grad_norm_). Default off. */
  clipNorm?: number;
  /** Clip every gradient value to [−clipValue, clipValue]. Default off. */
  clipValue?: number;
  /** On a non-finite loss or gradient: 'throw' (default) or 'skip' the step. Either way the
   *  weights are left as they were, those of the last good step. */
  onNonFinite?: 'throw' | 'skip';
  /** Truncated BPTT: split each batch into windows of this many time steps and take one
   *  optimizer step per window; each window starts from the state the previous one ended in,
   *  as data (no gradient crosses a window boundary). A window as long as the batch is full
   *  BPTT. One-directional sequence models only. Default: off (full BPTT). */
  tbptt?: number;
}

export interface StepResult {
  /** The batch's loss (as the model's reduction says); with tbptt, over all windows. */
  loss: number;
  /** Global L2 norm of the gradient before clipping; with tbptt, the largest of the windows. */
  gradNorm: number;
  /** False when a step was skipped (non-finite loss or gradient). */
  applied: boolean;
  /** Optimizer steps taken: 1, or with tbptt one per window not skipped. */
  steps: number;
  /** Steps skipped for a non-finite loss or gradient. */
  skipped: number;
  /** Learning rate of the last step taken (NaN when none was). */
  learningRate: number;
}

/** Metrics fit() and evaluate() can report besides the loss. 'perplexity' and 'bitsPerChar'
 *  are exp and log2 of the mean cross-entropy per predicted token (softmax outputs). */
export type MetricName = 'accuracy' | 'perplexity' | 'bitsPerChar';

export interface Metrics {
  /** Mean loss per term: per predicted step (softmax), per output value (sigmoid, linear). */
  loss: number;
  /** Fraction right: argmax = target (softmax), or each output thresholded at 0.5 (sigmoid). */
  accuracy?: number;
  perplexity?: number;
  bitsPerChar?: number;
}

export interface Progress {
  epoch: number;
  epochs: number;
  /** Batch index within the epoch. */
  batch: number;
  batches: number;
  /** Optimizer steps so far in this fit() call, over all epochs. */
  step: number;
  /** Loss of this batch (as the model's reduction says). */
  loss: number;
  /** Mean batch loss of the epoch so far. */
  epochLoss: number;
  /** Pre-clip global gradient norm (see StepResult). */
  gradNorm: number;
  learningRate: number;
  /** False when a step of this batch was skipped (onNonFinite: 'skip'). */
  applied: boolean;
  stepsPerSecond: number;
  elapsedMs: number;
}

/** What fit() reports after every epoch. */
export interface EpochLogs {
  epoch: number;
  /** Mean batch loss of the epoch (as the model's reduction says); skipped batches excluded. */
  loss: number;
  /** Training metrics over the epoch (dropout on), when `metrics` were asked for. */
  metrics?: Metrics;
  /** Validation metrics at the end of the epoch (inference mode), with validation data. */
  val?: Metrics;
  /** Learning rate of the epoch's last step. */
  learningRate: number;
  /** Optimizer steps so far in this fit() call. */
  steps: number;
  elapsedMs: number;
}

export type Monitor = 'loss' | 'val_loss' | MetricName | `val_${MetricName}`;

export interface EarlyStoppingOptions {
  /** Epochs without improvement before training stops. */
  patience: number;
  /** What to watch: 'val_loss' (the default with validation data), 'loss' (the default
   *  without: the epoch's mean training batch loss), a metric, or 'val_' + a metric.
   *  Accuracy is maximised, everything else minimised. */
  monitor?: Monitor;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** When early stopping ends training, put back the weights of the best epoch. Default true. */
  restoreBestWeights?: boolean;
}

/** Labeled examples: inputs and one target per input. */
export interface Dataset<TBatch extends Examples = Examples> {
  x: TBatch['x'];
  y: TBatch['y'];
}

export interface FitOptions extends Omit<TrainOptions, 'onNonFinite'> {
  /** Passes over the data: the total, counting epochs before a resume. Default 1. */
  epochs?: number;
  /** Examples per batch. Default 32. */
  batchSize?: number;
  /** Shuffle the order every epoch, with the model's seeded generator. Default true. */
  shuffle?: boolean;
  /** Examples to validate on after every epoch. */
  validationData?: Dataset;
  /** Or: this fraction of the data, taken from its end before any shuffling, as Keras. */
  validationSplit?: number;
  /** Examples per validation batch. Default: batchSize. */
  validationBatchSize?: number;
  /** Metrics to report besides the loss, for training and validation. Default none. */
  metrics?: readonly MetricName[];
  /** Stop when the monitored value has not improved for `patience` epochs. */
  earlyStopping?: EarlyStoppingOptions;
  /** On a non-finite loss or gradient: 'throw' (default; fit rejects with an error naming the
   *  epoch, batch, step and tensor), 'skip' the step, or 'stop' training cleanly (the result
   *  says why). The weights are always those of the last good step. */
  onNonFinite?: 'throw' | 'skip' | 'stop';
  /** Called after every batch; a returned promise is awaited. */
  onProgress?: (p: Progress) => void | Promise<void>;
  /** Called after every epoch; a returned promise is awaited (e.g. writing a checkpoint). */
  onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  /** Stops training cleanly before the next batch. fit({ resume: true }) continues there. */
  signal?: AbortSignal;
  /** Yield to the event loop at least this often, in ms, so pages and servers stay responsive. Default 50. */
  yieldEveryMs?: number;
  /** Continue where the last fit() stopped (aborted, or restored by setTrainingState), with
   *  the same data and options: `epochs` counts the epochs already run. Without a saved
   *  position this starts at epoch 0. Default false. */
  resume?: boolean;
}

export interface FitResult {
  /** Mean batch loss of each epoch run in this call. */
  epochLosses: number[];
  /** The logs of each epoch run in this call. */
  history: EpochLogs[];
  /** Optimizer steps taken in this call. */
  steps: number;
  /** Steps skipped for a non-finite loss or gradient. */
  skippedSteps: number;
  /** True when training was ended by the signal, early stopping or a non-finite value. */
  stopped: boolean;
  stopReason?: 'aborted' | 'early-stopping' | 'non-finite';
  /** With stopReason 'non-finite': what was found, and where. */
  message?: string;
  /** With early stopping: the best epoch so far (its weights are restored when it stopped training). */
  bestEpoch?: number;
}

/** A batch with targets: the shape every model's training data takes. */
export interface Examples {
  x: readonly unknown[];
  y: readonly unknown[];
}

/** One window of truncated BPTT: its loss and its time steps [t0, t1). */
export interface WindowLoss {
  loss: number;
  t0: number;
  t1: number;
}

/** Which statistics a model should gather for metrics. */
export interface StatsWanted {
  accuracy: boolean;
}

interface ResolvedTraining {
  optimizer: Optimizer;
  baseRate: number;
  schedule?: ResolvedSchedule;
  clipNorm?: number;
  clipValue?: number;
  onNonFinite: 'throw' | 'skip' | 'stop';
  tbptt?: number;
}

/** A batch's step: StepResult, what went wrong if anything, and metric sums. */
interface Outcome extends StepResult {
  problem?: string;
  sums?: StatSums;
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
  /** Where the last fit() stands (for resume and checkpoints). */
  private fitPosition?: FitPosition;
  /** Early stopping's best weights so far. */
  private bestWeights?: Float32Array;

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
    collected?.register(this, this.arena, this);
  }

  /** The configuration as plain JSON (saved in model files; round-trips through the factory). */
  abstract toJSON(): object;

  /** Validate a labeled batch, run forward and backward in training mode (dropout on), leave
   *  ∂L/∂θ in the gradient region and return the loss. Nothing in wasm may change before
   *  validation is complete. */
  protected abstract lossAndGradients(where: string, batch: TBatch): number;

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
    const o = checkLoadOptions(where, options, KEYS.loadWeights);
    const file = decodeModelFile(where, bytes);
    this.setWeights(weightsFromFile(where, this.layout, file, this.getWeights(), o));
  }

  // --- checkpoints ---

  /** The whole training state as a safetensors file (see checkpoint.ts): weights, optimizer
   *  config, moments and step count (= the schedule's position), the generator's state, and
   *  where an interrupted fit() stands. Restoring it with setTrainingState and training on
   *  reproduces the uninterrupted run bit for bit. */
  getTrainingState(): Uint8Array {
    return encodeCheckpoint(this.layout, {
      config: this.toJSON() as Record<string, unknown>,
      weights: this.getWeights(),
      optimizer: this.optimizer && { config: this.optimizer.config, ...this.optimizer.getState() },
      rng: this.rng.getState(),
      fit: this.fitPosition,
      bestWeights: this.bestWeights,
    });
  }

  /** Restore a state from getTrainingState(), on a model of the same configuration (the seed
   *  may differ). Everything is checked first: on any error nothing changes. */
  setTrainingState(bytes: Uint8Array): void {
    const where = 'setTrainingState';
    const s = decodeCheckpoint(where, this.layout, bytes);
    const mine = this.toJSON() as Record<string, unknown>;
    for (const key of new Set([...Object.keys(mine), ...Object.keys(s.config)])) {
      if (key === 'seed') continue;
      const a = JSON.stringify(mine[key]), b = JSON.stringify(s.config[key]);
      if (a !== b) throw new RangeError(`${where}: the checkpoint is for a model with ${key} = ${b}, this model has ${key} = ${a}`);
    }
    const optimizer = s.optimizer && new Optimizer(s.optimizer.config, this.arena, this.layout.size);   // allocates
    optimizer?.setState(s.optimizer!);
    this.optimizer?.dispose();
    this.optimizer = optimizer;
    this.arena.f32(this.weights).set(s.weights);
    this.rng.setState(s.rng);
    this.fitPosition = s.fit;
    this.bestWeights = s.bestWeights;
  }

  // --- training ---

  /** Loss and the gradient of every parameter for a batch, in training mode (dropout on); the
   *  weights are not changed. */
  computeGradients(batch: TBatch): { loss: number; grads: Record<string, Float32Array> } {
    const loss = this.lossAndGradients('computeGradients', batch);
    const g = this.arena.f32(this.grads);
    const grads: Record<string, Float32Array> = {};
    for (const e of this.layout.entries) grads[e.name] = g.slice(e.offset, e.offset + e.length);
    return { loss, grads };
  }

  /** One optimizer step on a batch (one per window with tbptt): forward, BPTT, the non-finite
   *  guard, clipping, update. */
  trainStep(batch: TBatch, options: TrainOptions = {}): StepResult {
    const where = 'trainStep';
    checkObject(where, 'options', options, KEYS.trainStep);
    const t = this.resolveTraining(where, options, ['throw', 'skip']);
    const { problem, sums: _, ...result } = this.stepBatch(where, batch, t);
    if (problem !== undefined && t.onNonFinite === 'throw') {
      const weights = result.steps === 0 ? 'the weights were left unchanged'
        : `the weights are those of optimizer step ${t.optimizer.step}, the last good one`;
      throw new RangeError(`${where}: ${problem}; ${weights} (lower the learning rate, set clipNorm, or pass onNonFinite: 'skip')`);
    }
    return result;
  }

  /** Loss and metrics over labeled examples, in inference mode; the model is not changed. */
  evaluate(data: Dataset<TBatch>, options: { batchSize?: number; metrics?: readonly MetricName[] } = {}): Metrics {
    const where = 'evaluate';
    checkDataset(where, 'data', data);
    checkObject(where, 'options', options, KEYS.evaluate);
    const batchSize = checkInt(where, 'batchSize', options.batchSize ?? 32);
    const metrics = this.resolveMetrics(where, options.metrics);
    return this.evaluateData(where, data, batchSize, metrics);
  }

  /** Train over a data set for some epochs, in batches, yielding to the event loop as it goes:
   *  validation, metrics, early stopping, callbacks, abort and resume. */
  async fit(data: Dataset<TBatch>, options: FitOptions = {}): Promise<FitResult> {
    const where = 'fit';
    checkDataset(where, 'data', data);
    checkObject(where, 'options', options, KEYS.fit);
    // every option is checked before the first step
    const epochs = checkInt(where, 'epochs', options.epochs ?? 1);
    const batchSize = checkInt(where, 'batchSize', options.batchSize ?? 32);
    const yieldEveryMs = checkNumber(where, 'yieldEveryMs', options.yieldEveryMs ?? 50, 0);
    const shuffle = checkBoolean(where, 'shuffle', options.shuffle ?? true);
    const metrics = this.resolveMetrics(where, options.metrics);
    const { train, val } = splitValidation(where, data, options);
    const valBatchSize = checkInt(where, 'validationBatchSize', options.validationBatchSize ?? batchSize);
    const early = options.earlyStopping === undefined ? undefined : resolveEarlyStopping(where, options.earlyStopping, val !== undefined, metrics);
    for (const name of ['onProgress', 'onEpochEnd'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${where}: ${name} must be a function, got ${describe(options[name])}`);
    }
    const resume = checkBoolean(where, 'resume', options.resume ?? false);
    const t = this.resolveTraining(where, options, ['throw', 'skip', 'stop']);
    const want = { accuracy: metrics.includes('accuracy') };
    const N = train.x.length;
    const batches = Math.ceil(N / batchSize);

    // where to start: epoch 0, or where the last fit stopped
    let pos = resume ? this.fitPosition : undefined;
    if (pos) {
      if (pos.examples !== N || pos.batchSize !== batchSize || pos.shuffle !== shuffle) {
        throw new RangeError(`${where}: resume needs the data and batches of the run it continues: it had ${pos.examples} training examples ` +
          `in batches of ${pos.batchSize}, shuffle ${pos.shuffle}; got ${N}, ${batchSize}, shuffle ${shuffle}`);
      }
      if (!early) pos.early = undefined;
      else if (!pos.early) pos.early = { best: NaN, bestEpoch: -1, wait: 0 };
      if (!early?.restoreBestWeights) this.bestWeights = undefined;
    } else {
      pos = {
        examples: N, batchSize, shuffle, epoch: 0, batch: 0, orderRng: this.rng.getState(),
        lossSum: 0, batches: 0, sums: zeroSums(), early: early && { best: NaN, bestEpoch: -1, wait: 0 },
      };
      this.bestWeights = undefined;
    }
    this.fitPosition = pos;

    const result: FitResult = { epochLosses: [], history: [], steps: 0, skippedSteps: 0, stopped: false };
    const stop = (reason: FitResult['stopReason'], message?: string): FitResult => {
      result.stopped = true;
      result.stopReason = reason;
      if (message) result.message = message;
      if (reason === 'early-stopping' && this.bestWeights) this.setWeights(this.bestWeights);
      return finish();
    };
    const finish = (): FitResult => {
      if (pos!.early && pos!.early.bestEpoch >= 0) result.bestEpoch = pos!.early.bestEpoch;
      return result;
    };
    const order = new Array<number>(N);
    const start = now();
    let lastYield = start;
    let learningRate = NaN;
    while (pos.epoch < epochs) {
      const epoch = pos.epoch;
      if (early && pos.batch === 0 && pos.early!.wait >= early.patience) return stop('early-stopping');
      // the epoch's order: drawn at its start; redrawn from the same state when resuming inside it
      if (pos.batch === 0) pos.orderRng = this.rng.getState();
      for (let i = 0; i < N; i++) order[i] = i;
      if (shuffle) {
        const rng = pos.batch === 0 ? this.rng : new Random(0);
        if (pos.batch > 0) rng.setState(pos.orderRng);
        rng.shuffle(order);
      }
      for (let b = pos.batch; b < batches; b++) {
        if (options.signal?.aborted) return stop('aborted');
        const idx = order.slice(b * batchSize, (b + 1) * batchSize);
        const batch = { x: idx.map((i) => train.x[i]), y: idx.map((i) => train.y[i]) } as unknown as TBatch;
        const r = this.stepBatch(where, batch, t, metrics.length > 0 ? want : undefined);
        result.steps += r.steps;
        result.skippedSteps += r.skipped;
        if (!Number.isNaN(r.learningRate)) learningRate = r.learningRate;
        if (r.problem !== undefined && t.onNonFinite !== 'skip') {
          const message = `${r.problem} (epoch ${epoch + 1} of ${epochs}, batch ${b + 1} of ${batches}); ` +
            `training stopped with the weights of the last good step`;
          if (t.onNonFinite === 'stop') return stop('non-finite', message);
          throw new RangeError(`${where}: ${message} (lower the learning rate, set clipNorm, or pass onNonFinite: 'skip')`);
        }
        if (r.applied) {
          pos.lossSum += r.loss;
          pos.batches++;
          if (r.sums) addSums(pos.sums, r.sums);
        }
        pos.batch = b + 1;                          // = batches: only the epoch's end is left
        const elapsedMs = now() - start;
        await options.onProgress?.({
          epoch, epochs, batch: b, batches, step: result.steps, loss: r.loss, epochLoss: pos.lossSum / pos.batches,
          gradNorm: r.gradNorm, learningRate: r.learningRate, applied: r.applied,
          stepsPerSecond: result.steps / Math.max(elapsedMs / 1000, 1e-9), elapsedMs,
        });
        if (now() - lastYield >= yieldEveryMs) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }

      // the epoch's end: metrics, validation, early stopping, then the callback
      const logs: EpochLogs = { epoch, loss: pos.lossSum / pos.batches, learningRate, steps: result.steps, elapsedMs: now() - start };
      if (metrics.length > 0) logs.metrics = metricsOf(pos.sums, metrics);
      if (val) logs.val = this.evaluateData(where, val, valBatchSize, metrics);
      if (early) {
        const e = pos.early!;
        const value = monitored(early.monitor, logs);
        const better = early.mode === 'max' ? value > e.best + early.minDelta : value < e.best - early.minDelta;
        if (Number.isFinite(value) && (e.bestEpoch < 0 || better)) {
          e.best = value;
          e.bestEpoch = epoch;
          e.wait = 0;
          if (early.restoreBestWeights) this.bestWeights = this.getWeights();
        } else {
          e.wait++;
        }
      }
      result.epochLosses.push(logs.loss);
      result.history.push(logs);
      pos.epoch = epoch + 1;
      pos.batch = 0;
      pos.lossSum = 0;
      pos.batches = 0;
      pos.sums = zeroSums();
      await options.onEpochEnd?.(logs);
      if (early && pos.early!.wait >= early.patience) return stop('early-stopping');
    }
    return finish();
  }

  // --- lifetime ---

  /** Return all of this model's wasm memory to the allocator. The model is unusable after. */
  dispose(): void {
    if (this.arena.isDisposed) return;
    collected?.unregister(this);
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

  private resolveTraining(where: string, options: TrainOptions | FitOptions,
                          guards: readonly ('throw' | 'skip' | 'stop')[]): ResolvedTraining {
    if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
    const config = resolveOptimizer(where, options.optimizer ?? this.optimizer?.config ?? 'adam');
    const learningRate = options.learningRate === undefined ? undefined : checkNumber(where, 'learningRate', options.learningRate, 0);
    const schedule = options.schedule === undefined ? undefined : resolveSchedule(where, options.schedule);
    const clipNorm = options.clipNorm === undefined ? undefined : checkNumber(where, 'clipNorm', options.clipNorm, 0);
    const clipValue = options.clipValue === undefined ? undefined : checkNumber(where, 'clipValue', options.clipValue, 0);
    const onNonFinite = checkChoice(where, 'onNonFinite', options.onNonFinite ?? 'throw', guards);
    const tbptt = options.tbptt === undefined ? undefined : checkInt(where, 'tbptt', options.tbptt);
    if (!this.optimizer || JSON.stringify(this.optimizer.config) !== JSON.stringify(config)) {
      this.optimizer?.dispose();
      this.optimizer = new Optimizer(config, this.arena, this.layout.size);
    }
    return { optimizer: this.optimizer, baseRate: learningRate ?? config.learningRate, schedule, clipNorm, clipValue, onNonFinite, tbptt };
  }

  /** One batch: gradients (per window with tbptt), then per step the guard, clipping and the
   *  update. A non-finite value is not thrown but returned as `problem`; unless skipping,
   *  nothing after it runs. */
  private stepBatch(where: string, batch: TBatch, t: ResolvedTraining, want?: StatsWanted): Outcome {
    const out: Outcome = { loss: NaN, gradNorm: 0, applied: true, steps: 0, skipped: 0, learningRate: NaN };
    const opt = t.optimizer;
    const gather = () => {
      if (!want) return;
      const s = this.batchStats(want);
      if (s) addSums(out.sums ??= zeroSums(), s);
    };
    /** Guard, clip and update after one gradient; false when training must not go on. */
    const update = (loss: number, context = ''): boolean => {
      const norm = gradientNorm(this.kernels, this.grads);
      if (!(norm <= out.gradNorm)) out.gradNorm = norm;          // the largest; NaN wins
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        out.problem ??= `${this.describeNonFinite(loss)} at optimizer step ${opt.step + 1}${context}`;
        out.applied = false;
        out.skipped++;
        return t.onNonFinite === 'skip';
      }
      clipGradients(this.kernels, this.grads, norm, t.clipNorm, t.clipValue);
      const lr = t.schedule ? learningRateAt(t.schedule, t.baseRate, opt.step) : t.baseRate;
      opt.apply(this.weights, this.grads, lr);
      out.learningRate = lr;
      out.steps++;
      return true;
    };
    if (t.tbptt === undefined) {
      out.loss = this.lossAndGradients(where, batch);
      gather();
      update(out.loss);
      return out;
    }
    const windows = this.truncatedWindows(where, batch, t.tbptt);
    for (;;) {
      const w = windows.next();
      if (w.done) {
        out.loss = w.value;
        return out;
      }
      gather();
      if (!update(w.value.loss, ` (the window of time steps ${w.value.t0}..${w.value.t1 - 1})`)) {
        windows.return?.(NaN);
        out.loss = w.value.loss;
        return out;
      }
    }
  }

  private resolveMetrics(where: string, metrics: unknown): MetricName[] {
    if (metrics === undefined) return [];
    if (!Array.isArray(metrics)) throw new TypeError(`${where}: metrics must be an array of metric names, got ${describe(metrics)}`);
    const supported = this.supportedMetrics();
    return metrics.map((m, i) => {
      const name = checkChoice(where, `metrics[${i}]`, m, ['accuracy', 'perplexity', 'bitsPerChar'] as const);
      if (!supported.includes(name)) {
        throw new RangeError(`${where}: metrics[${i}] '${name}' is not available for this model's outputs; it reports ${supported.length ? supported.map((s) => `'${s}'`).join(', ') : 'only the loss'}`);
      }
      return name;
    });
  }

  /** Loss and metrics over a data set, batch by batch, in inference mode. */
  private evaluateData(where: string, data: Dataset<TBatch>, batchSize: number, metrics: MetricName[]): Metrics {
    const sums = zeroSums();
    const want = { accuracy: metrics.includes('accuracy') };
    for (let i = 0; i < data.x.length; i += batchSize) {
      const batch = { x: data.x.slice(i, i + batchSize), y: data.y.slice(i, i + batchSize) } as unknown as TBatch;
      addSums(sums, this.evaluateBatch(where, batch, want));
    }
    return metricsOf(sums, metrics);
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

/** `using model = …` disposes the model at the end of its block, where the runtime has it. */
export interface Network extends Disposable {}
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Network.prototype, Symbol.dispose, { value(this: Network) { this.dispose(); }, writable: true, configurable: true });
}

/** A safety net for models never disposed: once one is garbage-collected, its arena (which
 *  holds every region it reserved, and no reference back to the model) is freed. dispose()
 *  unregisters the model first, and Arena.dispose() is idempotent, so nothing is freed twice. */
const collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Arena>((arena) => arena.dispose()) : undefined;

// --- helpers ---

function checkDataset(where: string, name: string, data: unknown): asserts data is Dataset {
  const d = data as Dataset;
  if (typeof d !== 'object' || d === null || !Array.isArray(d.x) || !Array.isArray(d.y)) {
    throw new TypeError(`${where}: ${name} must be { x: inputs[], y: targets[] }, got ${describe(data)}`);
  }
  if (d.x.length === 0) throw new RangeError(`${where}: ${name}.x must hold at least one example, got none`);
  if (d.y.length !== d.x.length) throw new RangeError(`${where}: ${name}.y must have one target per input (${d.x.length}), got ${d.y.length}`);
}

/** The training examples, and the validation examples if any (a set, or a split off the end). */
function splitValidation<D extends Dataset>(where: string, data: D, options: FitOptions): { train: D; val?: D } {
  if (options.validationData !== undefined && options.validationSplit !== undefined) {
    throw new TypeError(`${where}: give validationData or validationSplit, not both`);
  }
  if (options.validationData !== undefined) {
    checkDataset(where, 'validationData', options.validationData);
    return { train: data, val: options.validationData as D };
  }
  if (options.validationSplit === undefined) return { train: data };
  const split = checkNumber(where, 'validationSplit', options.validationSplit, 0, 1);
  const N = data.x.length, nTrain = Math.floor(N * (1 - split));
  if (nTrain < 1 || nTrain >= N) {
    throw new RangeError(`${where}: validationSplit ${split} of ${N} examples leaves ${nTrain} to train on and ${N - nTrain} to validate on; both need at least one`);
  }
  const part = (a: number, b: number) => ({ x: data.x.slice(a, b), y: data.y.slice(a, b) }) as unknown as D;
  return { train: part(0, nTrain), val: part(nTrain, N) };
}

interface ResolvedEarlyStopping {
  patience: number;
  monitor: Monitor;
  mode: 'min' | 'max';
  minDelta: number;
  restoreBestWeights: boolean;
}

function resolveEarlyStopping(where: string, o: EarlyStoppingOptions, hasVal: boolean, metrics: MetricName[]): ResolvedEarlyStopping {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: earlyStopping must be { patience, monitor?, minDelta?, restoreBestWeights? }, got ${describe(o)}`);
  checkKeys(where, 'earlyStopping', o, KEYS.earlyStopping);
  const monitors = ['loss', 'val_loss', ...metrics, ...metrics.map((m) => `val_${m}`)] as Monitor[];
  const monitor = o.monitor ?? (hasVal ? 'val_loss' : 'loss');
  if (typeof monitor === 'string' && monitor.startsWith('val_') && !hasVal) {
    throw new RangeError(`${where}: earlyStopping.monitor '${monitor}' needs validationData or validationSplit`);
  }
  checkChoice(where, 'earlyStopping.monitor (the loss, or a metric listed in metrics)', monitor, monitors);
  return {
    patience: checkInt(where, 'earlyStopping.patience', o.patience),
    monitor,
    mode: monitor.endsWith('accuracy') ? 'max' : 'min',
    minDelta: checkNumber(where, 'earlyStopping.minDelta', o.minDelta ?? 0, 0),
    restoreBestWeights: checkBoolean(where, 'earlyStopping.restoreBestWeights', o.restoreBestWeights ?? true),
  };
}

function monitored(monitor: Monitor, logs: EpochLogs): number {
  if (monitor === 'loss') return logs.loss;
  const [source, name] = monitor.startsWith('val_') ? [logs.val, monitor.slice(4)] : [logs.metrics, monitor];
  return (source as Record<string, number> | undefined)?.[name] ?? NaN;
}

function zeroSums(): StatSums {
  return { lossSum: 0, terms: 0, correct: 0, counted: 0 };
}

function addSums(into: StatSums, s: StatSums): void {
  into.lossSum += s.lossSum;
  into.terms += s.terms;
  into.correct += s.correct;
  into.counted += s.counted;
}

function metricsOf(s: StatSums, names: readonly MetricName[]): Metrics {
  const loss = s.lossSum / s.terms;
  const m: Metrics = { loss };
  for (const name of names) {
    if (name === 'accuracy') m.accuracy = s.correct / s.counted;
    if (name === 'perplexity') m.perplexity = Math.exp(loss);
    if (name === 'bitsPerChar') m.bitsPerChar = loss / Math.LN2;
  }
  return m;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// The public types of training: the options of trainStep and fit, what they report (steps,
// progress, epoch logs, metrics, results), and the data they take. The loop that uses them is
// in fit.ts and step.ts; a model only computes gradients (see trainable.ts).
import type { OptimizerConfig, OptimizerName } from '../optim.js';
import type { ScheduleConfig, ScheduleName } from '../schedule.js';
import type { WorkerPool } from '../workers/pool.js';

/** How to take a training step. */
export interface TrainOptions {
  /** Optimizer name, or a config object naming it in `type`: { type: 'sgd', momentum: 0.9 }.
   *  Default 'adam', or the model's current optimizer. One that differs from the current in any
   *  field resets its state (moments and step count). */
  optimizer?: OptimizerName | OptimizerConfig;
  /** The base learning rate (the optimizer's own when omitted); a schedule scales it. Give it
   *  here or as optimizer.learningRate, not both (a TypeError). */
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
  /** Steps skipped for a non-finite loss, gradient or update. */
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
  /** Batches in the epoch: stepsPerEpoch when given, else the data set's batches (Infinity for
   *  a stream, whose length is not known). */
  batches: number;
  /** The pass over the data this batch is from, counting from 0: the epoch, unless
   *  stepsPerEpoch cuts epochs of another length out of the passes. */
  pass: number;
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
  /** Learning rate of the epoch's last step: the rate the optimizer used, after the schedule
   *  and any reductions on a plateau. */
  learningRate: number;
  /** With reduceLROnPlateau, on an epoch at whose end the rate was reduced: the rate the next
   *  optimizer step takes. Absent on every other epoch. */
  reducedLearningRate?: number;
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

/** Reduce the learning rate when the monitored value stops improving, as PyTorch's
 *  torch.optim.lr_scheduler.ReduceLROnPlateau (Keras's ReduceLROnPlateau callback), checked at
 *  every epoch's end. Every field has torch's default. */
export interface ReduceLROnPlateauOptions {
  /** What to watch, as earlyStopping's monitor: 'val_loss' (the default with validation data),
   *  'loss' (the default without: the epoch's mean training batch loss), a metric listed in
   *  `metrics`, or 'val_' + one. */
  monitor?: Monitor;
  /** 'min': the value should fall, 'max': rise. Default 'max' for accuracy, else 'min'. */
  mode?: 'min' | 'max';
  /** Factor by which a reduction multiplies the rate, in [0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement after which the rate is reduced (the reduction comes at the
   *  end of the epoch that is patience + 1 without improvement). Default 10. */
  patience?: number;
  /** How much better than the best a value must be to count as an improvement. Default 1e-4. */
  threshold?: number;
  /** 'rel': better than best · (1 ∓ threshold); 'abs': better than best ∓ threshold.
   *  Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs after a reduction during which epochs without improvement are not counted.
   *  Default 0. */
  cooldown?: number;
  /** The rate no reduction goes below. Default 0. */
  minLr?: number;
  /** A reduction that would lower the rate by no more than eps is not made. Default 1e-8. */
  eps?: number;
}

/** Labeled examples: inputs and one target per input. */
export interface Dataset<TBatch extends Examples = Examples> {
  x: TBatch['x'];
  y: TBatch['y'];
}

/** One labeled example of a batch type: what a stream of examples yields. */
export interface Example<TBatch extends Examples = Examples> {
  x: TBatch['x'][number];
  y: TBatch['y'][number];
}

/** Data fit() reads as it goes: an iterable or async iterable of batches (or, with yields:
 *  'examples', of single examples), or a function returning a fresh one for each pass. */
export type DataStream<T = unknown> = Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>);

export interface FitOptions extends Omit<TrainOptions, 'onNonFinite'> {
  /** Epochs to train: the total, counting epochs before a resume. Default 1. An epoch is one
   *  pass over the data, or stepsPerEpoch batches. */
  epochs?: number;
  /** Batches per epoch (Keras's steps_per_epoch), so that validation, metrics, early stopping,
   *  onEpochEnd and progress come every this many batches however long the data is. Each epoch
   *  goes on where the last one stopped; when the data ends inside an epoch, a new pass starts
   *  (a stream is iterated afresh, a function returning one is called again; a data set is
   *  reshuffled) and the epoch goes on. A stream that does not end needs it to have epochs at
   *  all. Default: an epoch is one whole pass. */
  stepsPerEpoch?: number;
  /** Examples per batch. Default 32. */
  batchSize?: number;
  /** Shuffle the order every epoch, with the model's seeded generator. Default true. */
  shuffle?: boolean;
  /** Examples to validate on after every epoch: a data set, or a stream of batches. */
  validationData?: Dataset | DataStream;
  /** Or: this fraction of the data, taken from its end before any shuffling, as Keras (not
   *  for streams). */
  validationSplit?: number;
  /** Batch examples of similar length together, so little of a batch is padding: each pool of
   *  poolSize batches' worth of examples (in a seeded random order) is sorted by length (input
   *  steps + target steps) and cut into batches, and the epoch's batches are shuffled. Without
   *  shuffle, the whole data set is sorted and run shortest first. Default false. */
  bucketByLength?: boolean;
  /** Batches per pool: the examples bucketing sorts together, and how much of a stream is read
   *  (and shuffled) at a time. Default 100. */
  poolSize?: number;
  /** When the data is a stream: it yields 'batches' { x: [...], y: [...] } (the default) or
   *  single 'examples' { x, y }, grouped into batches of batchSize. */
  yields?: 'batches' | 'examples';
  /** Examples per validation batch. Default: batchSize. */
  validationBatchSize?: number;
  /** Metrics to report besides the loss, for training and validation. Default none. */
  metrics?: readonly MetricName[];
  /** Stop when the monitored value has not improved for `patience` epochs. */
  earlyStopping?: EarlyStoppingOptions;
  /** Multiply the learning rate by `factor` when the monitored value has not improved for
   *  `patience` epochs; the reductions multiply the scheduled rate (see README, "Reducing the
   *  rate on a plateau"). Default: off. */
  reduceLROnPlateau?: ReduceLROnPlateauOptions;
  /** On a non-finite loss or gradient: 'throw' (default; fit rejects with an error naming the
   *  epoch, batch, step and tensor), 'skip' the step, or 'stop' training cleanly (the result
   *  says why). The weights are always those of the last good step. */
  onNonFinite?: 'throw' | 'skip' | 'stop';
  /** Called after every batch; a returned promise is awaited. */
  onProgress?: (p: Progress) => void | Promise<void>;
  /** Called after every epoch; a returned promise is awaited (e.g. writing a checkpoint). */
  onEpochEnd?: (logs: EpochLogs) => void | Promise<void>;
  /** Stops training cleanly before the next batch. fit({ resume: true }) continues there. */
  signal?: AbortSignalLike;
  /** Go back to the event loop between batches once this many ms have passed since the last
   *  time, so pages and servers stay responsive. Default 50. A batch is never split: one that
   *  takes longer blocks for that long (use smaller batches, or workers). */
  yieldEveryMs?: number;
  /** Continue where the last fit() stopped (aborted, or restored by setTrainingState), with
   *  the same data and options: `epochs` counts the epochs already run. Without a saved
   *  position this starts at epoch 0. Default false. */
  resume?: boolean;
  /** Data-parallel training: each batch is cut into this many shards, one per worker thread
   *  (Node worker_threads, Web Workers), whose gradients are summed in shard order before one
   *  optimizer step. A number starts a pool for this call; a pool from createWorkerPool() is
   *  reused and stays open. At most 64 threads (each costs start-up time and a replica's
   *  memory; past the machine's cores they gain nothing). Default 0: the calling thread. */
  workers?: number | WorkerPool;
}

export interface FitResult {
  /** Mean batch loss of each epoch run in this call. */
  epochLosses: number[];
  /** The logs of each epoch run in this call. */
  history: EpochLogs[];
  /** Optimizer steps taken in this call. */
  steps: number;
  /** Steps skipped for a non-finite loss, gradient or update. */
  skippedSteps: number;
  /** True when training was ended by the signal, early stopping or a non-finite value. */
  stopped: boolean;
  stopReason?: 'aborted' | 'early-stopping' | 'non-finite';
  /** With stopReason 'non-finite': what was found, and where. */
  message?: string;
  /** With early stopping: the best epoch so far (its weights are restored when it stopped training). */
  bestEpoch?: number;
}

/** What fit() reads of an AbortSignal (any AbortSignal is one), typed without the DOM or
 *  Node libraries so that the published declarations compile in any TypeScript project. */
export interface AbortSignalLike {
  readonly aborted: boolean;
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

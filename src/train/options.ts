// The options of trainStep and fit, checked and with every default filled in, before anything
// runs: a bad option is refused with an error naming it, and nothing has changed.
import { resolveOptimizer, type ResolvedOptimizer } from '../optim.js';
import { resolveSchedule, type ResolvedSchedule } from '../schedule.js';
import { KEYS } from '../keys.js';
import { checkBoolean, checkChoice, checkInt, checkKeys, checkNumber, checkObject, describe } from '../validate.js';
import { MAX_WORKERS, WorkerPool } from '../workers/pool.js';
import { DEFAULT_POOL } from './buckets.js';
import { resolveMetrics, resolveMonitor } from './metrics.js';
import { resolvePlateau, type PlateauPlan } from './plateau.js';
import { isStream } from './stream.js';
import type { DataStream, Dataset, EarlyStoppingOptions, FitOptions, MetricName, Monitor, TrainOptions } from './types.js';

export type NonFiniteRule = 'throw' | 'skip' | 'stop';

/** How every optimizer step of a call is taken. */
export interface StepPlan {
  optimizer: ResolvedOptimizer;
  baseRate: number;
  schedule?: ResolvedSchedule;
  clipNorm?: number;
  clipValue?: number;
  onNonFinite: NonFiniteRule;
  tbptt?: number;
}

export interface EarlyStoppingPlan {
  patience: number;
  monitor: Monitor;
  mode: 'min' | 'max';
  minDelta: number;
  restoreBestWeights: boolean;
}

/** Everything fit() was asked to do. */
export interface FitPlan<D extends Dataset = Dataset> {
  step: StepPlan;
  epochs: number;
  /** Batches per epoch; undefined: an epoch is one pass over the data. */
  stepsPerEpoch?: number;
  batchSize: number;
  shuffle: boolean;
  yieldEveryMs: number;
  metrics: MetricName[];
  train: D | DataStream;
  val?: D | DataStream;
  valBatchSize: number;
  /** Length-bucketed batches, the batches per pool, and what a stream yields. */
  bucket: boolean;
  pool: number;
  yields: 'batches' | 'examples';
  early?: EarlyStoppingPlan;
  /** Reducing the learning rate on a plateau, at every epoch's end. */
  plateau?: PlateauPlan;
  resume: boolean;
  /** Worker threads to start for this call, or a pool to use; 0: the calling thread. */
  workers: number | WorkerPool;
}

/** trainStep's and fit's shared options. `current` is the optimizer the model has, if any. */
export function resolveStep(where: string, options: TrainOptions | FitOptions, guards: readonly NonFiniteRule[],
                            current?: ResolvedOptimizer, keys: readonly string[] = KEYS.trainStep): StepPlan {
  checkObject(where, 'options', options, keys);
  checkOneLearningRate(where, options);
  const optimizer = resolveOptimizer(where, options.optimizer ?? current ?? 'adam');
  const learningRate = options.learningRate === undefined ? undefined : checkNumber(where, 'learningRate', options.learningRate, 0);
  return {
    optimizer,
    baseRate: learningRate ?? optimizer.learningRate,
    schedule: options.schedule === undefined ? undefined : resolveSchedule(where, options.schedule),
    clipNorm: options.clipNorm === undefined ? undefined : checkNumber(where, 'clipNorm', options.clipNorm, 0),
    clipValue: options.clipValue === undefined ? undefined : checkNumber(where, 'clipValue', options.clipValue, 0),
    onNonFinite: checkChoice(where, 'onNonFinite', options.onNonFinite ?? 'throw', guards),
    tbptt: options.tbptt === undefined ? undefined : checkInt(where, 'tbptt', options.tbptt),
  };
}

/** A learning rate in the optimizer object and one beside it would leave one ignored: refused. */
function checkOneLearningRate(where: string, options: Pick<TrainOptions, 'optimizer' | 'learningRate'>): void {
  const o = options.optimizer as { learningRate?: unknown } | undefined;
  if (typeof o !== 'object' || o === null || o.learningRate === undefined || options.learningRate === undefined) return;
  throw new TypeError(`${where}: the learning rate is given twice, as optimizer.learningRate = ${describe(o.learningRate)} and as learningRate = ` +
    `${describe(options.learningRate)}; give it in one place`);
}

/** Every fit() option, checked before the first step. */
export function resolveFit<D extends Dataset>(where: string, data: D | DataStream, options: FitOptions, supported: readonly MetricName[],
                                              current?: ResolvedOptimizer): FitPlan<D> {
  const stream = isStream(data);
  if (!stream) checkDataset(where, 'data', data);
  checkObject(where, 'options', options, KEYS.fit);
  const batchSize = checkInt(where, 'batchSize', options.batchSize ?? 32);
  const metrics = resolveMetrics(where, options.metrics, supported);
  const { train, val } = splitValidation(where, data, options);
  const { bucket, yields } = resolveBatching(where, options, stream);
  for (const name of ['onProgress', 'onEpochEnd'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${where}: ${name} must be a function, got ${describe(options[name])}`);
  }
  checkSignal(where, options.signal);
  return {
    epochs: checkInt(where, 'epochs', options.epochs ?? 1),
    stepsPerEpoch: options.stepsPerEpoch === undefined ? undefined : checkInt(where, 'stepsPerEpoch', options.stepsPerEpoch, 1, Number.MAX_SAFE_INTEGER),
    batchSize,
    yieldEveryMs: checkNumber(where, 'yieldEveryMs', options.yieldEveryMs ?? 50, 0),
    shuffle: checkBoolean(where, 'shuffle', options.shuffle ?? true),
    metrics,
    train,
    val,
    valBatchSize: checkInt(where, 'validationBatchSize', options.validationBatchSize ?? batchSize),
    early: options.earlyStopping === undefined ? undefined : resolveEarlyStopping(where, options.earlyStopping, val !== undefined, metrics),
    plateau: options.reduceLROnPlateau === undefined ? undefined : resolvePlateau(where, 'reduceLROnPlateau', options.reduceLROnPlateau, val !== undefined, metrics),
    bucket,
    pool: checkInt(where, 'poolSize', options.poolSize ?? DEFAULT_POOL),
    yields,
    resume: checkBoolean(where, 'resume', options.resume ?? false),
    workers: resolveWorkers(where, options.workers),
    step: resolveStep(where, options, ['throw', 'skip', 'stop'], current, KEYS.fit),
  };
}

export function checkDataset(where: string, name: string, data: unknown): asserts data is Dataset {
  const d = data as Dataset;
  if (typeof d !== 'object' || d === null || !Array.isArray(d.x) || !Array.isArray(d.y)) {
    throw new TypeError(`${where}: ${name} must be { x: inputs[], y: targets[] }, got ${describe(data)}`);
  }
  if (d.x.length === 0) throw new RangeError(`${where}: ${name}.x must hold at least one example, got none`);
  if (d.y.length !== d.x.length) throw new RangeError(`${where}: ${name}.y must have one target per input (${d.x.length}), got ${d.y.length}`);
}

/** Bucketing and what a stream yields, where they apply. */
function resolveBatching(where: string, options: FitOptions, stream: boolean): { bucket: boolean; yields: 'batches' | 'examples' } {
  const bucket = checkBoolean(where, 'bucketByLength', options.bucketByLength ?? false);
  if (options.yields !== undefined && !stream) throw new TypeError(`${where}: yields says what a stream yields; this data is a data set { x, y }`);
  const yields = checkChoice(where, 'yields', options.yields ?? 'batches', ['batches', 'examples'] as const);
  if (bucket && stream && yields === 'batches') {
    throw new TypeError(`${where}: bucketByLength groups examples into batches; a stream of batches is trained on as it comes (stream examples with yields: 'examples')`);
  }
  return { bucket, yields };
}

/** The training examples, and the validation examples if any (a set or a stream, or a split
 *  off the end). */
function splitValidation<D extends Dataset>(where: string, data: D | DataStream, options: FitOptions): { train: D | DataStream; val?: D | DataStream } {
  if (options.validationData !== undefined && options.validationSplit !== undefined) {
    throw new TypeError(`${where}: give validationData or validationSplit, not both`);
  }
  if (options.validationData !== undefined) {
    if (!isStream(options.validationData)) checkDataset(where, 'validationData', options.validationData);
    return { train: data, val: options.validationData as D | DataStream };
  }
  if (options.validationSplit === undefined) return { train: data };
  if (isStream(data)) throw new TypeError(`${where}: validationSplit needs a data set to split; with a stream, give validationData`);
  const split = checkNumber(where, 'validationSplit', options.validationSplit, 0, 1);
  const N = data.x.length, nTrain = Math.floor(N * (1 - split));
  if (nTrain < 1 || nTrain >= N) {
    throw new RangeError(`${where}: validationSplit ${split} of ${N} examples leaves ${nTrain} to train on and ${N - nTrain} to validate on; both need at least one`);
  }
  const part = (a: number, b: number) => ({ x: data.x.slice(a, b), y: data.y.slice(a, b) }) as unknown as D;
  return { train: part(0, nTrain), val: part(nTrain, N) };
}

function resolveEarlyStopping(where: string, o: EarlyStoppingOptions, hasVal: boolean, metrics: MetricName[]): EarlyStoppingPlan {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${where}: earlyStopping must be { patience, monitor?, minDelta?, restoreBestWeights? }, got ${describe(o)}`);
  checkKeys(where, 'earlyStopping', o, KEYS.earlyStopping);
  const monitor = resolveMonitor(where, 'earlyStopping.monitor', o.monitor, hasVal, metrics);
  return {
    patience: checkInt(where, 'earlyStopping.patience', o.patience),
    monitor,
    mode: monitor.endsWith('accuracy') ? 'max' : 'min',
    minDelta: checkNumber(where, 'earlyStopping.minDelta', o.minDelta ?? 0, 0),
    restoreBestWeights: checkBoolean(where, 'earlyStopping.restoreBestWeights', o.restoreBestWeights ?? true),
  };
}

/** An AbortSignal, or anything with a boolean `aborted` (AbortSignalLike): all fit() reads of
 *  it. Anything else would never stop training, so it is refused. */
function checkSignal(where: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'object' || v === null || typeof (v as { aborted?: unknown }).aborted !== 'boolean') {
    const plain = typeof v === 'object' && v !== null && !Array.isArray(v);
    const got = plain ? `an object whose aborted is ${describe((v as { aborted?: unknown }).aborted)}` : describe(v);
    throw new TypeError(`${where}: signal must be an AbortSignal (an object with a boolean aborted, e.g. new AbortController().signal), got ${got}`);
  }
}

function resolveWorkers(where: string, v: unknown): number | WorkerPool {
  if (v === undefined) return 0;
  if (v instanceof WorkerPool) return v;
  if (typeof v !== 'number') throw new TypeError(`${where}: workers must be a number of worker threads or a pool from createWorkerPool(), got ${describe(v)}`);
  return checkInt(where, 'workers', v, 0, MAX_WORKERS);
}

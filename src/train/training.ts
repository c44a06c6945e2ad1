// A model's training: its optimizer (moment regions in the model's memory, step count), where
// its last fit() stands, early stopping's best weights, and the rule that one fit runs at a
// time. trainStep, fit and evaluate are here; the model behind them is only a Trainable
// (weights, gradients, forward and backward). Checkpoints save and restore all of it.
import { disposedError } from '../arena.js';
import { configDifference, decodeCheckpoint, encodeCheckpoint } from '../checkpoint.js';
import { Optimizer } from '../optim.js';
import { KEYS } from '../keys.js';
import { checkInt, checkObject } from '../validate.js';
import { Replicas } from '../workers/replicas.js';
import { batchSource } from './batches.js';
import { checkExamples } from './examples.js';
import { Clock, runFit, startPosition, type FitState, type GradientsOf } from './fit.js';
import { evaluateData, resolveMetrics } from './metrics.js';
import { checkDataset, resolveFit, resolveStep, type FitPlan, type StepPlan } from './options.js';
import { localWindows, stepBatch, type Outcome } from './step.js';
import { isStream } from './stream.js';
import type { Trainable } from './trainable.js';
import type { DataStream, Dataset, Examples, FitOptions, FitResult, MetricName, Metrics, StepResult, TrainOptions } from './types.js';

export class Training<TBatch extends Examples = Examples> {
  private optimizer?: Optimizer;
  private readonly fitState: FitState = {};
  /** The running fit()'s token: training and changing the weights are refused meanwhile. */
  private running?: object;

  constructor(private readonly model: Trainable<TBatch>) {}

  /** Refuse what would interfere with a running fit(): another fit, a training step, or new
   *  weights or training state. */
  assertIdle(where: string): void {
    if (this.running) {
      throw new TypeError(`${where}: a fit() is running on this model; wait for it to finish or stop it with its signal. ` +
        `While it runs, the model can be read, run (forward, evaluate, sampling) and disposed, but not trained or changed`);
    }
  }

  /** One optimizer step on a batch (one per window with tbptt). */
  trainStep(batch: TBatch, options: TrainOptions): StepResult {
    const where = 'trainStep';
    this.assertIdle(where);
    if ((options as FitOptions | undefined)?.workers) throw new TypeError(`${where}: workers is an option of fit(); trainStep runs on the calling thread`);
    if ((options as FitOptions | undefined)?.reduceLROnPlateau !== undefined) {
      throw new TypeError(`${where}: reduceLROnPlateau is an option of fit(), which applies it at every epoch's end; trainStep takes the rate it is given (learningRate, schedule)`);
    }
    const plan = resolveStep(where, options, ['throw', 'skip'], this.optimizer?.config);
    // the optimizer is made (or replaced, for another config) by the first update applied: a
    // refused batch, or an update the guard refuses, changes neither the weights nor the
    // optimizer's state
    const own = this.hasOptimizer(plan);
    const stepsBefore = own ? this.optimizer!.step : 0;
    let fresh: Optimizer | undefined;
    const take = () => own ? this.optimizer! : (fresh = new Optimizer(plan.optimizer, this.model.arena, this.model.layout.trainable));
    let outcome: Outcome;
    try {
      outcome = stepBatch(this.model, take, stepsBefore, plan, localWindows(this.model, where, batch, plan.tbptt));
    } finally {
      if (fresh && fresh.step > 0) {
        this.optimizer?.dispose();
        this.optimizer = fresh;
      } else {
        fresh?.dispose();
      }
    }
    const { problem, advice, sums: _, ...result } = outcome;
    if (problem !== undefined && plan.onNonFinite === 'throw') {
      const weights = result.steps === 0 ? 'the weights were left unchanged'
        : `the weights are those of optimizer step ${this.optimizer!.step}, the last good one`;
      throw new RangeError(`${where}: ${problem}; ${weights} (${advice})`);
    }
    return result;
  }

  /** Epochs of batches; see FitOptions. Every option is checked before the model is taken. */
  async fit(data: Dataset<TBatch> | DataStream, options: FitOptions): Promise<FitResult> {
    const where = 'fit';
    this.assertIdle(where);
    const plan = resolveFit<Dataset<TBatch>>(where, data, options, this.model.supportedMetrics(), this.optimizer?.config);
    const token = {};
    this.running = token;
    let replicas: Replicas | undefined;
    // a new optimizer (none yet, or another config) is the model's from the start, so that a
    // checkpoint written during the fit holds it; but, as in trainStep, it replaces the previous
    // one only with the first update applied: a fit refused, aborted or skipped before that
    // gives the previous one back, state and all
    let fresh: Optimizer | undefined, previous: Optimizer | undefined;
    try {
      await this.checkData(where, data, options.validationData, plan.yieldEveryMs);
      const source = batchSource<TBatch>(where, plan, this.model);
      const start = startPosition(source, plan, this.fitState, this.model.rng);
      if (!this.hasOptimizer(plan.step)) {
        fresh = this.newOptimizer(plan.step);
        previous = this.optimizer;
        this.optimizer = fresh;
      }
      const optimizer = this.optimizer!;
      if (plan.workers !== 0) replicas = await Replicas.start(where, this.model, plan.workers);
      const gradients: GradientsOf<TBatch> = replicas
        ? (batch, want, key) => replicas!.windows(where, batch, plan.step.tbptt, want, key)
        : (batch, want) => localWindows(this.model, where, batch, plan.step.tbptt, want);
      return await runFit({ model: this.model, optimizer, plan: plan as FitPlan<Dataset<TBatch>>, options, source, start, state: this.fitState, gradients });
    } finally {
      await replicas?.release();
      if (fresh && (fresh.step > 0 || this.model.isDisposed())) {
        previous?.dispose();
      } else if (fresh) {
        fresh.dispose();
        this.optimizer = previous;
      }
      if (this.running === token) this.running = undefined;
    }
  }

  /** A new optimizer for `plan`, made while the model's own is still there; if both do not fit
   *  in memory, the model's own is given up first (its state would be replaced anyway). */
  private newOptimizer(plan: StepPlan): Optimizer {
    const make = () => new Optimizer(plan.optimizer, this.model.arena, this.model.layout.trainable);
    try {
      return make();
    } catch (e) {
      if (!(e instanceof RangeError) || !this.optimizer) throw e;
      this.optimizer.dispose();
      this.optimizer = undefined;
      return make();
    }
  }

  /** Check every in-memory example (data and validation data) before anything changes, going
   *  back to the event loop as fit does; streams are checked as they are read. */
  private async checkData(where: string, data: Dataset<TBatch> | DataStream, val: unknown, yieldEveryMs: number): Promise<void> {
    const clock = new Clock(yieldEveryMs);
    const sets: [Dataset<TBatch> | DataStream | undefined, string][] = [[data, ''], [val as Dataset<TBatch> | undefined, 'validationData.']];
    for (const [set, name] of sets) {
      if (set === undefined || isStream(set)) continue;
      for (const _ of checkExamples(this.model, where, set, name)) await clock.yieldIfDue();
    }
    if (this.model.isDisposed()) throw disposedError(where);
  }

  /** Loss and metrics over labeled examples, in inference mode. */
  evaluate(data: Dataset<TBatch>, options: { batchSize?: number; metrics?: readonly MetricName[] }): Metrics {
    const where = 'evaluate';
    checkDataset(where, 'data', data);
    checkObject(where, 'options', options, KEYS.evaluate);
    const batchSize = checkInt(where, 'batchSize', options.batchSize ?? 32);
    const metrics = resolveMetrics(where, options.metrics, this.model.supportedMetrics());
    for (const _ of checkExamples(this.model, where, data, ''));
    return evaluateData(this.model, where, data, batchSize, metrics);
  }

  /** The whole training state as a checkpoint file (see checkpoint.ts). */
  getState(): Uint8Array<ArrayBuffer> {
    const m = this.model;
    return encodeCheckpoint(m.layout, {
      config: m.config(),
      weights: m.arena.f32(m.weights).slice(),
      optimizer: this.optimizer && { config: this.optimizer.config, ...this.optimizer.getState() },
      rng: m.rng.getState(),
      fit: this.fitState.position,
      bestWeights: this.fitState.bestWeights,
    });
  }

  /** Restore a checkpoint made for a model of the same configuration (the seed may differ).
   *  Everything is checked first: on any error nothing changes. */
  setState(bytes: Uint8Array): void {
    const where = 'setTrainingState';
    this.assertIdle(where);
    const m = this.model;
    const s = decodeCheckpoint(where, m.layout, bytes);
    const d = configDifference(m.config(), s.config);
    if (d) throw new RangeError(`${where}: the checkpoint is for a model with ${d.path} = ${JSON.stringify(d.theirs)}, this model has ${d.path} = ${JSON.stringify(d.mine)}`);
    const optimizer = s.optimizer && new Optimizer(s.optimizer.config, m.arena, m.layout.trainable);   // allocates
    optimizer?.setState(s.optimizer!);
    this.optimizer?.dispose();
    this.optimizer = optimizer;
    m.arena.f32(m.weights).set(s.weights);
    m.rng.setState(s.rng);
    this.fitState.position = s.fit;
    this.fitState.bestWeights = s.bestWeights;
  }

  /** Free the optimizer's regions (the model frees the rest). */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
  }

  /** Whether the model's optimizer is the one `plan` asks for (else fit and trainStep make one). */
  private hasOptimizer(plan: StepPlan): boolean {
    return this.optimizer !== undefined && JSON.stringify(this.optimizer.config) === JSON.stringify(plan.optimizer);
  }
}

// The fit() loop: epochs of batches from a batch source, one step per batch (per window with
// truncated BPTT) through step.ts, and around it the epoch's bookkeeping — metrics, validation,
// early stopping (and the best weights), reducing the rate on a plateau (plateau.ts),
// callbacks, the abort signal, yielding to the event loop — and the position a checkpoint saves
// so that a resumed run continues bit for bit.
//
// An epoch is one pass over the batch source, or with stepsPerEpoch that many batches: the
// epochs then read passes that follow on from one another, the next opened (and its order
// drawn) when the last ends, inside an epoch or at its start.
//
// Where a resumed run starts: `FitPosition` (checkpoint.ts) holds the epoch, the next batch and
// the generator state the epoch's order was drawn from (with stepsPerEpoch: also the pass in
// progress and its next batch; the state is the pass's). Nothing random happens between a
// check of the signal and the step it guards, so a run stopped at any point has drawn exactly
// what the uninterrupted run had drawn at that point.
import type { FitPosition } from '../checkpoint.js';
import type { Optimizer } from '../optim.js';
import { Random } from '../random.js';
import type { BatchSource, PassPlace } from './batches.js';
import { addSums, evaluateAny, metricsOf, monitored, zeroSums } from './metrics.js';
import type { EarlyStoppingPlan, FitPlan } from './options.js';
import { plateauEpoch, reducedRate, resumePlateau, startPlateau } from './plateau.js';
import { scheduledRate, stepBatchAsync, type GradientWindows, type Outcome } from './step.js';
import type { Trainable } from './trainable.js';
import type { Dataset, EpochLogs, Examples, FitOptions, FitResult, StatsWanted } from './types.js';

/** What a model keeps between fit() calls: where the last one stands, and early stopping's
 *  best weights (both are part of a checkpoint). */
export interface FitState {
  position?: FitPosition;
  bestWeights?: Float32Array;
}

/** A batch's gradients: computed here or by replicas. `key` (epoch, batch) names the batch. */
export type GradientsOf<TBatch> = (batch: TBatch, want: StatsWanted | undefined, key: readonly [number, number]) => GradientWindows;

export interface FitRun<TBatch extends Examples> {
  model: Trainable<TBatch>;
  optimizer: Optimizer;
  plan: FitPlan<Dataset<TBatch>>;
  /** The callbacks and the signal. */
  options: Pick<FitOptions, 'onProgress' | 'onEpochEnd' | 'signal'>;
  source: BatchSource<TBatch>;
  /** Where to start (startPosition), and the state to keep it in as the run goes. */
  start: { position: FitPosition; bestWeights?: Float32Array };
  state: FitState;
  gradients: GradientsOf<TBatch>;
}

const where = 'fit';

/** Where a fit starts: epoch 0, or (resume) a copy of where the last one stopped. Nothing in
 *  the model changes here. */
export function startPosition(source: BatchSource<Examples>, plan: FitPlan, state: FitState, rng: Random): FitRun<Examples>['start'] {
  const p = plan.resume ? state.position : undefined;
  const steps = plan.stepsPerEpoch;
  if (!p) {
    return {
      position: {
        examples: source.examples, batchSize: source.batchSize, shuffle: source.shuffle, ...(source.order ? { order: source.order } : {}),
        epoch: 0, batch: 0, orderRng: rng.getState(), ...(steps ? { stepsPerEpoch: steps, pass: 0, passBatch: 0 } : {}),
        lossSum: 0, batches: 0, sums: zeroSums(), early: plan.early && { best: NaN, bestEpoch: -1, wait: 0 },
        ...(plan.plateau ? { plateau: startPlateau(plan.plateau) } : {}),
      },
    };
  }
  if (p.examples !== source.examples || p.batchSize !== source.batchSize || p.shuffle !== source.shuffle || p.order !== source.order
      || p.stepsPerEpoch !== steps) {
    const how = (o: { order?: string; shuffle: boolean; stepsPerEpoch?: number }) =>
      `shuffle ${o.shuffle}${o.order ? `, ${o.order} batches` : ''}${o.stepsPerEpoch ? `, stepsPerEpoch ${o.stepsPerEpoch}` : ''}`;
    throw new RangeError(`${where}: resume needs the data and batches of the run it continues: it had ${p.examples} training examples ` +
      `in batches of ${p.batchSize}, ${how(p)}; got ${source.examples}, ${source.batchSize}, ${how({ ...source, stepsPerEpoch: steps })}`);
  }
  const early = plan.early && (p.early ? { ...p.early } : { best: NaN, bestEpoch: -1, wait: 0 });
  const plateau = resumePlateau(where, plan.plateau, p.plateau);
  return {
    position: { ...p, orderRng: p.orderRng.slice(), sums: { ...p.sums }, early, plateau },
    bestWeights: plan.early?.restoreBestWeights ? state.bestWeights : undefined,
  };
}

/** Train epoch by epoch from run.start; the model's state follows as it goes. */
export function runFit<TBatch extends Examples>(run: FitRun<TBatch>): Promise<FitResult> {
  return new FitLoop(run).run();
}

/** Why a run ends early, and what it says (a non-finite value and where). */
type Stop = { reason: NonNullable<FitResult['stopReason']>; message?: string };

class FitLoop<TBatch extends Examples> {
  private readonly pos: FitPosition;
  private readonly result: FitResult = { epochLosses: [], history: [], steps: 0, skippedSteps: 0, stopped: false };
  private readonly want?: StatsWanted;
  private readonly clock: Clock;
  /** Batches an epoch has: stepsPerEpoch, or the source's (Infinity for a stream). */
  private readonly size: number;
  /** The learning rate of the last step taken. */
  private learningRate = NaN;
  /** The pass being read: opened at each epoch's start, or with stepsPerEpoch when a batch is
   *  wanted and there is none open. */
  private passBatches?: Iterator<TBatch, void, void> | AsyncIterator<TBatch, void, void>;

  constructor(private readonly r: FitRun<TBatch>) {
    this.pos = r.start.position;
    r.state.position = this.pos;
    r.state.bestWeights = r.start.bestWeights;
    const m = r.plan.metrics;
    this.want = m.length > 0 ? { accuracy: m.includes('accuracy') } : undefined;
    this.clock = new Clock(r.plan.yieldEveryMs);
    this.size = r.plan.stepsPerEpoch ?? r.source.batches;
  }

  async run(): Promise<FitResult> {
    const { pos, r } = this;
    let stop: Stop | undefined;
    try {
      while (!stop && pos.epoch < r.plan.epochs) {
        if (this.patienceSpent() && pos.batch === 0) stop = { reason: 'early-stopping' };
        // before the epoch's order is drawn: a run that stops here and resumes draws it once
        else if (r.options.signal?.aborted) stop = { reason: 'aborted' };
        else stop = await this.epoch() ?? await this.endEpoch();
      }
    } catch (e) {
      await this.closePass(true);
      throw e;
    }
    await this.closePass(false);
    return this.finish(stop);
  }

  /** Close a pass left unfinished (stopped, or epochs of N batches ending inside it), so that a
   *  stream's own clean-up runs (a file reader closes its file). When the run failed, its error
   *  is the one reported, as a for-of loop does. */
  private async closePass(failed: boolean): Promise<void> {
    try {
      await this.passBatches?.return?.();
    } catch (e) {
      if (!failed) throw e;
    }
  }

  /** The rest of the epoch's batches; a Stop if the run must end. */
  private async epoch(): Promise<Stop | undefined> {
    const { pos, r } = this;
    const { model } = r;
    // without stepsPerEpoch the epoch is a pass: its order drawn at its start, redrawn from the
    // same state when resuming inside it
    if (pos.stepsPerEpoch === undefined) this.passBatches = this.openPass(pos.batch);
    for (let b = pos.batch; b < this.size; b++) {
      if (r.options.signal?.aborted) return { reason: 'aborted' };
      checkLive(model, `epoch ${pos.epoch + 1} of ${r.plan.epochs}, before batch ${b + 1}${this.of()}`);
      const next = await this.nextBatch();
      if (next.done) break;
      const stop = await this.batch(next.value, b);
      if (stop) return stop;
    }
    return undefined;
  }

  /** The next batch of the pass; with stepsPerEpoch, of the next pass when this one has ended
   *  (a new pass always has a batch: a stream that yields none is refused by its source). */
  private async nextBatch(): Promise<IteratorResult<TBatch, void>> {
    const { pos } = this;
    if (pos.stepsPerEpoch === undefined) return this.passBatches!.next();
    this.passBatches ??= this.openPass(pos.passBatch!);
    const next = await this.passBatches.next();
    if (!next.done) return next;
    pos.pass!++;
    pos.passBatch = 0;
    this.passBatches = this.openPass(0);
    return this.passBatches.next();
  }

  /** The pass in progress from batch `from`: its order drawn from the model's generator at its
   *  start (and the state kept), or from the kept state when resuming inside it. */
  private openPass(from: number): Iterator<TBatch, void, void> | AsyncIterator<TBatch, void, void> {
    const { pos, r } = this;
    const { model, plan } = r;
    if (from === 0) pos.orderRng = model.rng.getState();
    const place: PassPlace = {
      pass: pos.pass ?? pos.epoch,
      continued: pos.stepsPerEpoch !== undefined,
      at: () => `epoch ${pos.epoch + 1} of ${plan.epochs}${pos.pass === undefined ? '' : `, pass ${pos.pass + 1}`}`,
    };
    return r.source.pass(from === 0 ? model.rng : replay(pos.orderRng), from, place);
  }

  /** One batch: its step(s), the guard's verdict, the epoch's sums, the callback. */
  private async batch(batch: TBatch, b: number): Promise<Stop | undefined> {
    const { pos, r, result } = this;
    const { plan } = r;
    const epoch = pos.epoch;
    const plateau = pos.plateau;
    const reduce = plateau && ((rate: number) => reducedRate(rate, plateau.config, plateau.reductions));
    const o = await stepBatchAsync(r.model, r.optimizer, plan.step, r.gradients(batch, this.want, [epoch, b]), reduce);
    result.steps += o.steps;
    result.skippedSteps += o.skipped;
    if (!Number.isNaN(o.learningRate)) this.learningRate = o.learningRate;
    if (o.problem !== undefined && plan.step.onNonFinite !== 'skip') {
      const message = `${o.problem} (epoch ${epoch + 1} of ${plan.epochs}, batch ${b + 1}${this.of()}); ` +
        `training stopped with the weights of the last good step`;
      if (plan.step.onNonFinite === 'stop') return { reason: 'non-finite', message };
      throw new RangeError(`${where}: ${message} (${o.advice})`);
    }
    recordBatch(pos, o);
    pos.batch = b + 1;                          // = batches: only the epoch's end is left
    if (pos.passBatch !== undefined) pos.passBatch++;
    const elapsedMs = this.clock.elapsedMs();
    await r.options.onProgress?.({
      epoch, epochs: plan.epochs, batch: b, batches: this.size, pass: pos.pass ?? epoch, step: result.steps, loss: o.loss, epochLoss: pos.lossSum / pos.batches,
      gradNorm: o.gradNorm, learningRate: o.learningRate, applied: o.applied,
      stepsPerSecond: result.steps / Math.max(elapsedMs / 1000, 1e-9), elapsedMs,
    });
    await this.clock.yieldIfDue();
    return undefined;
  }

  /** The epoch's end: metrics, validation, early stopping, the plateau rule, then the callback. */
  private async endEpoch(): Promise<Stop | undefined> {
    const { pos, r, result } = this;
    const { model, plan } = r;
    const epoch = pos.epoch;
    checkLive(model, `epoch ${epoch + 1} of ${plan.epochs}, at its end`);
    const logs: EpochLogs = { epoch, loss: pos.lossSum / pos.batches, learningRate: this.learningRate, steps: result.steps, elapsedMs: this.clock.elapsedMs() };
    if (plan.metrics.length > 0) logs.metrics = metricsOf(pos.sums, plan.metrics);
    if (plan.val) logs.val = await evaluateAny(model, where, plan.val, plan.valBatchSize, plan.metrics, `after epoch ${epoch + 1} of ${plan.epochs}`);
    if (plan.early) watch(plan.early, pos, logs, model, r.state);
    if (pos.plateau) {
      // the rule compares the rate of the next step, which it changes
      const next = scheduledRate(plan.step, r.optimizer.step);
      if (plateauEpoch(pos.plateau, monitored(pos.plateau.config.monitor, logs), next)) {
        logs.reducedLearningRate = reducedRate(next, pos.plateau.config, pos.plateau.reductions);
      }
    }
    result.epochLosses.push(logs.loss);
    result.history.push(logs);
    Object.assign(pos, { epoch: epoch + 1, batch: 0, lossSum: 0, batches: 0, sums: zeroSums() });
    await r.options.onEpochEnd?.(logs);
    return this.patienceSpent() ? { reason: 'early-stopping' } : undefined;
  }

  /** ' of N' batches, when an epoch's size is known (a stream's pass is not). */
  private of(): string {
    return Number.isFinite(this.size) ? ` of ${this.size}` : '';
  }

  private patienceSpent(): boolean {
    const early = this.r.plan.early;
    return early !== undefined && this.pos.early!.wait >= early.patience;
  }

  /** The result; an early stop says why, and early stopping puts the best weights back. */
  private finish(stop: Stop | undefined): FitResult {
    const { result, pos, r } = this;
    if (stop) {
      result.stopped = true;
      result.stopReason = stop.reason;
      if (stop.message) result.message = stop.message;
      if (stop.reason === 'early-stopping' && r.state.bestWeights) r.model.arena.f32(r.model.weights).set(r.state.bestWeights);
    }
    if (pos.early && pos.early.bestEpoch >= 0) result.bestEpoch = pos.early.bestEpoch;
    return result;
  }
}

/** Add an applied batch to the epoch's loss and metric sums (skipped batches are left out). */
function recordBatch(pos: FitPosition, r: Outcome): void {
  if (!r.applied) return;
  pos.lossSum += r.loss;
  pos.batches++;
  if (r.sums) addSums(pos.sums, r.sums);
}

/** Early stopping after an epoch: keep the best value (and weights), or count one more wait. */
function watch(early: EarlyStoppingPlan, pos: FitPosition, logs: EpochLogs, model: Trainable<Examples>, state: FitState): void {
  const e = pos.early!;
  const value = monitored(early.monitor, logs);
  const better = early.mode === 'max' ? value > e.best + early.minDelta : value < e.best - early.minDelta;
  if (Number.isFinite(value) && (e.bestEpoch < 0 || better)) {
    e.best = value;
    e.bestEpoch = logs.epoch;
    e.wait = 0;
    if (early.restoreBestWeights) state.bestWeights = model.arena.f32(model.weights).slice();
  } else {
    e.wait++;
  }
}

/** A generator in a saved state (to redraw an epoch's order when resuming inside it). */
function replay(state: readonly number[]): Random {
  const rng = new Random(0);
  rng.setState(state);
  return rng;
}

/** A callback may dispose the model; the run then ends with an error saying where. */
function checkLive(model: Trainable<Examples>, at: string): void {
  if (model.isDisposed()) throw new Error(`${where}: the model was disposed during training (${at})`);
}

/** Elapsed time, and yielding to the event loop at least every `everyMs`. */
export class Clock {
  private readonly start = now();
  private lastYield = this.start;

  constructor(private readonly everyMs: number) {}

  elapsedMs(): number {
    return now() - this.start;
  }

  async yieldIfDue(): Promise<void> {
    if (now() - this.lastYield < this.everyMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.lastYield = now();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

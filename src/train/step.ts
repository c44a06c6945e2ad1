// One batch's optimizer step(s): gradients window by window (one window without truncated
// BPTT), and after each window the non-finite guard, clipping and the update of the one flat
// parameter region. Where the gradients come from is a seam: the model itself on this thread
// (localWindows), or its replicas on worker threads (workers/replicas.ts), which leave the
// reduced gradient in the same region.
import type { StatSums } from '../checkpoint.js';
import { clipGradients, gradientNorm, type Optimizer } from '../optim.js';
import { learningRateAt } from '../schedule.js';
import { addSums, zeroSums } from './metrics.js';
import type { StepPlan } from './options.js';
import type { Trainable } from './trainable.js';
import type { Examples, StatsWanted, StepResult } from './types.js';

/** One window's gradient, left in the model's gradient region. */
export interface GradientWindow {
  loss: number;
  /** With truncated BPTT: the window's time steps [t0, t1). */
  t0?: number;
  t1?: number;
  /** The window's loss sums and metric counts, when asked for. */
  sums?: StatSums;
}

/** A batch's gradients, window by window; returns the loss of the whole batch. */
export type GradientWindows = Iterator<GradientWindow, number, void> | AsyncIterator<GradientWindow, number, void>;

/** A batch's step: StepResult, what went wrong if anything, and the metric sums. */
export interface Outcome extends StepResult {
  problem?: string;
  /** What to change so that the problem goes away, with the problem. */
  advice?: string;
  sums?: StatSums;
}

/** The windows of a batch computed by the model itself, on this thread. */
export function* localWindows<TBatch extends Examples>(model: Trainable<TBatch>, where: string, batch: TBatch,
                                                         tbptt: number | undefined, want?: StatsWanted): Generator<GradientWindow, number, void> {
  const sums = () => (want ? model.batchStats(want) : undefined);
  if (tbptt === undefined) {
    const loss = model.lossAndGradients(where, batch);
    yield { loss, sums: sums() };
    return loss;
  }
  const windows = model.truncatedWindows(where, batch, tbptt);
  try {
    for (;;) {
      const w = windows.next();
      if (w.done) return w.value;
      yield { ...w.value, sums: sums() };
    }
  } finally {
    windows.return?.(NaN);
  }
}

/** A batch's step on this thread (trainStep). The optimizer is taken (made, or replaced for
 *  another config) only when the first update is applied, so a batch that is refused, or whose
 *  gradient is not finite, leaves the model's optimizer state as it was; `stepsBefore` is the
 *  step count it will have then. */
export function stepBatch<TBatch extends Examples>(model: Trainable<TBatch>, optimizer: () => Optimizer, stepsBefore: number,
                                                   plan: StepPlan, windows: Iterator<GradientWindow, number, void>): Outcome {
  const update = new Update(model, optimizer, stepsBefore, plan);
  for (;;) {
    const w = windows.next();
    if (w.done) return update.finish(w.value);
    if (!update.apply(w.value)) {
      windows.return?.(NaN);
      return update.finish(w.value.loss);
    }
  }
}

/** A batch's step from gradients that may arrive asynchronously (fit, workers). `reduce` turns
 *  a step's scheduled rate into the rate it takes (fit's reductions on a plateau). */
export async function stepBatchAsync<TBatch extends Examples>(model: Trainable<TBatch>, optimizer: Optimizer, plan: StepPlan,
                                                              windows: GradientWindows, reduce?: (rate: number) => number): Promise<Outcome> {
  const update = new Update(model, () => optimizer, optimizer.step, plan, reduce);
  for (;;) {
    const w = await windows.next();
    if (w.done) return update.finish(w.value);
    if (!update.apply(w.value)) {
      await windows.return?.(NaN);
      return update.finish(w.value.loss);
    }
  }
}

/** The guard, clipping and update after each window of a batch, and what they add up to. */
class Update {
  private readonly out: Outcome = { loss: NaN, gradNorm: 0, applied: true, steps: 0, skipped: 0, learningRate: NaN };

  /** The optimizer, once the first update has taken it. */
  private opt?: Optimizer;

  constructor(private readonly model: Trainable, private readonly take: () => Optimizer, private readonly stepsBefore: number,
              private readonly plan: StepPlan, private readonly reduce?: (rate: number) => number) {}

  /** Guard, clip and update after one window's gradient; false when training must not go on. */
  apply(w: GradientWindow): boolean {
    const { model, plan, out } = this;
    if (w.sums) addSums(out.sums ??= zeroSums(), w.sums);
    const norm = gradientNorm(model.kernels, model.grads);
    if (!(norm <= out.gradNorm)) out.gradNorm = norm;          // the largest; NaN wins
    // 'mean' over no targets is 0 / 0: NaN with a zero gradient (PyTorch's too), which no
    // learning rate or clipping changes; say so rather than give the advice for a divergence
    if (Number.isNaN(w.loss) && norm === 0 && model.reduction() === 'mean') return this.refuse(w, 'the loss is NaN', NO_TARGETS);
    if (!Number.isFinite(w.loss) || !Number.isFinite(norm)) return this.refuse(w, describeNonFinite(model, w.loss), ADVICE);
    clipGradients(model.kernels, model.grads, norm, plan.clipNorm, plan.clipValue);
    const opt = this.opt ??= this.take();
    const scheduled = scheduledRate(plan, opt.step);
    const lr = this.reduce ? this.reduce(scheduled) : scheduled;
    // a finite gradient can still make a weight or a moment overflow (a huge learning rate):
    // the optimizer then stores nothing, and the step is refused as a non-finite loss is
    const bad = opt.apply(model.weights, model.grads, lr);
    if (bad >= 0) {
      const eps = (opt.config as { eps?: number }).eps;
      if (eps === undefined || Math.fround(eps) !== 0) return this.refuse(w, `the update with learning rate ${lr} would make ${describeIndex(model, bad)} not finite`, ADVICE);
      // eps = 0: a parameter whose gradient and moments are 0 divides 0 by 0, at any learning rate
      const g = model.arena.f32(model.grads)[bad];
      const zero = `optimizer.eps is ${eps === 0 ? '0' : `${eps}, 0 in float32`}`;
      const cause = g === 0 ? `its gradient is 0 and ${zero}, so its step divides 0 by 0`
        : `${zero}, so a parameter whose gradient and moments are 0 divides 0 by 0`;
      return this.refuse(w, `the update would make ${describeIndex(model, bad)} not finite: ${cause}`,
        "give optimizer.eps a value above 0, such as its default, or pass onNonFinite: 'skip'");
    }
    out.learningRate = lr;
    out.steps++;
    return true;
  }

  /** The guard's verdict on a window whose step is not taken: false when training must stop. */
  private refuse(w: GradientWindow, what: string, advice: string): boolean {
    const { out } = this;
    const context = w.t0 === undefined ? '' : ` (the window of time steps ${w.t0}..${w.t1! - 1})`;
    if (out.problem === undefined) {
      out.problem = `${what} at optimizer step ${(this.opt?.step ?? this.stepsBefore) + 1}${context}`;
      out.advice = advice;
    }
    out.applied = false;
    out.skipped++;
    return this.plan.onNonFinite === 'skip';
  }

  finish(loss: number): Outcome {
    this.out.loss = loss;
    return this.out;
  }
}

/** The rate of optimizer step t (from 0): the base rate, as the schedule scales it. */
export function scheduledRate(plan: StepPlan, t: number): number {
  return plan.schedule ? learningRateAt(plan.schedule, plan.baseRate, t) : plan.baseRate;
}

/** What to change after a non-finite loss, gradient or update. */
const ADVICE = "lower the learning rate, set clipNorm, or pass onNonFinite: 'skip'";

/** What to do about a batch whose 'mean' has no terms. */
const NO_TARGETS = "every target of the batch is skipped (−1 or the ignoreIndex) or weighs 0, so reduction 'mean' divides by 0 " +
  "and the gradient is 0, as in PyTorch; pass onNonFinite: 'skip' to pass over such batches, or use reduction 'sum'";

/** Name the first tensor with a non-finite gradient (only on the error path). */
function describeNonFinite(model: Trainable, loss: number): string {
  if (!Number.isFinite(loss)) return `the loss is ${loss}`;
  const g = model.arena.f32(model.grads);
  for (const e of model.layout.entries) {
    for (let i = 0; i < e.length; i++) {
      if (!Number.isFinite(g[e.offset + i])) return `the gradient of ${e.name} has ${g[e.offset + i]} at index ${i}`;
    }
  }
  return 'the gradient norm is not finite';
}

/** The parameter at index i of the optimizer's range, by name (only on the error path). */
function describeIndex(model: Trainable, i: number): string {
  const e = model.layout.entries.find((x) => i >= x.offset && i < x.offset + x.length);
  return e ? `${e.name}[${i - e.offset}] (or its optimizer moments)` : `the value at ${i}`;
}

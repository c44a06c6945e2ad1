// Learning-rate schedules: the learning rate of optimizer step t (t = 0, 1, …) as a closed form
// of t and the base rate, one per torch.optim.lr_scheduler class of the same name, optionally
// after a linear warm-up (torch's SequentialLR([LinearLR, schedule], milestones=[steps])).
// The position t is the optimizer's step count (steps taken since it was created), which
// checkpoints save.
// see: https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate
import { KEYS } from './keys.js';
import { checkInt, checkKeys, checkNamed, checkNumber, describe } from './validate.js';

export type ScheduleName = 'constant' | 'step' | 'multistep' | 'exponential' | 'cosine' | 'linear';

/** A linear warm-up before the schedule: the rate rises from startFactor·lr to lr over `steps`
 *  steps, then the schedule runs from its own step 0. */
export interface Warmup {
  /** Steps of warm-up. */
  steps: number;
  /** Fraction of the base rate at step 0, in (0, 1]. Default 1/3 (torch's LinearLR). */
  startFactor?: number;
}

interface Base {
  /** Optional linear warm-up before this schedule. */
  warmup?: Warmup;
}

/** The base rate at every step (torch's ConstantLR with factor 1). */
export interface ConstantSchedule extends Base {
  type: 'constant';
}

/** lr · gamma^⌊t / stepSize⌋ (StepLR). */
export interface StepSchedule extends Base {
  type: 'step';
  /** Steps between decays. */
  stepSize: number;
  /** Factor per decay. Default 0.1. */
  gamma?: number;
}

/** lr · gamma^(number of milestones ≤ t) (MultiStepLR). */
export interface MultiStepSchedule extends Base {
  type: 'multistep';
  /** Steps at which the rate is multiplied by gamma, increasing. */
  milestones: number[];
  /** Factor per milestone. Default 0.1. */
  gamma?: number;
}

/** lr · gamma^t (ExponentialLR). */
export interface ExponentialSchedule extends Base {
  type: 'exponential';
  /** Factor per step, in (0, 1]. */
  gamma: number;
}

/** etaMin + (lr − etaMin) · (1 + cos(π t / tMax)) / 2 (CosineAnnealingLR). As in torch, the
 *  curve continues past tMax (it rises again); set tMax to the run's length. */
export interface CosineSchedule extends Base {
  type: 'cosine';
  /** Steps from lr down to etaMin. */
  tMax: number;
  /** Lowest rate. Default 0. */
  etaMin?: number;
}

/** lr · (startFactor + (endFactor − startFactor) · min(t, totalIters) / totalIters) (LinearLR):
 *  a linear warm-up when startFactor < endFactor = 1, a linear decay the other way round. */
export interface LinearSchedule extends Base {
  type: 'linear';
  /** Default 1/3. */
  startFactor?: number;
  /** Default 1. */
  endFactor?: number;
  /** Steps from startFactor to endFactor. Default 5. */
  totalIters?: number;
}

export type ScheduleConfig =
  | ConstantSchedule | StepSchedule | MultiStepSchedule | ExponentialSchedule | CosineSchedule | LinearSchedule;

/** A schedule with every default filled in. */
export type ResolvedSchedule =
  | { type: 'constant'; warmup?: Required<Warmup> }
  | { type: 'step'; stepSize: number; gamma: number; warmup?: Required<Warmup> }
  | { type: 'multistep'; milestones: number[]; gamma: number; warmup?: Required<Warmup> }
  | { type: 'exponential'; gamma: number; warmup?: Required<Warmup> }
  | { type: 'cosine'; tMax: number; etaMin: number; warmup?: Required<Warmup> }
  | { type: 'linear'; startFactor: number; endFactor: number; totalIters: number; warmup?: Required<Warmup> };

const NAMES: readonly ScheduleName[] = ['constant', 'step', 'multistep', 'exponential', 'cosine', 'linear'];

/** Fill in defaults and check every field. */
export function resolveSchedule(where: string, config: ScheduleName | ScheduleConfig): ResolvedSchedule {
  const c = checkNamed(where, 'schedule', config, NAMES);
  const type = c.type;
  checkKeys(where, 'schedule', c, KEYS[type]);
  const num = (key: string, dflt: number, lo: number, hi = Infinity): number =>
    c[key] === undefined ? dflt : checkNumber(where, `schedule.${key}`, c[key], lo, hi);
  const int = (key: string, dflt?: number): number =>
    c[key] === undefined && dflt !== undefined ? dflt : checkInt(where, `schedule.${key}`, c[key]);
  /** A factor in (0, 1]. */
  const factor = (name: string, v: unknown, dflt?: number): number => {
    if (v === undefined && dflt !== undefined) return dflt;
    const x = checkNumber(where, name, v);
    if (!(x > 0 && x <= 1)) throw new RangeError(`${where}: ${name} must be a number in (0, 1], got ${x}`);
    return x;
  };
  let warmup: Required<Warmup> | undefined;
  if (c.warmup !== undefined) {
    const w = c.warmup as Record<string, unknown>;
    if (typeof w !== 'object' || w === null) throw new TypeError(`${where}: schedule.warmup must be { steps, startFactor? }, got ${describe(w)}`);
    checkKeys(where, 'schedule.warmup', w, KEYS.warmup);
    warmup = {
      steps: checkInt(where, 'schedule.warmup.steps', w.steps),
      startFactor: factor('schedule.warmup.startFactor', w.startFactor, 1 / 3),
    };
  }
  const withWarmup = <T extends object>(r: T): T => (warmup ? { ...r, warmup } : r);
  switch (type) {
    case 'constant':
      return withWarmup({ type });
    case 'step':
      return withWarmup({ type, stepSize: int('stepSize'), gamma: num('gamma', 0.1, 0) });
    case 'multistep': {
      const m = c.milestones;
      if (!Array.isArray(m)) throw new TypeError(`${where}: schedule.milestones must be an array of step numbers, got ${describe(m)}`);
      const milestones = m.map((v, i) => checkInt(where, `schedule.milestones[${i}]`, v));
      for (let i = 1; i < milestones.length; i++) {
        if (milestones[i] <= milestones[i - 1]) {
          throw new RangeError(`${where}: schedule.milestones must increase, got ${milestones[i - 1]} then ${milestones[i]} at [${i}]`);
        }
      }
      return withWarmup({ type, milestones, gamma: num('gamma', 0.1, 0) });
    }
    case 'exponential':
      return withWarmup({ type, gamma: factor('schedule.gamma', c.gamma) });
    case 'cosine':
      return withWarmup({ type, tMax: int('tMax'), etaMin: num('etaMin', 0, 0) });
    case 'linear':
      return withWarmup({
        type, startFactor: factor('schedule.startFactor', c.startFactor, 1 / 3), endFactor: num('endFactor', 1, 0, 1), totalIters: int('totalIters', 5),
      });
  }
}

/** The learning rate at step t (t ≥ 0) from base rate lr. */
export function learningRateAt(s: ResolvedSchedule, lr: number, t: number): number {
  if (s.warmup) {
    const { steps, startFactor } = s.warmup;
    // LinearLR(start_factor, total_iters = steps), then the schedule from its own step 0
    if (t < steps) return lr * (startFactor + (1 - startFactor) * t / steps);
    t -= steps;
  }
  switch (s.type) {
    case 'constant':
      return lr;
    case 'step':
      return lr * Math.pow(s.gamma, Math.floor(t / s.stepSize));
    case 'multistep':
      return lr * Math.pow(s.gamma, s.milestones.filter((m) => m <= t).length);
    case 'exponential':
      return lr * Math.pow(s.gamma, t);
    case 'cosine':
      return s.etaMin + (lr - s.etaMin) * (1 + Math.cos(Math.PI * t / s.tMax)) / 2;
    case 'linear':
      return lr * (s.startFactor + (s.endFactor - s.startFactor) * Math.min(t, s.totalIters) / s.totalIters);
  }
}

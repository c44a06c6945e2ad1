// Reducing the learning rate on a plateau: the rule of torch.optim.lr_scheduler's
// ReduceLROnPlateau, applied at every epoch's end to the value early stopping would watch. Its
// state — the best value, the epochs without improvement, the cooldown left and the reductions
// made — is part of fit's position (checkpoint.ts), so a resumed run reduces the rate where the
// uninterrupted one did.
//
// torch sets the optimizer's rate itself; here the reductions scale the rate of every step as
// the schedule gives it. With r(t) the scheduled rate of optimizer step t and k reductions made:
//
//   rate(t) = r(t)                                              when k = 0
//           = max(r(t) · factor · … · factor, min(r(t), minLr))  otherwise (k multiplications)
//
// so a reduction never takes the rate below minLr, nor lifts a rate the schedule itself takes
// below it. One multiplication per reduction, in order, as torch multiplies the rate it holds:
// with a constant schedule the rates are torch's to the bit. A reduction is made only when it
// lowers the next step's rate by more than eps (torch compares the rate it holds).
// see: https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ReduceLROnPlateau.html
import { KEYS } from '../keys.js';
import { checkChoice, checkInt, checkKeys, checkNumber, describe } from '../validate.js';
import { resolveMonitor } from './metrics.js';
import type { MetricName, Monitor, ReduceLROnPlateauOptions } from './types.js';

/** reduceLROnPlateau with every default filled in (see ReduceLROnPlateauOptions). */
export interface PlateauPlan {
  monitor: Monitor;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLr: number;
  eps: number;
}

/** Where the rule stands: part of fit's position, saved in checkpoints. */
export interface Plateau {
  config: PlateauPlan;
  /** The best value so far; the mode's worst (+Infinity for 'min', −Infinity for 'max')
   *  before any. Only finite values become the best. */
  best: number;
  /** Epochs without improvement, counted since the best or the last reduction (torch's
   *  num_bad_epochs). */
  wait: number;
  /** Epochs of cooldown left (torch's cooldown_counter). */
  cooldownLeft: number;
  /** Reductions made: the factors multiplying the scheduled rate. */
  reductions: number;
}

/** Every field checked, with torch's defaults; the monitor as earlyStopping's. */
export function resolvePlateau(where: string, name: string, o: unknown, hasVal: boolean, metrics: readonly MetricName[]): PlateauPlan {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new TypeError(`${where}: ${name} must be { monitor?, factor?, patience?, threshold?, cooldown?, minLr?, … }, got ${describe(o)}`);
  }
  checkKeys(where, name, o, KEYS.reduceLROnPlateau);
  const c = o as ReduceLROnPlateauOptions;
  const monitor = resolveMonitor(where, `${name}.monitor`, c.monitor, hasVal, metrics);
  const factor = checkNumber(where, `${name}.factor`, c.factor ?? 0.1);
  if (!(factor >= 0 && factor < 1)) throw new RangeError(`${where}: ${name}.factor must be a number in [0, 1) (a reduction lowers the rate), got ${factor}`);
  return {
    monitor,
    mode: checkChoice(where, `${name}.mode`, c.mode ?? (monitor.endsWith('accuracy') ? 'max' : 'min'), ['min', 'max'] as const),
    factor,
    patience: checkInt(where, `${name}.patience`, c.patience ?? 10, 0),
    threshold: checkNumber(where, `${name}.threshold`, c.threshold ?? 1e-4, 0),
    thresholdMode: checkChoice(where, `${name}.thresholdMode`, c.thresholdMode ?? 'rel', ['rel', 'abs'] as const),
    cooldown: checkInt(where, `${name}.cooldown`, c.cooldown ?? 0, 0),
    minLr: checkNumber(where, `${name}.minLr`, c.minLr ?? 0, 0),
    eps: checkNumber(where, `${name}.eps`, c.eps ?? 1e-8, 0),
  };
}

/** The rule before its first epoch. */
export function startPlateau(config: PlateauPlan): Plateau {
  return { config, best: worst(config.mode), wait: 0, cooldownLeft: 0, reductions: 0 };
}

/** The rate of a step whose scheduled rate is `rate`, after `reductions` reductions. */
export function reducedRate(rate: number, config: PlateauPlan, reductions: number): number {
  if (reductions === 0) return rate;
  let r = rate;
  for (let k = 0; k < reductions; k++) r *= config.factor;
  return Math.max(r, Math.min(rate, config.minLr));
}

/** torch's step(value) at an epoch's end, given the next step's scheduled rate: updates the
 *  state, and returns true when the rate was reduced. */
export function plateauEpoch(p: Plateau, value: number, rate: number): boolean {
  const c = p.config;
  if (isBetter(c, value, p.best)) {
    p.best = value;
    p.wait = 0;
  } else {
    p.wait++;
  }
  // epochs without improvement during a cooldown do not count
  if (p.cooldownLeft > 0) {
    p.cooldownLeft--;
    p.wait = 0;
  }
  if (p.wait <= c.patience) return false;
  p.cooldownLeft = c.cooldown;
  p.wait = 0;
  // a reduction too small to matter (or none, at the floor) is not made
  if (!(reducedRate(rate, c, p.reductions) - reducedRate(rate, c, p.reductions + 1) > c.eps)) return false;
  p.reductions++;
  return true;
}

/** torch's is_better, except that a value that is not finite never improves (as in early
 *  stopping): torch would take a +Infinity as the best in mode 'max'. */
function isBetter(c: PlateauPlan, value: number, best: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (c.mode === 'min') return c.thresholdMode === 'rel' ? value < best * (1 - c.threshold) : value < best - c.threshold;
  return c.thresholdMode === 'rel' ? value > best * (c.threshold + 1) : value > best + c.threshold;
}

function worst(mode: 'min' | 'max'): number {
  return mode === 'min' ? Infinity : -Infinity;
}

/** The state a resumed fit continues from: the saved one, when the run it continues had the
 *  same rule. Adding, dropping or changing the rule on resume would give other rates than the
 *  run it continues, so it is refused. */
export function resumePlateau(where: string, config: PlateauPlan | undefined, saved: Plateau | undefined): Plateau | undefined {
  const was = (p: Plateau) => `${JSON.stringify(p.config)}, with ${p.reductions} reduction${p.reductions === 1 ? '' : 's'} made`;
  const fix = 'pass the options of that run, or start a new run without resume';
  if (config === undefined) {
    if (saved === undefined) return undefined;
    throw new RangeError(`${where}: resume needs the reduceLROnPlateau of the run it continues: it had ${was(saved)}; got none (${fix})`);
  }
  if (saved === undefined) throw new RangeError(`${where}: resume needs the reduceLROnPlateau of the run it continues: it had none; got one (${fix})`);
  const key = (Object.keys(config) as (keyof PlateauPlan)[]).find((k) => config[k] !== saved.config[k]);
  if (key !== undefined) {
    throw new RangeError(`${where}: resume needs the reduceLROnPlateau of the run it continues: its ${key} was ${JSON.stringify(saved.config[key])}, ` +
      `got ${JSON.stringify(config[key])} (${fix})`);
  }
  return { ...saved, config };
}

/** A plateau read from a checkpoint's fit position, every field checked. */
export function checkPlateau(where: string, name: string, v: unknown): Plateau {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${where}: ${name} must be an object, got ${describe(v)}`);
  const p = v as Record<string, unknown>;
  const config = resolvePlateau(where, `${name}.config`, p.config, true, ['accuracy', 'perplexity', 'bitsPerChar']);
  return {
    config,
    // JSON writes the mode's worst (±Infinity) as null
    best: p.best === null ? worst(config.mode) : checkNumber(where, `${name}.best`, p.best),
    wait: checkInt(where, `${name}.wait`, p.wait, 0, config.patience),
    cooldownLeft: checkInt(where, `${name}.cooldownLeft`, p.cooldownLeft, 0, config.cooldown),
    reductions: checkInt(where, `${name}.reductions`, p.reductions, 0),
  };
}

// The learning-rate schedule of a command-line run (--warmup, --decay, --min-lr) as the
// library's schedule config, which fit() takes: a linear warm-up over the first --warmup
// optimizer steps, from --lr / 3 to --lr (torch's LinearLR), then the decay from --lr to
// --min-lr over the rest of the run (CosineAnnealingLR, or LinearLR down to min/lr).
//
// The schedule's length is fixed when the run starts (Settings.scheduleSteps: --steps, or
// --epochs × batches per epoch) and stored in the checkpoint; the optimizer's step count, also
// in the checkpoint, is its position, so --resume continues the same curve. A resumed run that
// trains past the end holds the final rate (linear, constant); a cosine curve would rise again
// there (as torch's does), so a cosine run cannot be extended past its end; a linear one can,
// with a warning (at the default --min-lr 0 those steps leave the weights as they are).
import type { ScheduleConfig, Warmup } from '../index.js';
import { UsageError } from './args.js';
import type { Settings } from './run-file.js';

/** The warm-up's first rate as a fraction of --lr (torch's LinearLR default start_factor). */
export const WARMUP_START = 1 / 3;

/** The schedule fit() follows, or undefined for the constant --lr of a run without one. */
export function scheduleOf(s: Settings): ScheduleConfig | undefined {
  const warmup: Warmup | undefined = s.warmup > 0 ? { steps: s.warmup, startFactor: WARMUP_START } : undefined;
  const decaySteps = s.scheduleSteps - s.warmup;
  switch (s.decay) {
    case 'constant':
      return warmup && { type: 'constant', warmup };
    case 'cosine':
      return { type: 'cosine', tMax: decaySteps, etaMin: s.minLr, warmup };
    case 'linear':
      return { type: 'linear', startFactor: 1, endFactor: s.minLr / s.lr, totalIters: decaySteps, warmup };
  }
}

/** The flags of a new run that contradict each other, before any text is read. */
export function checkScheduleFlags(s: Settings, minLrGiven: boolean): void {
  if (minLrGiven && s.decay === 'constant') {
    throw new UsageError('rnn-wasm train: --min-lr is where --decay cosine or linear ends; with --decay constant the rate stays at --lr');
  }
  if (s.minLr > s.lr) throw new UsageError(`rnn-wasm train: --min-lr ${s.minLr} is more than --lr ${s.lr}; the rate decays from --lr down to --min-lr`);
}

/** The schedule against the run's length (totalSteps, as asked for in this session). */
export function checkScheduleLength(s: Settings, totalSteps: number): void {
  if (s.warmup > 0 && s.warmup >= s.scheduleSteps) {
    throw new UsageError(`rnn-wasm train: --warmup ${s.warmup} must be less than the run's ${s.scheduleSteps} optimizer steps`);
  }
  if (s.decay === 'cosine' && totalSteps > s.scheduleSteps) {
    throw new UsageError(`rnn-wasm train: this run's cosine schedule spans ${s.scheduleSteps} steps, fixed when the run started, ` +
      `and the rate would rise again past them; it cannot train to step ${totalSteps} (start a new run of that length)`);
  }
}

/** The warning for a session that trains past the end of its linear decay (from step
 *  stepsBefore + 1 to totalSteps), where the rate stays at --min-lr; undefined otherwise. */
export function pastEndWarning(s: Settings, stepsBefore: number, totalSteps: number): string | undefined {
  if (s.decay !== 'linear' || totalSteps <= s.scheduleSteps) return undefined;
  const from = Math.max(stepsBefore, s.scheduleSteps) + 1;
  const steps = from === totalSteps ? `step ${from} is` : `steps ${from} to ${totalSteps} are`;
  return `warning: ${steps} past the end of this run's linear decay (step ${s.scheduleSteps}, fixed when the run started) and train at ` +
    `--min-lr ${s.minLr}${s.minLr === 0 ? ', which leaves the weights unchanged; start a new run to train further' : ''}`;
}

/** "" for a constant rate, else e.g. " (warm-up 100 steps, cosine decay to 0 by step 2000)". */
export function describeSchedule(s: Settings): string {
  const parts = [];
  if (s.warmup > 0) parts.push(`warm-up ${s.warmup} steps`);
  if (s.decay !== 'constant') parts.push(`${s.decay} decay to ${s.minLr} by step ${s.scheduleSteps}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

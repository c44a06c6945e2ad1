// Learning-rate schedules against torch.optim.lr_scheduler (tests/fixtures/make_schedule.py
// wrote tests/fixtures/schedule.json), and their use in training steps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRNN, learningRateAt, Random, resolveSchedule } from '../dist/index.js';
import { checkClose, checkSame, randomBatch, modelConfig } from './_utils.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'schedule.json'), 'utf8'));

const Golden = suite('schedules match torch.optim.lr_scheduler');

for (const run of golden.runs) {
  Golden(`${JSON.stringify(run.config)}: ${run.lrs.length} steps`, () => {
    const s = resolveSchedule('test', run.config);
    const ours = run.lrs.map((_: number, t: number) => learningRateAt(s, golden.baseLR, t));
    checkClose('learning rates', ours, run.lrs, 1e-12, 1e-12);
  });
}

Golden('the golden values can fail: a cosine over another length disagrees', () => {
  const run = golden.runs.find((r: any) => r.config.type === 'cosine' && !r.config.warmup);
  const s = resolveSchedule('test', { ...run.config, tMax: run.config.tMax + 1 });
  const ours = run.lrs.map((_: number, t: number) => learningRateAt(s, golden.baseLR, t));
  assert.ok(Math.max(...ours.map((v: number, t: number) => Math.abs(v - run.lrs[t]))) > 1e-4);
});

Golden.run();

// ---

const Use = suite('schedules in training');

const spec = { T: 5, B: 3, n_x: 4, n_a: 6, n_y: 4, input: 'tokens', output: 'softmax' } as const;

Use('trainStep follows the schedule: the same weights as passing each step\'s rate by hand', async () => {
  const schedule = { type: 'cosine', tMax: 8, etaMin: 0.01, warmup: { steps: 3, startFactor: 0.2 } } as const;
  const a = await createRNN({ ...modelConfig(spec), seed: 3 }), b = await createRNN({ ...modelConfig(spec), seed: 3 });
  const rng = new Random(1);
  const rates: number[] = [];
  for (let t = 0; t < 12; t++) {
    const batch = randomBatch(rng, spec);
    const r = a.trainStep(batch, { optimizer: { type: 'sgd', momentum: 0.9 }, learningRate: 0.5, schedule });
    rates.push(r.learningRate);
    b.trainStep(batch, { optimizer: { type: 'sgd', momentum: 0.9 }, learningRate: learningRateAt(resolveSchedule('test', schedule), 0.5, t) });
  }
  checkSame('weights', a.getWeights(), b.getWeights());
  assert.is(rates[0], 0.5 * 0.2, 'warm-up starts at startFactor · lr');
  assert.is(rates[3], 0.5, 'the schedule starts at lr after the warm-up');
  assert.ok(rates[11] < 0.1, `decayed to ${rates[11]}`);
  a.dispose(); b.dispose();
});

Use('the position is the optimizer\'s step count: it continues across calls and restarts with a new optimizer', async () => {
  const m = await createRNN({ ...modelConfig(spec), seed: 4 });
  const batch = randomBatch(new Random(2), spec);
  const schedule = { type: 'step', stepSize: 2, gamma: 0.5 } as const;
  const lrs = Array.from({ length: 5 }, () => m.trainStep(batch, { optimizer: 'sgd', learningRate: 1, schedule }).learningRate);
  assert.equal(lrs, [1, 1, 0.5, 0.5, 0.25]);
  assert.is(m.trainStep(batch, { optimizer: 'adam', learningRate: 1, schedule }).learningRate, 1, 'a new optimizer starts at step 0');
  m.dispose();
});

Use('bad schedules are refused before anything runs', async () => {
  const m = await createRNN({ ...modelConfig(spec), seed: 5 });
  const batch = randomBatch(new Random(3), spec);
  const w = m.getWeights();
  const bad: [unknown, RegExp][] = [
    ['cyclic', /schedule must be one of 'constant', 'step', 'multistep', 'exponential', 'cosine', 'linear' \(or \{ type, … \}\), got "cyclic"$/],
    [{ type: 'cosin', tMax: 10 }, /schedule.type must be one of 'constant', .*, got "cosin"; did you mean 'cosine'\?/],
    [{ type: 'step' }, /schedule.stepSize must be an integer ≥ 1, got undefined/],
    [{ type: 'cosine', tMax: 0 }, /schedule.tMax must be an integer ≥ 1, got 0/],
    [{ type: 'exponential', gamma: 1.5 }, /schedule.gamma must be a number in \(0, 1\], got 1.5/],
    [{ type: 'multistep', milestones: [5, 3] }, /schedule.milestones must increase, got 5 then 3 at \[1\]/],
    [{ type: 'constant', warmup: { steps: 0 } }, /schedule.warmup.steps must be an integer ≥ 1, got 0/],
  ];
  for (const [schedule, pattern] of bad) {
    try {
      m.trainStep(batch, { schedule: schedule as any });
      assert.unreachable(`accepted ${JSON.stringify(schedule)}`);
    } catch (e) {
      assert.ok(e instanceof TypeError || e instanceof RangeError, String(e));
      assert.match((e as Error).message, /^trainStep: /);
      assert.match((e as Error).message, pattern);
    }
  }
  checkSame('weights unchanged', m.getWeights(), w);
  m.dispose();
});

Use.run();

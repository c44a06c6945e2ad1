// Reducing the learning rate on a plateau: the rule against torch's ReduceLROnPlateau
// (tests/fixtures/make_plateau.py wrote tests/fixtures/plateau.json); in fit, the rate that
// reaches the optimizer, with and without a schedule; resume bit for bit wherever a run stops;
// bad options and changed options on resume refused; workers reduce as one thread does.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRNN, createWorkerPool, decodeSafetensors, encodeSafetensors, learningRateAt, Random, resolveSchedule, type EpochLogs, type FitOptions, type WorkerPool } from '../dist/index.js';
import { plateauEpoch, reducedRate, resolvePlateau, startPlateau } from '../dist/train/plateau.js';
import { checkSame, checkSameState, echo, rejectsWith, throwsWith, unsealed, type AbortPoint } from './_utils.js';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'plateau.json'), 'utf8'));
const number = (v: number | string) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v as number);

/** The rates the rule gives after each value of a golden run: the plateau fit uses, fed by hand. */
function ratesOf(options: Record<string, unknown>, base: number, values: number[]): number[] {
  const p = startPlateau(resolvePlateau('test', 'reduceLROnPlateau', { monitor: 'loss', ...options }, false, []));
  return values.map((v) => {
    plateauEpoch(p, v, base);
    return reducedRate(base, p.config, p.reductions);
  });
}

const Golden = suite('reduceLROnPlateau matches torch.optim.lr_scheduler.ReduceLROnPlateau');

for (const run of golden.runs) {
  Golden(`${JSON.stringify(run.options)} from ${run.baseLR}: ${run.values.length} epochs`, () => {
    // exactly: a constant schedule gives torch's rates to the bit
    assert.equal(ratesOf(run.options, run.baseLR, run.values.map(number)), run.lrs);
  });
}

Golden('the golden values can fail: each rule, changed, disagrees with torch somewhere', () => {
  const differs = (change: (o: Record<string, unknown>) => Record<string, unknown>) => golden.runs.some((run: any) =>
    JSON.stringify(ratesOf(change(run.options), run.baseLR, run.values.map(number))) !== JSON.stringify(run.lrs));
  assert.ok(differs((o) => ({ ...o, patience: (o.patience as number ?? 10) + 1 })), 'patience');
  assert.ok(differs((o) => ({ ...o, cooldown: (o.cooldown as number ?? 0) + 1 })), 'cooldown');
  assert.ok(differs((o) => ({ ...o, threshold: 0 })), 'threshold (the edges)');
  assert.ok(differs((o) => ({ ...o, eps: 0 })), 'eps');
  assert.ok(differs((o) => ({ ...o, minLr: 0 })), 'minLr');
  // the reductions are applied one multiplication at a time, as torch does: base · factor^k
  // differs from torch in the last bit
  const run = golden.runs.find((r: any) => r.options.factor === 0.9);
  assert.ok(run.lrs.some((lr: number, i: number) => lr !== run.baseLR * 0.9 ** i), 'base · factor^k is not torch\'s rate');
});

Golden.run();

// ---

const gru = { cell: 'gru', n_x: 6, n_a: 8, n_y: 6, input: 'tokens', reduction: 'mean' } as const;
const rng = new Random(1);
const data = echo(rng, 12, 8, 6, 1);
/** Validation on another delay than training: its loss falls, then rises, then falls again as
 *  the rate drops, so the rule has plateaus to find. */
const val = echo(rng, 8, 8, 6, 2);
const sgd = { optimizer: { type: 'sgd', momentum: 0.9 }, learningRate: 0.5, batchSize: 4, validationData: val } as const;
const plateau = { patience: 1, factor: 0.5, threshold: 0.01 } as const;

const Fit = suite('reduceLROnPlateau in fit');

Fit('the rate every step takes is the rule\'s, from the epoch after a reduction: the weights of trainStep at those rates', async () => {
  const m = await createRNN({ ...gru, seed: 3 });
  const stepRates: number[][] = [];
  const r = await m.fit(data, {
    ...sgd, epochs: 12, shuffle: false, reduceLROnPlateau: plateau,
    onProgress: (p) => { (stepRates[p.epoch] ??= []).push(p.learningRate); },
  });
  // the rule fed the validation losses fit reports
  const p = startPlateau(resolvePlateau('test', 'reduceLROnPlateau', plateau, true, []));
  const epochRates = r.history.map((h) => {
    const rate = reducedRate(0.5, p.config, p.reductions);
    const reduced = plateauEpoch(p, h.val!.loss, 0.5);
    assert.is(h.reducedLearningRate, reduced ? reducedRate(0.5, p.config, p.reductions) : undefined, `epoch ${h.epoch}: reducedLearningRate`);
    return rate;
  });
  assert.ok(p.reductions >= 2, `${p.reductions} reductions`);
  assert.equal(stepRates, epochRates.map((rate) => [rate, rate, rate]), 'Progress.learningRate');
  assert.equal(r.history.map((h) => h.learningRate), epochRates, 'EpochLogs.learningRate');
  // the same steps by hand: the rates reach the optimizer
  const b = await createRNN({ ...gru, seed: 3 });
  for (const rate of epochRates) {
    for (let i = 0; i < 12; i += 4) b.trainStep({ x: data.x.slice(i, i + 4), y: data.y.slice(i, i + 4) }, { optimizer: sgd.optimizer, learningRate: rate });
  }
  checkSame('weights', m.getWeights(), b.getWeights());
  m.dispose(); b.dispose();
});

Fit('a plateau lowers the rate and changes the run; a rule that never reduces changes nothing', async () => {
  const fit = async (reduceLROnPlateau?: FitOptions['reduceLROnPlateau']) => {
    const m = await createRNN({ ...gru, seed: 4 });
    const r = await m.fit(data, { ...sgd, epochs: 10, reduceLROnPlateau });
    const w = m.getWeights();
    m.dispose();
    return { r, w };
  };
  const plain = await fit(), reduced = await fit(plateau), never = await fit({ ...plateau, patience: 1000 });
  const firstReduction = reduced.r.history.findIndex((h) => h.reducedLearningRate !== undefined);
  assert.ok(firstReduction >= 0 && firstReduction < 9, `the validation loss plateaus (first reduction after epoch ${firstReduction})`);
  const losses = (x: { r: { history: EpochLogs[] } }) => x.r.history.map((h) => [h.loss, h.val!.loss]);
  assert.equal(losses(reduced).slice(0, firstReduction + 1), losses(plain).slice(0, firstReduction + 1), 'the same run up to the first reduction');
  assert.ok(reduced.r.history.at(-1)!.learningRate < 0.5, 'the rate went down');
  assert.ok(reduced.w.some((v, i) => v !== plain.w[i]), 'and the weights differ from the run without it');
  checkSame('a rule that never reduces: the weights', never.w, plain.w);
  assert.equal(losses(never), losses(plain));
});

Fit('with a schedule: the reductions multiply the scheduled rate, never below minLr unless the schedule is', async () => {
  const m = await createRNN({ ...gru, seed: 5 });
  const schedule = { type: 'exponential', gamma: 0.9 } as const;
  const rule = { monitor: 'val_loss', patience: 0, factor: 0.5, threshold: 0.02, minLr: 0.05 } as const;
  const steps: { t: number; rate: number; epoch: number }[] = [];
  const r = await m.fit(data, {
    ...sgd, epochs: 10, schedule, reduceLROnPlateau: rule,
    onProgress: (p) => { steps.push({ t: p.step - 1, rate: p.learningRate, epoch: p.epoch }); },
  });
  // the rule as the README states it, with k the reductions made before the step's epoch
  const s = resolveSchedule('test', schedule);
  const k = r.history.map((_, e) => r.history.slice(0, e).filter((h) => h.reducedLearningRate !== undefined).length);
  assert.ok(k.at(-1)! >= 2, `${k.at(-1)} reductions`);
  let floored = 0, below = 0;
  for (const { t, rate, epoch } of steps) {
    const scheduled = learningRateAt(s, 0.5, t);
    let x = scheduled;
    for (let i = 0; i < k[epoch]; i++) x *= 0.5;
    const expected = k[epoch] === 0 ? scheduled : Math.max(x, Math.min(scheduled, 0.05));
    assert.is(rate, expected, `step ${t}`);
    if (k[epoch] > 0 && expected === 0.05) floored++;
    if (expected < 0.05) below++;
  }
  assert.ok(floored > 0 && below > 0, `the floor held ${floored} steps, the schedule went below it on ${below}`);
  // the rule decides on the next step's scheduled rate: once the schedule is below minLr, a
  // reduction would not lower the rate, and is not made
  const replay = (rateAt: (t: number) => number) => {
    const p = startPlateau(resolvePlateau('test', 'reduceLROnPlateau', rule, true, []));
    return r.history.map((h) => (plateauEpoch(p, h.val!.loss, rateAt(h.steps)) ? reducedRate(rateAt(h.steps), p.config, p.reductions) : undefined));
  };
  const reductions = replay((t) => learningRateAt(s, 0.5, t));
  assert.equal(r.history.map((h) => h.reducedLearningRate), reductions, 'the epochs with a reduction, and the rate after it');
  assert.not.equal(replay(() => 0.5), reductions, 'deciding on the base rate would reduce on other epochs');
  for (const h of r.history.slice(0, -1)) {
    if (h.reducedLearningRate !== undefined) assert.is(steps.find((x) => x.epoch === h.epoch + 1)!.rate, h.reducedLearningRate, 'the rate the next step takes');
  }
  m.dispose();
});

Fit('it watches what early stopping would: a metric, maximised, or the training loss without validation', async () => {
  const m = await createRNN({ ...gru, seed: 6 });
  const acc = await m.fit(data, { ...sgd, epochs: 8, metrics: ['accuracy'], reduceLROnPlateau: { monitor: 'val_accuracy', patience: 0, threshold: 0 } });
  const p = startPlateau(resolvePlateau('test', 'reduceLROnPlateau', { monitor: 'val_accuracy', patience: 0, threshold: 0 }, true, ['accuracy']));
  assert.is(p.config.mode, 'max');
  for (const h of acc.history) assert.is(plateauEpoch(p, h.val!.accuracy!, 0.5), h.reducedLearningRate !== undefined, `epoch ${h.epoch}`);
  const loss = await m.fit(data, { ...sgd, validationData: undefined, epochs: 6, reduceLROnPlateau: { patience: 0, threshold: 0.05 } });
  const q = startPlateau(resolvePlateau('test', 'reduceLROnPlateau', { patience: 0, threshold: 0.05 }, false, []));
  assert.is(q.config.monitor, 'loss');
  for (const h of loss.history) assert.is(plateauEpoch(q, h.loss, 0.5), h.reducedLearningRate !== undefined, `epoch ${h.epoch}`);
  assert.ok(q.reductions > 0 && p.reductions > 0, `${p.reductions} and ${q.reductions} reductions`);
  m.dispose();
});

Fit.run();

// ---

const Resume = suite('reduceLROnPlateau: resume');

Resume('a run stopped at every batch and at every epoch\'s end resumes bit for bit, rate and plateau state included', async () => {
  // dropout draws from the model's generator; cooldown and patience leave state across epochs
  const small = { ...gru, layers: 2, dropout: 0.25 } as const;
  const train = echo(new Random(6), 11, 8, 6, 1);
  const rule = { patience: 1, factor: 0.5, threshold: 0.01, cooldown: 1 } as const;
  for (const stepsPerEpoch of [undefined, 2]) {
    const epochs = 6, batches = stepsPerEpoch ?? 3;
    const options = { ...sgd, epochs, stepsPerEpoch, learningRate: 0.4, reduceLROnPlateau: rule } as const;
    const whole = await createRNN({ ...small, seed: 20 });
    const uninterrupted = await whole.fit(train, options);
    assert.ok(uninterrupted.history.filter((h) => h.reducedLearningRate !== undefined).length >= 2, 'the run reduces its rate');
    const expected = whole.getTrainingState();
    whole.dispose();
    const points: AbortPoint[] = [];
    for (let epoch = 0; epoch < epochs - 1; epoch++) {
      for (let batch = 0; batch < batches; batch++) points.push({ at: 'batch', epoch, batch });
      points.push({ at: 'epochEnd', epoch });
    }
    for (const point of points) {
      const label = `stepsPerEpoch ${stepsPerEpoch}, abort ${JSON.stringify(point)}`;
      const first = await createRNN({ ...small, seed: 20 });
      const controller = new AbortController();
      await first.fit(train, {
        ...options, signal: controller.signal,
        onProgress: (p) => { if (point.at === 'batch' && p.epoch === point.epoch && p.batch === point.batch) controller.abort(); },
        onEpochEnd: (logs) => { if (point.at === 'epochEnd' && logs.epoch === point.epoch) controller.abort(); },
      });
      const bytes = first.getTrainingState();
      first.dispose();
      const second = await createRNN({ ...small, seed: 21 });
      second.setTrainingState(bytes);
      const rest = await second.fit(train, { ...options, resume: true });
      checkSameState(label, second.getTrainingState(), expected);
      const rates = (h: EpochLogs) => [h.epoch, h.learningRate, h.reducedLearningRate];
      assert.equal(rest.history.map(rates), uninterrupted.history.slice(-rest.history.length).map(rates), `${label}: the rates`);
      second.dispose();
    }
  }
});

Resume('a resume that adds, drops or changes the rule is refused, naming what changed, and changes nothing', async () => {
  const m = await createRNN({ ...gru, seed: 7 });
  const controller = new AbortController();
  await m.fit(data, { ...sgd, epochs: 6, reduceLROnPlateau: { ...plateau, patience: 0 }, signal: controller.signal,
    onEpochEnd: (logs) => { if (logs.epoch === 3) controller.abort(); } });
  const before = m.getTrainingState();
  const saved = JSON.parse(decodeSafetensors(before).metadata.training).fit.plateau;
  assert.ok(saved.reductions > 0, `${saved.reductions} reductions made`);
  const again = { ...sgd, epochs: 6, resume: true } as const;
  await rejectsWith(m.fit(data, { ...again, reduceLROnPlateau: { ...plateau, patience: 0, factor: 0.2 } }), RangeError,
    /^fit: resume needs the reduceLROnPlateau of the run it continues: its factor was 0\.5, got 0\.2 \(pass the options of that run, or start a new run without resume\)$/);
  await rejectsWith(m.fit(data, { ...again, reduceLROnPlateau: plateau }), RangeError, /its patience was 0, got 1/);
  await rejectsWith(m.fit(data, again), RangeError,
    /^fit: resume needs the reduceLROnPlateau of the run it continues: it had \{"monitor":"val_loss","mode":"min","factor":0\.5,"patience":0,.*\}, with \d+ reductions? made; got none/);
  checkSameState('the training state', m.getTrainingState(), before);
  // and a run without the rule, resumed with it (as a checkpoint from before it)
  const n = await createRNN({ ...gru, seed: 7 });
  const stop = new AbortController();
  await n.fit(data, { ...sgd, epochs: 3, signal: stop.signal, onProgress: () => stop.abort() });
  await rejectsWith(n.fit(data, { ...sgd, epochs: 3, resume: true, reduceLROnPlateau: plateau }), RangeError,
    /^fit: resume needs the reduceLROnPlateau of the run it continues: it had none; got one/);
  // the same options resume; without resume, a new run starts the rule afresh
  await m.fit(data, { ...again, reduceLROnPlateau: { ...plateau, patience: 0 } });
  const fresh = await m.fit(data, { ...sgd, epochs: 1, reduceLROnPlateau: plateau });
  assert.is(fresh.history[0].learningRate, 0.5);
  m.dispose(); n.dispose();
});

Resume('a checkpoint\'s plateau state is checked when it loads', async () => {
  const m = await createRNN({ ...gru, seed: 8 });
  await m.fit(data, { ...sgd, epochs: 2, reduceLROnPlateau: plateau });
  const file = decodeSafetensors(m.getTrainingState());
  const training = JSON.parse(file.metadata.training);
  const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  const withPlateau = (p: Record<string, unknown>) =>
    encodeSafetensors(tensors, { ...unsealed(file.metadata), training: JSON.stringify({ ...training, fit: { ...training.fit, plateau: { ...training.fit.plateau, ...p } } }) });
  const weights = m.getWeights();
  const bad: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ config: { ...training.fit.plateau.config, factor: 2 } }, RangeError, /^setTrainingState: training\.fit\.plateau\.config\.factor must be a number in \[0, 1\)/],
    [{ config: { ...training.fit.plateau.config, mode: 'up' } }, TypeError, /^setTrainingState: training\.fit\.plateau\.config\.mode must be one of 'min', 'max', got "up"/],
    [{ wait: 5 }, RangeError, /^setTrainingState: training\.fit\.plateau\.wait must be an integer in \[0, 1\], got 5/],
    [{ reductions: -1 }, RangeError, /^setTrainingState: training\.fit\.plateau\.reductions must be an integer ≥ 0, got -1/],
    [{ best: 'low' }, TypeError, /^setTrainingState: training\.fit\.plateau\.best must be a number, got "low"/],
  ];
  for (const [p, type, pattern] of bad) throwsWith(() => m.setTrainingState(withPlateau(p)), type, pattern);
  checkSame('weights unchanged', m.getWeights(), weights);
  m.setTrainingState(withPlateau({ best: null }));      // the mode's worst, as JSON writes Infinity
  m.dispose();
});

Resume.run();

// ---

const Bad = suite('reduceLROnPlateau: bad options');

Bad('every field is checked before anything runs, with errors that name it', async () => {
  const m = await createRNN({ ...gru, seed: 9 });
  const weights = m.getWeights();
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [5, TypeError, /^fit: reduceLROnPlateau must be \{ monitor\?, factor\?, patience\?, threshold\?, cooldown\?, minLr\?, … \}, got 5$/],
    [{ factor: 1 }, RangeError, /^fit: reduceLROnPlateau\.factor must be a number in \[0, 1\) \(a reduction lowers the rate\), got 1$/],
    [{ factor: -0.5 }, RangeError, /^fit: reduceLROnPlateau\.factor must be a number in \[0, 1\) \(a reduction lowers the rate\), got -0\.5$/],
    [{ factor: '0.5' }, TypeError, /^fit: reduceLROnPlateau\.factor must be a number, got "0\.5"$/],
    [{ patience: -1 }, RangeError, /^fit: reduceLROnPlateau\.patience must be an integer ≥ 0, got -1$/],
    [{ patience: 1.5 }, RangeError, /^fit: reduceLROnPlateau\.patience must be an integer ≥ 0, got 1\.5$/],
    [{ cooldown: -2 }, RangeError, /^fit: reduceLROnPlateau\.cooldown must be an integer ≥ 0, got -2$/],
    [{ threshold: -1e-4 }, RangeError, /^fit: reduceLROnPlateau\.threshold must be a finite number ≥ 0, got -0\.0001$/],
    [{ thresholdMode: 'relative' }, TypeError, /^fit: reduceLROnPlateau\.thresholdMode must be one of 'rel', 'abs', got "relative"/],
    [{ mode: 'auto' }, TypeError, /^fit: reduceLROnPlateau\.mode must be one of 'min', 'max', got "auto"$/],
    [{ minLr: -1 }, RangeError, /^fit: reduceLROnPlateau\.minLr must be a finite number ≥ 0, got -1$/],
    [{ eps: NaN }, RangeError, /^fit: reduceLROnPlateau\.eps must be a finite number ≥ 0, got NaN$/],
    [{ minLR: 0.001 }, TypeError, /^fit: reduceLROnPlateau has no field "minLR"; did you mean minLr\?$/],
    [{ monitor: 'val_loss' }, RangeError, /^fit: reduceLROnPlateau\.monitor 'val_loss' needs validationData or validationSplit$/],
    [{ monitor: 'accuracy' }, TypeError, /^fit: reduceLROnPlateau\.monitor \(the loss, or a metric listed in metrics\) must be one of 'loss', 'val_loss', got "accuracy"$/],
  ];
  for (const [reduceLROnPlateau, type, pattern] of bad) {
    await rejectsWith(m.fit(data, { epochs: 1, reduceLROnPlateau: reduceLROnPlateau as any }), type, pattern);
  }
  throwsWith(() => m.trainStep(data, { reduceLROnPlateau: {} } as any), TypeError,
    /^trainStep: reduceLROnPlateau is an option of fit\(\), which applies it at every epoch's end; trainStep takes the rate it is given \(learningRate, schedule\)$/);
  checkSame('weights unchanged', m.getWeights(), weights);
  m.dispose();
});

Bad.run();

// ---

const Workers = suite('reduceLROnPlateau over workers');
let pool: WorkerPool;

Workers.before(async () => {
  pool = await createWorkerPool({ size: 2 });
});

Workers.after(async () => {
  await pool.dispose();
});

Workers('workers: 2 reduce the rate on the epochs one thread does, and resume bit for bit', async () => {
  const options = { ...sgd, epochs: 10, reduceLROnPlateau: plateau } as const;
  const rates = (h: EpochLogs) => [h.epoch, h.learningRate, h.reducedLearningRate];
  const one = await createRNN({ ...gru, seed: 10 });
  const alone = await one.fit(data, options);
  const many = await createRNN({ ...gru, seed: 10 });
  const shared = await many.fit(data, { ...options, workers: pool });
  assert.ok(alone.history.filter((h) => h.reducedLearningRate !== undefined).length >= 2, 'the run reduces its rate');
  assert.equal(shared.history.map(rates), alone.history.map(rates));
  // stopped at an epoch's end and inside an epoch, resumed over the workers
  for (const stopAt of [{ epoch: 4, batch: undefined }, { epoch: 6, batch: 1 }]) {
    const first = await createRNN({ ...gru, seed: 10 });
    const controller = new AbortController();
    await first.fit(data, { ...options, workers: pool, signal: controller.signal,
      onProgress: (p) => { if (p.epoch === stopAt.epoch && p.batch === stopAt.batch) controller.abort(); },
      onEpochEnd: (logs) => { if (stopAt.batch === undefined && logs.epoch === stopAt.epoch) controller.abort(); } });
    const second = await createRNN({ ...gru, seed: 11 });
    second.setTrainingState(first.getTrainingState());
    await second.fit(data, { ...options, workers: pool, resume: true });
    checkSameState(`stopped at ${JSON.stringify(stopAt)}`, second.getTrainingState(), many.getTrainingState());
    first.dispose(); second.dispose();
  }
  one.dispose(); many.dispose();
});

Workers.run();

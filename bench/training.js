// What the training toolkit costs: time per epoch of fit() with and without gradient clipping
// and dropout, on one model and one data set, as ratios against the plain run. Validates every
// variant first (it trains, dropout is off in inference, clipping engages), then times the
// ones that passed one epoch at a time, the variants interleaved round by round, so a burst of
// load from elsewhere on a shared machine hits one epoch of one variant rather than a whole
// variant. (benchmark.js's statistics are for many short calls; an epoch takes about a second.)
// Reports each variant's fastest epoch and the median, and writes its section of RESULTS.md
// beside this file (replacing the section of an earlier run, keeping the rest).
//
//   node bench/training.js          (after npm run build, and npm --prefix bench install)
//
// T = time steps, B = sequences per batch, n_x = n_y = vocabulary, n_a = hidden size.
import { createRNN, Random } from 'rnn-wasm';
import { fmt, machine, mark, median, table, writeSection } from './report.js';

const MODEL = { cell: 'lstm', n_x: 65, n_a: 128, n_y: 65, layers: 2, input: 'tokens', reduction: 'mean', seed: 1 };
const DATA = { sequences: 128, T: 64 };                  // one epoch = 128 / B batches
const FIT = { batchSize: 32, optimizer: 'adam', learningRate: 2e-3 };
const DROPOUT = { dropout: 0.2, outputDropout: 0.2 };
const CLIP_NORM = 0.25;                                  // about half of this task's steps have a larger norm
const CHECK_EPOCHS = 3;
const ROUNDS = 12;                                       // timed epochs per variant, interleaved
const HEADING = '## Training toolkit overhead';

const VARIANTS = [
  { name: 'plain', config: {}, options: {} },
  { name: `clipNorm ${CLIP_NORM}`, config: {}, options: { clipNorm: CLIP_NORM } },
  { name: `dropout ${DROPOUT.dropout} + outputDropout ${DROPOUT.outputDropout}`, config: DROPOUT, options: {} },
  { name: 'clipNorm + dropout', config: DROPOUT, options: { clipNorm: CLIP_NORM } },
  {
    name: 'clipNorm + dropout + schedule + metrics', config: DROPOUT,
    options: { clipNorm: CLIP_NORM, schedule: { type: 'cosine', tMax: 1000, warmup: { steps: 10 } }, metrics: ['accuracy', 'bitsPerChar'] },
  },
];

const log = (...args) => console.log(...args);

/** A synthetic character stream: each token's successor is fixed 80 % of the time. */
function makeData() {
  const rng = new Random(7);
  const next = Array.from({ length: MODEL.n_x }, () => rng.int(MODEL.n_x));
  const x = [], y = [];
  for (let i = 0; i < DATA.sequences; i++) {
    const s = [rng.int(MODEL.n_x)];
    for (let t = 1; t <= DATA.T; t++) s.push(rng.uniform() < 0.8 ? next[s[t - 1]] : rng.int(MODEL.n_x));
    x.push(s.slice(0, DATA.T));
    y.push(s.slice(1));
  }
  return { x, y };
}

/** Train each variant for a few epochs from the same weights: the loss must fall every epoch. */
async function validate(variant, data, plainModel) {
  const model = await createRNN({ ...MODEL, ...variant.config });
  const checks = [];
  if (variant.config.dropout) {
    // inference must not drop: the same weights give plain's outputs exactly
    const probe = { x: data.x.slice(0, 4) };
    const a = model.forward(probe).yhat, b = plainModel.forward(probe).yhat;
    checks.push({ ok: a.every((v, i) => v === b[i]), text: 'inference = plain' });
  }
  let clipped = 0;
  const r = await model.fit(data, { ...FIT, ...variant.options, epochs: CHECK_EPOCHS, onProgress: (p) => { if (p.gradNorm > CLIP_NORM) clipped++; } });
  const losses = r.epochLosses;
  checks.push({ ok: losses.every((l, i) => Number.isFinite(l) && (i === 0 || l < losses[i - 1])), text: `loss ${losses.map((l) => fmt(l, 3)).join(' → ')}` });
  if (variant.options.clipNorm) checks.push({ ok: clipped > 0, text: `clipped ${clipped} of ${r.steps} steps` });
  return { model, checks, ok: checks.every((c) => c.ok) };
}

/** Milliseconds of one epoch of fit(). */
async function epochMs(e, data) {
  const start = performance.now();
  await e.model.fit(data, { ...FIT, ...e.variant.options, epochs: 1 });
  return performance.now() - start;
}

// --- main ---

const t0 = performance.now();
const data = makeData();
const batches = Math.ceil(DATA.sequences / FIT.batchSize);
log(`rnn-wasm training toolkit overhead — ${machine()}`);
log(`model ${JSON.stringify(MODEL)}; ${DATA.sequences} sequences of T ${DATA.T} per epoch (${batches} batches of ${FIT.batchSize})`);
log(`\nvalidating (${CHECK_EPOCHS} epochs each)`);
const plainModel = await createRNN(MODEL);
const numParams = plainModel.numParams;
const entries = [];
for (const variant of VARIANTS) {
  const v = await validate(variant, data, plainModel);
  entries.push({ variant, ...v, rounds: [] });
  log(`  ${mark(v.ok)} ${variant.name.padEnd(42)} ${v.checks.map((c) => `${mark(c.ok)} ${c.text}`).join('; ')}`);
}
plainModel.dispose();

const timed = entries.filter((x) => x.ok);
log(`\nmeasuring ms per epoch: a warm-up epoch each, then ${ROUNDS} interleaved rounds`);
for (const e of timed) await epochMs(e, data);
for (let round = 1; round <= ROUNDS; round++) {
  for (const e of timed) e.rounds.push(await epochMs(e, data));
  log(`  round ${String(round).padStart(2)}  ${timed.map((e) => fmt(e.rounds.at(-1), 0)).join('  ')} ms`);
}
for (const e of entries) {
  e.model.dispose();
  if (e.rounds.length) e.best = { ms: Math.min(...e.rounds), median: median(e.rounds) };
}

const base = entries[0].best;
const rows = entries.map((e) => [
  e.variant.name,
  e.checks.map((c) => `${mark(c.ok)} ${c.text}`).join('; '),
  e.best ? fmt(e.best.ms, 1) : 'skipped',
  e.best ? fmt(e.best.median, 1) : '—',
  e.best && base ? `${fmt(e.best.ms / base.ms, 3)}×` : '—',
  e.best && base ? `${fmt(e.best.median / base.median, 3)}×` : '—',
]);
const ratio = (name) => { const e = entries.find((x) => x.variant.name === name); return e?.best && base ? e.best.ms / base.ms : NaN; };
const pct = (r) => `${fmt((r - 1) * 100, 1)} %`;
const text = `${HEADING}: ${MODEL.layers}-layer ${MODEL.cell.toUpperCase()}, n_a ${MODEL.n_a}, T ${DATA.T}, B ${FIT.batchSize}, vocabulary ${MODEL.n_x}

Written by \`bench/training.js\` (\`node bench/training.js\` after \`npm run build\`); replaces its own section on every run.
${new Date().toISOString()}; ${machine()}; whole run ${fmt((performance.now() - t0) / 1000, 0)} s.

One epoch = \`fit(data, { epochs: 1, batchSize: ${FIT.batchSize}, optimizer: '${FIT.optimizer}', learningRate: ${FIT.learningRate}, … })\` over
${DATA.sequences} sequences (${batches} steps; a synthetic token stream whose successor is fixed 80 % of the time), with
\`createRNN(${JSON.stringify(MODEL)})\` (+ \`dropout\`, \`outputDropout\` where named). Each variant is validated first (the loss
falls every epoch, over ${CHECK_EPOCHS}; dropout leaves inference equal to the plain model; clipping engages), then timed one
epoch at a time, ${ROUNDS} epochs each, the variants interleaved. The ratios are ms per epoch ÷ the plain run's, of the fastest
epochs (the least disturbed by other work) and of the medians (1.000× = no cost).

${table(['variant', 'check', 'ms/epoch (fastest)', 'ms/epoch (median)', 'vs plain (fastest)', 'vs plain (median)'], rows)}

Overhead (fastest epochs): clipping by global norm ${pct(ratio(VARIANTS[1].name))}, dropout ${pct(ratio(VARIANTS[2].name))}, both ${pct(ratio(VARIANTS[3].name))}, with a
schedule and metrics as well ${pct(ratio(VARIANTS[4].name))}. Clipping is one pass over the ${numParams} values of the gradient region (the norm is
computed for every step anyway, for the non-finite guard and onProgress); dropout is a mask draw and one multiply per
activation it covers, forward and backward, in wasm. Differences of a few per cent are within the noise of a shared machine.
`;
const written = writeSection(HEADING, text);
log(`\n${text}`);
log(`wrote ${written}`);

// The output layer against a baseline build of the project, interleaved in one process: whole
// training steps of models whose head is most of a step (an LSTM over a vocabulary of words,
// through an embedding table) and of a character model, where the head's forward over many rows
// reads W_y copied into groups of four rows (src/wasm.ts: headCopy). Both builds must give the
// same losses and outputs (checked first); then each round times both, in alternating order, and
// the ratio is taken within the round (this VM's speed drifts up to 2× from minute to minute).
// Prints, and writes its section of RESULTS.md:
//
//   node bench/head.js --base <root of a built copy of the baseline>   (after npm run build)
import { pathToFileURL } from 'node:url';
import * as mine from 'rnn-wasm';
import { fmt, machine, median, table, writeSection } from './report.js';
import { xorshift } from './workloads.js';

const HEADING = '## The output layer against a baseline build: word-level training';
const T = 32, B = 32;
// [cell, n_a, vocabulary, rounds]: words (10 000 and 2000, through an embedding of n_a) and characters
const MODELS = [['lstm', 256, 10000, 9], ['lstm', 256, 2000, 15], ['rnn', 128, 65, 21]];

const baseRoot = process.argv.includes('--base') ? process.argv[process.argv.indexOf('--base') + 1] : null;
if (!baseRoot) {
  console.error('usage: node bench/head.js --base <root of a built copy of the baseline>');
  process.exit(2);
}
const base = await import(pathToFileURL(`${baseRoot}/dist/index.js`).href);
const options = { optimizer: 'adam', learningRate: 1e-3 };

const rows = [];
for (const [cell, n_a, V, rounds] of MODELS) {
  const config = { cell, n_x: V, n_a, n_y: V, input: 'tokens', ...(V > 100 ? { embedding: n_a } : {}), reduction: 'mean', seed: 1, backend: 'simd' };
  const models = [await mine.createRNN(config), await base.createRNN(config)];
  const u = xorshift(9);
  const x = Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(u() * V)));
  const batch = { x, y: x.map((s) => s.map((t) => (t * 7 + 1) % V)) };
  const losses = models.map((m) => [0, 1].map(() => m.trainStep(batch, options).loss));
  const outs = models.map((m) => m.forward({ x }).yhat);
  const same = losses[0].every((l, i) => l === losses[1][i]) && outs[0].every((v, i) => Object.is(v, outs[1][i]));
  const reps = V > 5000 ? 1 : 4;
  const ms = [[], []], ratio = [];
  for (let r = 0; r < rounds; r++) {
    const got = [];
    for (const b of r % 2 ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) models[b].trainStep(batch, options);
      got[b] = (performance.now() - t0) / reps;
    }
    ms[0].push(got[0]); ms[1].push(got[1]); ratio.push(got[1] / got[0]);
  }
  models.forEach((m) => m.dispose());
  rows.push([`${cell.toUpperCase()} ${n_a}, vocabulary ${V}${V > 100 ? `, embedding ${n_a}` : ''}`, same ? '✔ the same losses and outputs' : '✘ different',
    fmt(median(ms[0]), 1), fmt(median(ms[1]), 1), `${fmt(median(ratio))}× (${fmt(Math.min(...ratio))}–${fmt(Math.max(...ratio))})`]);
  console.log(rows.at(-1).join('  '));
}

const text = `${HEADING}

Written by \`bench/head.js\` (\`node bench/head.js --base <a built copy of the baseline>\`); replaces its own section.
${new Date().toISOString()}; ${machine()}; the 'simd' build; baseline: \`${baseRoot}\` (${process.env.BASE_LABEL ?? 'an earlier build of the project'}).

\`trainStep\` (T ${T}, B ${B}: ${T * B} rows for the head, Adam) of \`createRNN({ cell, n_x: V, n_a, n_y: V, input: 'tokens', embedding?, reduction: 'mean' })\`,
ms per step: the median over the rounds; the speed-up is the ratio within each round (median, min–max; above 1: this build
is faster). Check: two steps' losses and then the outputs of a forward pass are the same bits in both builds.

${table(['model', 'check', 'this build, ms', 'baseline, ms', 'speed-up'], rows)}
`;
writeSection(HEADING, text);
console.log('wrote bench/RESULTS.md');

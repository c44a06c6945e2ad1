// The element-wise kernels of a step against a baseline build of the project, interleaved in one
// process: σ and tanh over a run of values that stays in L1 (tanh_to, sigmoid_to), and a whole
// W1 trainStep of each cell at n_a 128 (for LSTM and GRU, where the cell math is
// a tenth of the step; bench/profile.js). Both builds must give the same bits on the same inputs
// (checked first, the non-finite values among them; any NaN equals any NaN); then each round
// times both, in alternating order, and the ratio is taken within the round (this VM's speed
// drifts up to 2× from minute to minute). Prints, and writes its section of RESULTS.md:
//
//   node bench/activations.js --base <root of a built copy of the baseline>   (after npm run build)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as mine from 'rnn-wasm';
import { fmt, machine, median, table, writeSection } from './report.js';
import { W1, w1Batch, w1Model } from './workloads.js';

const HEADING = '## Element-wise kernels against a baseline build';
const N = 4096;                                  // values per kernel call: 16 KB, in L1
const CALLS = 400;                               // calls per timed loop
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const STEP_ROUNDS = Number(process.env.STEP_ROUNDS ?? 15);
const here = new URL('..', import.meta.url).pathname;

const baseRoot = process.argv.includes('--base') ? process.argv[process.argv.indexOf('--base') + 1] : null;
if (!baseRoot) {
  console.error('usage: node bench/activations.js --base <root of a built copy of the baseline>');
  process.exit(2);
}
const base = await import(pathToFileURL(`${baseRoot}/dist/index.js`).href);

/** The release build at root, instantiated on its own. */
async function kernels(root) {
  const { instance } = await WebAssembly.instantiate(readFileSync(`${root}/build/release.wasm`));
  return instance.exports;
}

/** N inputs: a sweep over [−20, 20], then random bit patterns (NaN, ±∞, subnormals among them). */
function inputs() {
  const x = new Float32Array(N), bits = new Uint32Array(x.buffer);
  let s = 12345;
  for (let i = 0; i < N; i++) {
    if (i < N / 2) x[i] = -20 + (40 * i) / (N / 2);
    else { s = (Math.imul(s, 1103515245) + 12345) >>> 0; bits[i] = s; }
  }
  return x;
}

const builds = [await kernels(here), await kernels(baseRoot)];
const src = inputs();
const buffers = builds.map((k) => ({ k, p: k.alloc(4 * N), q: k.alloc(4 * N) }));

const rows = [];
for (const kernel of ['tanh_to', 'sigmoid_to']) {
  const outs = buffers.map(({ k, p, q }) => {
    new Float32Array(k.memory.buffer, p, N).set(src);
    k[kernel](q, p, N);
    return new Float32Array(k.memory.buffer, q, N).slice();
  });
  // the same bits, a NaN counting as any NaN (wasm leaves NaN payloads to the engine)
  const bits = outs.map((o) => new Uint32Array(o.buffer));
  const same = outs[0].every((v, i) => bits[0][i] === bits[1][i] || (Number.isNaN(v) && Number.isNaN(outs[1][i])));
  const ns = [[], []], ratio = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    const got = [];
    for (const b of order) {
      const { k, p, q } = buffers[b];
      const f = k[kernel];
      const t0 = performance.now();
      for (let c = 0; c < CALLS; c++) f(q, p, N);
      got[b] = ((performance.now() - t0) * 1e6) / (CALLS * N);
    }
    ns[0].push(got[0]); ns[1].push(got[1]);
    if (r > 0) ratio.push(got[1] / got[0]);    // the first round warms both up
  }
  rows.push([`\`${kernel}\`, ns per value`, same ? '✔ the same bits' : '✘ different bits',
    fmt(median(ns[0]), 2), fmt(median(ns[1]), 2), `${fmt(median(ratio))}× (${fmt(Math.min(...ratio))}–${fmt(Math.max(...ratio))})`]);
  console.log(rows.at(-1).join('  '));
}

const batch = w1Batch();
const options = { optimizer: 'adam', learningRate: W1.lr };
for (const cell of ['rnn', 'lstm', 'gru']) {
  const models = [await w1Model(mine.createRNN, cell, 128, 'simd'), await w1Model(base.createRNN, cell, 128, 'simd')];
  const losses = models.map((m) => [0, 1, 2].map(() => m.trainStep(batch, options).loss));
  const same = losses[0].every((l, i) => l === losses[1][i]);
  const ms = [[], []], ratio = [];
  for (let r = 0; r < STEP_ROUNDS; r++) {
    const order = r % 2 ? [1, 0] : [0, 1];
    const got = [];
    for (const b of order) {
      const t = [];
      for (let s = 0; s < 3; s++) { const t0 = performance.now(); models[b].trainStep(batch, options); t.push(performance.now() - t0); }
      got[b] = median(t);
    }
    ms[0].push(got[0]); ms[1].push(got[1]); ratio.push(got[1] / got[0]);
  }
  models.forEach((m) => m.dispose());
  rows.push([`W1 \`trainStep\`, ${cell.toUpperCase()} 128, ms`, same ? '✔ the same losses over 3 steps' : '✘ different losses',
    fmt(median(ms[0]), 1), fmt(median(ms[1]), 1), `${fmt(median(ratio))}× (${fmt(Math.min(...ratio))}–${fmt(Math.max(...ratio))})`]);
  console.log(rows.at(-1).join('  '));
}

const text = `${HEADING}

Written by \`bench/activations.js\` (\`node bench/activations.js --base <a built copy of the baseline>\`); replaces its own section.
${new Date().toISOString()}; ${machine()}; the 'simd' build; baseline: \`${baseRoot}\` (${process.env.BASE_LABEL ?? 'an earlier build of the project'}).

Kernels: ${N} values in L1 (half a sweep over [−20, 20], half random bit patterns), ${CALLS} calls per round; the ratio is
taken within each of ${ROUNDS - 1} rounds (median, min–max; above 1: this build is faster). Training: W1's \`trainStep\`
(vocabulary ${W1.V}, T ${W1.T}, B ${W1.B}, Adam), the median of 3 steps per round, ${STEP_ROUNDS} rounds.

${table(['what', 'check against the baseline', 'this build', 'baseline', 'speed-up'], rows)}
`;
writeSection(HEADING, text);
console.log('wrote bench/RESULTS.md');

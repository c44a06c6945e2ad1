// Generation at batch 1 against a baseline build of the project, interleaved in one process:
// sample() of 200 tokens (one wasm call per token) for an LSTM and a GRU of n_a 256, an LSTM of
// n_a 512, and an LSTM of n_a 256 over a word-sized vocabulary, on the 'simd' build and, where
// the runtime has it, the 'relaxed' one. Both builds must draw the same tokens from the same
// weights and seed (checked first); then each round times both, in alternating order, and the
// ratio is taken within the round (this VM's speed drifts up to 2× from minute to minute, so only
// ratios taken seconds apart mean anything). Without a baseline it times this build alone.
// Prints, and writes its section of RESULTS.md:
//
//   node bench/generation.js --base <root of a built copy of the baseline>   (after npm run build)
//   node bench/generation.js
import { pathToFileURL } from 'node:url';
import * as mine from 'rnn-wasm';
import { fmt, machine, mark, median, rerunWithRelaxedSimd, table, writeSection } from './report.js';

const HEADING = '## Generation against a baseline build: sample(), batch 1';
// characters (65, 96) and words (10 000: the head's W_y, 10 MB, is most of a step)
const MODELS = [['lstm', 256, 65], ['gru', 256, 65], ['lstm', 512, 96], ['lstm', 256, 10000]];
const TOKENS = 200;                 // tokens per sample() call
const ROUNDS = Number(process.env.ROUNDS ?? 31);
const log = (...args) => console.log(...args);

rerunWithRelaxedSimd(mine.relaxedSimdSupported());

const baseRoot = process.argv.includes('--base') ? process.argv[process.argv.indexOf('--base') + 1] : null;
const base = baseRoot ? await import(pathToFileURL(`${baseRoot}/dist/index.js`).href) : null;
const backends = mine.relaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd'];

/** ms per token of sample(), per round: this build, the baseline, and their ratio (above 1:
 *  this build is faster). */
async function measure(cell, n_a, V, backend) {
  const make = (lib) => lib.createRNN({ cell, n_x: V, n_a, n_y: V, input: 'tokens', seed: 3, backend });
  const models = [await make(mine), ...(base ? [await make(base)] : [])];
  const draws = models.map((m) => m.sample({ length: 60, prime: [0], seed: 1 }));
  const same = draws.every((d) => d.length === draws[0].length && d.every((t, i) => t === draws[0][i]));
  const runs = models.map((m) => () => m.sample({ length: TOKENS, prime: [0] }));
  for (let i = 0; i < 20; i++) runs.forEach((f) => f());
  const ms = models.map(() => []), ratio = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? runs.map((f, i) => [f, i]).reverse() : runs.map((f, i) => [f, i]);
    const got = [];
    for (const [f, i] of order) {
      const t0 = performance.now();
      f(); f();
      got[i] = (performance.now() - t0) / (2 * TOKENS);
    }
    got.forEach((t, i) => ms[i].push(t));
    if (base) ratio.push(got[1] / got[0]);
  }
  for (const m of models) m.dispose();
  const spread = (xs) => `${fmt(median(xs), 4)} (${fmt(Math.min(...xs), 4)}–${fmt(Math.max(...xs), 4)})`;
  return { same, mine: spread(ms[0]), base: base ? spread(ms[1]) : '—', ratio: base ? `${fmt(median(ratio))}× (${fmt(Math.min(...ratio))}–${fmt(Math.max(...ratio))})` : '—' };
}

log(`rnn-wasm: generation against ${baseRoot ?? 'no baseline'} — ${machine()}`);
const rows = [];
for (const backend of backends) {
  for (const [cell, n_a, V] of MODELS) {
    const r = await measure(cell, n_a, V, backend);
    const name = `${cell.toUpperCase()} ${n_a}, vocabulary ${V}, '${backend}'`;
    log(`  ${mark(r.same)} ${name}: this build ${r.mine}, baseline ${r.base} ms/token; speed-up ${r.ratio}`);
    rows.push([name, base ? `${mark(r.same)} ${r.same ? 'the same tokens' : 'different tokens'}` : '—', r.mine, r.base, r.ratio]);
  }
}

const text = `${HEADING}

Written by \`bench/generation.js\` (\`node bench/generation.js --base <a built copy of the baseline>\`); replaces its own section.
${new Date().toISOString()}; ${machine()}; baseline: ${baseRoot ? `\`${baseRoot}\`` : 'none'}.

\`model.sample({ length: ${TOKENS}, prime: [0] })\` of \`createRNN({ cell, n_x: V, n_a, n_y: V, input: 'tokens', seed: 3, backend })\`,
ms per token: the median of ${ROUNDS} rounds (min–max); in each round both builds run twice, in alternating order, and the
speed-up is the ratio within the round (median, min–max; above 1: this build is faster). Check: 60 tokens drawn with seed 1
are the same in both builds.

${table(['model', 'check', 'this build, ms/token', 'baseline, ms/token', 'speed-up'], rows)}
`;
writeSection(HEADING, text);
log('wrote bench/RESULTS.md');

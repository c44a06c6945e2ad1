// The per-step recurrent products of BPTT, measured by shape, and whole W1 training steps: this
// build against a baseline build of the project, interleaved in one process (this VM's speed
// drifts up to 2× from minute to minute, so only ratios taken seconds apart mean anything).
//
//   forward, per step:   g (m, G) += h (m, H) · W_hhᵀ        over W_hh copied once per pass in
//                        groups of four rows: pack_rows4, then gemm_nt_w(m, G, H, …); the
//                        baseline runs gemm(0, 1, …) over W_hh as it lies.
//   backward, per step:  dh (m, H) += dz (m, G) · W_hh        through W_hhᵀ (H, G), made once per
//                        batch in groups of four rows: pack_rows4_t, then gemm_nn_by_t(m, H, G, …)
//                        — dot products over its rows; the baseline runs gemm(0, 0, …), which
//                        packs W_hh.
//
//   ragged, per batch:   dW_hh (G, H) += Σ_t dz<t>ᵀ h<t-1> over the rows that run in a batch of
//                        sentences of different lengths: one gemm_tn_rows over the list of
//                        those rows, against one gemm(1, 0, …) per run of contiguous rows (the
//                        earlier outer_rows). Both are in this build; --ragged measures only
//                        this, and writes only its own section.
//
// m = rows (the batch, or a worker's shard), H = n_a, G = gates · n_a. Each product is timed over
// REPS alternating rounds (baseline, this build, or the reverse); a round's figure is the best of
// CALLS timed loops, and the ratio is taken within the round. Prints, and writes its section of
// RESULTS.md (replacing an earlier run's, keeping the rest):
//
//   node bench/recurrent.js --base <root of a built copy of the baseline>   (after npm run build)
//   node bench/recurrent.js                                                  (this build alone)
//   node bench/recurrent.js --ragged [--base <root>]                         (the ragged rows only;
//                                                     with a baseline, the tagger's computeGradients too)
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import { createModel, createRNN, Random, WordTokenizer } from 'rnn-wasm';
import { fmt, median, writeSection } from './report.js';
import { prideSentences, W1, w1Batch, w1Model } from './workloads.js';

const HEADING = '## Per-step recurrent products: the shapes of BPTT';
const ROWS = [1, 4, 16, 32, 64];
const SIZES = [128, 512];
const GATES = [1, 3, 4];
const REPS = Number(process.env.REPS ?? 9);            // alternating rounds per shape
const LOOP_MS = 12;                                      // one timed loop of calls
const STEP_REPS = Number(process.env.STEP_REPS ?? 7);   // alternating rounds of trainStep
const STEPS = 3;                                         // trainSteps per round (the median taken)
const PACKED_VALUES = 16384;                             // a W_hh this small packs backward (src/stack.ts)
const RAGGED = [[128, 1], [128, 3], [128, 4], [256, 4]];  // (n_a, gates) of the ragged rows
const RAGGED_B = 32;                                     // sentences per batch, as fit() cuts them
const LIST = 1024;                                       // rows per gemm_tn_rows call (cells.ts: ROWS)
const RAGGED_HEADING = '## Ragged weight gradients: one product over the rows that run';

const baseRoot = process.argv.includes('--base') ? process.argv[process.argv.indexOf('--base') + 1] : null;
// what the baseline build is, in words (BASE_LABEL="the build at <commit>, …")
const BASE_LABEL = process.env.BASE_LABEL ?? 'the same project, an earlier build';
const here = new URL('..', import.meta.url).pathname;

/** The release build at root, instantiated, with a bump allocator over fresh pages. */
async function kernels(root) {
  const { instance } = await WebAssembly.instantiate(readFileSync(`${root}/build/release.wasm`));
  const k = instance.exports;
  return { k, alloc: (n) => k.alloc(4 * n), view: () => new Float32Array(k.memory.buffer) };
}

/** Matrices for one shape, filled from a fixed sequence, in build `w`. */
function operands(w, m, H, G) {
  const p = { h: w.alloc(m * H), W: w.alloc(G * H), WT: w.alloc(G * H), g: w.alloc(m * G), dz: w.alloc(m * G), dh: w.alloc(m * H) };
  const f = w.view();
  let s = 1;
  for (const [name, n] of [['h', m * H], ['W', G * H], ['dz', m * G]]) {
    for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; f[p[name] / 4 + i] = s / 2147483647 - 0.5; }
  }
  return p;
}

/** The product under test as a thunk: which = 'fwd' or 'bwd'; base = the baseline's path. This
 *  build reads W_hh copied in groups of four rows forward (made once per pass, as a training
 *  forward pass makes it), and W_hhᵀ in the same groups backward for a W_hh of more than
 *  PACKED_VALUES values (a smaller one is packed per step); the baseline reads W_hh as it lies
 *  forward and packs it backward. */
function product(w, p, which, m, H, G, base) {
  const k = w.k;
  const small = G * H <= PACKED_VALUES;
  if (which === 'fwd') {
    if (base) return () => k.gemm(0, 1, m, G, H, p.h, H, p.W, H, p.g, G, 1);
    k.pack_rows4(p.WT, p.W, H, G, H);
    return () => k.gemm_nt_w(m, G, H, p.h, H, p.W, p.WT, p.g, G, 1);
  }
  if (base || small) return () => k.gemm(0, 0, m, H, G, p.dz, G, p.W, H, p.dh, H, 1);
  k.pack_rows4_t(p.WT, p.W, H, H, G);
  return () => k.gemm_nn_by_t(m, H, G, p.dz, G, p.W, H, p.WT, p.dh, H, 1);
}

/** GFLOP/s of fn (flops per call): the best of a few timed loops of LOOP_MS. */
function rate(fn, flops) {
  let calls = 1;
  for (let t0 = performance.now(); performance.now() - t0 < 2; calls++) fn();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, (performance.now() - t0) / calls);
    calls = Math.max(1, Math.round((calls * LOOP_MS) / Math.max(performance.now() - t0, 0.01)));
  }
  return flops / best / 1e6;
}


/** Both products of this build equal the baseline's (the same sums, up to order). */
function check(base, mine, m, H, G) {
  for (const [which, out, n] of [['fwd', 'g', m * G], ['bwd', 'dh', m * H]]) {
    const got = [base, mine].map((w) => { const p = operands(w, m, H, G); product(w, p, which, m, H, G, w === base)(); return w.view().slice(p[out] / 4, p[out] / 4 + n); });
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(got[0][i] - got[1][i]));
    if (err > 1e-4) throw new Error(`${which === 'fwd' ? 'forward' : 'backward'} product (m ${m}, H ${H}, G ${G}): differs from the baseline by ${err}`);
  }
}

async function shapes(base, mine) {
  const rows = [];
  for (const H of SIZES) {
    for (const gates of GATES) {
      const G = gates * H;
      for (const m of ROWS) {
        if (base) check(base, mine, m, H, G);
        const row = { H, G, m };
        for (const which of ['fwd', 'bwd']) {
          const runs = [mine, base].filter(Boolean).map((w) => product(w, operands(w, m, H, G), which, m, H, G, w === base));
          const flops = 2 * m * H * G, mineR = [], baseR = [], ratio = [];
          for (let r = 0; r < REPS; r++) {
            const order = r % 2 ? [0, 1] : [1, 0];
            const got = [];
            for (const i of order) if (runs[i]) got[i] = rate(runs[i], flops);
            mineR.push(got[0]);
            if (base) { baseR.push(got[1]); ratio.push(got[0] / got[1]); }
          }
          row[which] = { mine: median(mineR), base: base ? median(baseR) : null, ratio: base ? median(ratio) : null, lo: Math.min(...ratio), hi: Math.max(...ratio) };
        }
        rows.push(row);
        process.stdout.write(`H ${H} G ${G} m ${m}: fwd ${fmt(row.fwd.mine, 1)} GFLOP/s${base ? ` (${fmt(row.fwd.ratio, 2)}×)` : ''}, bwd ${fmt(row.bwd.mine, 1)}${base ? ` (${fmt(row.bwd.ratio, 2)}×)` : ''}\n`);
      }
    }
  }
  return rows;
}

/** ms per trainStep of W1 for each cell and size, baseline and this build in alternating rounds. */
async function steps(baseLib) {
  const out = [];
  const libs = [createRNN, baseLib?.createRNN].filter(Boolean);
  for (const B of [32, 16]) {
    const full = w1Batch();
    const batch = { x: full.x.slice(0, B), y: full.y.slice(0, B) };
    for (const n_a of SIZES) {
      for (const cell of W1.cells) {
        const models = await Promise.all(libs.map((make) => w1Model(make, cell, n_a, 'simd')));
        const options = { optimizer: 'adam', learningRate: W1.lr };
        const losses = models.map((mdl) => mdl.trainStep(batch, options));
        if (losses.length === 2 && Math.abs(losses[0] - losses[1]) > 1e-5) throw new Error(`${cell} ${n_a}: loss ${losses[0]} ≠ baseline ${losses[1]}`);
        const ms = models.map(() => []), ratio = [];
        for (let r = 0; r < STEP_REPS; r++) {
          const order = r % 2 ? [0, 1] : [1, 0];
          const got = [];
          for (const i of order) {
            if (!models[i]) continue;
            const t = [];
            for (let s = 0; s < STEPS; s++) { const t0 = performance.now(); models[i].trainStep(batch, options); t.push(performance.now() - t0); }
            got[i] = median(t);
            ms[i].push(got[i]);
          }
          if (models[1]) ratio.push(got[1] / got[0]);
        }
        for (const mdl of models) mdl.dispose?.();
        const row = { cell, n_a, B, mine: median(ms[0]), base: models[1] ? median(ms[1]) : null, ratio: ratio.length ? median(ratio) : null, lo: Math.min(...ratio), hi: Math.max(...ratio) };
        out.push(row);
        process.stdout.write(`${cell} ${n_a} B ${B}: ${fmt(row.mine, 1)} ms${row.base ? ` vs ${fmt(row.base, 1)} (${fmt(row.ratio, 2)}×)` : ''}\n`);
      }
    }
  }
  return out;
}

function section(shapeRows, stepRows, started, load) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const cmp = baseRoot != null;
  const ratio = (x) => (x.ratio == null ? '' : ` | ${fmt(x.ratio, 2)}× (${fmt(x.lo, 2)}–${fmt(x.hi, 2)})`);
  const lines = [HEADING, '',
    `Written by \`bench/recurrent.js${cmp ? ' --base <baseline>' : ''}\`; replaces its own section on every run. ${started}; ${cpu},`,
    `${os.cpus().length} cores, Node ${process.version}, the 'simd' build; load average (1 min) ${load[0].toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
    cmp ? `Baseline: ${BASE_LABEL}, built from a copy of its tree (\`${baseRoot}\`). Its products run as the project ran them before the per-batch W_hhᵀ: forward over W_hh as it lies, backward through gemm(0, 0, …), which packs W_hh into panels on every step; its whole \`trainStep\` is whatever that build does. Both builds run in this process, in alternating rounds; a ratio is this build ÷ baseline in GFLOP/s (or baseline ÷ this build in ms), taken within a round, then the median over the rounds with its range.` : '',
    '',
    `Per-step products, GFLOP/s (2·m·H·G flops per call; the median of ${REPS} rounds, each the best of three loops of ~${LOOP_MS} ms). Forward: g (m, G) += h (m, H) · W_hhᵀ, here over W_hh copied in groups of four rows (the baseline: W_hh as it lies); backward: dh (m, H) += dz (m, G) · W_hh, here through W_hhᵀ in the same groups. Both copies are made once per pass (their cost is not in these figures: one H·G copy, against T products), except that a W_hh of at most ${PACKED_VALUES} values is packed per step backward, as the baseline does: those backward rows show what this method reads as noise.`,
    '',
    cmp ? '| H | G | m | forward | baseline | ratio | backward | baseline | ratio |' : '| H | G | m | forward | backward |',
    cmp ? '| --- | --- | --- | --- | --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- | --- |',
    ...shapeRows.map((r) => cmp
      ? `| ${r.H} | ${r.G} | ${r.m} | ${fmt(r.fwd.mine, 1)} | ${fmt(r.fwd.base, 1)}${ratio(r.fwd)} | ${fmt(r.bwd.mine, 1)} | ${fmt(r.bwd.base, 1)}${ratio(r.bwd)} |`
      : `| ${r.H} | ${r.G} | ${r.m} | ${fmt(r.fwd.mine, 1)} | ${fmt(r.bwd.mine, 1)} |`),
    '',
    `Whole \`trainStep\` of W1 (vocabulary ${W1.V}, T ${W1.T}, Adam, one layer, one thread), ms: the median of ${STEP_REPS} rounds, each the median of ${STEPS} steps. B 16 is one worker's shard of the 2-worker rows.`,
    '',
    cmp ? '| cell | n_a | B | this build | baseline | speed-up |' : '| cell | n_a | B | ms |',
    cmp ? '| --- | --- | --- | --- | --- | --- |' : '| --- | --- | --- | --- |',
    ...stepRows.map((r) => cmp ? `| ${r.cell.toUpperCase()} | ${r.n_a} | ${r.B} | ${fmt(r.mine, 1)} | ${fmt(r.base, 1)}${ratio(r)} |` : `| ${r.cell.toUpperCase()} | ${r.n_a} | ${r.B} | ${fmt(r.mine, 1)} |`),
    '',
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '');
  return lines.join('\n');
}

// --- ragged batches: the recurrent weight gradient over the rows that run ---

/** The sentences of bench/data.js as lower-cased words, in one epoch's shuffled batches. */
function sentenceBatches() {
  const words = prideSentences().map((x) => x.map((w) => w.toLowerCase()));
  const order = new Random(1).shuffle(words.map((_, i) => i));
  const out = [];
  for (let b = 0; b < order.length; b += RAGGED_B) out.push(order.slice(b, b + RAGGED_B).map((i) => words[i]));
  return out;
}

/** Each batch as its lengths sorted longest first (as src/stack.ts runs them). */
function raggedBatches() {
  return sentenceBatches().map((b) => b.map((x) => x.length).sort((p, q) => q - p));
}

/** computeGradients of bench/data.js's tagger (BiLSTM n_a 128, embedding 100, tags read off each
 *  lower-cased word) over the shuffled batches: this build against the baseline, alternating batch by
 *  batch, REPS rounds; ms per epoch (medians) and the per-round ratio. */
async function taggerGradients(libs) {
  const batches = sentenceBatches();
  const vocab = WordTokenizer.fromTokens(batches.flat(), { bos: false, eos: false });
  const tag = (w) => (/^[^\p{L}\p{N}]+$/u.test(w) ? 0 : /ed$/.test(w) ? 1 : /ing$/.test(w) ? 2 : 3);
  const data = batches.map((b) => ({ x: b.map((x) => vocab.encode(x)), y: b.map((x) => x.map(tag)) }));
  const config = { architecture: 'many-to-many', cell: 'lstm', bidirectional: true, n_x: vocab.size, n_a: 128, n_y: 4, input: 'tokens', reduction: 'mean', seed: 1, embedding: 100 };
  const models = await Promise.all(libs.map((l) => l.createModel(config)));
  const losses = models.map((m) => m.computeGradients(data[0]).loss);
  if (Math.abs(losses[0] - losses[1]) > 1e-6) throw new Error(`tagger: loss ${losses[0]} ≠ baseline ${losses[1]}`);
  const ms = [[], []], ratio = [];
  for (let r = 0; r < REPS; r++) {
    const t = [0, 0];
    data.forEach((b, i) => {
      for (const j of (i + r) % 2 ? [0, 1] : [1, 0]) { const t0 = performance.now(); models[j].computeGradients(b, { names: [] }); t[j] += performance.now() - t0; }
    });
    ms[0].push(t[0]); ms[1].push(t[1]); ratio.push(t[1] / t[0]);
  }
  for (const m of models) m.dispose();
  return { mine: median(ms[0]), base: median(ms[1]), ratio: median(ratio), lo: Math.min(...ratio), hi: Math.max(...ratio) };
}

/** A batch's rows that run (t·B + b for b < M_t), and its runs of contiguous rows as the earlier
 *  outer_rows cut them (a step where every row runs joins the next). */
function rowsOf(lens) {
  const B = lens.length, T = lens[0], list = [], runs = [];
  const running = (t) => lens.filter((n) => n > t).length;
  for (let t = 0; t < T; t++) for (let b = 0; b < running(t); b++) list.push(t * B + b);
  for (let t = 0; t < T;) {
    const r0 = t * B;
    let end = r0;
    for (; t < T; t++) { const m = running(t); end = t * B + m; if (m < B) break; }
    runs.push([r0, end]);
    t = Math.ceil(end / B);
  }
  return { list, runs };
}

/** ms per epoch of dW_hh (G, H) += Σ dz<t>ᵀ h<t-1> over every batch: per run, and one listed
 *  product; checks first that the two agree. */
function ragged(w, H, G, batches) {
  const k = w.k, most = Math.max(...batches.map((b) => b[0])) * RAGGED_B;
  const dZ = w.alloc(most * G), A = w.alloc(most * H), dW = w.alloc(G * H);
  const f = w.view();
  let s = 7;
  for (const [p, n] of [[dZ, most * G], [A, most * H]]) {
    for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; f[p / 4 + i] = s / 2147483647 - 0.5; }
  }
  const sets = batches.map(rowsOf);
  const lists = sets.map(({ list }) => { const p = k.alloc(4 * list.length); new Int32Array(k.memory.buffer, p, list.length).set(list); return p; });
  const perRun = () => {
    for (const { runs } of sets) for (const [r0, r1] of runs) k.gemm(1, 0, G, H, r1 - r0, dZ + 4 * r0 * G, G, A + 4 * r0 * H, H, dW, H, 1);
  };
  const listed = () => {
    sets.forEach(({ list }, i) => {
      for (let r = 0; r < list.length; r += LIST) k.gemm_tn_rows(G, H, Math.min(LIST, list.length - r), lists[i] + 4 * r, dZ, G, A, H, dW, H, 1);
    });
  };
  const result = (fn) => { w.view().fill(0, dW / 4, dW / 4 + G * H); fn(); return w.view().slice(dW / 4, dW / 4 + G * H); };
  const a = result(perRun), b = result(listed);
  let err = 0, top = 0;
  for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i] - b[i])); top = Math.max(top, Math.abs(a[i])); }
  if (err > 1e-5 * top) throw new Error(`ragged dW_hh (H ${H}, G ${G}): one product differs from the runs by ${err} (largest ${top})`);
  const time = (fn) => { const t0 = performance.now(); fn(); return performance.now() - t0; };
  const runMs = [], listMs = [], ratio = [];
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 ? [perRun, listed] : [listed, perRun];
    const got = new Map(order.map((fn) => [fn, time(fn)]));
    runMs.push(got.get(perRun)); listMs.push(got.get(listed)); ratio.push(got.get(perRun) / got.get(listed));
  }
  const calls = sets.reduce((n, x) => n + x.runs.length, 0), rows = sets.reduce((n, x) => n + x.list.length, 0);
  return { H, G, calls, rows, perRun: median(runMs), listed: median(listMs), ratio: median(ratio), lo: Math.min(...ratio), hi: Math.max(...ratio) };
}

function raggedSection(rows, tagger, started, load) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [RAGGED_HEADING, '',
    `Written by \`bench/recurrent.js --ragged\`; replaces its own section on every run. ${started}; ${cpu}, ${os.cpus().length} cores, Node ${process.version}, the 'simd' build; load average (1 min) ${load[0].toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
    '',
    `The recurrent weights' gradient dW_hh (G, H) += Σ_t dz<t>ᵀ h<t-1> of one epoch of bench/data.js's shuffled batches (${rows[0]?.rows ?? 0} rows that run in ${raggedBatches().length} batches of ${RAGGED_B} sentences of 1–101 tokens): one gemm(1, 0, …) per run of contiguous rows, against one gemm_tn_rows over the list of the rows that run (up to ${LIST} rows a call). ms per epoch, the median of ${REPS} alternating rounds; the ratio is taken within a round (median, range).`,
    '',
    '| H | G | gemm calls per epoch | per run, ms | one product, ms | speed-up |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.H} | ${r.G} | ${r.calls} | ${fmt(r.perRun, 1)} | ${fmt(r.listed, 1)} | ${fmt(r.ratio, 2)}× (${fmt(r.lo, 2)}–${fmt(r.hi, 2)}) |`),
    '',
    tagger ? `Whole \`computeGradients\` of the tagger (BiLSTM n_a 128, embedding 100) over the same batches, against the baseline given by --base, alternating batch by batch: ${fmt(tagger.mine, 0)} ms per epoch against ${fmt(tagger.base, 0)} (medians of ${REPS} rounds), ${fmt(tagger.ratio, 3)}× (${fmt(tagger.lo, 3)}–${fmt(tagger.hi, 3)}).` : '',
    '',
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}

const started = new Date().toISOString(), load = os.loadavg();
const mine = await kernels(here);
if (process.argv.includes('--ragged')) {
  const batches = raggedBatches(), rows = [];
  for (const [H, gates] of RAGGED) {
    rows.push(ragged(mine, H, gates * H, batches));
    const r = rows.at(-1);
    process.stdout.write(`ragged H ${H} G ${r.G}: per run ${fmt(r.perRun, 1)} ms (${r.calls} calls), one product ${fmt(r.listed, 1)} ms: ${fmt(r.ratio, 2)}× (${fmt(r.lo, 2)}–${fmt(r.hi, 2)})\n`);
  }
  const baseLib = baseRoot ? await import(pathToFileURL(`${baseRoot}/dist/index.js`).href) : null;
  const tagger = baseLib ? await taggerGradients([{ createModel }, baseLib]) : null;
  if (tagger) process.stdout.write(`tagger computeGradients: ${fmt(tagger.mine, 0)} ms per epoch against ${fmt(tagger.base, 0)}: ${fmt(tagger.ratio, 3)}×\n`);
  writeSection(RAGGED_HEADING, raggedSection(rows, tagger, started, load));
} else {
  const base = baseRoot ? await kernels(baseRoot) : null;
  const baseLib = baseRoot ? await import(pathToFileURL(`${baseRoot}/dist/index.js`).href) : null;
  const shapeRows = await shapes(base, mine);
  const stepRows = process.env.SHAPES_ONLY ? [] : await steps(baseLib);
  writeSection(HEADING, section(shapeRows, stepRows, started, load));
}

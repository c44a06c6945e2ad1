// Data-parallel training over worker threads, on the W1 workload: a character language model
// (vocabulary 65, T 64, B 32, softmax and cross-entropy at every step, Adam), one RNN, LSTM or
// GRU layer of n_a 128 or 512. Contenders, in ms per batch: rnn-wasm on the calling thread,
// over 1 worker and over 2 workers (fit(data, { workers: pool })), on the 'simd' build; on the
// 'relaxed' build (fused multiply-add) on the calling thread and over 2 workers, where this runtime
// validates it (Node 20 is run again with its flag, as bench/index.js is); and PyTorch with 1 and 2
// threads when a Python with torch is present (bench/torch.js, the runner bench/index.js uses too).
//
// Validates first: for each model, the gradient of a batch over 1 and over 2 workers must equal
// the calling thread's within the tolerance the tests state (read from one SGD step of rate
// 2^20, which moves the weights by −2^20 g), and the loss must fall over 3 Adam steps; PyTorch
// must report
// rnn-wasm's loss for the same weights and batch, and its loss must fall. Then times the ones
// that passed in interleaved rounds: each round runs every contender once, so a burst of load
// from elsewhere on a shared machine hits one round of one contender, not all. A rnn-wasm
// round is one fit() of BATCHES batches; its ms per batch is the median interval between
// consecutive onProgress calls, which leaves out the first batch (and with it the replicas'
// set-up at the start of a fit). A PyTorch round is TORCH_STEPS steps of a long-lived process
// per thread count, set up (and warmed up by its check steps) once per model.
// Reports each contender's fastest round and the median of its rounds; ratios are taken within
// a round (the two runs seconds apart) and summarised by their median over the rounds, since
// a shared VM's speed drifts between rounds. And the machine and its load.
//
//   node bench/workers.js          (after npm run build, and npm --prefix bench install)
//   BENCH_ROUNDS=8 node bench/workers.js   (more rounds, for a machine others are using)
//   BENCH_LABEL="Node 22" node22 bench/workers.js   (another runtime, in a section of its own)
import os from 'node:os';
import { createRNN, createWorkerPool, relaxedSimdSupported } from 'rnn-wasm';
import { PYTHON, scratchDir, Torch, torchMissing } from './torch.js';
import { W1, tokenStream, torchW1 } from './workloads.js';
import { fmt, machine, mark, median, rerunWithRelaxedSimd, simdFlags, table, writeSection } from './report.js';

const MODELS = W1.cells.flatMap((cell) => W1.sizes.map((n_a) => ({ cell, n_a })));
const BATCHES = 8;                      // per timed fit (7 intervals)
const TORCH_STEPS = 5;                  // per round, after the check's W1.check steps as warm-up
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);       // more on a busy machine
const CHECK_RATE = 2 ** 20;
const TOL = 5e-4;                       // gradient entries, below 1 % of their tensor's largest against that 1 %: tests/workers.test.ts
// BENCH_LABEL names a run on another runtime (say "Node 22"): its own section, beside this one
const HEADING = process.env.BENCH_LABEL ? `## ${process.env.BENCH_LABEL}: training over workers` : '## Training over workers';

const log = (...args) => console.log(...args);

rerunWithRelaxedSimd(relaxedSimdSupported());
const RELAXED = relaxedSimdSupported();

/** `sequences` windows of W1.T + 1 tokens of W1's learnable token stream, as x and y. */
function w1Data(sequences, seed) {
  const stream = tokenStream(sequences * (W1.T + 1), W1.V, seed);
  const seqs = Array.from({ length: sequences }, (_, i) => Array.from(stream.subarray(i * (W1.T + 1), (i + 1) * (W1.T + 1))));
  return { x: seqs.map((q) => q.slice(0, W1.T)), y: seqs.map((q) => q.slice(1)) };
}

const modelConfig = ({ cell, n_a }, backend = 'simd') => ({ cell, n_x: W1.V, n_a, n_y: W1.V, input: 'tokens', reduction: 'mean', seed: 1, backend });
const fitOptions = (workers) => ({ batchSize: W1.B, shuffle: false, optimizer: 'adam', learningRate: W1.lr, workers });

/** The worst entry of `got` against `expected` per tensor, entries below 1 % of the tensor's
 *  largest measured against that 1 %. */
function worst(layout, got, expected) {
  let err = 0;
  for (const e of layout.entries) {
    const g = expected[e.name];
    const floor = Math.max(1e-2 * g.reduce((m, v) => Math.max(m, Math.abs(v)), 0), 1e-12);
    for (let i = 0; i < g.length; i++) err = Math.max(err, Math.abs(got[e.offset + i] - g[i]) / Math.max(Math.abs(g[i]), floor));
  }
  return err;
}

/** rnn-wasm with Adam: a loss that falls over W1.check steps; over 1 and 2 workers: the
 *  calling thread's gradient. */
async function validateWorkers(spec, data, pools) {
  const batch = { x: data.x.slice(0, W1.B), y: data.y.slice(0, W1.B) };
  const m = await createRNN(modelConfig(spec));
  const losses = [];
  await m.fit({ x: data.x.slice(0, W1.check * W1.B), y: data.y.slice(0, W1.check * W1.B) }, { ...fitOptions(0), onProgress: (p) => { losses.push(p.loss); } });
  m.dispose();
  const checks = [{ ok: losses.at(-1) < losses[0], text: `loss ${losses.map((l) => fmt(l, 3)).join(' → ')}` }];
  const here = await createRNN(modelConfig(spec));
  const { grads } = here.computeGradients(batch);
  const before = here.getWeights();
  const runs = [['1 worker', pools[1], 'simd'], ['2 workers', pools[2], 'simd']];
  if (RELAXED) runs.push(['2 workers, relaxed', pools[2], 'relaxed']);
  for (const [name, workers, backend] of runs) {
    const there = await createRNN(modelConfig(spec, backend));
    await there.fit(batch, { ...fitOptions(workers), optimizer: 'sgd', learningRate: CHECK_RATE });
    const after = there.getWeights();
    const moved = before.map((w, i) => (w - after[i]) / CHECK_RATE);
    const err = worst(there.layout, moved, grads);
    checks.push({ ok: err <= TOL, text: `gradient over ${name} = one thread's (${err.toExponential(1)})` });
    there.dispose();
  }
  here.dispose();
  return checks;
}

/** PyTorch from rnn-wasm's weights, set up as workload `id` in each process: the same first
 *  loss, then a falling loss over W1.check Adam steps. */
async function validateTorch(procs, spec, data, dir) {
  const m = await createRNN(modelConfig(spec));
  const batch = { x: data.x.slice(0, W1.B), y: data.y.slice(0, W1.B) };
  const ours = m.forward(batch).loss;
  const checks = [];
  for (const t of procs) {
    const r = await torchW1(t, idOf(spec), m, batch, dir);
    const err = Math.abs(r.initial_loss - ours) / ours;
    checks.push({ ok: err < 1e-5, text: `PyTorch (${t.threads}) loss ${fmt(r.initial_loss, 5)} = rnn-wasm ${fmt(ours, 5)}` },
      { ok: r.losses.at(-1) < r.losses[0], text: `PyTorch (${t.threads}) loss ${r.losses.map((l) => fmt(l, 3)).join(' → ')}` });
  }
  m.dispose();
  return checks;
}

const idOf = (spec) => `${spec.cell}${spec.n_a}`;

/** One rnn-wasm round: ms per batch of a fit over `workers`, and the cores the process had
 *  meanwhile (its CPU time, all threads, ÷ the time). */
async function wasmRound(spec, data, workers, backend = 'simd') {
  const m = await createRNN(modelConfig(spec, backend));
  const times = [], cpu = [];
  await m.fit({ x: data.x.slice(0, BATCHES * W1.B), y: data.y.slice(0, BATCHES * W1.B) }, {
    ...fitOptions(workers), onProgress: () => { times.push(performance.now()); cpu.push(process.cpuUsage()); },
  });
  m.dispose();
  const used = process.cpuUsage(cpu[0]);
  return { ms: median(times.slice(1).map((t, i) => t - times[i])), cores: (used.user + used.system) / 1000 / (times.at(-1) - times[0]) };
}

/** One PyTorch round: ms per step (the median of TORCH_STEPS) of the workload set up for `spec`. */
async function torchRound(t, spec) {
  const o = await t.request({ op: 'time', id: idOf(spec), samples: TORCH_STEPS, reps: 1 });
  return { ms: median(o.ms) };
}

// --- main ---

const t0 = performance.now();
const loadAtStart = os.loadavg();
const missing = torchMissing();
const procs = missing ? [] : [await Torch.start(1), await Torch.start(2)];
const torch = missing ? undefined : { version: procs[0].info.torch, python: PYTHON };
const scratch = scratchDir();
log(`rnn-wasm training over workers — ${machine()}; SIMD flags: ${simdFlags().join(' ') || 'unknown'}`);
log(torch ? `PyTorch ${torch.version} (${torch.python})` : `PyTorch is skipped: ${missing}`);
const data = w1Data(BATCHES * W1.B, 7);
const pools = { 1: await createWorkerPool({ size: 1 }), 2: await createWorkerPool({ size: 2 }) };

const contenders = [
  { name: 'one thread', run: (spec) => wasmRound(spec, data, 0) },
  { name: '1 worker', run: (spec) => wasmRound(spec, data, pools[1]) },
  { name: '2 workers', run: (spec) => wasmRound(spec, data, pools[2]) },
  ...(RELAXED ? [
    { name: 'one thread, relaxed', run: (spec) => wasmRound(spec, data, 0, 'relaxed') },
    { name: '2 workers, relaxed', run: (spec) => wasmRound(spec, data, pools[2], 'relaxed') },
  ] : []),
  ...procs.map((t) => ({ name: `PyTorch ${t.threads} thread${t.threads > 1 ? 's' : ''}`, torch: true, run: (spec) => torchRound(t, spec) })),
];

log(`\nvalidating (gradients over workers against the calling thread; ${W1.check} Adam steps; PyTorch from the same weights)`);
const results = [];
for (const spec of MODELS) {
  const wasm = await validateWorkers(spec, data, pools);
  const py = torch ? await validateTorch(procs, spec, data, scratch.dir) : [];
  const entry = { spec, checks: [...wasm, ...py], wasmOk: wasm.every((c) => c.ok), torchOk: torch !== undefined && py.every((c) => c.ok), rounds: {}, cores: [] };
  results.push(entry);
  log(`  ${spec.cell.toUpperCase().padEnd(4)} n_a ${String(spec.n_a).padEnd(4)} ${entry.checks.map((c) => `${mark(c.ok)} ${c.text}`).join('; ')}`);
}

log(`\nmeasuring ms per batch: ${ROUNDS} interleaved rounds of ${BATCHES} batches`);
for (let round = 1; round <= ROUNDS; round++) {
  for (const entry of results) {
    const line = [];
    // the order alternates between rounds, so a drift of the machine's speed during a round
    // favours no contender
    for (const c of round % 2 === 1 ? contenders : [...contenders].reverse()) {
      if (!(c.torch ? entry.torchOk : entry.wasmOk)) continue;
      const { ms, cores } = await c.run(entry.spec);
      (entry.rounds[c.name] ??= []).push(ms);
      if (c.name === '2 workers') entry.cores.push(cores);
      line.push(`${c.name} ${fmt(ms, 1)}${cores === undefined ? '' : ` (${fmt(cores, 2)} cores)`}`);
    }
    log(`  round ${round}  ${entry.spec.cell.toUpperCase().padEnd(4)} ${String(entry.spec.n_a).padEnd(4)} ${line.join('  ')}`);
  }
}
await Promise.all([pools[1].dispose(), pools[2].dispose()]);
for (const t of procs) t.close();
scratch.remove();
const loadAtEnd = os.loadavg();

// --- report ---

const cellText = (entry, name) => {
  const r = entry.rounds[name];
  return r ? `${fmt(Math.min(...r), 1)} / ${fmt(median(r), 1)}` : 'skipped';
};
/** a ÷ b within each round (the two runs seconds apart), one per round. */
const paired = (e, a, b) => (e.rounds[a] && e.rounds[b] ? e.rounds[a].map((t, i) => t / e.rounds[b][i]) : []);
/** The median of the rounds' a ÷ b, with their range. */
const ratio = (e, a, b) => {
  const r = paired(e, a, b);
  return r.length ? `${fmt(median(r))}× (${fmt(Math.min(...r))}–${fmt(Math.max(...r))})` : '—';
};
const timeRows = results.map((e) => [`${e.spec.cell.toUpperCase()} ${e.spec.n_a}`, ...contenders.map((c) => cellText(e, c.name))]);
const ratioRows = results.map((e) => {
  const target = e.spec.n_a >= 512 ? 1.7 : 1.4;
  const met = median(paired(e, '1 worker', '2 workers')) >= target;
  return [
    `${e.spec.cell.toUpperCase()} ${e.spec.n_a}`,
    `${ratio(e, '1 worker', '2 workers')} ${mark(met)} (≥ ${target}×)`,
    e.cores.map((c) => fmt(c, 2)).join(', '),
    ratio(e, 'one thread', '2 workers'), ratio(e, 'one thread', '1 worker'),
    ratio(e, 'PyTorch 1 thread', 'one thread'), ratio(e, 'PyTorch 1 thread', '2 workers'), ratio(e, 'PyTorch 2 threads', '2 workers'),
    ...(RELAXED ? [ratio(e, 'PyTorch 1 thread', 'one thread, relaxed'), ratio(e, 'PyTorch 1 thread', '2 workers, relaxed')] : []),
  ];
});
const checkRows = results.map((e) => [`${e.spec.cell.toUpperCase()} ${e.spec.n_a}`, e.checks.map((c) => `${mark(c.ok)} ${c.text}`).join('; ')]);
const text = `${HEADING}: W1 (vocabulary ${W1.V}, T ${W1.T}, B ${W1.B}, Adam lr ${W1.lr}), ms per batch

Written by \`bench/workers.js\` (run by \`npm run bench\`); replaces its own section on every run.
${new Date().toISOString()}; ${machine()}; SIMD flags: ${simdFlags().join(' ') || 'unknown'};
PyTorch: ${torch ? `${torch.version}, ${torch.python}` : 'not found, its columns are skipped'};
load average (1, 5, 15 min) ${loadAtStart.map((l) => fmt(l)).join(', ')} at the start, ${loadAtEnd.map((l) => fmt(l)).join(', ')} at the end; whole run ${fmt((performance.now() - t0) / 1000, 0)} s.

The model: \`createRNN({ cell, n_x: ${W1.V}, n_a, n_y: ${W1.V}, input: 'tokens', reduction: 'mean' })\`, one layer; the data, a
synthetic token stream whose successor is fixed 80 % of the time. rnn-wasm trains with \`fit(data, { batchSize: ${W1.B},
optimizer: 'adam', learningRate: ${W1.lr}, workers })\`, \`workers\` being 0 (the calling thread) or a pool of 1 or 2
workers, on the \`backend: 'simd'\` build (the same bits everywhere)${RELAXED ? `; the rows marked relaxed use \`backend: 'relaxed'\`
(f32x4.relaxed_madd, fused on this CPU), which \`'auto'\` picks on Node 22+ and in Chrome 114+ (here: ${process.version}${process.execArgv.length ? ` run with ${process.execArgv.join(' ')}` : ''})` : ' (relaxed SIMD does not validate here, so it is not measured)'}; its ms per batch is the median interval between consecutive \`onProgress\` calls over ${BATCHES} batches (the
first batch, with the replicas' set-up, left out). PyTorch ${torch?.version ?? ''} is \`nn.${'{RNN,LSTM,GRU}'}\` + \`nn.Linear\` on one-hot
inputs with \`CrossEntropyLoss\` and \`torch.optim.Adam\`, from the same weights, \`torch.set_num_threads(1 | 2)\`, the median
of ${TORCH_STEPS} steps (after the check's ${W1.check} as warm-up). Each cell: the fastest of ${ROUNDS} interleaved rounds / their median
(the contenders' order alternates from round to round).

${table(['model', ...contenders.map((c) => c.name)], timeRows)}

Ratios of the times (above 1: the second is faster), each taken within one round, where the two runs are seconds
apart, then the median of the ${ROUNDS} rounds' ratios with their range: this VM's speed drifts by up to 2× between rounds,
so a ratio of two separate rounds' times (say, each contender's fastest) says more about the drift than about the
contenders. 1 worker ÷ 2 workers is the speed-up of a second worker (the targets: ≥ 1.7× at n_a 512, ≥ 1.4× at 128,
judged on the median), beside the cores the process had during each 2-worker round (its CPU time over all threads ÷
the time): below 2, other work took the rest. Then 2 workers and 1 worker against the calling thread, and PyTorch
against rnn-wasm.

${table(['model', '1 worker ÷ 2 workers', 'cores the 2-worker rounds had', 'one thread ÷ 2 workers', 'one thread ÷ 1 worker', 'PyTorch 1 thread ÷ one thread', 'PyTorch 1 thread ÷ 2 workers', 'PyTorch 2 threads ÷ 2 workers',
  ...(RELAXED ? ['PyTorch 1 thread ÷ one thread, relaxed', 'PyTorch 1 thread ÷ 2 workers, relaxed'] : [])], ratioRows)}

Checks, before timing (rnn-wasm: the loss falls over ${W1.check} Adam steps; over workers, a batch's gradient against the
calling thread's, its worst entry relative to max(|g|, 1 % of the tensor's largest); PyTorch: the loss from the same weights
and batch):

${table(['model', 'checks'], checkRows)}
`;
const written = writeSection(HEADING, text);
log(`\n${text}`);
log(`wrote ${written}`);

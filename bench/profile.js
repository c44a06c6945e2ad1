// Where a training step's time goes: V8's sampling profiler over W1's training steps (one
// thread), self time grouped by what the code does, so the time outside GEMM is visible.
// The wasm functions of the release build carry no names; build/<build>.wat lists them in
// index order (the module has no imports), which names wasm-function[i]. Writes its section of
// RESULTS.md beside this file (replacing the section of an earlier run, keeping the rest).
//
//   node bench/profile.js          (after npm run build, and npm --prefix bench install)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { createRNN, getEngine } from 'rnn-wasm';
import { W1, w1Batch, w1Model } from './workloads.js';

const RESULTS = new URL('./RESULTS.md', import.meta.url);
const HEADING = '## Where the time goes';
const CONFIGS = [['rnn', 128], ['lstm', 128], ['gru', 128], ['lstm', 512]];
const SECONDS = 6;                                      // of training per configuration
const INTERVAL_US = 100;

// what each wasm function does, by its name (the first pattern that matches)
const GROUPS = [
  ['GEMM', /gemm|dot|tile|pack_/],
  ['cell math (gates, state, their gradients; σ, tanh)', /lstm_|gru_|rnn_|activation|sigmoid|tanh|NativeMathf/],
  ['token gather / scatter (x<t> one-hot)', /input_projection|input_grads/],
  ['head: softmax, loss, ∂L/∂z', /head_loss|softmax|sigmoid_bce|squared_error|loss/],
  ['bias sums', /add_col_sums|add_bias_rows/],
  ['optimizer, gradient norm, zeroing', /adam|sgd|rmsprop|adagrad|sum_squares|scale|clip|zero_f32|copy_f32|memory/],
  ['other wasm', /./],
];

/** wasm-function[i] → the name of function i, from the build's text format. */
function wasmNames(build) {
  const wat = new URL(`../build/${build === 'simd' ? 'release' : build}.wat`, import.meta.url);
  if (!existsSync(wat)) return [];
  return [...readFileSync(wat, 'utf8').matchAll(/^ \(func \$(\S+)/gm)].map((m) => m[1]);
}

function groupOf(frame, names) {
  const m = /^wasm-function\[(\d+)\]$/.exec(frame.functionName) ?? (frame.url.startsWith('wasm://') ? [null, -1] : null);
  if (!m) return frame.functionName === '(garbage collector)' ? 'garbage collector' : frame.functionName === '(idle)' || frame.functionName === '(program)' ? 'idle / runtime' : 'JavaScript (validation, packing, glue)';
  const name = names[Number(m[1])] ?? frame.functionName;
  return GROUPS.find(([, re]) => re.test(name))[0];
}

/** Self time per group, in % of all samples, while fn runs. */
async function profile(fn, names) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
  await session.post('Profiler.start');
  fn();
  const { profile: p } = await session.post('Profiler.stop');
  session.disconnect();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const time = new Map();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    const g = groupOf(byId.get(id).callFrame, names);
    time.set(g, (time.get(g) ?? 0) + dt);
    total += dt;
  });
  return new Map([...time].map(([g, t]) => [g, (100 * t) / total]));
}

const batch = w1Batch();
const options = { optimizer: 'adam', learningRate: W1.lr };
const { backend } = await getEngine('auto');
const names = wasmNames(backend);
const columns = [];
for (const [cell, n_a] of CONFIGS) {
  const m = await w1Model(createRNN, cell, n_a, backend);
  for (let i = 0; i < 2; i++) m.trainStep(batch, options);      // workspaces exist, code is warm
  const t0 = performance.now();
  let steps = 0;
  const shares = await profile(() => {
    while (performance.now() - t0 < SECONDS * 1000) { m.trainStep(batch, options); steps++; }
  }, names);
  columns.push({ label: `${cell.toUpperCase()} ${n_a}`, shares, steps });
  console.log(`${cell} ${n_a}: ${steps} steps profiled`);
  m.dispose();
}

const groups = [...GROUPS.map(([g]) => g), 'JavaScript (validation, packing, glue)', 'garbage collector', 'idle / runtime'];
const rows = groups.filter((g) => columns.some((c) => (c.shares.get(g) ?? 0) >= 0.05));
const line = (cells) => `| ${cells.join(' | ')} |`;
const outside = (c) => 100 - (c.shares.get('GEMM') ?? 0);
const table = [
  line(['self time, % of the step', ...columns.map((c) => c.label)]),
  line(['---', ...columns.map(() => '---')]),
  ...rows.map((g) => line([g, ...columns.map((c) => (c.shares.get(g) ?? 0).toFixed(1))])),
  line(['**outside GEMM**', ...columns.map((c) => `**${outside(c).toFixed(1)}**`)]),
].join('\n');
const section = `${HEADING}: a profile of W1's training step

Written by \`bench/profile.js\`; replaces its own section on every run. ${new Date().toISOString()}; ${os.cpus()[0]?.model ?? ''},
Node ${process.version}, the '${backend}' build; load average (1 min) ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores.
V8's sampling profiler (every ${INTERVAL_US} µs) over ${SECONDS} s of \`trainStep\` per configuration (W1: vocabulary ${W1.V}, T ${W1.T},
B ${W1.B}, Adam), self time grouped by function. GEMM is the register-blocked kernel and the dot products (the recurrent
products, the weight gradients over all steps, the head); the LSTM and GRU gate math is fused into one vectorised pass
per row each way, so it shows as the cell kernels themselves.

${table}
`;

const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
const start = old.indexOf(HEADING);
const end = start < 0 ? -1 : old.indexOf('\n## ', start + HEADING.length);
const next = start < 0 ? `${old.trimEnd()}\n\n${section}` : old.slice(0, start) + section + (end < 0 ? '' : old.slice(end + 1));
writeFileSync(RESULTS, next);
console.log(`\n${section}`);

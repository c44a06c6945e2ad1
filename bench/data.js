// Real data at scale: what an embedding layer, length bucketing and streaming change.
//
//   1. A BiLSTM tagger over a 20 000-word vocabulary (n_a 128): one-hot inputs against an
//      embedding of E = 100 — WebAssembly memory after training, and time per epoch of fit().
//      Also computeGradients copying every gradient out against copying none (gradientsView).
//   2. fit() per epoch with and without bucketByLength, on sentences of natural lengths.
//   3. A text file streamed into fit(): the memory a process holds while it reads files of 4,
//      16 and 64 MB (one child process per file), which should not grow with the file.
//
// The sentences are Pride and Prejudice's (data/, chapters 1–12; 1171 sentences of 1–101 tokens),
// lower-cased words and punctuation; each token's tag is read off its surface form (punctuation,
// capitalised, -ed, -ing, -ly, other), a task the tagger must learn from context and spelling.
// Every variant is validated first (its loss falls, the models agree on what they are), then
// timed one epoch at a time, the variants interleaved round by round so that load from elsewhere
// on a shared machine hits one epoch of one variant. Writes its section of RESULTS.md.
//
//   node bench/data.js          (after npm run build, and npm --prefix bench install)
//   BENCH_LABEL="Node 22" node22 bench/data.js   (another runtime, in a section of its own)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketBatches, createModel, getMemoryStats, Random, WordTokenizer } from 'rnn-wasm';
import { fmt, machine, mark, median, table, writeSection } from './report.js';
import { prideSentences } from './workloads.js';

const TEXT = new URL('../data/pride-and-prejudice.txt', import.meta.url);
const TAGGER = { architecture: 'many-to-many', cell: 'lstm', bidirectional: true, n_x: 20000, n_a: 128, n_y: 6, input: 'tokens', reduction: 'mean', seed: 1 };
const E = 100;
const FIT = { batchSize: 32, optimizer: 'adam', learningRate: 2e-3 };
const ROUNDS = 3;
const STREAM_MB = [4, 16, 64];
// BENCH_LABEL names a run on another runtime (say "Node 22"): its own section, beside this one
const HEADING = process.env.BENCH_LABEL ? `## ${process.env.BENCH_LABEL}: real data at scale` : '## Real data at scale';
const MiB = 2 ** 20;
const log = (...args) => console.log(...args);

/** The sentences as word ids (lower-cased) and surface tags. */
function sentences() {
  const words = prideSentences();
  const vocab = WordTokenizer.fromTokens(words.map((s) => s.map((w) => w.toLowerCase())), { bos: false, eos: false });
  const tag = (w) => (/^[^\p{L}\p{N}]+$/u.test(w) ? 0 : /^\p{Lu}/u.test(w) ? 1 : /ed$/.test(w) ? 2 : /ing$/.test(w) ? 3 : /ly$/.test(w) ? 4 : 5);
  return { x: words.map((s) => vocab.encode(s.map((w) => w.toLowerCase()))), y: words.map((s) => s.map(tag)), vocab: vocab.size };
}

/** One epoch's shuffled batches of example indices, cut as fit() cuts them. */
function shuffledBatches(n) {
  const order = new Random(1).shuffle(Array.from({ length: n }, (_, i) => i));
  return Array.from({ length: Math.ceil(n / FIT.batchSize) }, (_, b) => order.slice(b * FIT.batchSize, (b + 1) * FIT.batchSize));
}

/** Distinct words per token in one epoch's shuffled batches: the share of the rows the
 *  embedding's input projection computes (one per distinct word of a batch). */
function distinctShare(data) {
  let tokens = 0, distinct = 0;
  for (const b of shuffledBatches(data.x.length)) {
    const ids = b.flatMap((k) => data.x[k]);
    tokens += ids.length;
    distinct += new Set(ids).size;
  }
  return distinct / tokens;
}

/** Padded steps per real step in one epoch's batches, shuffled and bucketed, cut as fit() cuts them. */
function paddings(data) {
  const lens = data.x.map((s) => s.length);
  const shuffled = shuffledBatches(lens.length);
  // an example's length for bucketing is its input's steps plus its target's
  const bucketed = bucketBatches(lens.map((n) => 2 * n), FIT.batchSize, 100, new Random(1));
  const padding = (batches) => {
    let real = 0, run = 0;
    for (const b of batches) {
      real += b.reduce((s, k) => s + lens[k], 0);
      run += b.length * Math.max(...b.map((k) => lens[k]));
    }
    return (run - real) / real;
  };
  return { shuffled: padding(shuffled), bucketed: padding(bucketed) };
}

/** One epoch of fit(); ms, and the epoch's loss and accuracy. */
async function epoch(model, data, options) {
  const t = performance.now();
  const r = await model.fit(data, { ...FIT, ...options, epochs: 1, metrics: ['accuracy'] });
  return { ms: performance.now() - t, loss: r.epochLosses[0], accuracy: r.history[0].metrics.accuracy };
}

/** Variants timed in interleaved rounds after a validating epoch each: the loss must fall. */
async function rounds(variants, data) {
  for (const v of variants) {
    const first = await epoch(v.model, data, v.options), second = await epoch(v.model, data, v.options);
    v.check = { ok: second.loss < first.loss, text: `loss ${fmt(first.loss, 3)} → ${fmt(second.loss, 3)}, accuracy ${fmt(100 * second.accuracy, 1)} %` };
    v.ms = [];
    log(`  ${mark(v.check.ok)} ${v.name}: ${v.check.text}`);
  }
  const timed = variants.filter((v) => v.check.ok);
  for (let r = 1; r <= ROUNDS; r++) {
    for (const v of timed) v.ms.push((await epoch(v.model, data, v.options)).ms);
    log(`  round ${r}: ${timed.map((v) => `${v.name} ${fmt(v.ms.at(-1), 0)} ms`).join(', ')}`);
  }
  for (const v of variants) v.best = v.ms.length ? { fastest: Math.min(...v.ms), median: median(v.ms) } : undefined;
}

// --- 1. one-hot against an embedding: memory and time per epoch ---

async function tagger(data) {
  log(`\n1. BiLSTM tagger, vocabulary ${TAGGER.n_x}, n_a ${TAGGER.n_a}: one-hot against an embedding of E = ${E}`);
  const configs = [['one-hot', {}], [`embedding ${E}`, { embedding: E }]];
  // memory first, each model alone in the process: the instance of one is dropped when it is
  // disposed, and the next model starts a new one
  const memory = [];
  for (const [name, extra] of configs) {
    memory.push(await memoryAfterOneStep({ ...TAGGER, ...extra }, data));
    log(`  ${name}: ${fmt(memory.at(-1).reserved / MiB, 0)} MiB of WebAssembly memory after one step (${memory.at(-1).instances} instance, ${memory.at(-1).models} model)`);
  }
  const variants = [];
  for (const [name, extra] of configs) variants.push({ name, model: await createModel({ ...TAGGER, ...extra }), options: {} });
  await rounds(variants, data);
  variants.forEach((v, i) => {
    v.memory = memory[i];
    v.params = v.model.numParams;
    v.copies = copyCost(v.model, data);
    v.model.dispose();
  });
  return variants;
}

/** The WebAssembly memory the process holds for a model alone after one Adam step on the batch
 *  of the longest sentences, and the model's own regions. */
async function memoryAfterOneStep(config, data) {
  const model = await createModel(config);
  const longest = data.x.map((s, i) => [s.length, i]).sort((a, b) => b[0] - a[0]).slice(0, FIT.batchSize).map(([, i]) => i);
  model.trainStep({ x: longest.map((i) => data.x[i]), y: longest.map((i) => data.y[i]) }, { optimizer: FIT.optimizer, learningRate: FIT.learningRate });
  const s = getMemoryStats();
  const out = { reserved: s.reservedBytes, used: model.memoryBytes, instances: s.instances, models: s.models.length, backend: s.models[0]?.backend };
  model.dispose();
  return out;
}

/** ms of computeGradients on one short batch copying every gradient out, and copying none. */
function copyCost(model, data) {
  const batch = { x: data.x.slice(0, 1), y: data.y.slice(0, 1) };
  const time = (options) => {
    model.computeGradients(batch, options);
    const ms = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      model.computeGradients(batch, options);
      ms.push(performance.now() - t);
    }
    return Math.min(...ms);
  };
  return { all: time(undefined), none: time({ names: [] }) };
}

// --- 2. bucketed against unbucketed batches ---

async function bucketing(data) {
  log(`\n2. fit() per epoch on sentences of natural lengths, embedding tagger: shuffled batches against bucketByLength`);
  const model = await createModel({ ...TAGGER, embedding: E });
  const variants = [
    { name: 'shuffled', model, options: {} },
    { name: 'bucketByLength', model, options: { bucketByLength: true } },
  ];
  await rounds(variants, data);
  model.dispose();
  return variants;
}

// --- 3. streaming: memory against file size ---

function streaming() {
  log(`\n3. streaming a text file into fit(): memory against the file's size (${STREAM_MB.join(', ')} MB, a child process each)`);
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-bench-'));
  const text = readFileSync(TEXT, 'utf8');
  const child = fileURLToPath(new URL('./stream-child.js', import.meta.url));
  const out = [];
  try {
    for (const mb of STREAM_MB) {
      const file = join(dir, `${mb}.txt`);
      const fd = openSync(file, 'w');
      for (let i = 0; i < Math.ceil(mb * MiB / text.length); i++) writeSync(fd, text);
      closeSync(fd);
      const run = spawnSync(process.execPath, ['--expose-gc', child, file, fileURLToPath(TEXT)], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`stream-child.js failed on ${mb} MB: ${run.stderr}`);
      const r = JSON.parse(run.stdout);
      out.push({ mb, ...r });
      log(`  ${mark(r.ok)} ${mb} MB: ${r.windows} windows read in ${fmt(r.readSeconds, 1)} s, live heap at most ${fmt(r.peakHeap / MiB, 1)} MiB, ` +
        `RSS at most ${fmt(r.peakRss / MiB, 0)} MiB; fit over ${r.steps} batches: live heap at most ${fmt(r.fitPeakHeap / MiB, 1)} MiB`);
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// --- main ---

const t0 = performance.now();
log(`rnn-wasm: real data at scale — ${machine()}`);
const data = sentences();
const lengths = data.x.map((s) => s.length).sort((a, b) => a - b);
log(`${data.x.length} sentences, lengths ${lengths[0]}–${lengths.at(-1)} (median ${median(lengths)}), ${data.vocab} distinct words used of the model's ${TAGGER.n_x}`);
const tag = await tagger(data);
const buckets = await bucketing(data);
const stream = streaming();

const padding = paddings(data);
const distinct = distinctShare(data);

const [onehot, embedded] = tag;
const ratio = (a, b, k) => (a.best && b.best ? a.best[k] / b.best[k] : NaN);
const timeRows = (variants, base) => variants.map((v) => [
  v.name, `${mark(v.check.ok)} ${v.check.text}`, v.best ? fmt(v.best.fastest, 0) : 'skipped', v.best ? fmt(v.best.median, 0) : '—',
  `${fmt(ratio(base, v, 'fastest'))}×`, `${fmt(ratio(base, v, 'median'))}×`,
]);
const memRatio = onehot.memory.reserved / embedded.memory.reserved;
const text = `${HEADING}: embedding, length bucketing, streaming

Written by \`bench/data.js\` (\`node bench/data.js\` after \`npm run build\`); replaces its own section on every run.
${new Date().toISOString()}; ${machine()}; kernels: '${onehot.memory.backend}' (the default, \`backend: 'auto'\`); whole run ${fmt((performance.now() - t0) / 1000, 0)} s.

Data: the ${data.x.length} sentences of *Pride and Prejudice* chapters 1–12 (\`data/\`), ${lengths[0]}–${lengths.at(-1)} tokens (median
${median(lengths)}, mean ${fmt(lengths.reduce((s, n) => s + n, 0) / lengths.length, 1)}), lower-cased words and punctuation; each token tagged by its surface form
(punctuation, capitalised, -ed, -ing, -ly, other). The tagger is \`createModel(${JSON.stringify(TAGGER)})\`: its
vocabulary is 20 000 words, of which these sentences use ${data.vocab} — the cost of a vocabulary is in its weights, whichever
words a batch holds. One epoch = \`fit(data, { epochs: 1, batchSize: ${FIT.batchSize}, optimizer: '${FIT.optimizer}', learningRate: ${FIT.learningRate}, metrics: ['accuracy'] })\`.
Each variant is validated (two epochs; the loss must fall), then timed ${ROUNDS} epochs, the variants interleaved; ratios are
of the fastest epochs and of the medians.

### 1. One-hot against an embedding (E = ${E}), BiLSTM n_a ${TAGGER.n_a}, 20 000 words

| model | parameters | WebAssembly memory reserved | its regions | computeGradients, all copied | copies none |
| --- | --- | --- | --- | --- | --- |
${tag.map((v) => `| ${v.name} | ${v.params} | ${fmt(v.memory.reserved / MiB, 0)} MiB | ${fmt(v.memory.used / MiB, 0)} MiB | ${fmt(v.copies.all, 1)} ms | ${fmt(v.copies.none, 1)} ms |`).join('\n')}

Memory: **${fmt(memRatio, 1)}× less** with the embedding (target ≥ 8×). Measured after one Adam step on the batch of the ${FIT.batchSize}
longest sentences, with the model alone in the process: \`getMemoryStats().reservedBytes\` is the instance's whole linear
memory (the previous model's instance was dropped when it was disposed). The one-hot model's input weights are V × 4·n_a per
direction; the embedding's table is V × E, once.

${table(['model', 'check', 'ms/epoch (fastest)', 'ms/epoch (median)', 'speed-up (fastest)', 'speed-up (median)'], timeRows(tag, onehot))}

Time per epoch: **${fmt(ratio(onehot, embedded, 'fastest'))}× faster** with the embedding (target ≥ 2×). Every step zeroes, clips and updates
(Adam) ${fmt(onehot.params / embedded.params, 1)}× fewer values, which is most of what is left of the one-hot model's epoch; but the forward and
backward passes cost the embedding more: one-hot input is a gather of one column of W_ih per token, while the embedding's
input is E = ${E} values per token that the input projection multiplies (a GEMM of U × ${E} by ${E} × 4·n_a per direction, and
two more in BPTT), once for each of the U distinct words of a batch: ${fmt(100 * distinct, 0)} % of its tokens here. Padding costs neither model its compute: the stack runs each batch longest first and every product skips
the sequences that have ended (packed sequences, docs/DESIGN.md "Ragged batches"). With length bucketing as well (section 2), an epoch of the embedding tagger takes ${fmt(buckets[1].best?.fastest, 0)} ms against the
one-hot model's ${fmt(onehot.best?.fastest, 0)} ms unbucketed: ${fmt(onehot.best?.fastest / buckets[1].best?.fastest)}× (fastest epochs of separate rounds).

computeGradients of one sentence: copying the 20.6 M gradients out costs ${fmt(onehot.copies.all - onehot.copies.none, 0)} ms over the pass itself;
\`{ names: [] }\` with \`gradientsView()\` copies none.

### 2. Length bucketing, embedding tagger

${table(['batches', 'check', 'ms/epoch (fastest)', 'ms/epoch (median)', 'speed-up (fastest)', 'speed-up (median)'], timeRows(buckets, buckets[0]))}

\`bucketByLength\`: **${fmt(ratio(buckets[0], buckets[1], 'fastest'))}× faster** per epoch (target ≥ 1.5×). Padded steps per real step: ${fmt(padding.shuffled)} in shuffled batches,
${fmt(padding.bucketed)} bucketed (pools of 100 batches sorted by length, batch order shuffled).
Padded steps are not computed either way; what bucketing still saves is steps: each step reads the recurrent weights whatever
its number of rows, and a batch runs as many steps as its longest sentence.

### 3. Streaming a text file: memory against its size

${table(['file', 'windows of 64 characters', 'read', 'live heap (reading)', 'RSS (reading)', 'fit: batches', 'live heap (fit)', 'check'], stream.map((r) => [
  `${r.mb} MB`, String(r.windows), `${fmt(r.readSeconds, 1)} s`, `${fmt(r.peakHeap / MiB, 1)} MiB`, `${fmt(r.peakRss / MiB, 0)} MiB`, String(r.steps),
  `${fmt(r.fitPeakHeap / MiB, 1)} MiB`, `${mark(r.ok)} ${r.check}`,
]))}

A child process per file (\`bench/stream-child.js\`) reads every window of 64 characters with \`readTokenWindows\` (64 KiB chunks),
then trains a character GRU on \`textBatches\` from the same file for ${stream[0]?.steps ?? '—'} batches; the largest live heap (sampled after a
collection, every 20 000 windows and every 10 batches) and RSS are reported. The live heap stays flat while the file grows
${STREAM_MB.at(-1) / STREAM_MB[0]}×: what is held is one chunk, one window and one pool of batches, whatever the file's size.
`;
writeSection(HEADING, text);
log(`\n${text}`);
log('wrote bench/RESULTS.md');

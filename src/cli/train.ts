/// <reference types="node" />
// `rnn-wasm train TEXT`: a character (or word) language model trained on a text file of any
// size, with a held-out split, through the library's public API: createModel, fit (progress,
// abort, resume) and the training-state checkpoints of rnn-wasm/node's atomic writes.
//
//   data      the text's tokens; windows of --seq + 1 tokens cut every --seq; the last
//             --holdout of the windows (the end of the text) is held out
//   logging   every --log-every steps a row: mean training loss since the last row, loss on
//             a fixed held-out sample (--eval-tokens), tokens/s (curve.ts)
//   rate      Adam at --lr, or on a schedule: --warmup, --decay, --min-lr (lr-schedule.ts)
//   stopping  Ctrl-C (SIGINT) or SIGTERM aborts fit before its next batch; the checkpoint is
//             written and the command exits with 130. --resume continues from it bit for bit.
//   files     OUT (the model), OUT.loss.svg and OUT.csv (the curve), OUT.ckpt (the checkpoint,
//             also written at every epoch's end and every --checkpoint-every steps); OUT's
//             .safetensors extension is dropped before the others are added. Each is checked
//             to be writable before the text is read (writable.ts); OUT's directory is made
//             when training starts.
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createModel, type ManyToMany, type Tokenizer } from '../index.js';
import { writeFileAtomic } from '../node.js';
import { MAX_WORKERS } from '../workers/pool.js';
import { exclusive, helpText, parseCommand, UsageError, type CommandSpec, type ParsedArgs } from './args.js';
import { buildTokenizer, encodeText, scanText, type TextScan } from './corpus.js';
import { windowCount, windows, type TokenIds } from './windows.js';
import { curveCSV, curveSVG } from './curve.js';
import { count, duration, grouped, size } from './format.js';
import { Progress, type Status } from './progress.js';
import { checkScheduleFlags, checkScheduleLength, describeSchedule, pastEndWarning, scheduleOf } from './lr-schedule.js';
import { decodeRunFile, encodeRunFile, type Length, type RunState, type Settings } from './run-file.js';
import { checkWritable } from './writable.js';

export const trainSpec: CommandSpec = {
  name: 'train',
  summary: 'Train a character (or word) language model on a text file.',
  positionals: [{ name: 'text', help: 'the text file to learn from (UTF-8, any size)' }],
  flags: {
    tokens: { type: 'choice', choices: ['chars', 'words'], default: 'chars', help: 'model characters, or words split on whitespace' },
    cell: { type: 'choice', choices: ['rnn', 'lstm', 'gru'], default: 'lstm', help: 'recurrent cell' },
    hidden: { type: 'int', min: 1, max: 8192, default: 256, help: 'hidden units per layer (n_a)' },
    embedding: { type: 'int', min: 0, max: 8192, placeholder: 'E', help: 'read tokens through an embedding of size E (0: one-hot inputs; default: 0 for chars, --hidden for words)' },
    layers: { type: 'int', min: 1, max: 16, default: 2, help: 'stacked recurrent layers' },
    'no-bias': { type: 'boolean', default: false, help: "recurrent layers without biases (PyTorch's bias=False); the output layer keeps its bias" },
    'no-head-bias': { type: 'boolean', default: false, help: "an output layer without a bias (nn.Linear's bias=False)" },
    seq: { type: 'int', min: 1, max: 100000, default: 64, help: 'tokens per training window (steps of backpropagation through time)' },
    batch: { type: 'int', min: 1, max: 100000, default: 32, help: 'windows per batch' },
    epochs: { type: 'int', min: 1, default: 10, help: 'passes over the training text' },
    steps: { type: 'int', min: 1, placeholder: 'N', help: 'train for N optimizer steps instead of --epochs' },
    lr: { type: 'number', min: 0, minExclusive: true, default: 0.002, placeholder: 'RATE', help: 'Adam learning rate (the peak of a schedule)' },
    warmup: { type: 'int', min: 0, default: 0, placeholder: 'N', help: 'raise the rate linearly from lr/3 to --lr over the first N optimizer steps' },
    decay: { type: 'choice', choices: ['constant', 'cosine', 'linear'], default: 'constant', help: 'after the warm-up, lower the rate to --min-lr over the rest of the run' },
    'min-lr': { type: 'number', min: 0, default: 0, placeholder: 'RATE', help: 'the rate --decay cosine or linear ends at' },
    clip: { type: 'number', min: 0, default: 5, placeholder: 'NORM', help: 'clip the gradient to this global norm (0: off)' },
    dropout: { type: 'number', min: 0, max: 0.9, default: 0, placeholder: 'P', help: 'dropout between layers and before the output layer' },
    holdout: { type: 'number', min: 0, max: 0.5, default: 0.05, placeholder: 'FRACTION', help: 'fraction of the text (its end) held out to measure generalisation' },
    'eval-tokens': { type: 'int', min: 1, default: 20000, help: 'held-out tokens scored at every logged step (all of them at the end)' },
    'log-every': { type: 'int', min: 1, placeholder: 'N', help: 'log a row every N steps (default: about 100 rows per run)' },
    'max-vocab': { type: 'int', min: 1, placeholder: 'N', help: 'keep the N most frequent tokens, the rest become <unk> (default: all characters, 10000 words)' },
    seed: { type: 'int', min: 0, max: 4294967295, default: 42, help: 'fixes the initial weights, the batch order and dropout' },
    workers: { type: 'int', min: 1, max: MAX_WORKERS, default: 1, help: 'worker threads: each batch is split among them (data-parallel); 1 trains on the main thread' },
    out: { type: 'string', default: 'model.safetensors', placeholder: 'PATH', help: 'the model file to write' },
    'checkpoint-every': { type: 'int', min: 1, placeholder: 'N', help: "also write the checkpoint every N optimizer steps, so a crash loses at most N (default: at every epoch's end only)" },
    resume: { type: 'boolean', help: 'continue the run checkpointed at OUT.ckpt (after Ctrl-C, or to train longer)' },
  },
  notes: `
Writes OUT (a safetensors model with its tokenizer), OUT.loss.svg (the learning curve: bits
per token, training and held-out, against steps) and OUT.csv (the same numbers), where OUT is
--out without its .safetensors extension. OUT.ckpt holds the whole training state, written at
every epoch's end, on Ctrl-C, and every N steps with --checkpoint-every N (so that a crash or a
kill loses at most N steps); --resume continues from it exactly as if the run had not stopped
(the other flags are taken from the checkpoint, except --checkpoint-every; a larger --epochs or
--steps trains on).

A --decay schedule spans the run's length as it was when the run started (--steps, or --epochs
× batches per epoch), and --resume keeps it: a run extended past its end trains on at its final
rate (--min-lr) with --decay linear, and is refused with --decay cosine, whose rate would rise
again there.

Exit codes: 0 done, 1 failed, 2 bad command line, 130 interrupted (checkpoint written).

example: rnn-wasm train data/pride-and-prejudice.txt --cell gru --hidden 128 --steps 2000`,
};

/** The flags that make up a run, as Settings keys. */
const SETTING_FLAGS: [keyof Settings, string][] = [
  ['tokens', 'tokens'], ['cell', 'cell'], ['hidden', 'hidden'], ['embedding', 'embedding'], ['layers', 'layers'], ['noBias', 'no-bias'], ['noHeadBias', 'no-head-bias'], ['seq', 'seq'], ['batch', 'batch'],
  ['lr', 'lr'], ['dropout', 'dropout'], ['clip', 'clip'], ['holdout', 'holdout'], ['maxVocab', 'max-vocab'],
  ['evalTokens', 'eval-tokens'], ['logEvery', 'log-every'], ['seed', 'seed'], ['workers', 'workers'],
  ['warmup', 'warmup'], ['decay', 'decay'], ['minLr', 'min-lr'],
];

/** The files of a run. */
interface Paths {
  model: string;
  svg: string;
  csv: string;
  checkpoint: string;
}

/** The text as training and held-out examples. */
interface Data {
  scan: TextScan;
  tokenizer: Tokenizer;
  train: { x: TokenIds[]; y: TokenIds[] };
  heldOut: { x: TokenIds[]; y: TokenIds[] };
  /** The first --eval-tokens of heldOut, scored at every logged step. */
  heldOutSample: { x: TokenIds[]; y: TokenIds[] };
}

export async function train(argv: readonly string[], out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const args = parseCommand(trainSpec, argv);
  if (args.help) {
    out.write(helpText(trainSpec));
    return 0;
  }
  exclusive(trainSpec, args, 'epochs', 'steps');
  const textPath = args.positionals[0];
  const paths = pathsOf(args.flags.out as string);
  const prior = args.flags.resume ? await readCheckpoint(paths.checkpoint) : undefined;
  const { settings, length } = resolveRun(args, prior?.run);
  await checkWritable('train', '--out', [
    { path: paths.model, what: 'the model' }, { path: paths.checkpoint, what: 'the checkpoint' },
    { path: paths.svg, what: 'the learning curve' }, { path: paths.csv, what: "the curve's CSV" },
  ]);
  const stop = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);               // a second Ctrl-C: leave at once
    interrupted = true;
    stop.abort();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    out.write(`reading ${textPath}\n`);
    const data = await loadData(textPath, settings, prior?.run);
    if (interrupted) {
      out.write('interrupted before training began; nothing was written\n');
      return 130;
    }
    const model = await createModel({
      architecture: 'many-to-many', cell: settings.cell, n_x: data.tokenizer.size, n_a: settings.hidden, n_y: data.tokenizer.size,
      layers: settings.layers, dropout: settings.layers > 1 ? settings.dropout : 0, outputDropout: settings.dropout,
      input: 'tokens', output: 'softmax', reduction: 'mean', seed: settings.seed, tokenizers: { x: data.tokenizer, y: data.tokenizer },
      ...(settings.embedding > 0 ? { embedding: settings.embedding } : {}), ...(settings.noBias ? { bias: false } : {}),
      ...(settings.noHeadBias ? { headBias: false } : {}),
    });
    try {
      if (prior) model.setTrainingState(prior.bytes);
      const every = (args.flags['checkpoint-every'] as number | undefined) ?? 0;
      const run = new TrainingRun(model, data, settings, length, paths, every, textPath, out, err, prior?.run);
      return await run.go(stop.signal, () => interrupted);
    } finally {
      model.dispose();
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

/** OUT, OUT.loss.svg, OUT.csv, OUT.ckpt (OUT without .safetensors). */
function pathsOf(model: string): Paths {
  const stem = model.replace(/\.safetensors$/i, '');
  return { model, svg: `${stem}.loss.svg`, csv: `${stem}.csv`, checkpoint: `${stem}.ckpt` };
}

async function readCheckpoint(path: string): Promise<{ bytes: Uint8Array; run: RunState }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new UsageError(`rnn-wasm train: --resume needs the checkpoint ${path}, which does not exist (it is written at every epoch's end, on Ctrl-C and every --checkpoint-every steps; --out names it)`);
  }
  try {
    return { bytes, run: decodeRunFile(bytes) };
  } catch (e) {
    throw new UsageError(`rnn-wasm train: --resume: ${path}: ${(e as Error).message}`);
  }
}

/** The run's settings and length: from the flags, or from the checkpoint when resuming (where
 *  a flag given with a different value is an error, except --epochs and --steps). */
function resolveRun(args: ParsedArgs, prior?: RunState): { settings: Settings; length: Length } {
  const f = args.flags;
  const length: Length = f.steps !== undefined ? { steps: f.steps as number }
    : args.given.has('epochs') || !prior ? { epochs: f.epochs as number } : prior.length;
  if (prior) {
    for (const [key, flag] of SETTING_FLAGS) {
      if (args.given.has(flag) && f[flag] !== prior.settings[key]) {
        throw new UsageError(`rnn-wasm train: --${flag} ${f[flag]} differs from the checkpoint's ${prior.settings[key]}; ` +
          `a resumed run keeps its settings (leave --${flag} out, or start a new run without --resume)`);
      }
    }
    return { settings: prior.settings, length };
  }
  if ((f.workers as number) > (f.batch as number)) {
    throw new UsageError(`rnn-wasm train: --workers ${f.workers} is more than --batch ${f.batch}; each worker needs at least one window of a batch`);
  }
  const settings = Object.fromEntries(SETTING_FLAGS.map(([key, flag]) => [key, f[flag]])) as unknown as Settings;
  settings.maxVocab ??= settings.tokens === 'words' ? 10000 : 0;    // 0: every character
  // a one-hot word is a column of W_ih per gate: an embedding keeps the input side small
  settings.embedding ??= settings.tokens === 'words' ? settings.hidden : 0;
  settings.logEvery ??= 0;                             // chosen once the run's length is known
  settings.scheduleSteps = 0;                          // the same
  checkScheduleFlags(settings, args.given.has('min-lr'));
  return { settings, length };
}

/** Read, tokenize and split the text. A resumed run checks that the text is the same. */
async function loadData(path: string, s: Settings, prior?: RunState): Promise<Data> {
  const scan = await scanText(path, s.tokens);
  if (prior && (scan.sha256 !== prior.corpus.sha256 || scan.bytes !== prior.corpus.bytes)) {
    throw new UsageError(`rnn-wasm train: --resume: ${path} (${grouped(scan.bytes)} bytes, sha256 ${scan.sha256.slice(0, 12)}…) is not the text ` +
      `the checkpoint was trained on (${grouped(prior.corpus.bytes)} bytes, sha256 ${prior.corpus.sha256.slice(0, 12)}…)`);
  }
  const tokenizer = buildTokenizer(scan, s.tokens, s.maxVocab || Infinity);
  const ids = await encodeText(path, s.tokens, tokenizer, scan.tokens);
  const total = windowCount(scan.tokens, s.seq);
  const held = s.holdout > 0 ? Math.max(1, Math.round(total * s.holdout)) : 0;
  if (total - held < 1) {
    throw new UsageError(`rnn-wasm train: ${path} has ${grouped(scan.tokens)} ${s.tokens}, too few for one training window of --seq ${s.seq} ` +
      `+ 1 tokens${held ? ` after holding out ${held} (--holdout ${s.holdout})` : ''}; use a longer text or a smaller --seq`);
  }
  const heldOut = windows(ids, s.seq, total - held, total);
  const sampled = Math.min(held, Math.ceil(s.evalTokens / s.seq));
  return {
    scan, tokenizer, train: windows(ids, s.seq, 0, total - held), heldOut,
    heldOutSample: { x: heldOut.x.slice(0, sampled), y: heldOut.y.slice(0, sampled) },
  };
}

/** One session of a run: fit with its callbacks, logging, checkpoints and the final files. */
class TrainingRun {
  private readonly state: RunState;
  private readonly progress: Progress;
  private readonly totalSteps: number;
  private readonly epochs: number;
  private readonly batches: number;
  private readonly sessionStart = Date.now();
  private readonly stepsBefore: number;
  private readonly elapsedBefore: number;
  private lastRow = { at: Date.now(), tokens: 0 };

  constructor(private readonly model: ManyToMany, private readonly data: Data, private readonly settings: Settings, length: Length,
              private readonly paths: Paths, private readonly checkpointEvery: number, private readonly textPath: string,
              private readonly out: NodeJS.WriteStream, private readonly err: NodeJS.WriteStream, prior?: RunState) {
    this.batches = Math.ceil(data.train.x.length / settings.batch);
    this.totalSteps = 'steps' in length ? length.steps : length.epochs * this.batches;
    this.epochs = Math.ceil(this.totalSteps / this.batches);
    if (settings.logEvery === 0) settings.logEvery = Math.max(1, Math.round(this.totalSteps / 100));
    if (settings.scheduleSteps === 0) settings.scheduleSteps = this.totalSteps;
    checkScheduleLength(settings, this.totalSteps);
    this.state = prior ? { ...prior, length } : {
      settings, length, corpus: { bytes: data.scan.bytes, sha256: data.scan.sha256 }, rows: [],
      pending: { lossSum: 0, steps: 0 }, steps: 0, tokens: 0, elapsedMs: 0,
    };
    this.stepsBefore = this.state.steps;
    this.elapsedBefore = this.state.elapsedMs;
    this.lastRow.tokens = this.state.tokens;
    this.progress = new Progress(out, settings.tokens === 'chars' ? 'char' : 'word');
  }

  /** Train to the end of the run or to an interruption; the exit code. */
  async go(signal: AbortSignal, interrupted: () => boolean): Promise<number> {
    this.describe();
    if (this.state.steps >= this.totalSteps) {
      this.out.write(`the run already has ${this.state.steps} steps; give a larger --epochs or --steps to train further\n`);
      return 0;
    }
    const warning = pastEndWarning(this.settings, this.stepsBefore, this.totalSteps);
    if (warning) this.err.write(`${warning}\n`);
    await mkdir(dirname(this.paths.model) || '.', { recursive: true });
    const stopAtEnd = new AbortController();
    const result = await this.model.fit(this.data.train, {
      epochs: this.epochs, batchSize: this.settings.batch, optimizer: 'adam', learningRate: this.settings.lr, schedule: scheduleOf(this.settings),
      clipNorm: this.settings.clip > 0 ? this.settings.clip : undefined, onNonFinite: 'stop', resume: this.stepsBefore > 0,
      workers: this.settings.workers > 1 ? this.settings.workers : 0,
      signal: { get aborted() { return signal.aborted || stopAtEnd.signal.aborted; } },
      onProgress: async (p) => {
        this.afterStep(p.batch, p.loss, p.learningRate);
        if (this.state.steps >= this.totalSteps) stopAtEnd.abort();
        // a checkpoint due here, unless the epoch's end or the run's end writes one next
        else if (this.checkpointEvery > 0 && this.state.steps % this.checkpointEvery === 0 && p.batch + 1 < p.batches) await this.checkpoint();
      },
      onEpochEnd: () => this.epochEnd(),
    });
    this.progress.clear();
    if (result.stopReason === 'non-finite') {
      this.out.write(`training stopped: ${result.message}\nnothing was written; try a lower --lr or --clip\n`);
      return 1;
    }
    if (interrupted() && this.state.steps < this.totalSteps) return this.interrupt();
    return this.finish();
  }

  /** After each optimizer step: the run's counts, a row when one is due, the bar. */
  private afterStep(batch: number, loss: number, learningRate: number): void {
    const s = this.state;
    const examples = Math.min(this.settings.batch, this.data.train.x.length - batch * this.settings.batch);
    s.steps++;
    s.tokens += examples * this.settings.seq;
    s.pending.lossSum += loss;
    s.pending.steps++;
    if (s.steps % this.settings.logEvery === 0 || s.steps === this.totalSteps) {
      this.logRow(learningRate);
      this.progress.logged(this.status(learningRate));
    } else {
      this.progress.update(this.status(learningRate));
    }
  }

  private logRow(learningRate: number): void {
    const s = this.state, now = Date.now();
    const heldOutLoss = this.data.heldOutSample.x.length > 0
      ? this.model.evaluate(this.data.heldOutSample, { batchSize: this.settings.batch }).loss : NaN;
    s.rows.push({
      step: s.steps, epoch: this.epochOf(s.steps), tokens: s.tokens, trainLoss: s.pending.lossSum / s.pending.steps, heldOutLoss,
      learningRate, tokensPerSecond: ((s.tokens - this.lastRow.tokens) * 1000) / Math.max(1, Date.now() - this.lastRow.at),
      elapsedMs: this.elapsed(),
    });
    s.pending = { lossSum: 0, steps: 0 };
    this.lastRow = { at: now, tokens: s.tokens };
  }

  private async epochEnd(): Promise<void> {
    this.progress.epochEnd(this.status(this.state.rows.at(-1)?.learningRate ?? this.settings.lr));
    await this.checkpoint();
  }

  private status(learningRate: number): Status {
    const s = this.state, last = s.rows.at(-1);
    const sessionSteps = s.steps - this.stepsBefore, sessionMs = Date.now() - this.sessionStart;
    return {
      step: s.steps, totalSteps: this.totalSteps, epoch: this.epochOf(s.steps), epochs: this.epochs,
      trainLoss: s.pending.steps > 0 ? s.pending.lossSum / s.pending.steps : last?.trainLoss ?? NaN,
      heldOutLoss: last?.heldOutLoss ?? NaN, learningRate,
      tokensPerSecond: ((s.tokens - this.lastRow.tokens) * 1000) / Math.max(1, Date.now() - this.lastRow.at) || last?.tokensPerSecond || 0,
      etaMs: ((this.totalSteps - s.steps) * sessionMs) / Math.max(1, sessionSteps), elapsedMs: this.elapsed(),
    };
  }

  private epochOf(step: number): number {
    return Math.ceil(step / this.batches);
  }

  /** Training time over every session of the run. */
  private elapsed(): number {
    return this.elapsedBefore + (Date.now() - this.sessionStart);
  }

  private async checkpoint(): Promise<void> {
    this.state.elapsedMs = this.elapsed();
    const bytes = encodeRunFile(this.model.getTrainingState(), this.state);
    await writeFileAtomic(this.paths.checkpoint, bytes);
  }

  private async writeCurve(): Promise<void> {
    const s = this.settings;
    const title = `${s.cell.toUpperCase()} ${s.layers}×${s.hidden} on ${basename(this.textPath)}`;
    const unit = s.tokens === 'chars' ? 'character' : 'word';
    await writeFileAtomic(this.paths.csv, new TextEncoder().encode(curveCSV(this.state.rows)));
    await writeFileAtomic(this.paths.svg, new TextEncoder().encode(curveSVG(this.state.rows, title, unit)));
  }

  private async interrupt(): Promise<number> {
    await this.checkpoint();
    await this.writeCurve();
    this.out.write(`interrupted at step ${this.state.steps}/${this.totalSteps}; checkpoint written to ${this.paths.checkpoint}\n` +
      `continue with: rnn-wasm train ${this.textPath} --out ${this.paths.model} --resume\n`);
    return 130;
  }

  private async finish(): Promise<number> {
    await this.checkpoint();
    await writeFileAtomic(this.paths.model, this.model.save());
    await this.writeCurve();
    const unit = this.settings.tokens === 'chars' ? 'char' : 'word';
    const lines = [`trained ${this.state.steps} steps on ${count(this.state.tokens)} tokens in ${duration(this.elapsed())}`];
    if (this.data.heldOut.x.length > 0) {
      const m = this.model.evaluate(this.data.heldOut, { batchSize: this.settings.batch, metrics: ['perplexity', 'bitsPerChar'] });
      lines.push(`held-out (${grouped(this.data.heldOut.x.length * this.settings.seq)} tokens): loss ${m.loss.toFixed(4)}, ` +
        `${m.bitsPerChar!.toFixed(3)} bits per ${unit}, perplexity ${m.perplexity!.toFixed(2)}`);
    }
    lines.push(`wrote ${this.paths.model}, ${this.paths.svg}, ${this.paths.csv} (checkpoint ${this.paths.checkpoint})`);
    this.out.write(lines.join('\n') + '\n');
    return 0;
  }

  /** What is about to happen: the data, the model, the plan, the files. */
  private describe(): void {
    const { scan, tokenizer, train, heldOut, heldOutSample } = this.data;
    const s = this.settings, c = this.model.config;
    const unit = s.tokens === 'chars' ? 'characters' : 'words';
    const lines = [
      `text      ${this.textPath}: ${size(scan.bytes)}, ${grouped(scan.tokens)} ${unit}, ${grouped(scan.counts.size)} distinct; vocabulary ${tokenizer.size} (with <unk>)`,
      `split     ${grouped(train.x.length)} windows of ${s.seq} to train on, ${grouped(heldOut.x.length)} held out ` +
        `(${grouped(heldOutSample.x.length * s.seq)} tokens scored at every logged step)`,
      `model     ${c.embedding ? `embedding ${c.embedding.size}, ` : ''}${c.cell.toUpperCase()}, ${c.layers} layer${c.layers > 1 ? 's' : ''} × ${c.n_a}${c.bias === false ? ' without biases' : ''}${c.headBias === false ? ', no output bias' : ''}, ${grouped(this.model.numParams)} parameters, ` +
        `${this.model.backend} kernels, seed ${c.seed}`,
      `training  ${this.epochs} epoch${this.epochs > 1 ? 's' : ''} of ${this.batches} steps, ${this.totalSteps} steps in all, batch ${s.batch}, ` +
        `Adam lr ${s.lr}${describeSchedule(s)}, clip ${s.clip || 'off'}${s.dropout ? `, dropout ${s.dropout}` : ''}${s.workers > 1 ? `, ${s.workers} workers` : ''}; ` +
        `a row every ${s.logEvery} steps; a checkpoint at every epoch's end${this.checkpointEvery ? ` and every ${this.checkpointEvery} steps` : ''}`,
    ];
    if (this.stepsBefore > 0) lines.push(`resuming  at step ${this.stepsBefore} from ${this.paths.checkpoint}`);
    this.out.write(lines.join('\n') + '\n');
  }
}

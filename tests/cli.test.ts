// The rnn-wasm command, run as a user runs it: the real bin/rnn-wasm.js in a child process, on
// a small text (the first 20 000 characters of the shipped novel). Exit codes, the files it
// writes (the model loads, the SVG parses and has one point per logged step, the CSV matches
// it), Ctrl-C then --resume equal to an uninterrupted run, learning-rate schedules (the rates
// recorded against their formulas, resumed bit for bit, old checkpoints), sampling, scoring,
// info, --help, and clear errors for bad flags.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decodeSafetensors, encodeSafetensors, loadModel } from '../dist/index.js';
import { main } from '../dist/cli/main.js';
import { windowCount, windows } from '../dist/cli/windows.js';
import { Progress } from '../dist/cli/progress.js';
import { unsealed } from './_utils.js';

const root = join(__dirname, '..');
const bin = join(root, 'bin', 'rnn-wasm.js');
const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-cli-'));
const text = join(dir, 'small.txt');
writeFileSync(text, readFileSync(join(root, 'data', 'pride-and-prejudice.txt'), 'utf8').slice(0, 20000));
const tiny = ['--hidden', '24', '--layers', '2', '--seq', '16', '--batch', '8', '--dropout', '0.1', '--log-every', '20'];

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; chunks: number }

/** Run the command; `onLine` sees each stdout line as it arrives and may return true to send
 *  `signal` (SIGINT: Ctrl-C). */
function rnnWasm(args: string[], onLine?: (line: string) => boolean, signal: NodeJS.Signals = 'SIGINT'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: { ...process.env, FORCE_COLOR: '0' } });
    const run: Run = { code: null, signal: null, stdout: '', stderr: '', chunks: 0 };
    let signalled = false;
    child.stdout.on('data', (chunk: Buffer) => {
      run.chunks++;
      const before = run.stdout.length;
      run.stdout += chunk;
      if (onLine && !signalled) {
        for (const line of run.stdout.slice(before === 0 ? 0 : run.stdout.lastIndexOf('\n', before) + 1).split('\n')) {
          if (onLine(line)) { signalled = true; child.kill(signal); break; }
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => { run.stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ ...run, code, signal }));
  });
}

/** main() in this process, for the cases that end before any training: exit code and output. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const sink = () => {
    const w = new Writable({ write(chunk, _, done) { w.text += chunk; done(); } }) as Writable & { text: string };
    w.text = '';
    return w;
  };
  const [out, err] = [sink(), sink()];
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(args, out as unknown as NodeJS.WriteStream, err as unknown as NodeJS.WriteStream);
    return { code, stdout: out.text, stderr: err.text };
  } finally {
    process.chdir(cwd);
  }
}

const file = (name: string) => join(dir, name);
const csvRows = (name: string) => readFileSync(file(name), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
/** The CSV without its timing columns (tokens/s, elapsed), which differ between runs. */
const csvNumbers = (name: string) => csvRows(name).map((r) => r.slice(0, 8).join(','));

// ---
const Windows = suite('windows of a text, the progress display');

Windows('windows are next-token examples, made on access as copies, in arrays that read like any other', () => {
  const ids = Uint16Array.from({ length: 23 }, (_, i) => 100 + i);            // 23 tokens: 5 windows of 4, and 2 more tokens
  assert.is(windowCount(23, 4), 5);
  assert.is(windowCount(23, 4, true), 6);
  const { x, y } = windows(ids, 4, 1, 6);
  assert.ok(Array.isArray(x) && x.length === 5 && y.length === 5);
  assert.equal(Array.from(x[0]), [104, 105, 106, 107]);
  assert.equal(Array.from(y[0]), [105, 106, 107, 108]);
  assert.equal(Array.from(x[4]), [120, 121], 'the last window is shorter: every token but the first is a target once');
  assert.equal(Array.from(y[4]), [121, 122]);
  assert.is(x[5], undefined);
  assert.equal(x.slice(1, 3).map((w) => w[0]), [108, 112], 'slice and map see every element');
  assert.equal([...y].map((w) => w.length), [4, 4, 4, 4, 2]);
  x[0][0] = 0;
  assert.is(ids[4], 104, 'an element is a copy: changing it leaves the text alone');
  assert.ok(x[0] !== x[0] && x[0].buffer.byteLength === 8, 'each read makes a new array of its own tokens only');
  assert.throws(() => { 'use strict'; (x as unknown as number[])[0] = 1; }, TypeError);
});

Windows('on a terminal the progress is one bar redrawn in place, no wider than the terminal; elsewhere a log line', () => {
  const status = {
    step: 50, totalSteps: 200, epoch: 1, epochs: 2, trainLoss: 2, heldOutLoss: 2.2, learningRate: 0.002,
    tokensPerSecond: 12345, etaMs: 65_000, elapsedMs: 20_000,
  };
  for (const columns of [200, 100, 60]) {
    const tty = { isTTY: true, columns, text: '', write(t: string) { this.text += t; } };
    const bar = new Progress(tty, 'char');
    bar.logged(status);
    const line = tty.text.replace('\r\x1b[2K', '');
    assert.ok(tty.text.startsWith('\r\x1b[2K') && !line.includes('\n'), 'redrawn in place');
    assert.ok([...line].length < columns, `${[...line].length} characters on a terminal of ${columns}`);
    if (columns === 200) {
      assert.match(line, /^step 50\/200 [█░]+ 25% · epoch 1\/2 · ETA 1m05s · loss 2\.000 · bpc 2\.89 train, 3\.17 held-out · 12k tok\/s$/);
      const width = (line.match(/[█░]/g) ?? []).length;
      assert.is((line.match(/█/g) ?? []).length, Math.round(width / 4), 'a quarter of the bar is filled');
    }
    bar.print('epoch 1 done');
    assert.ok(tty.text.endsWith('\r\x1b[2Kepoch 1 done\n'), 'a message clears the bar first');
  }
  const log = { text: '', write(t: string) { this.text += t; } };
  new Progress(log, 'word').logged(status);
  assert.is(log.text, 'step 50/200 | epoch 1/2 | loss 2.0000 | bits/word 2.885 | held-out 3.174 | lr 0.00200 | 12k tok/s | elapsed 20s | eta 1m05s\n');
});

Windows.run();

// ---
const Help = suite('--help and command-line errors');

Help('rnn-wasm --help lists the commands; every command has --help', async () => {
  const top = await rnnWasm(['--help']);
  assert.is(top.code, 0);
  for (const c of ['train', 'sample', 'eval', 'info']) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'));
  const flags: Record<string, string[]> = {
    train: ['--cell rnn|lstm|gru', '--hidden', '--layers', '--seq', '--batch', '--epochs', '--steps', '--lr', '--workers', '--out', '--resume', '--tokens chars|words',
      '--warmup N', '--decay constant|cosine|linear', '--min-lr RATE', '--checkpoint-every N', 'schedule spans the run\'s length as it was when the run started'],
    sample: ['--length', '--temperature', '--top-k', '--top-p', '--prime', '--seed'],
    eval: ['--seq', '--batch'],
    info: ['--help'],
  };
  for (const [command, expected] of Object.entries(flags)) {
    const r = await inProcess([command, '--help']);
    assert.is(r.code, 0, `${command} --help exits with 0`);
    assert.match(r.stdout, `usage: rnn-wasm ${command}`);
    for (const f of expected) assert.ok(r.stdout.includes(f), `${command} --help shows ${f}:\n${r.stdout}`);
  }
});

Help('a bad flag exits with 2 and a message naming the flag and what it expects', async () => {
  const cases: [string[], string][] = [
    [['train', 'small.txt', '--hidden', 'many'], 'rnn-wasm train: --hidden expects a whole number ≥ 1 and ≤ 8192, got "many"'],
    [['train', 'small.txt', '--hidden', '0'], 'rnn-wasm train: --hidden expects a whole number ≥ 1 and ≤ 8192, got "0"'],
    [['train', 'small.txt', '--hiden', '64'], 'rnn-wasm train: unknown flag --hiden (did you mean --hidden?)'],
    [['train', 'small.txt', '--cell', 'transformer'], 'rnn-wasm train: --cell expects one of rnn, lstm, gru, got "transformer"'],
    [['train', 'small.txt', '--lr', '0'], 'rnn-wasm train: --lr expects a number > 0, got "0"'],
    [['train', 'small.txt', '--epochs', '2', '--steps', '10'], 'rnn-wasm train: give --epochs or --steps, not both'],
    [['train', 'small.txt', '--seq'], 'rnn-wasm train: --seq expects a whole number ≥ 1 and ≤ 100000, got nothing'],
    [['train'], 'rnn-wasm train: missing TEXT'],
    [['train', 'missing.txt'], 'rnn-wasm train: cannot read "missing.txt": no such file'],
    [['train', 'small.txt', '--workers', '9', '--batch', '8'], 'rnn-wasm train: --workers 9 is more than --batch 8; each worker needs at least one window of a batch'],
    [['train', 'small.txt', '--seq', '30000'], 'too few for one training window of --seq 30000'],
    [['sample', 'model.safetensors', '--top-p', '1.5'], 'rnn-wasm sample: --top-p expects a number > 0 and ≤ 1, got "1.5"'],
    [['sample', 'missing.safetensors'], 'rnn-wasm sample: cannot read "missing.safetensors": no such file'],
    [['eval', 'small.txt', 'small.txt'], 'rnn-wasm eval: small.txt: loadModel: safetensors:'],
    [['info', 'small.txt', 'extra'], 'rnn-wasm info: unexpected argument "extra"'],
  ];
  for (const [args, message] of cases) {
    const r = await inProcess(args);
    assert.is(r.code, 2, `${args.join(' ')} exits with 2 (got ${r.code}: ${r.stderr})`);
    assert.ok(r.stderr.includes(message), `${args.join(' ')}:\n  expected ${message}\n  got      ${r.stderr}`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const unknown = await inProcess(['fit', 'small.txt']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, 'unknown command "fit"; the commands are train, sample, eval, info');
  // and from the real binary: the message on stderr, exit code 2
  const bad = await rnnWasm(['train', 'small.txt', '--layers', '-1']);
  assert.is(bad.code, 2);
  assert.is(bad.stderr, 'rnn-wasm train: --layers expects a whole number ≥ 1 and ≤ 16, got "-1"\n');
});

Help('an --out that cannot be written is refused before anything is read or trained, with exit code 2', async () => {
  mkdirSync(file('taken.safetensors'));
  mkdirSync(file('ckptdir.ckpt'));
  const cases: [string, string][] = [
    ['taken.safetensors', 'rnn-wasm train: --out "taken.safetensors" is a directory; give a file path, e.g. --out taken.safetensors/model.safetensors'],
    ['ckptdir.safetensors', 'rnn-wasm train: --out "ckptdir.safetensors": the checkpoint ckptdir.ckpt is a directory; remove it or choose another --out'],
    ['small.txt/m.safetensors', 'rnn-wasm train: --out "small.txt/m.safetensors": small.txt is a file, not a directory'],
    ['small.txt/deeper/m.safetensors', 'rnn-wasm train: --out "small.txt/deeper/m.safetensors": small.txt is a file, not a directory'],
  ];
  if (process.platform === 'linux') {
    cases.push(['/proc/m.safetensors', 'rnn-wasm train: --out "/proc/m.safetensors": cannot create files in /proc (ENOENT: no such file or directory)']);
  }
  for (const [out, message] of cases) {
    const r = await inProcess(['train', 'small.txt', '--hidden', '8', '--layers', '1', '--steps', '2', '--out', out]);
    assert.is(r.code, 2, `--out ${out} exits with 2 (got ${r.code}: ${r.stderr})`);
    assert.is(r.stderr, `${message}\n`);
    assert.is(r.stdout, '', 'refused before the text is read');
  }
  // a missing directory is still made, and the probe file leaves nothing behind
  const made = await rnnWasm(['train', 'small.txt', '--hidden', '8', '--layers', '1', '--steps', '2', '--out', 'new/deeper/m.safetensors']);
  assert.is(made.code, 0, made.stderr);
  assert.ok(existsSync(file('new/deeper/m.safetensors')));
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no probe file left');
});

Help('a mistyped command is answered with the nearest one, as a mistyped flag is', async () => {
  for (const [typed, meant] of [['trian', 'train'], ['smaple', 'sample'], ['evl', 'eval'], ['inf', 'info']]) {
    const r = await inProcess([typed, 'small.txt']);
    assert.is(r.code, 2);
    assert.is(r.stderr, `rnn-wasm: unknown command "${typed}" (did you mean ${meant}?); the commands are train, sample, eval, info (see rnn-wasm --help)\n`);
  }
});

Help.run();

// ---
const Train = suite('train: the files, the log, resume');

Train('a run exits with 0 and writes a model that loads, a CSV row and an SVG point per logged step', async () => {
  const r = await rnnWasm(['train', 'small.txt', ...tiny, '--steps', '100', '--out', 'a/model.safetensors']);
  assert.is(r.code, 0, r.stderr);
  // not a terminal: plain lines, one per logged step, no escape codes
  const logged = r.stdout.split('\n').filter((l) => /^step \d+\/100 \| epoch 1\/1 \| loss [\d.]+ \| bpc [\d.]+ \| held-out [\d.]+ \| .* tok\/s/.test(l));
  assert.is(logged.length, 5, r.stdout);
  assert.not.match(r.stdout, '\x1b[');
  assert.match(r.stdout, /held-out \([\d ]+ tokens\): loss [\d.]+, [\d.]+ bits per char, perplexity [\d.]+/);

  const model = await loadModel(new Uint8Array(readFileSync(file('a/model.safetensors'))), { architecture: 'many-to-many' });
  assert.is(model.config.cell, 'lstm');
  assert.is(model.config.n_a, 24);
  assert.is(model.tokenizers.x!.decode(model.tokenizers.x!.encode('It is a truth')), 'It is a truth');
  model.dispose();

  const rows = csvRows('a/model.csv');
  assert.equal(rows.map((row) => Number(row[0])), [20, 40, 60, 80, 100]);
  for (const row of rows) assert.ok(Math.abs(Number(row[4]) - Number(row[3]) / Math.LN2) < 1e-9, 'bits = nats / ln 2');
  assert.ok(Number(rows[4][6]) < Number(rows[0][6]), `held-out bits fall: ${rows[0][6]} → ${rows[4][6]}`);

  const svg = readFileSync(file('a/model.loss.svg'), 'utf8');
  assert.is(XMLValidator.validate(svg), true, 'the SVG is well-formed XML');
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
  const series = ([] as { 'data-series': string; circle: { 'data-step': string; 'data-value': string }[] }[]).concat(doc.svg.g)
    .filter((g) => g['data-series']);
  assert.equal(series.map((s) => s['data-series']), ['train', 'held-out']);
  series.forEach((s, i) => {
    assert.equal(s.circle.map((c) => Number(c['data-step'])), rows.map((row) => Number(row[0])), `${s['data-series']}: one point per logged step`);
    s.circle.forEach((c, k) => assert.ok(Math.abs(Number(c['data-value']) - Number(rows[k][i === 0 ? 4 : 6])) < 1e-9, 'the point is the CSV value'));
  });
});

Train('Ctrl-C writes a checkpoint and exits with 130; --resume then ends exactly as the uninterrupted run', async () => {
  const args = ['train', 'small.txt', ...tiny, '--steps', '200'];
  const whole = await rnnWasm([...args, '--out', 'whole/m.safetensors']);
  assert.is(whole.code, 0, whole.stderr);

  const first = await rnnWasm([...args, '--out', 'cut/m.safetensors'], (line) => /^step 60\//.test(line));
  assert.is(first.code, 130, `exit code ${first.code}: ${first.stderr}`);
  const at = Number(/interrupted at step (\d+)\/200; checkpoint written to cut\/m\.ckpt/.exec(first.stdout)?.[1]);
  assert.ok(at >= 60 && at < 200, first.stdout);
  assert.ok(existsSync(file('cut/m.ckpt')));
  assert.not.ok(existsSync(file('cut/m.safetensors')), 'no model file from an interrupted run');
  assert.equal(csvNumbers('cut/m.csv'), csvNumbers('whole/m.csv').slice(0, Math.floor(at / 20)), 'the curve so far');

  const rest = await rnnWasm(['train', 'small.txt', '--out', 'cut/m.safetensors', '--resume']);
  assert.is(rest.code, 0, rest.stderr);
  assert.match(rest.stdout, `resuming  at step ${at} from cut/m.ckpt`);
  assert.ok(Buffer.compare(readFileSync(file('cut/m.safetensors')), readFileSync(file('whole/m.safetensors'))) === 0, 'the same model file, byte for byte');
  assert.equal(csvNumbers('cut/m.csv'), csvNumbers('whole/m.csv'), 'the same curve');
});

Train('--checkpoint-every: a killed run (SIGKILL: nothing written at the end) resumes from its last checkpoint and ends exactly as the uninterrupted run', async () => {
  const args = ['train', 'small.txt', ...tiny, '--steps', '200'];
  const whole = await rnnWasm([...args, '--out', 'whole-k/m.safetensors']);
  assert.is(whole.code, 0, whole.stderr);
  const epochSteps = Number(/training  \d+ epochs? of (\d+) steps/.exec(whole.stdout)?.[1]);

  const killed = await rnnWasm([...args, '--checkpoint-every', '25', '--out', 'kill/m.safetensors'], (line) => /^step 60\//.test(line), 'SIGKILL');
  assert.is(killed.signal, 'SIGKILL', `${killed.code} ${killed.stderr}`);
  assert.match(killed.stdout, "a checkpoint at every epoch's end and every 25 steps");
  assert.not.ok(existsSync(file('kill/m.safetensors')), 'no model file from a killed run');

  const rest = await rnnWasm(['train', 'small.txt', '--out', 'kill/m.safetensors', '--resume']);
  assert.is(rest.code, 0, rest.stderr);
  const at = Number(/resuming  at step (\d+) from kill\/m\.ckpt/.exec(rest.stdout)?.[1]);
  assert.ok(at >= 50 && at < 200 && (at % 25 === 0 || at % epochSteps === 0), `resumed at step ${at}: a step of a checkpoint (every 25, or an epoch's end)`);
  assert.ok(Buffer.compare(readFileSync(file('kill/m.safetensors')), readFileSync(file('whole-k/m.safetensors'))) === 0, 'the same model file, byte for byte');
  assert.equal(csvNumbers('kill/m.csv'), csvNumbers('whole-k/m.csv'), 'the same curve');
});

Train('--resume with a larger --steps trains on, as one longer run would (here on 2 workers); a changed setting or text is refused', async () => {
  const args = ['train', 'small.txt', ...tiny, '--workers', '2'];
  assert.is((await rnnWasm([...args, '--steps', '80', '--out', 'long/m.safetensors'])).code, 0);
  assert.is((await rnnWasm([...args, '--steps', '40', '--out', 'grow/m.safetensors'])).code, 0);
  const more = await rnnWasm(['train', 'small.txt', '--steps', '80', '--out', 'grow/m.safetensors', '--resume']);
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stdout, /Adam lr 0\.002, clip 5, dropout 0\.1, 2 workers;/);
  assert.ok(Buffer.compare(readFileSync(file('grow/m.safetensors')), readFileSync(file('long/m.safetensors'))) === 0, 'the same model file');
  assert.equal(csvNumbers('grow/m.csv'), csvNumbers('long/m.csv'));

  const changed = await rnnWasm(['train', 'small.txt', '--hidden', '32', '--out', 'grow/m.safetensors', '--resume']);
  assert.is(changed.code, 2);
  assert.match(changed.stderr, "--hidden 32 differs from the checkpoint's 24; a resumed run keeps its settings");
  writeFileSync(file('other.txt'), readFileSync(text, 'utf8').toUpperCase());
  const other = await rnnWasm(['train', 'other.txt', '--out', 'grow/m.safetensors', '--resume']);
  assert.is(other.code, 2);
  assert.match(other.stderr, /other\.txt \(20 000 bytes, sha256 \w+…\) is not the text the checkpoint was trained on/);
  const none = await rnnWasm(['train', 'small.txt', '--out', 'none/m.safetensors', '--resume']);
  assert.is(none.code, 2);
  assert.match(none.stderr, '--resume needs the checkpoint none/m.ckpt, which does not exist');
});

Train('--tokens words trains a word model', async () => {
  const r = await rnnWasm(['train', 'small.txt', '--tokens', 'words', '--hidden', '16', '--layers', '1', '--seq', '8', '--steps', '20', '--out', 'words.safetensors']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /bits\/word/);
  const model = await loadModel(new Uint8Array(readFileSync(file('words.safetensors'))), { architecture: 'many-to-many' });
  assert.is(model.tokenizers.x!.kind, 'word');
  assert.ok(model.tokenizers.x!.tokens.includes('truth'));
  // words are read through an embedding of the hidden size by default; --embedding 0 is one-hot
  assert.is(model.config.embedding?.size, 16);
  assert.equal(model.layout.get('embedding.weight')!.shape, [model.config.n_x, 16]);
  assert.match(r.stdout, /^model {5}embedding 16, LSTM, 1 layer × 16, /m);
  model.dispose();
  const info = await rnnWasm(['info', 'words.safetensors']);
  assert.match(info.stdout, /^embedding\s+E 16$/m);
  const oneHot = await rnnWasm(['train', 'small.txt', '--tokens', 'words', '--embedding', '0', '--hidden', '16', '--layers', '1', '--seq', '8', '--steps', '2', '--out', 'words1.safetensors']);
  assert.is(oneHot.code, 0, oneHot.stderr);
  const plain = await loadModel(new Uint8Array(readFileSync(file('words1.safetensors'))), { architecture: 'many-to-many' });
  assert.is(plain.config.embedding, undefined);
  plain.dispose();
  // a resumed run keeps the checkpoint's embedding
  const other = await rnnWasm(['train', 'small.txt', '--tokens', 'words', '--embedding', '8', '--out', 'words.safetensors', '--resume']);
  assert.is(other.code, 2);
  assert.match(other.stderr, /--embedding 8 differs from the checkpoint's 16/);
  const s = await rnnWasm(['sample', 'words.safetensors', '--length', '12', '--seed', '1', '--prime', 'It is']);
  assert.is(s.code, 0, s.stderr);
  assert.is(s.stdout.trim().split(' ').length, 14, s.stdout);
});

Train('--no-bias trains recurrent layers without biases; info says so, and --resume keeps it', async () => {
  const args = ['train', 'small.txt', '--hidden', '8', '--layers', '2', '--seq', '8', '--batch', '4', '--no-bias', '--out', 'nobias/m.safetensors'];
  const r = await rnnWasm([...args, '--steps', '6']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model {5}LSTM, 2 layers × 8 without biases, /m);
  const model = await loadModel(new Uint8Array(readFileSync(file('nobias/m.safetensors'))), { architecture: 'many-to-many' });
  assert.is(model.config.bias, false);
  assert.equal(model.layout.entries.map((e) => e.name), ['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l1', 'weight_hh_l1', 'head.weight', 'head.bias']);
  model.dispose();
  const info = await rnnWasm(['info', 'nobias/m.safetensors']);
  assert.match(info.stdout, /^cell\s+lstm, 2 layers, no biases$/m);
  // resumed without the flag: the checkpoint's setting holds
  const more = await rnnWasm(['train', 'small.txt', '--steps', '8', '--out', 'nobias/m.safetensors', '--resume']);
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stdout, /without biases/);
  const help = await rnnWasm(['train', '--help']);
  assert.match(help.stdout, /--no-bias\s+recurrent layers without biases \(PyTorch's bias=False\); the output layer keeps its bias/);
});

Train('--no-head-bias trains an output layer without a bias; the log and info say so, and --resume keeps it', async () => {
  const args = ['train', 'small.txt', '--hidden', '8', '--layers', '1', '--seq', '8', '--batch', '4', '--no-head-bias', '--out', 'noheadbias/m.safetensors'];
  const r = await rnnWasm([...args, '--steps', '6']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model {5}LSTM, 1 layer × 8, no output bias, /m);
  const model = await loadModel(new Uint8Array(readFileSync(file('noheadbias/m.safetensors'))), { architecture: 'many-to-many' });
  assert.is(model.config.headBias, false);
  assert.equal(model.layout.entries.map((e) => e.name), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'head.weight']);
  model.dispose();
  const info = await rnnWasm(['info', 'noheadbias/m.safetensors']);
  assert.match(info.stdout, /^input, output\s+tokens, softmax without a bias \(mean loss\)$/m);
  // resumed without the flag: the checkpoint's setting holds
  const more = await rnnWasm(['train', 'small.txt', '--steps', '8', '--out', 'noheadbias/m.safetensors', '--resume']);
  assert.is(more.code, 0, more.stderr);
  assert.match(more.stdout, /no output bias/);
  const help = await rnnWasm(['train', '--help']);
  assert.match(help.stdout, /--no-head-bias\s+an output layer without a bias \(nn\.Linear's bias=False\)/);
});

Train.run();

// ---
const Schedule = suite('train: learning-rate schedules');

/** Small enough that a step takes milliseconds, with one held-out window scored per row. */
const fast = ['--hidden', '8', '--layers', '1', '--seq', '16', '--batch', '8', '--eval-tokens', '16'];
/** The CSV's learning_rate column, by step. */
const csvRates = (name: string) => csvRows(name).map((r) => [Number(r[0]), Number(r[7])]);
/** |a − b| within 1e-12 of b, or the message. */
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b) + 1e-18, `${what}: ${a}, expected ${b}`);

Schedule('the recorded rates follow the warm-up and the cosine formula; the log lines show the same rates', async () => {
  const lr = 0.004, min = 0.0005, W = 5, S = 30;
  const r = await rnnWasm(['train', 'small.txt', ...fast, '--log-every', '1', '--steps', String(S), '--lr', String(lr),
    '--warmup', String(W), '--decay', 'cosine', '--min-lr', String(min), '--out', 'cos/m.safetensors']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, 'Adam lr 0.004 (warm-up 5 steps, cosine decay to 0.0005 by step 30)');
  const rates = csvRates('cos/m.csv');
  assert.equal(rates.map(([step]) => step), Array.from({ length: S }, (_, i) => i + 1));
  for (const [step, rate] of rates) {
    const t = step - 1;                       // the rate of step s is the schedule at position s − 1
    const expected = t < W ? lr * (1 / 3 + (2 / 3) * t / W) : min + (lr - min) * (1 + Math.cos(Math.PI * (t - W) / (S - W))) / 2;
    near(rate, expected, `step ${step}`);
  }
  assert.ok(rates[W][1] === lr, 'the peak comes right after the warm-up');
  const logged = [...r.stdout.matchAll(/^step (\d+)\/30 .*\| lr ([\d.e-]+) \|/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.equal(logged, rates.map(([step, rate]) => [step, rate.toPrecision(3)]), 'the log line shows the scheduled rate');
});

Schedule('--decay linear spans --epochs × batches per epoch, from --lr down to --min-lr', async () => {
  writeFileSync(file('short.txt'), readFileSync(text, 'utf8').slice(0, 2000));
  // 2 000 characters: 125 windows of 16, 6 held out, 119 to train on: 15 batches of 8 per epoch
  const lr = 0.002, min = 0.0002, S = 30;
  const r = await rnnWasm(['train', 'short.txt', ...fast, '--log-every', '1', '--epochs', '2', '--decay', 'linear', '--min-lr', String(min), '--out', 'lin/m.safetensors']);
  assert.is(r.code, 0, r.stderr);
  const rates = csvRates('lin/m.csv');
  assert.is(rates.length, S);
  for (const [step, rate] of rates) near(rate, lr + (min - lr) * (step - 1) / S, `step ${step}`);
});

Schedule('Ctrl-C and --resume continue the schedule: the same model file and the same rates as the uninterrupted run', async () => {
  // long enough (600 steps) that Ctrl-C lands well before the end on a busy machine
  const args = ['train', 'small.txt', ...fast, '--log-every', '10', '--steps', '600', '--warmup', '50', '--decay', 'cosine'];
  const whole = await rnnWasm([...args, '--out', 'swhole/m.safetensors']);
  assert.is(whole.code, 0, whole.stderr);
  const first = await rnnWasm([...args, '--out', 'scut/m.safetensors'], (line) => /^step 10\//.test(line));
  assert.is(first.code, 130, `exit code ${first.code}: ${first.stderr}`);
  const at = Number(/interrupted at step (\d+)\/600/.exec(first.stdout)?.[1]);
  assert.ok(at >= 10 && at < 600, first.stdout);
  const rest = await rnnWasm(['train', 'small.txt', '--out', 'scut/m.safetensors', '--resume']);
  assert.is(rest.code, 0, rest.stderr);
  assert.match(rest.stdout, `resuming  at step ${at} from scut/m.ckpt`);
  assert.match(rest.stdout, '(warm-up 50 steps, cosine decay to 0 by step 600)');
  assert.ok(Buffer.compare(readFileSync(file('scut/m.safetensors')), readFileSync(file('swhole/m.safetensors'))) === 0, 'the same model file, byte for byte');
  assert.equal(csvNumbers('scut/m.csv'), csvNumbers('swhole/m.csv'), 'the same curve and rates');
  // the schedule is the run's: not changed on resume, and a cosine curve is not extended past its end
  const changed = await rnnWasm(['train', 'small.txt', '--decay', 'linear', '--out', 'scut/m.safetensors', '--resume']);
  assert.is(changed.code, 2);
  assert.match(changed.stderr, "--decay linear differs from the checkpoint's cosine");
  const longer = await rnnWasm(['train', 'small.txt', '--steps', '700', '--out', 'scut/m.safetensors', '--resume']);
  assert.is(longer.code, 2);
  assert.match(longer.stderr, "this run's cosine schedule spans 600 steps, fixed when the run started, and the rate would rise again past them");
});

Schedule('a checkpoint from before the schedule flags resumes at a constant rate', async () => {
  const args = ['train', 'small.txt', ...fast, '--log-every', '5'];
  assert.is((await rnnWasm([...args, '--steps', '40', '--out', 'plain/m.safetensors'])).code, 0);
  assert.is((await rnnWasm([...args, '--steps', '20', '--out', 'old/m.safetensors'])).code, 0);
  // rewrite the checkpoint as the version-1 run state, which had no schedule fields
  const ckpt = decodeSafetensors(new Uint8Array(readFileSync(file('old/m.ckpt'))));
  const run = JSON.parse(ckpt.metadata.rnn_wasm_train);
  for (const key of ['warmup', 'decay', 'minLr', 'scheduleSteps']) {
    assert.ok(key in run.settings, `a new checkpoint stores ${key}`);
    delete run.settings[key];
  }
  const tensors = [...ckpt.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  writeFileSync(file('old/m.ckpt'), encodeSafetensors(tensors, { ...unsealed(ckpt.metadata), rnn_wasm_train: JSON.stringify({ ...run, version: 1 }) }));

  const more = await rnnWasm(['train', 'small.txt', '--steps', '40', '--decay', 'constant', '--warmup', '0', '--out', 'old/m.safetensors', '--resume']);
  assert.is(more.code, 0, more.stderr);
  assert.ok(Buffer.compare(readFileSync(file('old/m.safetensors')), readFileSync(file('plain/m.safetensors'))) === 0, 'the same model file');
  assert.equal(csvNumbers('old/m.csv'), csvNumbers('plain/m.csv'));
  assert.ok(csvRates('old/m.csv').every(([, rate]) => rate === 0.002));
});

Schedule('bad schedule flags exit with 2 and say what is expected', async () => {
  const cases: [string[], string][] = [
    [['--warmup', '-1'], 'rnn-wasm train: --warmup expects a whole number ≥ 0, got "-1"'],
    [['--warmup', '2.5'], 'rnn-wasm train: --warmup expects a whole number ≥ 0, got "2.5"'],
    [['--decay', 'step'], 'rnn-wasm train: --decay expects one of constant, cosine, linear, got "step"'],
    [['--min-lr', '-0.1', '--decay', 'cosine'], 'rnn-wasm train: --min-lr expects a number ≥ 0, got "-0.1"'],
    [['--min-lr', '0.0001'], 'rnn-wasm train: --min-lr is where --decay cosine or linear ends; with --decay constant the rate stays at --lr'],
    [['--min-lr', '0.01', '--decay', 'linear'], 'rnn-wasm train: --min-lr 0.01 is more than --lr 0.002'],
    [['--warmup', '30'], "rnn-wasm train: --warmup 30 must be less than the run's 30 optimizer steps"],
    [['--warmup', '40', '--decay', 'cosine'], "rnn-wasm train: --warmup 40 must be less than the run's 30 optimizer steps"],
  ];
  for (const [flags, message] of cases) {
    const r = await inProcess(['train', 'small.txt', ...fast, '--steps', '30', ...flags, '--out', 'bad/m.safetensors']);
    assert.is(r.code, 2, `${flags.join(' ')} exits with 2 (got ${r.code}: ${r.stderr})`);
    assert.ok(r.stderr.includes(message), `${flags.join(' ')}:\n  expected ${message}\n  got      ${r.stderr}`);
  }
  assert.not.ok(existsSync(file('bad')), 'nothing written');
});

Schedule('a resumed --decay linear run trained past its schedule\'s end warns on stderr that those steps train at --min-lr 0', async () => {
  const args = ['train', 'small.txt', ...fast, '--log-every', '1', '--decay', 'linear', '--out', 'past/m.safetensors'];
  const first = await rnnWasm([...args, '--steps', '10']);
  assert.is(first.code, 0, first.stderr);
  assert.is(first.stderr, '', 'no warning for a run within its schedule');
  const more = await rnnWasm(['train', 'small.txt', '--steps', '15', '--out', 'past/m.safetensors', '--resume']);
  assert.is(more.code, 0, more.stderr);
  assert.is(more.stderr, "warning: steps 11 to 15 are past the end of this run's linear decay (step 10, fixed when the run started) " +
    'and train at --min-lr 0, which leaves the weights unchanged; start a new run to train further\n');
  assert.equal(csvRates('past/m.csv').slice(10).map(([, rate]) => rate), [0, 0, 0, 0, 0], 'the documented behaviour is kept');
});

Schedule.run();

// ---
const Use = suite('sample, eval, info');

Use('sample streams text from the prime, fixed by the seed', async () => {
  const args = ['sample', 'a/model.safetensors', '--length', '1000', '--prime', 'It is a truth', '--temperature', '0.7', '--top-k', '10'];
  const a = await rnnWasm([...args, '--seed', '7']);
  assert.is(a.code, 0, a.stderr);
  assert.ok(a.stdout.startsWith('It is a truth'));
  assert.is([...a.stdout].length, 'It is a truth'.length + 1000 + 1, 'the prime, 1000 characters and a new line');
  assert.ok(a.chunks > 1, `written as it is generated (${a.chunks} chunks)`);
  assert.is((await rnnWasm([...args, '--seed', '7'])).stdout, a.stdout, 'the same seed, the same text');
  assert.is.not((await rnnWasm([...args, '--seed', '8'])).stdout, a.stdout, 'another seed, another text');
  const drawn = await rnnWasm(['sample', 'a/model.safetensors', '--length', '5']);
  assert.match(drawn.stderr, /^seed \d+\n$/, 'without --seed the drawn seed is reported');
  const greedy = await rnnWasm(['sample', 'a/model.safetensors', '--length', '50', '--temperature', '0']);
  assert.is(greedy.stdout, (await rnnWasm(['sample', 'a/model.safetensors', '--length', '50', '--temperature', '0'])).stdout);
});

Use('eval prints loss, bits per character and perplexity, equal to the library\'s evaluate', async () => {
  const r = await rnnWasm(['eval', 'a/model.safetensors', 'small.txt', '--seq', '100']);
  assert.is(r.code, 0, r.stderr);
  const num = (label: string) => Number(new RegExp(`^${label}\\s+([\\d.]+)`, 'm').exec(r.stdout)?.[1]);
  const loss = num('loss'), bits = num('bits per char'), ppl = num('perplexity');
  assert.match(r.stdout, '20 000 characters (0 unknown to the model, scored as <unk>), 19 999 predicted in windows of 100');
  assert.ok(Math.abs(bits - loss / Math.LN2) < 1e-3 && Math.abs(ppl - Math.exp(loss)) < 1e-3 * ppl, r.stdout);

  const model = await loadModel(new Uint8Array(readFileSync(file('a/model.safetensors'))), { architecture: 'many-to-many' });
  const ids = model.tokenizers.x!.encode(readFileSync(text, 'utf8'));
  const x: number[][] = [], y: number[][] = [];
  for (let i = 0; i + 1 < ids.length; i += 100) {
    x.push(ids.slice(i, Math.min(i + 100, ids.length - 1)));
    y.push(ids.slice(i + 1, Math.min(i + 101, ids.length)));
  }
  assert.ok(Math.abs(model.evaluate({ x, y }).loss - loss) < 1e-4, 'the same loss as evaluate() over the same windows');
  model.dispose();
});

Use('info shows the architecture, every tensor with its shape and count, and the tokenizer', async () => {
  const r = await rnnWasm(['info', 'a/model.safetensors']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^architecture\s+many-to-many$/m);
  assert.match(r.stdout, /^cell\s+lstm, 2 layers$/m);
  assert.match(r.stdout, /^\s+weight_ih_l1\s+\[96, 24\]\s+2 304$/m);
  const model = await loadModel(new Uint8Array(readFileSync(file('a/model.safetensors'))));
  assert.match(r.stdout, `${model.layout.entries.length} tensors, ${String(model.numParams).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')} values`);
  model.dispose();
  assert.match(r.stdout, /tokenizer: characters, \d+ tokens \(unk "<unk>"\)/);
  const ckpt = await rnnWasm(['info', 'a/model.ckpt']);
  assert.match(ckpt.stdout, /training run: step 100 of a run of 100 steps/);
  assert.match(ckpt.stdout, /optimizer\.m/);
  // the checksum: shown when it matches; a damaged file is shown, and the command fails
  assert.match(r.stdout, /^checksum: [0-9a-f]{8}, matches$/m);
  const bytes = new Uint8Array(readFileSync(file('a/model.safetensors')));
  bytes[bytes.length - 5] ^= 4;                          // a bit of the last weight
  writeFileSync(file('a/damaged.safetensors'), bytes);
  const damaged = await rnnWasm(['info', 'a/damaged.safetensors']);
  assert.is(damaged.code, 1);
  assert.match(damaged.stdout, /^checksum: DAMAGED: the contents hash to [0-9a-f]{8}, the file says "[0-9a-f]{8}"; loading it is refused$/m);
  assert.match(damaged.stdout, /weight_ih_l1/, 'what it holds is still shown');
});

Use('sample and eval given a training checkpoint say so and name the model file; info reads it', async () => {
  for (const args of [['sample', 'a/model.ckpt'], ['eval', 'a/model.ckpt', 'small.txt']]) {
    const r = await inProcess(args);
    assert.is(r.code, 2, r.stderr);
    assert.is(r.stderr, `rnn-wasm ${args[0]}: a/model.ckpt is a training checkpoint, not a model; pass the model file (a/model.safetensors), ` +
      'or continue training with rnn-wasm train TEXT --out a/model.safetensors --resume\n');
  }
  assert.is((await inProcess(['info', 'a/model.ckpt'])).code, 0);
});

Use('sample prints the prime, then what the model\'s stream() draws from it with the same options and seed', async () => {
  const model: any = await loadModel(readFileSync(file('a/model.safetensors')));
  const tokenizer = model.tokenizers.x;
  const prime = 'It is a';
  for (const [flags, options] of [
    [['--temperature', '0'], {}],
    [['--temperature', '0.9', '--top-p', '0.8', '--seed', '4'], { strategy: 'sample', temperature: 0.9, topP: 0.8, seed: 4 }],
    [['--temperature', '1.3', '--top-k', '6', '--seed', '7'], { strategy: 'sample', temperature: 1.3, topK: 6, seed: 7 }],
  ] as const) {
    const r = await inProcess(['sample', 'a/model.safetensors', '--length', '60', '--prime', prime, ...flags]);
    assert.is(r.code, 0, r.stderr);
    const drawn = [...model.stream({ prefix: tokenizer.encode(prime), maxLength: 60, ...options })];
    assert.is(r.stdout, prime + drawn.map((t: number) => tokenizer.tokens[t]).join('') + '\n', flags.join(' '));
  }
  model.dispose();
});

Use('sample warns on stderr about the characters of --prime the model does not know', async () => {
  const r = await inProcess(['sample', 'a/model.safetensors', '--length', '5', '--seed', '1', '--prime', 'It ж§€ж is']);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith('It ж§€ж is'), r.stdout);
  assert.is(r.stderr, 'warning: --prime has 4 characters the model does not know, fed to it as <unk>: "ж", "§", "€"\n');
  const known = await inProcess(['sample', 'a/model.safetensors', '--length', '5', '--seed', '1', '--prime', 'It is']);
  assert.is(known.stderr, '', 'no warning when every character is known');
});

Use('eval prints its numbers in one aligned column', async () => {
  const r = await inProcess(['eval', 'a/model.safetensors', 'small.txt', '--seq', '100']);
  assert.is(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').slice(1, 4);
  const numbers = rows.map((l) => /^(loss|bits per char|perplexity) +\d+\.\d{4}/.exec(l));
  assert.ok(numbers.every(Boolean), r.stdout);
  const ends = numbers.map((m) => m![0].length);
  assert.ok(ends.every((e) => e === ends[0]), `the numbers end in the same column:\n${rows.join('\n')}`);
});

Use.after(() => rmSync(dir, { recursive: true, force: true }));
Use.run();

// Text read as it comes: lines, words, token ids and windows from chunks cut anywhere equal
// those of the whole text; the file readers of rnn-wasm/node give the same and can be read
// again; a file larger than the heap streams in a process with a small heap; a language model
// trains from a file stream, and resumes by re-reading it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CharTokenizer, createRNN, languageModelBatches, linesOf, splitWords, tokenWindows, WordTokenizer, wordsOf,
} from '../dist/index.js';
import { readLines, readTokenWindows, readWords, textBatches } from '../dist/node.js';
import { checkSame, rejectsWith } from './_utils.js';

const text = 'It is a truth universally acknowledged,\r\nthat a single man — in possession of a good fortune 😀 —\n\nmust be in want of a wife.\nÉlizabeth';

/** The text in pieces of `size` UTF-16 code units (cutting emoji in half on purpose). */
const pieces = (s: string, size: number) => Array.from({ length: Math.ceil(s.length / size) }, (_, i) => s.slice(i * size, (i + 1) * size));

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

const Chunks = suite('text in chunks: the same lines, words, tokens and windows wherever the chunks are cut');

Chunks('every chunk size from 1 to 12 code units', async () => {
  const chars = CharTokenizer.fromText(text);
  const words = WordTokenizer.fromText(text, { split: 'words', lowercase: true });
  const ids = chars.encode(text), wordIds = words.encode(text);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  for (let size = 1; size <= 12; size++) {
    const c = pieces(text, size);
    assert.equal(await all(linesOf(c)), lines, `lines, chunks of ${size}`);
    assert.equal(await all(wordsOf(c)), splitWords(text, 'whitespace'), `words, chunks of ${size}`);
    assert.equal(await all(wordsOf(c, 'words')), splitWords(text, 'words'), `words and punctuation, chunks of ${size}`);
    const w = await all(tokenWindows(c, chars, { length: 7, stride: 5 }));
    assert.equal(w, Array.from({ length: Math.floor((ids.length - 7) / 5) + 1 }, (_, k) => ids.slice(5 * k, 5 * k + 7)), `char windows, chunks of ${size}`);
    const far = await all(tokenWindows(c, words, { length: 3, stride: 4 }));
    assert.equal(far, Array.from({ length: Math.floor((wordIds.length - 3) / 4) + 1 }, (_, k) => wordIds.slice(4 * k, 4 * k + 3)), `word windows with gaps, chunks of ${size}`);
  }
});

Chunks('language-model batches: x the first T tokens of each window, y the next T; the last batch shorter', async () => {
  const chars = CharTokenizer.fromText(text);
  const ids = chars.encode(text);
  const batches = await all(languageModelBatches(pieces(text, 9), chars, { T: 10, batchSize: 4 }));
  const windows = Math.floor((ids.length - 11) / 10) + 1;
  assert.is(batches.length, Math.ceil(windows / 4));
  batches.flatMap((b) => b.x.map((x, i) => [x, b.y[i]])).forEach(([x, y], k) => {
    assert.equal(x, ids.slice(10 * k, 10 * k + 10));
    assert.equal(y, ids.slice(10 * k + 1, 10 * k + 11));
  });
  await rejectsWith(all(tokenWindows(pieces(text, 3), chars, { length: 0 })), RangeError, /tokenWindows: length must be an integer ≥ 1, got 0/);
  await rejectsWith(all(linesOf([new Uint8Array(3)] as any)), TypeError, /linesOf: chunk 0 must be a string, got a Uint8Array of length 3 \(decode bytes first/);
  await rejectsWith(all(wordsOf(42 as any)), TypeError, /wordsOf: chunks must be an iterable or async iterable of strings, got 42/);
});

Chunks.run();

// ---

const Files = suite('rnn-wasm/node: text files read as they go');

Files('readLines, readWords, readTokenWindows and textBatches equal the whole file read at once, and read again from the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-text-'));
  try {
    const file = join(dir, 'text.txt');
    writeFileSync(file, text.repeat(50));
    const whole = readFileSync(file, 'utf8');
    const chars = CharTokenizer.fromText(whole);
    const lines = readLines(file, { chunkBytes: 64 });
    assert.equal(await all(lines), whole.split('\n').map((l) => l.replace(/\r$/, '')));
    assert.equal(await all(lines), await all(lines), 'a second pass reads the file again');
    assert.equal(await all(readWords(file, { chunkBytes: 100, split: 'words' })), splitWords(whole, 'words'));
    const ids = chars.encode(whole);
    const windows = await all(readTokenWindows(file, chars, { length: 33, chunkBytes: 50 }));
    assert.is(windows.length, Math.floor(ids.length / 33));
    windows.forEach((w, k) => assert.equal(w, ids.slice(33 * k, 33 * k + 33)));
    const batches = await all(textBatches(file, chars, { T: 20, batchSize: 8, chunkBytes: 128 }));
    assert.equal(batches[3].x[2], ids.slice((3 * 8 + 2) * 20, (3 * 8 + 2) * 20 + 20));
    await rejectsWith(all(readLines(join(dir, 'missing.txt'))), Error, /ENOENT.*missing\.txt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Files('a language model trains from a file stream; a run stopped mid-epoch resumes by re-reading and skipping, bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-text-'));
  try {
    const file = join(dir, 'austen.txt');
    writeFileSync(file, readFileSync(join(__dirname, '..', 'data', 'pride-and-prejudice.txt'), 'utf8').slice(0, 20000));
    const chars = CharTokenizer.fromText(readFileSync(file, 'utf8'), { bos: false, eos: false });
    const data = textBatches(file, chars, { T: 32, batchSize: 16, chunkBytes: 4096 });
    const options = { epochs: 2, learningRate: 0.01, metrics: ['bitsPerChar'] as const, poolSize: 8 };
    const make = () => createRNN({ cell: 'gru', n_x: chars.size, n_a: 32, n_y: chars.size, input: 'tokens', embedding: 16, reduction: 'mean', seed: 3 });
    const whole = await make();
    const r = await whole.fit(data, options);
    assert.ok(r.history[1].metrics!.bitsPerChar! < r.history[0].metrics!.bitsPerChar!, `bits per character fall: ${r.history.map((h) => h.metrics!.bitsPerChar)}`);
    assert.ok(r.history[0].metrics!.bitsPerChar! < Math.log2(chars.size), 'below a uniform guess');
    const first = await make();
    const stop = new AbortController();
    await first.fit(data, { ...options, signal: stop.signal, onProgress: (p) => { if (p.epoch === 1 && p.batch === 10) stop.abort(); } });
    const second = await make();
    second.setTrainingState(first.getTrainingState());
    await second.fit(data, { ...options, resume: true });
    checkSame('resumed', second.getWeights(), whole.getWeights());
    for (const m of [whole, first, second]) m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Files('a file larger than the heap streams in bounded memory (a child process with a 16 MB heap, a 24 MB file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-wasm-big-'));
  try {
    const sample = join(__dirname, '..', 'data', 'pride-and-prejudice.txt');
    const text = readFileSync(sample, 'utf8');
    const file = join(dir, 'big.txt');
    const fd = openSync(file, 'w');
    const copies = Math.ceil(24 * 2 ** 20 / text.length);
    for (let i = 0; i < copies; i++) writeSync(fd, text);
    closeSync(fd);
    const run = spawnSync(process.execPath, ['--max-old-space-size=16', '--max-semi-space-size=1', join(__dirname, '_stream_child.mjs'), file, sample],
      { encoding: 'utf8', timeout: 120_000 });
    assert.is(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout);
    const chars = copies * text.length, lines = copies * text.split('\n').length - (copies - 1);
    assert.is(r.windows, Math.floor(chars / 64), 'every window of the file');
    assert.ok(r.checked > 100 && r.wrong === 0, `${r.checked} windows checked, ${r.wrong} tokens wrong`);
    assert.is(r.lines, lines - (text.endsWith('\n') ? 1 : 0));
    assert.ok(r.peakHeapMB < 16, `the heap stayed under 16 MB: ${r.peakHeapMB.toFixed(1)} MB at most, for a ${(chars / 2 ** 20).toFixed(0)} MB file`);
    assert.equal([r.fitSteps, r.stopReason], [5, 'aborted']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Files.run();

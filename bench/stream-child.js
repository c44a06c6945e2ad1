// Run by bench/data.js, one process per file: reads every window of 64 characters of a text
// file with readTokenWindows, then trains a character GRU on textBatches from the same file for
// a fixed number of batches, sampling as it goes the live heap (after a collection: what the
// process must keep, not garbage not yet collected) and the RSS. Prints one JSON line.
//
//   node --expose-gc bench/stream-child.js <file> <the text the file repeats>
import { readFileSync, statSync } from 'node:fs';
import { CharTokenizer, createRNN } from 'rnn-wasm';
import { readTokenWindows, textBatches } from 'rnn-wasm/node';

const [file, samplePath] = process.argv.slice(2);
const T = 64, STEPS = 40;
const chars = CharTokenizer.fromText(readFileSync(samplePath, 'utf8'), { bos: false, eos: false });
const peak = { heap: 0, rss: 0 };
const sample = () => {
  globalThis.gc();
  const m = process.memoryUsage();
  peak.heap = Math.max(peak.heap, m.heapUsed);
  peak.rss = Math.max(peak.rss, m.rss);
};

const t = performance.now();
let windows = 0;
for await (const _ of readTokenWindows(file, chars, { length: T })) if (++windows % 20000 === 0) sample();
const readSeconds = (performance.now() - t) / 1000;
const reading = { ...peak };

peak.heap = 0;
const model = await createRNN({ cell: 'gru', n_x: chars.size, n_a: 64, n_y: chars.size, input: 'tokens', embedding: 32, seed: 1 });
const stop = new AbortController();
const r = await model.fit(textBatches(file, chars, { T, batchSize: 32 }), {
  signal: stop.signal, onProgress: (p) => { if (p.batch % 10 === 9) sample(); if (p.batch + 1 === STEPS) stop.abort(); },
});
model.dispose();
const expected = Math.floor(statSync(file).size / T);        // one byte per character: the text is ASCII
console.log(JSON.stringify({
  windows, readSeconds, peakHeap: reading.heap, peakRss: reading.rss, steps: r.steps, fitPeakHeap: peak.heap,
  ok: windows === expected && r.steps === STEPS, check: `${windows} of ${expected} windows, ${r.steps} steps`,
}));

// Run by tests/text_stream.test.ts in a child process with a small heap
// (--max-old-space-size=16 --max-semi-space-size=1): streams a text file larger than that heap
// through readTokenWindows, readLines and textBatches (into fit, for a few batches), and prints
// one JSON line: counts, spot checks of windows, and the largest heap seen.
import { readFileSync } from 'node:fs';
import { CharTokenizer, createRNN, WordTokenizer } from '../dist/index.js';
import { readLines, readTokenWindows, textBatches } from '../dist/node.js';

const [file, samplePath, T] = [process.argv[2], process.argv[3], 64];
const sample = readFileSync(samplePath, 'utf8');                // the text the file repeats
const chars = CharTokenizer.fromText(sample, { bos: false, eos: false });
const ids = chars.encode(sample);
let peak = 0;
const measure = () => { peak = Math.max(peak, process.memoryUsage().heapUsed); };

let windows = 0, checked = 0, wrong = 0;
for await (const w of readTokenWindows(file, chars, { length: T })) {
  if (windows % 997 === 0) {                                   // window k starts at token k·T of the repeated text
    for (let j = 0; j < T; j++) if (w[j] !== ids[(windows * T + j) % ids.length]) wrong++;
    checked++;
    measure();
  }
  windows++;
}
let lines = 0;
for await (const _ of readLines(file)) if (++lines % 5000 === 0) measure();
// a word-level language model trains on the stream; stopped after 5 batches
const vocab = WordTokenizer.fromText(sample, { split: 'words', lowercase: true, maxTokens: 500 });
const model = await createRNN({ cell: 'gru', n_x: vocab.size, n_a: 16, n_y: vocab.size, input: 'tokens', embedding: 16, seed: 1 });
const stop = new AbortController();
const fit = await model.fit(textBatches(file, vocab, { T: 16, batchSize: 8 }), {
  signal: stop.signal, onProgress: (p) => { measure(); if (p.batch === 4) stop.abort(); },
});
model.dispose();
console.log(JSON.stringify({ windows, checked, wrong, lines, peakHeapMB: peak / 2 ** 20, fitSteps: fit.steps, stopReason: fit.stopReason }));

// One-to-many: invent new English-looking words, one letter at a time.
// The model sees one input — the start token — and writes a word: each sampled letter ŷ<t>
// is fed back as the next input x<t+1>, until it samples the stop token. It learns from the
// distinct words of the text shipped in data/ (Pride and Prejudice, chapters 1–12), and we
// count how many of its samples are new words that still look like English (a check defined
// below). Run with `node examples/one-to-many-words.js`.
//
//   x<1> = <s>     a<t> = GRU(a<t-1>, x<t>)     ŷ<t> = softmax(W_ya a<t> + b_y)     x<t+1> ~ ŷ<t>
//   L    = mean over letters (and the stop token) of −log ŷ<t>[letter t]
import { readFileSync } from 'node:fs';
import { CharTokenizer, createModel, Random } from '../dist/index.js';

/** The distinct lower-case words of 4–10 letters in the text. */
export function loadWords() {
  const text = readFileSync(new URL('../data/pride-and-prejudice.txt', import.meta.url), 'utf8');
  return [...new Set(text.toLowerCase().match(/[a-z]+/g).filter((w) => w.length >= 4 && w.length <= 10))].sort();
}

/** A plausibility check for invented words: 3–12 letters a–z, a vowel, no letter three
 *  times in a row, and every three-letter window — with ^ and $ marking the word's start and
 *  end — seen somewhere in the training words (so it starts, joins and ends letters as
 *  English words do). */
export function plausibility(wordList) {
  const seen = new Set();
  for (const w of wordList) {
    const s = `^${w}$`;
    for (let i = 0; i + 3 <= s.length; i++) seen.add(s.slice(i, i + 3));
  }
  return (w) => {
    if (!/^[a-z]{3,12}$/.test(w) || !/[aeiouy]/.test(w) || /(.)\1\1/.test(w)) return false;
    const s = `^${w}$`;
    for (let i = 0; i + 3 <= s.length; i++) if (!seen.has(s.slice(i, i + 3))) return false;
    return true;
  };
}

/** Train on the word list; returns the model, the tokenizer, the final training loss
 *  (mean nats per letter over the last epoch) and samples. */
export async function train({ epochs = 15, batchSize = 64, n_a = 64, cell = 'gru', learningRate = 0.01, samples = 500, temperature = 0.8, seed = 1, log = console.log } = {}) {
  const wordList = loadWords();
  const tokenizer = CharTokenizer.fromText(wordList, { unk: false });     // letters, <s>, </s>
  const model = await createModel({
    architecture: 'one-to-many', n_y: tokenizer.size, cell, n_a, reduction: 'mean', seed, tokenizers: { y: tokenizer },
  });
  log(`data: ${wordList.length} distinct words; model: one-to-many ${cell}, n_a = ${n_a}, ${model.numParams} parameters`);
  // every example: x = the start token, y = the word's letters and the stop token
  const data = { x: wordList.map(() => tokenizer.bos), y: wordList.map((w) => tokenizer.encode(w, { eos: true })) };
  const t0 = performance.now();
  const { epochLosses } = await model.fit(data, {
    epochs, batchSize, optimizer: { type: 'adam', learningRate }, clipNorm: 5,
    onEpochEnd: ({ epoch, loss }) => { if ((epoch + 1) % 5 === 0) log(`epoch ${String(epoch + 1).padStart(3)} | loss ${loss.toFixed(3)} nats per letter`); },
  });
  const seconds = (performance.now() - t0) / 1000;
  // sample: temperature below 1 trades variety for plausibility
  const sampled = model.generateMany(samples, { strategy: 'sample', temperature, maxLength: 16, seed })
    .map((ids) => tokenizer.decode(ids));
  const known = new Set(wordList), plausible = plausibility(wordList);
  const novel = sampled.filter((w) => !known.has(w));
  return {
    model, tokenizer, loss: epochLosses[epochLosses.length - 1], seconds, sampled,
    novelPlausible: novel.filter(plausible).length / sampled.length, novel: novel.length / sampled.length,
  };
}

async function main() {
  const { model, tokenizer, loss, seconds, sampled, novel, novelPlausible } = await train();
  console.log(`\ntrained in ${seconds.toFixed(1)} s to ${loss.toFixed(3)} nats per letter`);
  console.log(`${sampled.length} samples: ${(100 * novel).toFixed(0)}% not in the word list, ${(100 * novelPlausible).toFixed(0)}% new and plausible\n`);
  console.log(sampled.slice(0, 30).join(' '));
  // greedy, primed with a prefix, streamed letter by letter, and beam search
  const prefix = tokenizer.encode('pre');
  let streamed = 'pre';
  for (const id of model.stream({ prefix, maxLength: 12 })) streamed += tokenizer.decode([id]);
  console.log(`\ngreedy from "pre": ${streamed}`);
  const beams = model.beamSearch({ beamWidth: 5, maxLength: 12, prefix: tokenizer.encode('con') });
  console.log(`beam search from "con": ${beams.map((h) => 'con' + tokenizer.decode(h.tokens)).join(', ')}`);
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();

// A word-level language model of Jane Austen's Pride and Prejudice (data/, public domain):
// predict each next word. The words go through an embedding table, and the output layer
// shares that table's weights (tieWeights), as PyTorch's word-language-model example does, so
// a vocabulary of V words costs V × E weights once, not V × 4·n_a in the LSTM and again in
// the head. Run with `node examples/word-language-model.js`.
//
//   x<t> = W_e[word t]                      an embedding row (E = n_a values)
//   a<t> = LSTM(a<t-1>, x<t>)
//   ŷ<t> = softmax(W_e a<t> + b_y)          the next word; the head's weight is W_e
//   perplexity = exp(mean −log ŷ<t>[word t+1]) on the last 10 % of the text, held out
//
// The vocabulary is the words (and punctuation marks) seen at least twice in the training
// part, case-folded; every other word is <unk>. The score to beat is a unigram model (each
// word's frequency in the training part, add-one smoothed), which knows nothing of context.
import { readFileSync } from 'node:fs';
import { createModel, splitWords, WordTokenizer } from '../dist/index.js';

/** The text as case-folded words and punctuation marks, cut into training and held-out parts. */
export function loadWords(heldOut = 0.1) {
  const text = readFileSync(new URL('../data/pride-and-prejudice.txt', import.meta.url), 'utf8');
  const words = splitWords(text.replace(/_/g, ''), 'words').map((w) => w.toLowerCase());   // underscores mark italics
  const cut = Math.floor(words.length * (1 - heldOut));
  return { train: words.slice(0, cut), test: words.slice(cut) };
}

/** Windows of T + 1 ids every T: inputs are the first T, targets the last T. */
export function windows(ids, T) {
  const x = [], y = [];
  for (let s = 0; s + T < ids.length; s += T) {
    x.push(ids.slice(s, s + T));
    y.push(ids.slice(s + 1, s + T + 1));
  }
  return { x, y };
}

/** Held-out perplexity of the unigram model (training counts, add-one smoothing). */
export function unigramPerplexity(vocab, trainIds, testIds) {
  const counts = new Float64Array(vocab.size).fill(1);
  for (const id of trainIds) counts[id]++;
  const total = counts.reduce((s, c) => s + c, 0);
  const nll = testIds.reduce((s, id) => s - Math.log(counts[id] / total), 0);
  return Math.exp(nll / testIds.length);
}

/** Train; returns the model, its held-out perplexity and the unigram model's. */
export async function train({ epochs = 6, T = 32, batchSize = 16, n_a = 96, learningRate = 5e-3, seed = 1, log = console.log } = {}) {
  const { train: trainWords, test: testWords } = loadWords();
  const vocab = WordTokenizer.fromTokens(trainWords, { minCount: 2, bos: false, eos: false });
  const trainIds = vocab.encode(trainWords), testIds = vocab.encode(testWords);
  const model = await createModel({
    architecture: 'many-to-many', cell: 'lstm', input: 'tokens', n_x: vocab.size, n_y: vocab.size, n_a,
    embedding: n_a, tieWeights: true, outputDropout: 0.3, reduction: 'mean', seed, tokenizers: { x: vocab, y: vocab },
  });
  const baseline = unigramPerplexity(vocab, trainIds, testIds);
  log(`${trainWords.length} training words, ${testWords.length} held out; vocabulary ${vocab.size} (seen twice or more)`);
  log(`model: embedding ${n_a} (tied to the output layer) → LSTM ${n_a} → softmax; ${model.numParams} parameters`);
  log(`unigram perplexity on the held-out text: ${baseline.toFixed(1)}`);
  const t0 = performance.now();
  const result = await model.fit(windows(trainIds, T), {
    epochs, batchSize, optimizer: 'adam', learningRate, clipNorm: 1, metrics: ['perplexity'],
    validationData: windows(testIds, T),
    onEpochEnd: (e) => log(`epoch ${e.epoch + 1} | training perplexity ${e.metrics.perplexity.toFixed(1)} | held-out ${e.val.perplexity.toFixed(1)}`),
  });
  const perplexity = result.history.at(-1).val.perplexity;
  return { model, vocab, perplexity, baseline, seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const { model, vocab, perplexity, baseline, seconds } = await train();
  console.log(`\nheld-out perplexity ${perplexity.toFixed(1)} against the unigram model's ${baseline.toFixed(1)}, after ${seconds.toFixed(1)} s`);
  // the most likely next words after a few prompts
  for (const prompt of ['mr . darcy', 'she could not', 'it is a truth']) {
    const p = model.forward({ x: [vocab.encode(prompt)] }).yhat;
    const last = p.subarray(p.length - vocab.size);
    const top = [...last.keys()].sort((a, b) => last[b] - last[a]).slice(0, 5);
    console.log(`  ${prompt.padEnd(14)} → ${top.map((id) => vocab.tokens[id]).join(', ')}`);
  }
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();

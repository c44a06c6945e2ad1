// One learning test per example in examples/: each trains with its fixed seed, on data made
// in code (or shipped in data/), within a bounded number of steps, and must reach the
// accuracy the example promises. Budgets are at or below the examples' defaults.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Random } from '../dist/index.js';

// the examples are plain JavaScript modules, run with node; imported here by path
const example = (name: string) => import(join(__dirname, '..', 'examples', `${name}.js`));
const quiet = () => {};

const Examples = suite('examples learn their tasks (fixed seeds, bounded steps)');

Examples('one-to-one: two interleaved spirals, ≥ 95% held-out accuracy within 400 epochs of 10 batches', async () => {
  const { train } = await example('one-to-one-spirals');
  const { model, accuracy } = await train({ epochs: 400, log: quiet });
  assert.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
  model.dispose();
});

Examples('one-to-many: invented words — ≥ 50% of samples new and plausible, training loss < 1.75 nats per letter, in 15 epochs', async () => {
  const { train, loadWords, plausibility } = await example('one-to-many-words');
  // the plausibility check itself: real words pass, letter soup does not
  const words: string[] = loadWords();
  const plausible = plausibility(words);
  assert.ok(words.every(plausible), 'every training word passes');
  assert.not.ok(['xqzt', 'aaab', 'bcdfg', 'ab1c', 'tqxe', 'ngeat'].some(plausible), 'junk fails');
  const { model, loss, novelPlausible, sampled } = await train({ epochs: 15, log: quiet });
  assert.ok(loss < 1.75, `training loss ${loss}`);
  assert.ok(novelPlausible >= 0.5, `new and plausible: ${novelPlausible} of ${sampled.length} (${sampled.slice(0, 10).join(' ')})`);
  model.dispose();
});

Examples('many-to-one: noisy wave shapes, ≥ 95% held-out accuracy within 1000 steps', async () => {
  const { train } = await example('many-to-one-waves');
  const { model, accuracy } = await train({ steps: 1000, log: quiet });
  assert.ok(accuracy >= 0.95, `held-out accuracy ${accuracy}`);
  model.dispose();
});

Examples('many-to-many: part-of-speech tags of generated sentences, ≥ 99% held-out per-word accuracy within 300 steps', async () => {
  const { train } = await example('many-to-many-tagging');
  const { model, accuracy } = await train({ steps: 300, log: quiet });
  assert.ok(accuracy >= 0.99, `held-out per-word accuracy ${accuracy}`);
  model.dispose();
});

Examples('encoder-decoder: human-readable dates → ISO, ≥ 90% held-out exact match (greedy) within 1000 steps', async () => {
  const { train, makeDates } = await example('encoder-decoder-dates');
  assert.ok((makeDates(new Random(1), 200) as [string, string][]).every(([, iso]) => /^(19|20)\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(iso)), 'targets are ISO dates');
  const { model, accuracy } = await train({ steps: 1000, log: quiet });
  assert.ok(accuracy >= 0.9, `held-out exact match ${accuracy}`);
  model.dispose();
});

Examples('word-level language model on Pride and Prejudice: held-out perplexity under 0.7 × the unigram model\'s within 3 epochs', async () => {
  const { train, loadWords, unigramPerplexity, windows } = await example('word-language-model');
  // the baseline and the windows themselves
  const { train: words, test } = loadWords();
  assert.ok(words.length > 15000 && test.length > 1500, `${words.length} training words, ${test.length} held out`);
  assert.equal(windows([1, 2, 3, 4, 5, 6, 7], 3), { x: [[1, 2, 3], [4, 5, 6]], y: [[2, 3, 4], [5, 6, 7]] });
  const vocab = { size: 3 };
  assert.ok(Math.abs(unigramPerplexity(vocab, [0, 0, 1], [0, 2]) - Math.sqrt((6 / 3) * (6 / 1))) < 1e-9, 'add-one unigram perplexity');
  const { model, perplexity, baseline } = await train({ epochs: 3, log: quiet });
  assert.ok(baseline > 100, `unigram perplexity ${baseline}`);
  assert.ok(perplexity < 0.7 * baseline, `held-out perplexity ${perplexity} vs unigram ${baseline}`);
  assert.ok(model.config.tieWeights && model.config.embedding?.size === 96, 'an embedding tied to the output layer');
  model.dispose();
});

Examples.run();

// Many-to-many (aligned): part-of-speech tagging of sentences from a small generated grammar.
// Every word gets a tag. Some words are nouns or verbs depending on where they stand ("they
// fish near the fish", "the ducks duck"), so the model must read the sentence so far, not
// just the word. Sentences have different lengths and share a batch. Words and tags are
// word-level tokenizers. Run with `node examples/many-to-many-tagging.js`.
//
//   a<t> = GRU(a<t-1>, x<t>)       x<t> = word t (one-hot)
//   ŷ<t> = softmax(W_ya a<t> + b_y)  the tag of word t
//   L    = mean over words of −log ŷ<t>[tag t]
import { createModel, Random, WordTokenizer } from '../dist/index.js';

const LEXICON = {
  DET: ['the', 'my', 'our', 'their', 'your', 'his'],
  ADJ: ['old', 'young', 'big', 'small', 'red', 'quick', 'lazy', 'happy', 'tired', 'green'],
  NOUN: ['dogs', 'cats', 'children', 'birds', 'farmers', 'river', 'house', 'tree', 'garden', 'ball'],
  VERB: ['see', 'like', 'chase', 'find', 'eat', 'hear', 'follow', 'love'],
  PREP: ['in', 'near', 'with', 'under', 'behind'],
  ADV: ['quickly', 'slowly', 'often', 'quietly', 'never'],
  PRON: ['they', 'we', 'you'],
};
/** Words that are nouns after a determiner or adjective and verbs after a subject. */
const AMBIGUOUS = ['fish', 'duck', 'watch', 'park', 'walk', 'play', 'light', 'answer'];
export const TAGS = ['DET', 'ADJ', 'NOUN', 'VERB', 'PREP', 'ADV', 'PRON'];

/** n sentences: S → NP ADV? VERB NP? PP?, NP → PRON | DET ADJ{0,2} NOUN, PP → PREP NP. */
export function makeSentences(rng, n) {
  const out = [];
  const pick = (list) => list[rng.int(list.length)];
  for (let i = 0; i < n; i++) {
    const words = [], tags = [];
    const put = (tag, word) => { words.push(word); tags.push(tag); };
    const nounPhrase = (subject) => {
      if (subject && rng.uniform() < 0.25) return put('PRON', pick(LEXICON.PRON));
      put('DET', pick(LEXICON.DET));
      for (let k = rng.int(3); k > 0; k--) put('ADJ', pick(LEXICON.ADJ));
      put('NOUN', rng.uniform() < 0.4 ? pick(AMBIGUOUS) : pick(LEXICON.NOUN));
    };
    nounPhrase(true);
    if (rng.uniform() < 0.3) put('ADV', pick(LEXICON.ADV));
    put('VERB', rng.uniform() < 0.4 ? pick(AMBIGUOUS) : pick(LEXICON.VERB));
    if (rng.uniform() < 0.7) nounPhrase(false);
    if (rng.uniform() < 0.5) { put('PREP', pick(LEXICON.PREP)); nounPhrase(false); }
    out.push({ words, tags });
  }
  return out;
}

export const words = WordTokenizer.fromTokens([...Object.values(LEXICON).flat(), ...AMBIGUOUS], { bos: false, eos: false });
export const tags = WordTokenizer.fromTokens(TAGS, { unk: false, bos: false, eos: false });

/** Train on generated sentences; returns the model and held-out per-word accuracy. */
export async function train({ steps = 400, batchSize = 32, n_a = 32, cell = 'gru', learningRate = 0.01, seed = 1, log = console.log, every = 100 } = {}) {
  const rng = new Random(seed);
  const encode = (sentences) => ({ x: sentences.map((s) => words.encode(s.words)), y: sentences.map((s) => tags.encode(s.tags)) });
  const heldOut = makeSentences(rng, 1000);
  const test = encode(heldOut);
  const model = await createModel({
    architecture: 'many-to-many', input: 'tokens', output: 'softmax', cell, n_x: words.size, n_a, n_y: tags.size,
    reduction: 'mean', seed, tokenizers: { x: words, y: tags },
  });
  log(`model: many-to-many ${cell}, n_a = ${n_a}, ${model.numParams} parameters; ${words.size} words, ${tags.size} tags`);
  const accuracy = () => {
    let right = 0, total = 0;
    for (let i = 0; i < test.x.length; i += 200) {
      model.predict(test.x.slice(i, i + 200)).forEach((p, b) => p.forEach((tag, t) => { right += tag === test.y[i + b][t] ? 1 : 0; total++; }));
    }
    return right / total;
  };
  const t0 = performance.now();
  let smooth;
  for (let step = 1; step <= steps; step++) {
    const r = model.trainStep(encode(makeSentences(rng, batchSize)), { learningRate, clipNorm: 5 });
    smooth = smooth === undefined ? r.loss : 0.95 * smooth + 0.05 * r.loss;
    if (step % every === 0 || step === steps) log(`step ${String(step).padStart(4)} | loss ${smooth.toFixed(4)} | held-out per-word accuracy ${(100 * accuracy()).toFixed(2)}%`);
  }
  return { model, heldOut, accuracy: accuracy(), seconds: (performance.now() - t0) / 1000 };
}

async function main() {
  const { model, heldOut, accuracy, seconds } = await train();
  console.log(`\nheld-out per-word accuracy ${(100 * accuracy).toFixed(2)}% after ${seconds.toFixed(1)} s\n`);
  for (const s of heldOut.slice(0, 5)) {
    const guess = model.predict([words.encode(s.words)])[0];
    console.log(s.words.map((w, t) => `${w}/${tags.tokens[guess[t]]}`).join(' '));
  }
  // a stream, word by word: step() keeps the state between calls
  console.log('\nstreaming, one word at a time:');
  model.resetState();
  for (const w of 'they fish near the old duck'.split(' ')) {
    const p = model.step(words.encode([w])[0]);
    console.log(`  ${w.padEnd(6)} → ${tags.tokens[p.indexOf(Math.max(...p))]}`);
  }
  model.dispose();
}

// run when executed (node examples/…), not when imported by the tests
if (import.meta.url === new URL(process.argv[1], 'file://').href) main();

// Tokenizer options real text needs: case folding, vocabulary size and minimum count from
// text, words and punctuation, the unknown-token policy, fixed orders for label vocabularies,
// and their round trip through toJSON / tokenizerFromJSON and model files.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CharTokenizer, createModel, loadModel, splitWords, tokenizerFromJSON, WordTokenizer, type Tokenizer } from '../dist/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWords } from '../dist/node.js';
import { throwsWith } from './_utils.js';

/** The tokenizer after a trip through JSON text, as a model file carries it. */
const again = (t: Tokenizer) => tokenizerFromJSON(JSON.parse(JSON.stringify(t.toJSON())));

const Words = suite('WordTokenizer.fromText: case, size, counts, punctuation');

const text = 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n' +
  '"My dear Mr. Bennet," said his lady to him one day, "have you heard that Netherfield Park is let at last?" Mr. Bennet replied that he had not.';

Words('whitespace split keeps punctuation on words; "words" cuts it off; lowercase folds case at build and at encode', () => {
  const plain = WordTokenizer.fromText(text);
  assert.ok(plain.tokens.includes('acknowledged,'), 'whitespace: punctuation stays on the word');
  const t = WordTokenizer.fromText(text, { split: 'words', lowercase: true });
  for (const w of ['acknowledged', ',', '"', 'mr', '.', 'bennet', 'it']) assert.ok(t.tokens.includes(w), w);
  assert.not.ok(t.tokens.includes('Mr') || t.tokens.includes('It'), 'no upper case left');
  assert.equal(t.encode('MR. Bennet,'), t.encode('mr . bennet ,'), 'encode cuts and folds the same way');
  assert.is(t.decode(t.encode('My dear Mr. Bennet')), 'my dear mr . bennet');
  assert.equal(splitWords("Don't stop—Elizabeth's \"tea\"", 'words'), ["Don't", 'stop', '—', "Elizabeth's", '"', 'tea', '"']);
});

Words('minCount and maxTokens from text: the most frequent words, specials first; the size is maxTokens + specials', () => {
  const t = WordTokenizer.fromText(text, { split: 'words', lowercase: true, minCount: 2 });
  const counts = new Map<string, number>();
  for (const w of splitWords(text.toLowerCase(), 'words')) counts.set(w, (counts.get(w) ?? 0) + 1);
  const expected = [...counts].filter(([, n]) => n >= 2).map(([w]) => w);
  assert.equal([...t.tokens.slice(3)].sort(), expected.sort());
  // most frequent first; among equals, the one seen first
  const ranked = [...counts].sort((x, y) => y[1] - x[1]).map(([w]) => w);
  assert.equal(t.tokens.slice(3), ranked.filter((w) => counts.get(w)! >= 2));
  const top = WordTokenizer.fromText(text, { split: 'words', lowercase: true, maxTokens: 5 });
  assert.is(top.size, 5 + 3);
  assert.equal(top.tokens.slice(3), ranked.slice(0, 5));
  assert.is(top.encode('wife')[0], top.unk, 'a rare word is <unk>');
});

Words('fromCounts: words counted as they stream give the vocabulary fromText gives, for every option', async () => {
  const path = join(__dirname, '..', 'data', 'pride-and-prejudice.txt');
  for (const split of ['whitespace', 'words'] as const) {
    const counts = new Map<string, number>();
    for await (const w of readWords(path, { split, chunkBytes: 4096 })) counts.set(w, (counts.get(w) ?? 0) + 1);
    const whole = readFileSync(path, 'utf8');
    for (const options of [{}, { lowercase: true }, { minCount: 3, maxTokens: 500 }, { order: 'first' as const, bos: false as const },
      { order: 'sorted' as const, lowercase: true, minCount: 2 }]) {
      const streamed = WordTokenizer.fromCounts(counts, { split, ...options });
      assert.equal(streamed.toJSON(), WordTokenizer.fromText(whole, { split, ...options }).toJSON(), `${split} ${JSON.stringify(options)}`);
    }
  }
  // pairs work as a Map does; lowercase merges the counts of a word's spellings
  const t = WordTokenizer.fromCounts([['The', 2], ['cat', 1], ['the', 2]], { lowercase: true, bos: false, eos: false, minCount: 3 });
  assert.equal(t.tokens, ['<unk>', 'the']);
  assert.is(t.encode('THE cat')[0], 1);
  throwsWith(() => WordTokenizer.fromCounts('the cat' as never), TypeError, /^WordTokenizer\.fromCounts: counts must be a Map of word → count or an iterable of \[word, count\] pairs, got/);
  throwsWith(() => WordTokenizer.fromCounts([['the', 1.5]]), RangeError, /^WordTokenizer\.fromCounts: the count of "the" \(entry 0\) must be a whole number ≥ 1, got 1\.5$/);
  throwsWith(() => WordTokenizer.fromCounts([['the']] as never), TypeError, /^WordTokenizer\.fromCounts: counts entry 0 must be a \[word, count\] pair/);
  throwsWith(() => WordTokenizer.fromCounts(new Map([['a', 1]]), { minCont: 2 } as never), TypeError, /did you mean minCount/);
});

Words.run();

// ---

const Unknown = suite('the unknown-token policy');

Unknown("CharTokenizer: 'unk' (the default with <unk>), a given id, 'skip', 'error'", () => {
  const def = CharTokenizer.fromText('abc');
  assert.equal(def.encode('axb'), [3, 0, 4]);
  const toSpace = CharTokenizer.fromText('a b', { unk: false, unknown: 2 });
  assert.equal(toSpace.tokens, ['<s>', '</s>', ' ', 'a', 'b']);
  assert.equal(toSpace.encode('a\tb'), [3, 2, 4], 'the tab maps to id 2, the space, as asked');
  const skip = CharTokenizer.fromText('abc', { unknown: 'skip' });
  assert.equal(skip.encode('a😀b'), [3, 4], 'unknown characters are left out');
  const strict = CharTokenizer.fromText('abc', { unknown: 'error' });
  throwsWith(() => strict.encode('ab!'), RangeError, /token "!" at position 2 is not in the vocabulary, and the tokenizer's unknown policy is 'error'/);
  assert.is(strict.id('!'), undefined);
  throwsWith(() => CharTokenizer.fromText('ab', { unk: false, unknown: 'unk' }), RangeError, /unknown 'unk' needs an unknown token in the vocabulary/);
  throwsWith(() => CharTokenizer.fromText('ab', { unknown: 9 }), RangeError, /unknown must be a token id in \[0, 5\), got 9/);
  throwsWith(() => CharTokenizer.fromText('ab', { unknown: 'drop' as any }), TypeError, /unknown must be 'unk', 'skip', 'error' or a token id, got "drop"/);
});

Unknown('policies, case folding and splitting survive toJSON → tokenizerFromJSON and a model file', async () => {
  const chars = CharTokenizer.fromText('Hello', { lowercase: true, unknown: 'skip', bos: false, eos: false });
  const words = WordTokenizer.fromText('The cat, the hat.', { split: 'words', lowercase: true, unknown: 'error', order: 'sorted' });
  for (const [t, sample] of [[chars, 'HELLO, there'], [words, 'THE hat, the CAT.']] as const) {
    const back = again(t);
    assert.equal(back.toJSON(), t.toJSON());
    assert.equal(back.encode(sample), t.encode(sample));
  }
  assert.equal(chars.encode('HeLLo!'), chars.encode('hello'));
  assert.equal(words.toJSON().split, 'words');
  assert.equal(words.toJSON().unknown, 'error');
  assert.equal(chars.toJSON().lowercase, true);
  const model = await createModel({ architecture: 'many-to-one', input: 'tokens', n_x: words.size, n_a: 3, n_y: 2, tokenizers: { x: words }, seed: 1 });
  const loaded = await loadModel(model.save(), { architecture: 'many-to-one' });
  assert.equal(loaded.tokenizers.x!.toJSON(), words.toJSON());
  assert.equal(loaded.tokenizers.x!.encode('The CAT.'), words.encode('the cat .'));
  model.dispose(); loaded.dispose();
});

Unknown.run();

// ---

const Labels = suite('fixed orders for label vocabularies');

Labels('fromLabels keeps the order given, has no specials, and refuses unknown labels and duplicates', () => {
  const tags = WordTokenizer.fromLabels(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
  assert.equal(tags.tokens, ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
  assert.equal(tags.encode(['B-LOC', 'O']), [3, 0]);
  assert.is(tags.unk, undefined);
  throwsWith(() => tags.encode(['B-ORG']), RangeError, /token "B-ORG" at position 0 is not in the vocabulary, which has no unknown token/);
  throwsWith(() => WordTokenizer.fromLabels(['O', 'O']), RangeError, /token "O" appears twice/);
  assert.equal(again(tags).tokens, tags.tokens);
});

Labels("order 'sorted' and 'first' give ids that do not depend on how often each label occurs", () => {
  const a = ['NOUN', 'VERB', 'NOUN', 'DET', 'NOUN'], b = ['DET', 'DET', 'VERB', 'NOUN', 'VERB', 'VERB'];
  const opts = { unk: false, bos: false, eos: false } as const;
  assert.equal(WordTokenizer.fromTokens(a, { ...opts, order: 'sorted' }).tokens, WordTokenizer.fromTokens(b, { ...opts, order: 'sorted' }).tokens);
  assert.equal(WordTokenizer.fromTokens(a, { ...opts, order: 'sorted' }).tokens, ['DET', 'NOUN', 'VERB']);
  assert.equal(WordTokenizer.fromTokens(a, { ...opts, order: 'first' }).tokens, ['NOUN', 'VERB', 'DET']);
  assert.equal(WordTokenizer.fromTokens(a, opts).tokens, ['NOUN', 'VERB', 'DET'], 'frequency: NOUN 3, then VERB and DET by first appearance');
  assert.equal(WordTokenizer.fromTokens(b, opts).tokens, ['VERB', 'DET', 'NOUN'], 'frequency depends on the data');
  assert.equal(CharTokenizer.fromText('cabbage', { order: 'frequency', unk: false, bos: false, eos: false }).tokens, ['a', 'b', 'c', 'g', 'e']);
  throwsWith(() => WordTokenizer.fromTokens(a, { order: 'random' as any }), TypeError, /order must be one of 'frequency', 'sorted', 'first', got "random"/);
});

Labels.run();

// Tokenizers: character and word vocabularies, special tokens, unknown tokens, JSON.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CharTokenizer, tokenizerFromJSON, WordTokenizer } from '../dist/index.js';
import { throwsWith } from './_utils.js';

const Char = suite('CharTokenizer');

Char('built from text: specials first, then the characters sorted; encode/decode round-trips', () => {
  const t = CharTokenizer.fromText('hello, world');
  assert.equal(t.tokens, ['<unk>', '<s>', '</s>', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  assert.equal([t.unk, t.bos, t.eos], [0, 1, 2]);
  assert.is(t.size, 12);
  const ids = t.encode('hello', { bos: true, eos: true });
  assert.equal(ids, [1, 7, 6, 8, 8, 9, 2]);
  assert.is(t.decode(ids), 'hello');
  assert.is(t.decode([7, 6, 2, 8, 8]), 'he', 'decoding ends at the stop token');
  assert.is(t.decode(ids, { skipSpecial: false }), '<s>hello</s>');
  assert.is(t.decode(t.encode('howdy')), 'howd<unk>', 'unknown characters become <unk>');
  assert.equal(t.toTokens([7, 0]), ['h', '<unk>']);
});

Char('code points, several texts, no specials, unknown tokens refused without <unk>', () => {
  const t = CharTokenizer.fromText(['aé', '😀b'], { unk: false, bos: false, eos: false });
  assert.equal(t.tokens, ['a', 'b', 'é', '😀']);
  assert.equal(t.encode('😀é'), [3, 2]);
  throwsWith(() => t.encode('c'), RangeError, /token "c" at position 0 is not in the vocabulary, which has no unknown token/);
  throwsWith(() => t.encode('a', { eos: true }), RangeError, /the vocabulary has no stop token \(eos\)/);
  throwsWith(() => t.decode([4]), RangeError, /ids\[0\] = 4 is out of range; token ids must be in \[0, 4\)/);
  throwsWith(() => t.decode([1.5]), TypeError, /ids\[0\] must be an integer token id, got 1.5/);
  const custom = CharTokenizer.fromText('ab', { unk: '?', bos: '^', eos: '$' });
  assert.equal(custom.tokens, ['?', '^', '$', 'a', 'b']);
  throwsWith(() => CharTokenizer.fromText('ab', { bos: '#', eos: '#' }), RangeError, /special tokens must differ; "#" is used twice/);
});

Char('minCount and maxTokens; JSON round-trip', () => {
  const t = CharTokenizer.fromText('aaabbc', { minCount: 2 });
  assert.equal(t.tokens.slice(3), ['a', 'b']);
  assert.equal(CharTokenizer.fromText('aaabbc', { maxTokens: 1 }).tokens.slice(3), ['a']);
  const back = tokenizerFromJSON(JSON.parse(JSON.stringify(t)));
  assert.instance(back, CharTokenizer);
  assert.equal(back.toJSON(), t.toJSON());
  assert.equal(back.encode('abc'), t.encode('abc'));
});

Char.run();

// ---

const Word = suite('WordTokenizer');

Word('from a list of tokens: most frequent first; strings split on whitespace; decode joins with spaces', () => {
  const t = WordTokenizer.fromTokens(['the', 'cat', 'sat', 'on', 'the', 'mat', 'the', 'cat']);
  assert.equal(t.tokens, ['<unk>', '<s>', '</s>', 'the', 'cat', 'sat', 'on', 'mat']);
  assert.equal(t.encode('the  cat sat\non the hat'), [3, 4, 5, 6, 3, 0]);
  assert.equal(t.encode(['mat', 'the'], { eos: true }), [7, 3, 2]);
  assert.is(t.decode([1, 3, 4, 2, 5]), 'the cat');
  assert.equal(WordTokenizer.fromTokens([['a', 'b'], ['b']], { minCount: 2 }).tokens.slice(3), ['b'], 'sentences, minCount');
  assert.equal(WordTokenizer.fromTokens(['x', 'y', 'y', 'z', 'z', 'z'], { maxTokens: 2, unk: false }).tokens, ['<s>', '</s>', 'z', 'y']);
  const back = tokenizerFromJSON(t.toJSON());
  assert.instance(back, WordTokenizer);
  assert.equal(back.encode('the mat'), [3, 7]);
});

Word('bad input is refused with the argument named', () => {
  throwsWith(() => WordTokenizer.fromTokens('the cat' as any), TypeError, /tokens must be an array of words \(or of arrays of words\), got "the cat"/);
  throwsWith(() => WordTokenizer.fromTokens(['a', 3 as any]), TypeError, /token 1 must be a string, got 3/);
  throwsWith(() => new WordTokenizer({ tokens: ['a b'] }), RangeError, /token "a b" is empty or holds whitespace/);
  throwsWith(() => new WordTokenizer({ tokens: ['a', 'a'] }), RangeError, /token "a" appears twice \(ids 0 and 1\)/);
  throwsWith(() => tokenizerFromJSON({ kind: 'bpe', tokens: ['a'] } as any), TypeError, /kind must be 'char' or 'word', got "bpe"/);
  throwsWith(() => new CharTokenizer({ tokens: ['a'], eos: 3 }), RangeError, /eos must be a token id in \[0, 1\), got 3/);
  throwsWith(() => WordTokenizer.fromTokens([], {}), RangeError, /no token is left to make a vocabulary of/);
});

Word.run();

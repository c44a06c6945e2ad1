// What the tests of the bias options (bias.test.ts: bias, head_bias.test.ts: headBias) share:
// every architecture with data it trains on, and the check that a model without some biases
// generates what the same model with those biases at zero generates.
import * as assert from 'uvu/assert';
import { Random, type ModelConfig } from '../dist/index.js';
import { uniforms } from './_utils.js';

export type ArchitectureCase = { name: string; config: ModelConfig; data: { x: any[]; y: any[] }; generates?: 'lm' | 'oneToMany' | 'seq2seq' };

/** Every architecture with data it trains on (ragged, tokens and dense, every cell), the data
 *  drawn from `seed`. */
export function everyArchitecture(seed: number): ArchitectureCase[] {
  const rng = new Random(seed);
  const seqs = (n: number, V: number, max = 6) => Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(max) }, () => rng.int(V)));
  const xs = seqs(10, 6);
  const dense = (n: number, w: number) => Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(5) }, () => uniforms(rng, w)));
  const vs = dense(10, 3);
  return [
    { name: 'many-to-many LSTM, 2 layers, bidirectional, dense', config: { architecture: 'many-to-many', cell: 'lstm', layers: 2, bidirectional: true, n_x: 3, n_a: 5, n_y: 3 },
      data: { x: vs, y: vs.map((s) => s.map((v) => (v[0] > 0 ? 1 : v[1] > 0 ? 2 : 0))) } },
    { name: 'language model GRU through an embedding, tied', config: { architecture: 'many-to-many', cell: 'gru', input: 'tokens', n_x: 6, n_a: 4, n_y: 6, embedding: 4, tieWeights: true },
      data: { x: xs, y: xs.map((s) => s.map((_, t) => s[(t + 1) % s.length])) }, generates: 'lm' },
    { name: 'language model vanilla relu, 2 layers, one-hot', config: { architecture: 'many-to-many', cell: 'rnn', activation: 'relu', layers: 2, input: 'tokens', n_x: 6, n_a: 5, n_y: 6 },
      data: { x: xs, y: xs.map((s) => s.map((_, t) => s[(t + 1) % s.length])) }, generates: 'lm' },
    { name: 'many-to-one GRU reset-before, bidirectional', config: { architecture: 'many-to-one', cell: 'gru', resetAfter: false, bidirectional: true, input: 'tokens', n_x: 6, n_a: 4, n_y: 3 },
      data: { x: xs, y: xs.map((s) => s[0] % 3) } },
    { name: 'one-to-one LSTM, 2 layers, linear', config: { architecture: 'one-to-one', cell: 'lstm', layers: 2, n_x: 3, n_a: 4, n_y: 2, output: 'linear' },
      data: { x: vs.map((s) => s[0]), y: vs.map((s) => [s[0][0] + s[0][1], s[0][2]]) } },
    { name: 'one-to-many LSTM, 2 layers', config: { architecture: 'one-to-many', cell: 'lstm', layers: 2, n_y: 6, n_a: 5, startToken: 0, stopToken: 5 },
      data: { x: xs.map((s) => s[0]), y: xs }, generates: 'oneToMany' },
    { name: 'encoder-decoder GRU, bidirectional encoder, attention', config: { architecture: 'encoder-decoder', cell: 'gru', input: 'tokens', n_x: 6, n_y: 6, n_a: 4,
      encoder: { bidirectional: true }, attention: 'general', startToken: 0, stopToken: 5 },
      data: { x: xs, y: xs.map((s) => [...s].reverse()) }, generates: 'seq2seq' },
  ];
}

/** `free` and `full` generate the same, by every generating call of their kind. */
export function checkSameGeneration(free: any, full: any, generates: ArchitectureCase['generates'], label: string): void {
  const same = (what: string, run: (m: any) => unknown) => assert.equal(run(free), run(full), `${label}: ${what}`);
  if (generates === 'lm') {
    same('sample', (m) => m.sample({ length: 20, prime: [1, 2], seed: 4 }));
    same('generate', (m) => m.generate({ prefix: [3], maxLength: 12, strategy: 'sample', topK: 3, seed: 5 }));
    same('generate, short (W_hh as it lies)', (m) => m.generate({ prefix: [3, 1], maxLength: 3 }));
    same('stream', (m) => [...m.stream({ prefix: [2], maxLength: 10, strategy: 'sample', seed: 6 })]);
    same('generateMany', (m) => m.generateMany(3, { prefix: [1], maxLength: 9, strategy: 'sample', seed: 7 }));
    same('beamSearch', (m) => m.beamSearch({ prefix: [4], beamWidth: 3, maxLength: 8 }));
    same('step', (m) => { m.resetState(); return [...m.step(1), ...m.step(2)]; });
  } else if (generates === 'oneToMany') {
    same('generate', (m) => m.generate({ maxLength: 12, strategy: 'sample', seed: 4 }));
    same('generateMany', (m) => m.generateMany(3, { maxLength: 9, strategy: 'sample', seed: 7 }));
    same('beamSearch', (m) => m.beamSearch({ beamWidth: 3, maxLength: 8 }));
    same('step', (m) => [...m.step(1), ...m.step(3)]);
  } else if (generates === 'seq2seq') {
    same('generate', (m) => m.generate([1, 2, 3], { maxLength: 10, strategy: 'sample', seed: 4 }));
    same('generateBatch', (m) => m.generateBatch([[1, 2, 3], [4]], { maxLength: 8 }));
    same('stream', (m) => [...m.stream([2, 3], { maxLength: 8 })]);
    same('beamSearch', (m) => m.beamSearch([3, 1, 4], { beamWidth: 3, maxLength: 8 }));
    same('step', (m) => { m.resetState([1, 2]); return [...m.step(1), ...m.step(4)]; });
  }
}

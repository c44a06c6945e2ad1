// The two workloads rnn-wasm is measured on against PyTorch, shared by bench/index.js and any
// other benchmark that adds rows to them (bench/workers.js: data-parallel training next to
// the one-thread rows). Each contender is validated on rnn-wasm's own weights before it is
// timed, and timed in interleaved rounds; a result is the median with the min–max of the
// rounds, by the wall clock and by this process's CPU time.
//
//   W1  training a char LM: vocabulary 65, T 64, B 32, softmax and cross-entropy (mean) on
//       every step, Adam (lr 2e-3); cells rnn / lstm / gru at n_a 128 and 512.
//   W2  generation: an LSTM of n_a 256 over the same vocabulary, batch 1, one token at a time
//       (the state carried, softmax, the next token drawn and fed back).
//
// And the sentences of the real-data workload (bench/data.js, bench/recurrent.js --ragged).
//
// T = steps, B = sequences per batch, V = vocabulary, n_a = hidden size.
import { readFileSync } from 'node:fs';
import { splitWords } from 'rnn-wasm';
import { weightsFor } from './torch.js';

export const W1 = { V: 65, T: 64, B: 32, lr: 2e-3, cells: ['rnn', 'lstm', 'gru'], sizes: [128, 512], check: 3 };
export const W2 = { cell: 'lstm', n_a: 256, V: 65, prime: [0], check: 50, tokens: 200 };

/** The sentences of data/pride-and-prejudice.txt (cut after . ! or ?, with a closing quote),
 *  each as its words and punctuation (splitWords), in the file's order. */
export function prideSentences() {
  const text = readFileSync(new URL('../data/pride-and-prejudice.txt', import.meta.url), 'utf8').replace(/_/g, '').replace(/\s+/g, ' ');
  return text.split(/(?<=[.!?]["']?)\s+/).map((s) => splitWords(s, 'words')).filter((s) => s.length > 0);
}

/** Deterministic uniform numbers in [0, 1) (xorshift32). */
export function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** A learnable token stream: each token's successor is fixed 80 % of the time, random otherwise. */
export function tokenStream(length, vocab, seed) {
  const u = xorshift(seed);
  const next = Array.from({ length: vocab }, (_, i) => (i + 1 + Math.floor(u() * (vocab - 1))) % vocab);
  const out = new Int32Array(length);
  for (let i = 1; i < length; i++) out[i] = u() < 0.8 ? next[out[i - 1]] : Math.floor(u() * vocab);
  return out;
}

/** W1's batch: B windows of T + 1 tokens of one stream, as plain arrays. */
export function w1Batch(seed = 7) {
  const { V, T, B } = W1;
  const stream = tokenStream(B * (T + 1), V, seed);
  const seqs = Array.from({ length: B }, (_, b) => Array.from(stream.subarray(b * (T + 1), (b + 1) * (T + 1))));
  return { x: seqs.map((s) => s.slice(0, T)), y: seqs.map((s) => s.slice(1)) };
}

/** The rnn-wasm model of W1 (token input, softmax, mean loss), seeded. */
export function w1Model(createRNN, cell, n_a, backend) {
  return createRNN({ cell, n_x: W1.V, n_a, n_y: W1.V, input: 'tokens', output: 'softmax', reduction: 'mean', seed: 1, backend });
}

/** W1 on PyTorch from `model`'s weights: sets up workload `id` in `torch` and returns its
 *  check { initial_loss, losses } (the loss on those weights and over W1.check Adam steps). */
export function torchW1(torch, id, model, batch, dir) {
  const { cell, n_a } = model.config;
  return torch.request({ op: 'train', id, cell, n_a, vocab: W1.V, T: W1.T, B: W1.B, lr: W1.lr, x: batch.x, y: batch.y, check: W1.check, ...weightsFor(model, dir) });
}

/** W2 on PyTorch from `model`'s weights: sets up workload `id` and returns its greedy tokens. */
export function torchW2(torch, id, model, dir, sample) {
  const { cell, n_a } = model.config;
  return torch.request({ op: 'generate', id, cell, n_a, vocab: W2.V, prime: W2.prime, check: W2.check, sample, ...weightsFor(model, dir) });
}

/** Milliseconds of wall clock and of this process's CPU time that fn takes, per rep. */
export async function timed(fn, reps) {
  const wall = performance.now(), cpu = process.cpuUsage();
  for (let i = 0; i < reps; i++) await fn();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - wall) / reps, cpu: (used.user + used.system) / 1000 / reps };
}

/** Run every entry's measure() once per round, the entries interleaved; each entry collects
 *  { wall, cpu } samples. A contender run in another process reports its own CPU time. */
export async function rounds(entries, count, log = () => {}) {
  for (let r = 1; r <= count; r++) {
    for (const e of entries) {
      const s = await e.measure();
      (e.samples ??= []).push(s);
      log(`  round ${r}  ${e.name.padEnd(34)} ${s.wall.toFixed(3)} ms (cpu ${s.cpu.toFixed(3)} ms)`);
    }
  }
}

/** Median, min and max of numbers. */
export function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

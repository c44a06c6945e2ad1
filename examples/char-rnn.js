// Character-level language model: a vanilla RNN learns to write like Jane Austen.
// In the spirit of min-char-rnn (see: https://gist.github.com/karpathy/d4dee566867f8291f086),
// with the forward pass, BPTT and Adam running in WebAssembly. Run with `npm start`.
//
//   a<t> = tanh(W_aa a<t-1> + b_a + W_ax x<t> + b_x)     x<t> = one-hot of character t
//   ŷ<t> = softmax(W_ya a<t> + b_y)                      the next character's distribution
//   L    = mean over t of −log ŷ<t>[char t+1]            nats per character
//
// T = characters per sequence, B = sequences per batch, n_x = n_y = vocabulary size,
// n_a = hidden size.
import { readFileSync } from 'node:fs';
import { createRNN } from '../dist/index.js';

// hyperparameters
const n_a = 128;           // hidden units
const T = 32;              // characters per training sequence (steps of BPTT)
const B = 32;              // sequences per batch
const epochs = 20;         // passes over the training text
const learningRate = 5e-3; // Adam step size
const seed = 42;           // fixes the initial weights, the batch order and the samples

// data: the text, its characters, and every character as an id
const text = readFileSync(new URL('../data/pride-and-prejudice.txt', import.meta.url), 'utf8');
const chars = [...new Set(text)].sort();
const n_x = chars.length;
const charToId = new Map(chars.map((c, i) => [c, i]));
const encode = (s) => Array.from(s, (c) => charToId.get(c));
const decode = (ids) => ids.map((i) => chars[i]).join('');
const ids = encode(text);

// cut the text into sequences of T inputs, each target being the next character;
// the last tenth is held out to measure how well the model generalises
const xs = [], ys = [];
for (let i = 0; i + T + 1 <= ids.length; i += T) {
  xs.push(ids.slice(i, i + T));
  ys.push(ids.slice(i + 1, i + T + 1));
}
const nTrain = Math.floor(xs.length * 0.9);
const train = { x: xs.slice(0, nTrain), y: ys.slice(0, nTrain) };
const heldOut = { x: xs.slice(nTrain), y: ys.slice(nTrain) };
console.log(`data: ${text.length} characters, ${n_x} distinct; ${train.x.length} sequences of T = ${T} ` +
  `to train on, ${heldOut.x.length} held out`);

// model: one-hot characters in, a distribution over the next character out
const rnn = await createRNN({
  n_x, n_a, n_y: n_x, input: 'tokens', output: 'softmax', reduction: 'mean', seed,
});
console.log(`model: vanilla RNN, n_a = ${n_a}, ${rnn.numParams} parameters, ${rnn.backend} kernels`);
console.log(`training: B = ${B}, ${epochs} epochs, Adam lr ${learningRate}, clipNorm 5\n`);

const bits = (nats) => nats / Math.LN2;   // nats per character → bits per character
const report = (step, loss, rate) => {
  const h = rnn.forward(heldOut).loss;
  console.log(`step ${String(step).padStart(4)} | loss ${loss.toFixed(3)} | ${bits(loss).toFixed(2)} bits/char | ` +
    `held-out ${bits(h).toFixed(2)} bits/char | ${rate}`);
};
report(0, rnn.forward({ x: train.x.slice(0, B), y: train.y.slice(0, B) }).loss, 'untrained');

// train: every step is forward, backprop through time, gradient clipping and an Adam update
let smooth;   // moving average of the batch loss, as in min-char-rnn
const t0 = performance.now();
await rnn.fit(train, {
  epochs, batchSize: B, clipNorm: 5,
  optimizer: { type: 'adam', learningRate },
  onProgress: (p) => {
    smooth = smooth === undefined ? p.loss : 0.9 * smooth + 0.1 * p.loss;
    if (p.step % 100 === 0) report(p.step, smooth, `${p.stepsPerSecond.toFixed(1)} steps/s`);
  },
});
console.log(`\ntrained in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

// sample: prime the state with a few words, then draw one character at a time
for (const [i, prime] of ['It is a truth', '"My dear Mr. Bennet,'].entries()) {
  const out = rnn.sample({ prime: encode(prime), length: 300, temperature: 0.7, seed: seed + i });
  console.log(`--- sample ${i + 1} (temperature 0.7) ---\n${prime}${decode(out)}\n`);
}
rnn.dispose();

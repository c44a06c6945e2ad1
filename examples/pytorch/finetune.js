// The rnn-wasm end of examples/pytorch: load an LSTM trained in PyTorch, check it computes
// what PyTorch computed, fine-tune it in WebAssembly, and generate text. Run after
// train_torch.py:   node examples/pytorch/finetune.js
import { readFileSync } from 'node:fs';
import { decodeSafetensors, loadRNN } from '../../dist/index.js';

const bytes = new Uint8Array(readFileSync(new URL('./austen-lstm.safetensors', import.meta.url)));

// the file is PyTorch's state_dict (rnn.weight_ih_l0, …, head.weight); its metadata carries
// the architecture and the vocabulary train_torch.py used
const { metadata } = decodeSafetensors(bytes);
const config = JSON.parse(metadata.config_hint);
const chars = [...JSON.parse(metadata.vocabulary)];
const encode = (s) => Array.from(s, (c) => chars.indexOf(c));
const decode = (ids) => ids.map((i) => chars[i]).join('');

const rnn = await loadRNN(bytes, { config: { ...config, reduction: 'mean', seed: 1 } });
console.log(`loaded ${rnn.numParams} parameters: ${rnn.layout.entries.map((e) => e.name).join(', ')}`);

// the same loss PyTorch reported, on the same characters
const text = readFileSync(new URL('../../data/pride-and-prejudice.txt', import.meta.url), 'utf8');
const ref = JSON.parse(metadata.reference_loss);
const slice = encode(text.slice(ref.start, ref.start + ref.length + 1));
const { loss } = rnn.forward({ x: [slice.slice(0, -1)], y: [slice.slice(1)] });
console.log(`loss on characters ${ref.start}..${ref.start + ref.length}: rnn-wasm ${loss.toFixed(6)}, PyTorch ${ref.loss.toFixed(6)}`);
if (Math.abs(loss - ref.loss) > 1e-4) throw new Error('rnn-wasm and PyTorch disagree on the loaded model');

// fine-tune on the chapters PyTorch saw least of: the last fifth of the text
const ids = encode(text);
const T = 48, xs = [], ys = [];
for (let i = Math.floor(ids.length * 0.8); i + T + 1 <= ids.length; i += T) {
  xs.push(ids.slice(i, i + T));
  ys.push(ids.slice(i + 1, i + T + 1));
}
const before = rnn.forward({ x: xs.slice(0, 64), y: ys.slice(0, 64) }).loss;
await rnn.fit({ x: xs, y: ys }, { epochs: 2, batchSize: 32, optimizer: { type: 'adam', learningRate: 2e-3 }, clipNorm: 5 });
const after = rnn.forward({ x: xs.slice(0, 64), y: ys.slice(0, 64) }).loss;
console.log(`fine-tuned in wasm: loss ${before.toFixed(3)} → ${after.toFixed(3)}`);

const prime = 'Elizabeth';
console.log(`\n${prime}${decode(rnn.sample({ prime: encode(prime), length: 200, temperature: 0.7, seed: 3 }))}\n`);

// the fine-tuned weights go back to PyTorch the same way: rnn.save() is a safetensors file
// with PyTorch's names (prefix them with 'rnn.' for this module's state_dict)
const copy = await loadRNN(rnn.save());
console.log(`save → load round trip: ${copy.getWeights().every((v, i) => v === rnn.getWeights()[i]) ? 'identical' : 'DIFFERENT'}`);
rnn.dispose(); copy.dispose();

// Edges: damaged files are refused by their checksum, a refused call leaves the training state
// as it was, batches of more sequences than the call stack holds arguments, messages about
// unbounded ranges, numbers past float32's range, and calls too large for memory named.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createModel, createRNN, decodeSafetensors, encodeSafetensors, loadModel, loadRNN, SafetensorsError } from '../dist/index.js';
import { curveSVG } from '../dist/cli/curve.js';
import { throwsWith, unsealed } from './_utils.js';

const Damaged = suite('damaged files are refused by their checksum');

/** Every single-bit flip of bytes [from, to) of `bytes`, each given to `load`, which must refuse it. */
async function flips(label: string, bytes: Uint8Array, from: number, to: number, load: (b: Uint8Array) => unknown, where: string) {
  for (let at = from; at < to; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = bytes.slice();
      b[at] ^= 1 << bit;
      let error: unknown;
      try {
        await load(b);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof Error && error.message.startsWith(`${where}: `), `${label}: byte ${at} bit ${bit} loaded, or gave ${String(error)}`);
    }
  }
}

const dataStart = (b: Uint8Array) => 8 + Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));

Damaged('every bit flipped in the weights of a model file or a checkpoint is refused, and the model keeps its weights', async () => {
  const m = await createRNN({ cell: 'gru', n_x: 3, n_a: 2, n_y: 3, input: 'tokens', seed: 1 });
  m.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 0]] });
  const file = m.save(), state = m.getTrainingState(), weights = m.getWeights();
  assert.match(decodeSafetensors(file).metadata.checksum, /^[0-9a-f]{8}$/);
  await flips('loadModel', file, dataStart(file), file.length, (b) => loadModel(b), 'loadModel');
  await flips('loadRNN', file, dataStart(file), file.length, (b) => loadRNN(b), 'loadRNN');
  await flips('loadWeights', file, dataStart(file), file.length, (b) => m.loadWeights(b), 'loadWeights');
  await flips('setTrainingState', state, dataStart(state), state.length, (b) => m.setTrainingState(b), 'setTrainingState');
  assert.equal(m.getWeights(), weights);
  assert.equal(m.getTrainingState(), state);
  // the error says what happened and what to do about a file changed on purpose
  const b = file.slice();
  b[b.length - 1] ^= 1;
  try {
    m.loadWeights(b);
    assert.unreachable('loaded');
  } catch (e) {
    assert.instance(e, SafetensorsError);
    assert.is((e as SafetensorsError).code, 'checksum-mismatch');
    assert.match((e as Error).message, /^loadWeights: safetensors: the file is damaged: its contents hash to [0-9a-f]{8}, but its metadata "checksum" says "[0-9a-f]{8}" \(a file changed on purpose loads once "checksum" is removed from its metadata\)$/);
  }
  m.dispose();
});

Damaged('a value changed in the config is refused; without the checksum, a changed file is read as it is', async () => {
  const m = await createRNN({ n_x: 4, n_a: 3, n_y: 4, input: 'tokens', outputDropout: 0.25, seed: 1 });
  const f = decodeSafetensors(m.save());
  const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  const edited = { ...f.metadata, config: f.metadata.config.replace('"outputDropout":0.25', '"outputDropout":0.75') };
  assert.is.not(edited.config, f.metadata.config);
  await rejects(loadModel(encodeSafetensors(tensors, edited)), /^loadModel: safetensors: the file is damaged/);
  const loaded = await loadRNN(encodeSafetensors(tensors, unsealed(edited)));
  assert.is(loaded.config.outputDropout, 0.75);
  loaded.dispose();
  // a file without a checksum that is changed is read as it is (PyTorch's, older rnn-wasm's)
  const w = new Float32Array(m.numParams).fill(0.5);
  const plain = encodeSafetensors(tensors.map((t) => ({ ...t, data: w.subarray(0, t.data.length) })), unsealed(f.metadata));
  m.loadWeights(plain);
  assert.ok(m.getWeights().every((v) => v === 0.5));
  m.dispose();
});

Damaged('a checkpoint whose config was damaged is named damaged, not the checkpoint of another model', async () => {
  const m = await createRNN({ n_x: 4, n_a: 3, n_y: 4, input: 'tokens', seed: 2 });
  m.trainStep({ x: [[0, 1, 2]], y: [[1, 2, 3]] }, { optimizer: 'adam' });
  const f = decodeSafetensors(m.getTrainingState());
  const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
  const edited = { ...f.metadata, config: f.metadata.config.replace('"n_a":3', '"n_a":7') };
  assert.is.not(edited.config, f.metadata.config);
  const weights = m.getWeights();
  assert.throws(() => m.setTrainingState(encodeSafetensors(tensors, edited)), /^setTrainingState: safetensors: the file is damaged/);
  // the same edit made on purpose (no checksum) is another model's checkpoint
  assert.throws(() => m.setTrainingState(encodeSafetensors(tensors, unsealed(edited))),
    /^setTrainingState: the checkpoint was saved from a model with another configuration: n_a is 7 in the checkpoint, 3 in this model/);
  assert.equal(m.getWeights(), weights);
  m.dispose();
});

Damaged('a checkpoint or model file whose config nests 200 000 deep is refused naming the call, not by a stack overflow', async () => {
  const m = await createRNN({ n_x: 4, n_a: 3, n_y: 4, input: 'tokens', seed: 2 });
  const weights = m.getWeights();
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  const edit = (bytes: Uint8Array) => {
    const f = decodeSafetensors(bytes);
    const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    return encodeSafetensors(tensors, unsealed({ ...f.metadata, config: f.metadata.config.replace('"cell":"rnn"', `"cell":${deep}`) }));
  };
  throwsWith(() => m.setTrainingState(edit(m.getTrainingState())), RangeError,
    /^setTrainingState: the checkpoint was saved from a model with another configuration: cell is (a value nested too deeply to show|\[{60}…) in the checkpoint, "rnn" in this model/);
  await rejects(loadModel(edit(m.save())), /^loadModel: the file's config: cell must be one of 'rnn', 'lstm', 'gru', got an array of length 1$/);
  assert.equal(m.getWeights(), weights);
  m.dispose();
});

async function rejects(p: Promise<unknown>, pattern: RegExp) {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('resolved');
}

Damaged('the checksum is MurmurHash3 x86_32 of the data buffer and the sorted metadata JSON, as documented', async () => {
  // what Python gives with mmh3.hash(data + json.dumps(sorted(metadata.items())).encode(), signed=False)
  const { checksumOf } = await import('../dist/checksum.js');
  const data = Float32Array.of(1, -2);
  const bytes = new Uint8Array([...new Uint8Array(data.buffer), ...new TextEncoder().encode('[["format","rnn-wasm"],["note","é"]]')]);
  assert.is(checksumOf([data], { note: 'é', format: 'rnn-wasm', checksum: 'left out' }), murmur3(bytes).toString(16).padStart(8, '0'));
  assert.is(murmur3(new TextEncoder().encode('hello')), 0x248bfa47, 'the reference value of MurmurHash3_x86_32("hello")');
});

Damaged('the checksum is over the tensors in name order: a file whose tensors are laid out in another order keeps its checksum', async () => {
  const m = await createModel({ architecture: 'many-to-one', cell: 'lstm', n_x: 3, n_a: 4, n_y: 2, bidirectional: true, seed: 4 });
  m.trainStep({ x: [[[1, 0, 0], [0, 1, 0]]], y: [1] });
  for (const [kind, bytes] of [['model file', m.save()], ['training state', m.getTrainingState()]] as const) {
    const reversed = reorderData(bytes, (names) => names.reverse());
    const file = decodeSafetensors(reversed);
    assert.not.equal([...file.tensors.keys()], [...decodeSafetensors(bytes).tensors.keys()], `${kind}: the data is laid out in another order`);
    assert.is(file.metadata.checksum, decodeSafetensors(bytes).metadata.checksum);
    if (kind === 'model file') {
      const again = await loadModel(reversed);
      assert.equal(again.getWeights(), m.getWeights(), 'the same weights');
      again.loadWeights(reversed);
      again.dispose();
    } else {
      m.setTrainingState(reversed);
    }
    // a flipped bit in such a file is still refused
    const flipped = reversed.slice();
    flipped[dataStart(flipped) + 5] ^= 0x10;
    if (kind === 'model file') await rejects(loadModel(flipped), /^loadModel: safetensors: the file is damaged: its contents hash to /);
    else await rejects(Promise.resolve().then(() => m.setTrainingState(flipped)), /^setTrainingState: safetensors: the file is damaged: its contents hash to /);
  }
  m.dispose();
});

/** A safetensors file with the same header entries and metadata (its checksum included), its
 *  tensors' data laid out in the order `order` gives their names (encodeSafetensors always
 *  writes them sorted by name, as PyTorch's writer does). */
function reorderData(bytes: Uint8Array, order: (names: string[]) => string[]): Uint8Array {
  const file = decodeSafetensors(bytes);
  const header: Record<string, unknown> = { __metadata__: file.metadata };
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const name of order([...file.tensors.keys()])) {
    const t = file.tensors.get(name)!;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    at += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** MurmurHash3_x86_32, seed 0, written from the reference, byte by byte. */
function murmur3(bytes: Uint8Array): number {
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const key = (k: number) => Math.imul(rotl(Math.imul(k, 0xcc9e2d51), 15), 0x1b873593);
  let h = 0, i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    h = rotl(h ^ key(bytes[i] | bytes[i + 1] << 8 | bytes[i + 2] << 16 | bytes[i + 3] << 24), 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let j = bytes.length - 1; j >= i; j--) k = (k << 8) | bytes[j];
  if (i < bytes.length) h ^= key(k);
  h ^= bytes.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

Damaged.run();

// ---

const Refused = suite('a refused trainStep changes nothing');

Refused('a bad batch with another optimizer keeps the Adam state; a non-finite gradient keeps it too', async () => {
  const m = await createRNN({ n_x: 2, n_a: 4, n_y: 2, output: 'linear', seed: 1 });
  const batch = { x: [[[0, 1], [1, 0]]], y: [[[1, 0], [0, 1]]] };
  for (let i = 0; i < 5; i++) m.trainStep(batch, { optimizer: 'adam' });
  const before = m.getTrainingState();
  // a NaN input, asked for with SGD: refused before the optimizer is touched
  throwsWith(() => m.trainStep({ ...batch, x: [[[0, NaN], [1, 0]]] }, { optimizer: 'sgd' }), RangeError, /x\[0\] step 0 feature 1 is NaN/);
  assert.equal(m.getTrainingState(), before, 'the Adam moments and step count are kept');
  // a gradient that overflows f32, with another optimizer: refused, naming the step that optimizer would have taken
  const w = m.getWeights();
  m.setParam('head.bias', new Float32Array(2).fill(3e38));
  throwsWith(() => m.trainStep({ ...batch, y: [[[-3e38, 0], [0, 1]]] }, { optimizer: 'rmsprop' }), RangeError, /at optimizer step 1; the weights were left unchanged/);
  m.setWeights(w);
  assert.equal(m.getTrainingState(), before, 'still the Adam state');
  m.dispose();
});

Refused('a fresh model refused a batch has no optimizer state afterwards (nothing allocated for it)', async () => {
  const m = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 3, n_y: 2, seed: 1 });
  const bytes = m.memoryBytes, state = m.getTrainingState();
  throwsWith(() => m.trainStep({ x: [[[0, 1]]], y: [2] }), RangeError, /y\[0\] = 2 is out of range/);
  assert.is(m.memoryBytes, bytes);
  assert.equal(m.getTrainingState(), state);
  m.dispose();
});

Refused.run();

// ---

const Many = suite('more sequences than the call stack holds arguments');

Many('forward, trainStep and evaluate take a batch of 200 000 sequences of ragged lengths', async () => {
  const B = 200_000;
  const x = Array.from({ length: B }, (_, b) => b % 3 === 0 ? [0, 1] : [1]);
  const y = x.map((s) => s.map((t) => 1 - t));
  const m = await createRNN({ n_x: 2, n_a: 2, n_y: 2, input: 'tokens', seed: 1 });
  assert.equal(m.forward({ x }).lengths.slice(0, 3), [2, 1, 1]);
  assert.ok(Number.isFinite(m.trainStep({ x, y }).loss));
  assert.ok(Number.isFinite(m.evaluate({ x, y }, { batchSize: B }).loss));
  const o = await createModel({ architecture: 'many-to-one', n_x: 2, n_a: 2, n_y: 2, input: 'tokens', seed: 1 });
  assert.ok(Number.isFinite(o.trainStep({ x, y: x.map((s) => s.length - 1) }).loss));
  m.dispose();
  o.dispose();
});

Many("the CLI's learning curve of 200 000 logged steps", () => {
  const rows = Array.from({ length: 200_000 }, (_, i) => ({
    step: i + 1, epoch: 1, tokens: 32 * (i + 1), trainLoss: 2 - i / 2e5, heldOutLoss: 2.1 - i / 2e5, learningRate: 1e-3, tokensPerSecond: 1e4,
  }));
  const svg = curveSVG(rows as any, 'a long run', 'char');
  assert.ok(svg.startsWith('<svg') && svg.includes('200000'), svg.slice(0, 80));
});

Many.run();

// ---

const Messages = suite('messages about ranges without an upper end');

Messages('a number that must be ≥ 0 says so, not "in [0, Infinity]"', async () => {
  const m = await createRNN({ n_x: 3, n_a: 4, n_y: 3, input: 'tokens', seed: 1 });
  const batch = { x: [[0, 1]], y: [[1, 2]] };
  throwsWith(() => m.trainStep(batch, { learningRate: Infinity }), RangeError, /^trainStep: learningRate must be a finite number ≥ 0, got Infinity$/);
  throwsWith(() => m.trainStep(batch, { clipNorm: -1 }), RangeError, /^trainStep: clipNorm must be a finite number ≥ 0, got -1$/);
  throwsWith(() => m.beamSearch({ prefix: [0], maxLength: 2, beamWidth: 2, lengthPenalty: NaN }), RangeError, /lengthPenalty must be a finite number ≥ 0, got NaN$/);
  m.dispose();
});

Messages.run();

// ---

const Float32 = suite('numbers past float32\'s range');

Float32('are refused as weights, inputs, targets and states, not stored as ±Infinity', async () => {
  const m = await createRNN({ cell: 'lstm', n_x: 2, n_a: 3, n_y: 1, input: 'dense', output: 'linear', seed: 1 });
  const weights = m.getWeights();
  const big = 1e39, huge = -3.5e38;      // finite numbers, which float32 holds as ±Infinity
  const w = Array.from(weights);
  w[5] = big;
  throwsWith(() => m.setWeights(w), RangeError, /^setWeights: values must hold finite numbers, got 1e\+39 \(beyond float32's range of ±3\.4028235e38: it would be Infinity\) at \[5\]$/);
  throwsWith(() => { m.params.W_ya = [huge, 0, 0] as never; }, RangeError, /^params\.W_ya: .* got -3\.5e\+38 \(beyond float32's range .* it would be -Infinity\) at \[0\]$/);
  throwsWith(() => m.setParam('b_y', [big]), RangeError, /^setParam: .* got 1e\+39 /);
  throwsWith(() => m.forward({ x: [[[1, big]]] }), RangeError, /^forward: x\[0\] step 0 feature 1 is 1e\+39 \(beyond float32's range/);
  throwsWith(() => m.trainStep({ x: [[[1, 0]]], y: [[[huge]]] }), RangeError, /^trainStep: y\[0\] step 0 value 0 is -3\.5e\+38 \(beyond float32's range/);
  throwsWith(() => m.forward({ x: [[[1, 0]]], a0: [0, big, 0] }), RangeError, /^forward: a0 .* got 1e\+39 \(beyond/);
  assert.equal(m.getWeights(), weights);
  assert.ok(m.forward({ x: [[[3.4028234e38, -3.4028234e38]]] }).yhat.every(Number.isFinite), 'the largest float32 is taken');
  m.dispose();
  const mm = await createModel({ architecture: 'many-to-many', cell: 'gru', n_x: 2, n_a: 3, n_y: 1, input: 'dense', output: 'linear', seed: 1 });
  throwsWith(() => mm.resetState({ a0: [0, 0, huge] }), RangeError, /^resetState: a0\[2\] must be a finite number, got -3\.5e\+38 \(beyond/);
  mm.dispose();
  const one = await createModel({ architecture: 'many-to-one', cell: 'gru', n_x: 2, n_a: 3, n_y: 2, input: 'dense', output: 'linear', seed: 1 });
  throwsWith(() => one.trainStep({ x: [[[0, 1]]], y: [[0, big]] }), RangeError, /^trainStep: y\[0\]\[1\] is 1e\+39 \(beyond float32's range/);
  one.dispose();
});

Float32.run();

// ---

const Named = suite('a call too large for memory names itself');

Named('generation, beam search, decoding from a source and predict refuse a workspace too large in their own name', async () => {
  const lm = await createRNN({ cell: 'lstm', n_x: 5, n_a: 512, n_y: 5, input: 'tokens', seed: 1 });
  const weights = lm.getWeights();
  // 10⁶ sequences (or beams) in lockstep × n_a 512 of LSTM state: gigabytes, refused before any is reserved
  throwsWith(() => lm.generateMany(1_000_000, { prefix: [0], maxLength: 2 }), RangeError, /^generateMany: the generation workspace needs \d+ values/);
  throwsWith(() => lm.beamSearch({ prefix: [0], beamWidth: 800_000, maxLength: 2 }), RangeError, /^beamSearch: the generation workspace needs/);
  assert.equal(lm.getWeights(), weights);
  assert.equal(lm.generateMany(2, { prefix: [0], maxLength: 3 }).length, 2);
  lm.dispose();

  const ed = await createModel({ architecture: 'encoder-decoder', cell: 'gru', n_x: 5, n_a: 512, n_y: 5, input: 'tokens', seed: 1, attention: 'dot' });
  // its encoder's workspace alone is over 1 GiB, and so is the attention memory of its outputs,
  // which is checked first: nothing is encoded
  const long = new Int32Array(3_000_000);
  throwsWith(() => ed.generate(long, { maxLength: 2 }), RangeError, /^generate: the attention workspace needs/);
  throwsWith(() => ed.generate(long, { maxLength: 2, onToken: () => {} }), RangeError, /^generate: the attention workspace needs/);
  throwsWith(() => ed.stream(long, { maxLength: 2 }), RangeError, /^stream: the attention workspace needs/);
  throwsWith(() => ed.beamSearch(long, { maxLength: 2, beamWidth: 2 }), RangeError, /^beamSearch: the attention workspace needs/);
  throwsWith(() => ed.resetState(long), RangeError, /^resetState: the attention workspace needs/);
  throwsWith(() => ed.generateBatch([long], { maxLength: 2 }), RangeError, /^generateBatch: the attention workspace needs/);
  throwsWith(() => ed.beamSearch([1, 2], { maxLength: 2, beamWidth: 800_000 }), RangeError, /^beamSearch: the generation workspace needs/);
  // an error of the user's own callback is passed on as it is
  throwsWith(() => ed.generate([1, 2], { maxLength: 2, onToken: () => { throw new RangeError('mine'); } }), RangeError, /^mine$/);
  assert.equal(ed.generate([1, 2], { maxLength: 2 }).length, 2);
  ed.dispose();

  const om = await createModel({ architecture: 'one-to-many', cell: 'lstm', n_a: 512, n_y: 5, output: 'softmax', startToken: 0, seed: 1 });
  throwsWith(() => om.generateMany(1_000_000, { maxLength: 2 }), RangeError, /^generateMany: the generation workspace needs/);
  throwsWith(() => om.beamSearch({ beamWidth: 800_000, maxLength: 2 }), RangeError, /^beamSearch: the generation workspace needs/);
  om.dispose();

  const sizes = { cell: 'lstm', n_x: 5, n_a: 512, n_y: 5, input: 'tokens', output: 'softmax', seed: 1 } as const;
  for (const m of [await createModel({ architecture: 'many-to-one', ...sizes }), await createModel({ architecture: 'many-to-many', ...sizes })]) {
    throwsWith(() => m.predict([long]), RangeError, /^predict: the BPTT workspace needs/);
    throwsWith(() => m.predict([[7]]), RangeError, /^predict: x\[0\]\[0\] = 7 is out of range/);
    m.dispose();
  }
});

Named.run();
